//! Crashes, as the real binary suffers them (SPEC 4): two `shipshape serve` replicas on one PostgreSQL database, one
//! SIGKILLed while deliveries are in flight, and one replica on SQLite SIGKILLed and restarted. Every delivery's
//! effect lands exactly once (one check run per head commit, one sticky comment per pull request), and the takeover
//! time is measured and printed.

use crate::e2e::{OWNER, REPO, SECRET, TestDatabase, World, good_files, test_database, with, without};
use shipshape::store::{DeliveryRecord, DeliveryStatus, Store};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// One `shipshape serve` process against the world's fake GitHub and `database_url`; its log goes to a file.
struct Replica {
    child: Child,
    port: u16,
    log: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

impl Replica {
    async fn start(world: &World, database_url: &str) -> Replica {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("serve.log");
        let child = Command::new(env!("CARGO_BIN_EXE_shipshape"))
            .arg("serve")
            .env_clear()
            .env("SHIPSHAPE_APP_ID", world.fake.app_id().to_string())
            .env("SHIPSHAPE_PRIVATE_KEY", world.fake.private_key_pem())
            .env("SHIPSHAPE_WEBHOOK_SECRET", SECRET)
            .env("SHIPSHAPE_CATALOG_REPO", format!("{OWNER}/catalog"))
            .env("SHIPSHAPE_GITHUB_API_URL", &world.fake.url)
            .env("SHIPSHAPE_DATABASE_URL", database_url)
            .env("SHIPSHAPE_LISTEN", format!("127.0.0.1:{port}"))
            .env("SHIPSHAPE_LOG", "info")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        let mut replica = Replica { child, port, log, _dir: dir };
        replica.wait_ready().await;
        replica
    }

    fn addr(&self) -> std::net::SocketAddr {
        ([127, 0, 0, 1], self.port).into()
    }

