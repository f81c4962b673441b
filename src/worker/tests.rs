use super::*;
use crate::clock::ManualClock;
use crate::store::{DeliveryRecord, DeliveryStatus, Disposition, NewDelivery};
use chrono::TimeZone;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use tokio::sync::Barrier;

const LEASE: Duration = Duration::from_secs(300);

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 3, 1, 12, 0, 0).unwrap()
}

struct Harness {
    _dir: crate::store::test_database::TestDatabase,
    url: String,
    store: Store,
    clock: Arc<ManualClock>,
    notify: Arc<Notify>,
    metrics: Arc<Metrics>,
}

async fn harness() -> Harness {
    let dir = crate::store::test_database::TestDatabase::new().await;
    let url = dir.url.clone();
    let store = Store::open(&url).await.unwrap();
    Harness {
        _dir: dir,
        url,
        store,
        clock: Arc::new(ManualClock::new(t0())),
        notify: Arc::new(Notify::new()),
        metrics: Arc::new(Metrics::new()),
    }
}

fn config(workers: usize) -> WorkerConfig {
    WorkerConfig {
        workers,
        lease: LEASE,
        renew_every: Duration::from_secs(3600),
        poll_interval: Duration::from_millis(10),
        ..WorkerConfig::default()
    }
}

impl Harness {
    fn spawn(&self, handler: impl Handler, config: WorkerConfig) -> WorkerPool {
        WorkerPool::spawn(
            self.store.clone(),
            Arc::new(handler),
            self.notify.clone(),
            self.metrics.clone(),
            self.clock.clone(),
            config,
        )
    }

    async fn insert(&self, id: &str, serial_key: Option<&str>) {
        let d = NewDelivery {
            delivery_id: id.to_owned(),
            event: "pull_request".to_owned(),
            action: Some("synchronize".to_owned()),
            installation_id: Some(1),
            repository: Some("acme/api".to_owned()),
            serial_key: serial_key.map(str::to_owned),
            head_sha: None,
            payload: b"{}".to_vec(),
            received_at: self.clock.now(),
            disposition: Disposition::Queue,
        };
        self.store.insert_delivery(&d).await.unwrap();
        self.notify.notify_one();
    }

    async fn record(&self, id: &str) -> DeliveryRecord {
        self.store.delivery(id).await.unwrap().expect("stored")
    }

    /// Waits (real time) until the delivery is in `status`.
    async fn wait_for(&self, id: &str, status: DeliveryStatus) -> DeliveryRecord {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            let record = self.record(id).await;
            if record.status == status {
                return record;
            }
            assert!(tokio::time::Instant::now() < deadline, "{id} never became {status}: {record:?}");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    /// Whether the metrics show `line`, waiting a little: a worker counts an outcome just after recording it, so a
    /// test that saw the record may look before the count.
    async fn metric(&self, line: &str) -> bool {
        for _ in 0..200 {
            if self.metrics.render().lines().any(|l| l == line) {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        false
    }
}

fn ok_handler() -> impl Handler {
    FnHandler(|_| async { Ok(()) })
}

#[test]
fn backoff_follows_the_schedule_then_stays_hourly() {
    let expected = [10, 30, 120, 600, 3600, 3600, 3600];
    for (attempt, secs) in (1..).zip(expected) {
        assert_eq!(backoff_delay(&DEFAULT_BACKOFF, attempt), Duration::from_secs(secs), "attempt {attempt}");
    }
    assert_eq!(backoff_delay(&DEFAULT_BACKOFF, 0), Duration::from_secs(10));
    assert_eq!(backoff_delay(&[], 3), Duration::from_secs(60));
}

#[tokio::test]
async fn a_delivery_is_processed_and_completed() {
    let h = harness().await;
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    let pool = h.spawn(
        FnHandler(move |d: Claimed| {
            log.lock().unwrap().push((d.delivery_id.clone(), d.attempt, d.payload.clone()));
            async { Ok(()) }
        }),
        config(2),
    );
    h.insert("d1", None).await;
    let record = h.wait_for("d1", DeliveryStatus::Done).await;
    assert_eq!(record.attempts, 1);
    assert_eq!(record.finished_at, Some(t0()));
    assert_eq!(*seen.lock().unwrap(), vec![("d1".to_owned(), 1, b"{}".to_vec())]);
    assert!(h.metric("shipshape_deliveries_processed_total{event=\"pull_request\",outcome=\"done\"} 1").await);
    assert!(h.metric("shipshape_delivery_processing_seconds_count 1").await);
    pool.shutdown(Duration::from_secs(5)).await;
}

#[tokio::test]
async fn a_notification_wakes_an_idle_worker_at_once() {
    let h = harness().await;
    let pool = h.spawn(ok_handler(), WorkerConfig { poll_interval: Duration::from_secs(3600), ..config(1) });
    // Let the worker go idle (claim nothing, then wait).
    tokio::time::sleep(Duration::from_millis(50)).await;
    h.insert("d1", None).await;
    let started = tokio::time::Instant::now();
    h.wait_for("d1", DeliveryStatus::Done).await;
    assert!(started.elapsed() < Duration::from_secs(5));
    pool.shutdown(Duration::from_secs(5)).await;
}

#[tokio::test]
async fn a_transient_error_is_retried_with_backoff_then_done() {
    let h = harness().await;
    let calls = Arc::new(AtomicUsize::new(0));
    let counter = calls.clone();
    let pool = h.spawn(
        FnHandler(move |d: Claimed| {
            let n = counter.fetch_add(1, Ordering::SeqCst);
            async move {
                if n == 0 {
                    assert_eq!(d.last_error, None);
                    Err(HandleError::transient("GitHub answered 502"))
                } else {
                    assert_eq!(d.last_error.as_deref(), Some("GitHub answered 502"));
                    Ok(())
                }
            }
        }),
        config(1),
    );
    h.insert("d1", None).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let record = loop {
        let r = h.record("d1").await;
        if r.status == DeliveryStatus::Queued && r.attempts == 1 {
            break r;
        }
        assert!(tokio::time::Instant::now() < deadline, "{r:?}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    };
    assert_eq!(record.next_attempt_at, t0() + TimeDelta::seconds(10));
    assert_eq!(record.last_error.as_deref(), Some("GitHub answered 502"));
    assert!(h.metric("shipshape_deliveries_processed_total{event=\"pull_request\",outcome=\"retried\"} 1").await);

    // Not before its time...
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    // ...then at once.
    h.clock.advance(Duration::from_secs(10));
    let record = h.wait_for("d1", DeliveryStatus::Done).await;
    assert_eq!(record.attempts, 2);
    assert_eq!(calls.load(Ordering::SeqCst), 2);
    assert!(h.metric("shipshape_deliveries_processed_total{event=\"pull_request\",outcome=\"done\"} 1").await);
    pool.shutdown(Duration::from_secs(5)).await;
}

#[tokio::test]
async fn retry_after_wins_when_it_is_later_than_the_backoff() {
    let h = harness().await;
    let pool = h.spawn(
        FnHandler(|d: Claimed| async move {
            match d.delivery_id.as_str() {
                "rate-limited" => Err(HandleError::transient_after("rate limited", Duration::from_secs(900))),
                _ => Err(HandleError::transient_after("soon", Duration::from_secs(1))),
            }
        }),
        config(2),
    );
    h.insert("rate-limited", None).await;
    h.insert("soon", None).await;
    for (id, delay) in [("rate-limited", 900), ("soon", 10)] {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            let r = h.record(id).await;
            if r.attempts == 1 && r.status == DeliveryStatus::Queued {
                assert_eq!(r.next_attempt_at, t0() + TimeDelta::seconds(delay), "{id}");
                break;
            }
            assert!(tokio::time::Instant::now() < deadline, "{r:?}");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
    pool.shutdown(Duration::from_secs(5)).await;
}

#[tokio::test]
async fn a_permanent_error_fails_once_and_for_all() {
    let h = harness().await;
    let calls = Arc::new(AtomicUsize::new(0));
    let counter = calls.clone();
    let pool = h.spawn(
        FnHandler(move |_| {
            counter.fetch_add(1, Ordering::SeqCst);
            async { Err(HandleError::permanent("repository acme/api no longer exists")) }
        }),
        config(2),
    );
    h.insert("d1", None).await;
    let record = h.wait_for("d1", DeliveryStatus::Failed).await;
    assert_eq!(record.last_error.as_deref(), Some("repository acme/api no longer exists"));
    assert_eq!(record.attempts, 1);
    h.clock.advance(Duration::from_secs(86_400));
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    assert!(h.metric("shipshape_deliveries_processed_total{event=\"pull_request\",outcome=\"failed\"} 1").await);
    pool.shutdown(Duration::from_secs(5)).await;
}

#[tokio::test]
async fn a_delivery_fails_after_the_last_attempt() {
    let h = harness().await;
    let calls = Arc::new(AtomicUsize::new(0));
    let counter = calls.clone();
    let pool = h.spawn(
        FnHandler(move |d: Claimed| {
            counter.fetch_add(1, Ordering::SeqCst);
            async move { Err(HandleError::transient(format!("timeout #{}", d.attempt))) }
        }),
        WorkerConfig { max_attempts: 3, ..config(1) },
    );
    h.insert("d1", None).await;
    for attempt in 1..3 {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while h.record("d1").await.attempts < attempt || h.record("d1").await.status != DeliveryStatus::Queued {
            assert!(tokio::time::Instant::now() < deadline);
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        h.clock.advance(Duration::from_secs(3600));
    }
    let record = h.wait_for("d1", DeliveryStatus::Failed).await;
    assert_eq!(record.attempts, 3);
    assert_eq!(record.last_error.as_deref(), Some("gave up after 3 attempts; last error: timeout #3"));
    assert_eq!(calls.load(Ordering::SeqCst), 3);
    pool.shutdown(Duration::from_secs(5)).await;
}

#[tokio::test]
async fn a_panicking_handler_is_retried_and_the_worker_survives() {
    let h = harness().await;
    let pool = h.spawn(
        FnHandler(|d: Claimed| async move {
            if d.delivery_id == "bomb" && d.attempt == 1 {
                panic!("boom");
            }
            Ok(())
        }),
        config(1),
    );
    h.insert("bomb", None).await;
    h.insert("next", None).await;
    h.wait_for("next", DeliveryStatus::Done).await;
    let record = h.record("bomb").await;
    assert_eq!(record.status, DeliveryStatus::Queued);
    assert_eq!(record.last_error.as_deref(), Some("handler panicked: boom"));
    h.clock.advance(Duration::from_secs(10));
    h.wait_for("bomb", DeliveryStatus::Done).await;
    pool.shutdown(Duration::from_secs(5)).await;
}

#[tokio::test]
async fn a_crashed_workers_delivery_is_processed_after_its_lease_expires() {
    let h = harness().await;
    let started = Arc::new(Notify::new());
    let signal = started.clone();
    // The first process hangs in the middle of the delivery, then dies.
    let hung = h.spawn(
        FnHandler(move |_| {
            signal.notify_one();
            std::future::pending::<Result<(), HandleError>>()
        }),
        config(1),
    );
    h.insert("d1", None).await;
    tokio::time::timeout(Duration::from_secs(10), started.notified()).await.unwrap();
    drop(hung);

    // A new process: nothing to do while the lease runs...
    let done = Arc::new(AtomicUsize::new(0));
    let counter = done.clone();
    let pool = h.spawn(
        FnHandler(move |d: Claimed| {
            counter.fetch_add(1, Ordering::SeqCst);
            assert_eq!(d.attempt, 2);
            async { Ok(()) }
        }),
        config(2),
    );
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(h.record("d1").await.status, DeliveryStatus::Processing);
    assert_eq!(done.load(Ordering::SeqCst), 0);
    // ...and the delivery once it expires.
    h.clock.advance(LEASE + Duration::from_secs(1));
    let record = h.wait_for("d1", DeliveryStatus::Done).await;
    assert_eq!(record.attempts, 2);
    assert_eq!(done.load(Ordering::SeqCst), 1);
    pool.shutdown(Duration::from_secs(5)).await;
}

#[tokio::test]
async fn a_delivery_that_keeps_crashing_its_worker_eventually_fails() {
    let h = harness().await;
    h.insert("poison", None).await;
    // Eight crashed attempts.
    for _ in 0..8 {
        let claimed = h.store.claim("doomed", h.clock.now(), LEASE).await.unwrap().unwrap();
        assert_eq!(claimed.delivery_id, "poison");
        h.clock.advance(LEASE);
    }
    let calls = Arc::new(AtomicUsize::new(0));
    let counter = calls.clone();
    let pool = h.spawn(
        FnHandler(move |_| {
            counter.fetch_add(1, Ordering::SeqCst);
            async { Ok(()) }
        }),
        config(1),
    );
    let record = h.wait_for("poison", DeliveryStatus::Failed).await;
    assert_eq!(record.attempts, 9);
    assert_eq!(
        record.last_error.as_deref(),
        Some("gave up after 8 attempts; last error: none recorded (the worker stopped mid-attempt)")
    );
    assert_eq!(calls.load(Ordering::SeqCst), 0);
    pool.shutdown(Duration::from_secs(5)).await;
}

#[tokio::test]
async fn a_long_delivery_keeps_its_lease() {
    let h = harness().await;
    let release = Arc::new(Notify::new());
    let gate = release.clone();
    let pool = h.spawn(
        FnHandler(move |_| {
            let gate = gate.clone();
            async move {
                gate.notified().await;
                Ok(())
            }
        }),
        WorkerConfig { renew_every: Duration::from_millis(20), ..config(2) },
    );
    h.insert("slow", None).await;
    let first = h.wait_for("slow", DeliveryStatus::Processing).await;
    assert_eq!(first.lease_until, Some(t0() + TimeDelta::seconds(300)));
    // Time passes well beyond the first lease; renewals keep pushing it out, so no other worker takes it.
    for _ in 0..4 {
        h.clock.advance(Duration::from_secs(120));
        let wanted = h.clock.now() + TimeDelta::seconds(300);
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while h.record("slow").await.lease_until != Some(wanted) {
            assert!(tokio::time::Instant::now() < deadline, "lease not renewed");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
    assert_eq!(h.record("slow").await.attempts, 1);
    release.notify_one();
    let record = h.wait_for("slow", DeliveryStatus::Done).await;
    assert_eq!(record.attempts, 1);
    pool.shutdown(Duration::from_secs(5)).await;
}

#[tokio::test]
async fn a_worker_that_loses_its_lease_abandons_the_delivery() {
    let h = harness().await;
    let cancelled = Arc::new(AtomicBool::new(false));
    struct SetOnDrop(Arc<AtomicBool>);
    impl Drop for SetOnDrop {
        fn drop(&mut self) {
            self.0.store(true, Ordering::SeqCst);
        }
    }
    let flag = cancelled.clone();
    let pool = h.spawn(
        FnHandler(move |_| {
            let guard = SetOnDrop(flag.clone());
            async move {
                std::future::pending::<()>().await;
                drop(guard);
                Ok(())
            }
        }),
        WorkerConfig { renew_every: Duration::from_millis(50), ..config(1) },
    );
    h.insert("d1", None).await;
    h.wait_for("d1", DeliveryStatus::Processing).await;
    // The worker stalls past its lease and someone else claims the delivery before its next renewal.
    let intruder = loop {
        h.clock.advance(LEASE + Duration::from_secs(1));
        if let Some(c) = h.store.claim("intruder", h.clock.now(), LEASE).await.unwrap() {
            break c;
        }
    };
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !cancelled.load(Ordering::SeqCst) {
        assert!(tokio::time::Instant::now() < deadline, "the stale attempt was not cancelled");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let record = h.record("d1").await;
    assert_eq!(record.status, DeliveryStatus::Processing);
    assert_eq!(record.lease_owner.as_deref(), Some("intruder"));
    h.store.complete(&intruder.lease(), h.clock.now()).await.unwrap();
    pool.shutdown(Duration::from_secs(5)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn deliveries_with_the_same_key_never_run_concurrently() {
    let h = harness().await;
    let running = Arc::new(AtomicBool::new(false));
    let overlaps = Arc::new(AtomicUsize::new(0));
    let (flag, overlap) = (running.clone(), overlaps.clone());
    let pool = h.spawn(
        FnHandler(move |_| {
            let (flag, overlap) = (flag.clone(), overlap.clone());
            async move {
                if flag.swap(true, Ordering::SeqCst) {
                    overlap.fetch_add(1, Ordering::SeqCst);
                }
                tokio::time::sleep(Duration::from_millis(15)).await;
                flag.store(false, Ordering::SeqCst);
                Ok(())
            }
        }),
        config(4),
    );
    for i in 0..8 {
        h.insert(&format!("d{i}"), Some("acme/api#7")).await;
    }
    for i in 0..8 {
        h.wait_for(&format!("d{i}"), DeliveryStatus::Done).await;
    }
    assert_eq!(overlaps.load(Ordering::SeqCst), 0);
    pool.shutdown(Duration::from_secs(5)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn deliveries_with_different_keys_run_in_parallel() {
    let h = harness().await;
    // Each handler waits until all four are running at once: only possible in parallel.
    let barrier = Arc::new(Barrier::new(4));
    let b = barrier.clone();
    let pool = h.spawn(
        FnHandler(move |_| {
            let b = b.clone();
            async move {
                match tokio::time::timeout(Duration::from_secs(5), b.wait()).await {
                    Ok(_) => Ok(()),
                    Err(_) => Err(HandleError::permanent("ran alone")),
                }
            }
        }),
        config(4),
    );
    for i in 0..4 {
        h.insert(&format!("d{i}"), Some(&format!("acme/api#{i}"))).await;
    }
    for i in 0..4 {
        h.wait_for(&format!("d{i}"), DeliveryStatus::Done).await;
    }
    pool.shutdown(Duration::from_secs(5)).await;
}

#[tokio::test]
async fn shutdown_lets_a_running_delivery_finish() {
    let h = harness().await;
    let started = Arc::new(Notify::new());
    let signal = started.clone();
    let pool = h.spawn(
        FnHandler(move |_| {
            signal.notify_one();
            async {
                tokio::time::sleep(Duration::from_millis(100)).await;
                Ok(())
            }
        }),
        config(1),
    );
    h.insert("d1", None).await;
    tokio::time::timeout(Duration::from_secs(10), started.notified()).await.unwrap();
    pool.shutdown(Duration::from_secs(5)).await;
    assert_eq!(h.record("d1").await.status, DeliveryStatus::Done);
}

#[tokio::test]
async fn shutdown_puts_an_unfinished_delivery_back_in_the_queue() {
    let h = harness().await;
    let started = Arc::new(Notify::new());
    let signal = started.clone();
    let pool = h.spawn(
        FnHandler(move |_| {
            signal.notify_one();
            std::future::pending::<Result<(), HandleError>>()
        }),
        config(1),
    );
    h.insert("d1", None).await;
    tokio::time::timeout(Duration::from_secs(10), started.notified()).await.unwrap();
    pool.shutdown(Duration::from_millis(50)).await;
    let record = h.record("d1").await;
    assert_eq!(record.status, DeliveryStatus::Queued);
    assert_eq!(record.next_attempt_at, t0());
    assert_eq!(record.last_error.as_deref(), Some("interrupted by shutdown"));

    // The next process picks it up straight away.
    h.store.close().await;
    let store = Store::open(&h.url).await.unwrap();
    let again = store.claim("next-process", h.clock.now(), LEASE).await.unwrap().unwrap();
    assert_eq!((again.delivery_id.as_str(), again.attempt), ("d1", 2));
}

#[tokio::test]
async fn superseded_deliveries_are_counted() {
    let h = harness().await;
    for (id, sha) in [("old", "aaa"), ("new", "bbb")] {
        let d = NewDelivery {
            delivery_id: id.to_owned(),
            event: "pull_request".to_owned(),
            action: Some("synchronize".to_owned()),
            installation_id: Some(1),
            repository: Some("acme/api".to_owned()),
            serial_key: Some("acme/api#7".to_owned()),
            head_sha: Some(sha.to_owned()),
            payload: b"{}".to_vec(),
            received_at: h.clock.now(),
            disposition: Disposition::Queue,
        };
        h.store.insert_delivery(&d).await.unwrap();
    }
    let pool = h.spawn(ok_handler(), config(1));
    h.wait_for("new", DeliveryStatus::Done).await;
    assert_eq!(h.record("old").await.status, DeliveryStatus::Superseded);
    assert!(h.metric("shipshape_deliveries_processed_total{event=\"pull_request\",outcome=\"superseded\"} 1").await);
    pool.shutdown(Duration::from_secs(5)).await;
}