    async fn wait_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let ready = reqwest::get(format!("http://{}/readyz", self.addr())).await;
            if ready.is_ok_and(|r| r.status().is_success()) {
                return;
            }
            assert!(self.child.try_wait().unwrap().is_none(), "serve exited before it was ready:\n{}", self.log());
            assert!(Instant::now() < deadline, "serve never became ready:\n{}", self.log());
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// SIGKILL: nothing is finished, retired or cleaned up.
    fn kill(&mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for Replica {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The deliveries GitHub sent (not the App's own jobs).
async fn webhooks(store: &Store) -> Vec<DeliveryRecord> {
    store.deliveries().await.unwrap().into_iter().filter(|d| d.event != "shipshape.job").collect()
}

/// Waits until `done` holds of the webhook deliveries; returns when it did.
async fn wait_for(store: &Store, what: &str, patience: Duration, done: impl Fn(&[DeliveryRecord]) -> bool) -> Instant {
    let deadline = Instant::now() + patience;
    loop {
        let deliveries = webhooks(store).await;
        if done(&deliveries) {
            return Instant::now();
        }
        assert!(Instant::now() < deadline, "{what} did not happen in {patience:?}: {deliveries:#?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// `pulls` pull requests, each with its own head commit that breaks a rule (so each gets a sticky comment too);
/// returns (number, head) pairs and the base.
fn pull_requests(world: &World, pulls: u64) -> (Vec<(u64, String)>, String) {
    let base = world.commit(&good_files());
    let broken = without(&good_files(), ".github/CODEOWNERS");
    let heads =
        (1..=pulls).map(|n| (n, world.commit(&with(&broken, "docs/notes.md", &format!("notes {n}"))))).collect();
    (heads, base)
}

/// One completed check run per head commit and one sticky comment per pull request: no effect lost or doubled.
fn assert_exactly_once(world: &World, heads: &[(u64, String)]) {
    let runs = world.fake.check_runs(OWNER, REPO);
    for (number, head) in heads {
        let of_head: Vec<_> = runs.iter().filter(|r| r["head_sha"] == head.as_str()).collect();
        assert_eq!(of_head.len(), 1, "pull request #{number}: one check run for {head}: {of_head:#?}");
        assert_eq!(of_head[0]["status"], "completed", "{:#?}", of_head[0]);
        assert_eq!(world.fake.issue_comments(OWNER, REPO, *number).len(), 1, "one sticky comment on #{number}");
    }
    assert_eq!(runs.len(), heads.len(), "no other check run: {runs:#?}");
    world.fake.assert_clean();
}

/// The PostgreSQL database of this test, or `None` (said on stderr) when the run is on SQLite: two replicas need
/// PostgreSQL, and `.ci/test` runs the App suite a second time on it.
async fn postgres() -> Option<TestDatabase> {
    if test_database::backend() == test_database::Backend::Postgres {
        return Some(TestDatabase::new().await);
    }
    eprintln!(
        "\n======== NOT RUN on SQLite: two replicas need SHIPSHAPE_TEST_BACKEND=postgres (.ci/test's second pass) ========\n"
    );
    None
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replica_killed_mid_delivery_is_taken_over_by_the_other_and_every_effect_lands_once() {
    let Some(db) = postgres().await else { return };
    let world = World::new(2).await;
    let (heads, base) = pull_requests(&world, 8);
    // Each delivery takes seconds at GitHub: many are in flight when the replica dies.
    world.fake.slow_down("/check-runs", Duration::from_millis(1500));
    let store = Store::open(&db.url).await.unwrap();
    let mut a = Replica::start(&world, &db.url).await;
    let b = Replica::start(&world, &db.url).await;
    for (number, head) in &heads {
        let to = if number % 2 == 0 { a.addr() } else { b.addr() };
        let body = world.pull_request("opened", *number, head, &base);
        assert_eq!(world.send_to(to, "pull_request", &format!("d-{number}"), &body).await, 202);
    }
    // Kill a while deliveries are in flight.
    wait_for(&store, "two deliveries in flight", Duration::from_secs(30), |ds| {
        ds.iter().filter(|d| d.status == DeliveryStatus::Processing).count() >= 2
    })
    .await;
    let held_by_a: Vec<String> = {
        let id = instance_of(&a.log());
        webhooks(&store)
            .await
            .into_iter()
            .filter(|d| d.status == DeliveryStatus::Processing)
            .filter(|d| d.lease_owner.as_deref().is_some_and(|o| o.starts_with(&format!("{id}-"))))
            .map(|d| d.delivery_id)
            .collect()
    };
    a.kill();
    let killed = Instant::now();
    let finished = wait_for(&store, "every delivery finished", Duration::from_secs(120), |ds| {
        ds.len() == heads.len() && ds.iter().all(|d| d.status == DeliveryStatus::Done)
    })
    .await;
    let takeover = finished - killed;
    eprintln!(
        "replicas: {} deliveries held by the killed replica; all done {takeover:?} after the SIGKILL",
        held_by_a.len()
    );
    assert!(takeover < Duration::from_secs(60), "SPEC 4: taken over within 60 s, took {takeover:?}\n{}", b.log());
    for id in &held_by_a {
        let record = store.delivery(id).await.unwrap().unwrap();
        assert!(record.attempts >= 2, "{id} was taken over: {record:#?}");
    }
    assert_exactly_once(&world, &heads);
    assert!(b.log().contains("instance registered"), "{}", b.log());
}

/// The instance id a replica logged when it registered.
fn instance_of(log: &str) -> String {
    let line = log.lines().find(|l| l.contains("instance registered")).expect("the replica logged its instance");
    let after = &line[line.find("instance=").expect("an instance field") + "instance=".len()..];
    after.split_whitespace().next().unwrap().trim_matches('"').to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sqlite_replica_killed_mid_delivery_finishes_it_within_seconds_of_its_restart() {
    let world = World::new(2).await;
    let db = TestDatabase::sqlite();
    let (heads, base) = pull_requests(&world, 2);
    world.fake.slow_down("/check-runs", Duration::from_millis(1500));
    let store = Store::open(&db.url).await.unwrap();
    let mut first = Replica::start(&world, &db.url).await;
    for (number, head) in &heads {
        let body = world.pull_request("opened", *number, head, &base);
        assert_eq!(world.send_to(first.addr(), "pull_request", &format!("d-{number}"), &body).await, 202);
    }
    wait_for(&store, "a delivery in flight", Duration::from_secs(30), |ds| {
        ds.iter().any(|d| d.status == DeliveryStatus::Processing)
    })
    .await;
    first.kill();
    let restarted = Instant::now();
    let second = Replica::start(&world, &db.url).await;
    let finished = wait_for(&store, "every delivery finished", Duration::from_secs(60), |ds| {
        ds.len() == heads.len() && ds.iter().all(|d| d.status == DeliveryStatus::Done)
    })
    .await;
    let took = finished - restarted;
    eprintln!("sqlite restart: every delivery done {took:?} after the restart");
    // The killed process's lease ran for 5 minutes; the restart takes it over at once, not after the lease.
    assert!(took < Duration::from_secs(20), "took {took:?}\n{}", second.log());
    assert_exactly_once(&world, &heads);
}
