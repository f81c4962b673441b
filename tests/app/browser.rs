//! The pages in a real browser (issue 14): headless Chromium (`browser_harness`) loads them from an App fed by the
//! real pipeline — signed push webhooks into the router and sweeps, against the fake GitHub, over eight simulated
//! days of the injected clock — and the tests read the rendered DOM: the grid's counts and where they lead, the
//! trend's points, the links to GitHub, and hostile text from the catalog and the policy shown as text.

use crate::browser_harness::Browser;
use crate::commands::CATALOG;
use crate::e2e::{INSTALLATION, OWNER, World, fixture, point_at_repo};
use crate::fake_github::web::{CLIENT_ID, CLIENT_SECRET};
use crate::signin::app;
use chrono::{TimeZone, Utc};
use serde_json::json;
use shipshape::clock::ManualClock;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// A service name that is an HTML attribute breakout; catalog names only have to match their file's name.
const HOSTILE_NAME: &str = r#""><img src=x onerror=window.__pwned=1>"#;
/// The hostile service's owner (`spec.owner` is free text).
const HOSTILE_OWNER: &str = "<script>window.__pwned=2</script>";
/// A rule's failure message and description in the policy, and the reason of an exception.
const HOSTILE_TEXT: &str =
    r#"</td></tr></table><script>window.__pwned=3</script>"><img src=x onerror="window.__pwned=4">"#;
/// A rule's title in the policy.
const HOSTILE_TITLE: &str = r#"Notes name <b>on-call</b> & "<script>window.__pwned=5</script>""#;

const DAYS: usize = 8;

/// Each service: its repository, tier, owner, level on the last day, and whether it met its tier's required level on
/// each of the eight days (what the timeline in [`world`] makes of it).
struct Expected {
    name: &'static str,
    repo: &'static str,
    tier: u32,
    owner: &'static str,
    level: &'static str,
    meets: [bool; DAYS],
}

const SERVICES: [Expected; 4] = [
    // Gold (tier 1 requires gold) until its SLOs are removed on day 5.
    Expected {
        name: "payments",
        repo: "payments",
        tier: 1,
        owner: "team-payments",
        level: "silver",
        meets: [true, true, true, true, false, false, false, false],
    },
    // Bronze until a runbook arrives on day 3: silver, which tier 2 requires.
    Expected {
        name: "search",
        repo: "search",
        tier: 2,
        owner: "team-search",
        level: "silver",
        meets: [false, false, true, true, true, true, true, true],
    },
    // No README (no level) until day 6: bronze, which tier 3 requires.
    Expected {
        name: "ledger",
        repo: "ledger",
        tier: 3,
        owner: "team-ledger",
        level: "bronze",
        meets: [false, false, false, false, false, true, true, true],
    },
    // Its README never names the on-call: bronze, below tier 2's silver (its runbook is excepted).
    Expected {
        name: HOSTILE_NAME,
        repo: "widgets",
        tier: 2,
        owner: HOSTILE_OWNER,
        level: "bronze",
        meets: [false; DAYS],
    },
];

/// Four rules; the title, description and failure message of `notes` are filled in by [`policy`].
const POLICY: &str = "apiVersion: shipshape.dev/v1
kind: Scorecard
default_tier: 3
tiers:
  1: {requires: gold, deadline_days: 10, exception_max_days: 30}
  2: {requires: silver, deadline_days: 30, exception_max_days: 60}
  3: {requires: bronze, deadline_days: 30, exception_max_days: 90}
rules:
  - {id: readme, title: Has a README, level: bronze, remediation: Write one., check: {file: {any: [README.md]}}}
  - {id: runbook, title: Has a runbook, level: silver, remediation: Write one., check: {file: {any: [RUNBOOK.md]}}}
  - id: notes
    title: @TITLE@
    description: @TEXT@
    level: silver
    remediation: Name the on-call.
    check: {content: {files: [README.md], matches: on-call, message: @TEXT@}}
  - {id: slo, title: Has SLOs, level: gold, remediation: Add slo.yaml., check: {file: {any: [slo.yaml]}}}
";

fn policy() -> String {
    POLICY.replace("@TITLE@", &quoted(HOSTILE_TITLE)).replace("@TEXT@", &quoted(HOSTILE_TEXT))
}

/// `text` as a single-quoted YAML scalar.
fn quoted(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

fn entry(s: &Expected) -> String {
    format!(
        "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: {}\n  annotations:\n    \
         github.com/project-slug: {OWNER}/{}\nspec:\n  type: service\n  owner: {}\n  tier: {}\n",
        quoted(s.name),
        s.repo,
        quoted(s.owner),
        s.tier
    )
}

fn readme(name: &str, on_call: bool) -> String {
    let page = if on_call { " Page the on-call engineer of the team when it breaks." } else { "" };
    format!("# {name}\n\n{}\n", format!("This service keeps the books of the company in order.{page} ").repeat(6))
}

/// 9:00 UTC on day `n` (1 November 2026 is day 1).
fn day(n: usize) -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, n as u32, 9, 0, 0).unwrap()
}

/// A signed `push` of `after` to `repo`'s default branch, as GitHub sends it.
async fn push(world: &World, repo: &str, before: &str, after: &str) {
    world.fake.set_branch(OWNER, repo, "main", after);
    let mut payload = fixture("push", "with-new-branch.payload.json");
    payload["installation"] = json!({"id": INSTALLATION, "node_id": "MDIzOkludGVncmF0aW9uSW5zdGFsbGF0aW9uMQ=="});
    point_at_repo(&mut payload["repository"]);
    payload["repository"]["name"] = repo.into();
    payload["repository"]["full_name"] = format!("{OWNER}/{repo}").into();
    payload["ref"] = "refs/heads/main".into();
    (payload["before"], payload["after"]) = (before.into(), after.into());
    (payload["created"], payload["deleted"]) = (false.into(), false.into());
    let delivery = world.next_delivery();
    assert_eq!(world.send("push", &delivery, &serde_json::to_vec(&payload).unwrap()).await, 202);
    world.settle().await;
    let record = world.running().store.delivery(&delivery).await.unwrap().unwrap();
    assert_eq!(record.status, shipshape::store::DeliveryStatus::Done, "{record:?}");
}

async fn sweep(world: &World) {
    world.running().sweep_now().await.unwrap();
    world.settle().await;
}

/// The four services of [`SERVICES`] in acme's catalog with a policy of four rules, scored over eight days: a sweep
/// on day 1, pushes on days 3, 5 and 6, a sweep on day 8 (today). Sign-in goes through the fake GitHub, and the
/// App's public address is its real one, so a browser can follow the OAuth redirects.
async fn world() -> World {
    let mut world = World::new(1).await;
    let clock = Arc::new(ManualClock::new(day(1)));
    world.clock = clock.clone();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let public = format!("http://{}", listener.local_addr().unwrap());
    world.vars.extend([
        ("SHIPSHAPE_GITHUB_CLIENT_ID", CLIENT_ID.to_string()),
        ("SHIPSHAPE_GITHUB_CLIENT_SECRET", CLIENT_SECRET.to_string()),
        ("SHIPSHAPE_PUBLIC_URL", public),
    ]);
    let fake = &world.fake;
    fake.add_user("alice", "gho_alice_token_1234567890", &[INSTALLATION]);
    let (policy, exception) = (policy(), exception());
    let mut catalog: Vec<(String, String)> = vec![
        ("policies/scorecard.yaml".into(), policy),
        (format!("exceptions/{HOSTILE_NAME}/runbook.yaml"), exception),
    ];
    catalog.extend(SERVICES.iter().map(|s| (format!("services/{}.yaml", s.name), entry(s))));
    let files: Vec<(&str, &str)> = catalog.iter().map(|(p, c)| (p.as_str(), c.as_str())).collect();
    let head = fake.commit(OWNER, CATALOG, &files);
    fake.set_branch(OWNER, CATALOG, "main", &head);

    let (good, plain) = (readme("service", true), readme("widgets", false));
    let payments_gold = [("README.md", good.as_str()), ("RUNBOOK.md", "# Runbook\n"), ("slo.yaml", "p99: 200ms\n")];
    let mut heads = BTreeMap::new();
    for (repo, files) in [
        ("payments", &payments_gold[..]),
        ("search", &[("README.md", good.as_str())][..]),
        ("ledger", &[("src/lib.rs", "")][..]),
        ("widgets", &[("README.md", plain.as_str())][..]),
    ] {
        if repo != "payments" {
            fake.add_repo(INSTALLATION, OWNER, repo, "main");
        }
        let sha = fake.commit(OWNER, repo, files);
        fake.set_branch(OWNER, repo, "main", &sha);
        heads.insert(repo, sha);
    }
    world.start_on(listener, 2).await;

    sweep(&world).await;
    clock.set(day(3));
    let search = world.fake.commit(OWNER, "search", &[("README.md", good.as_str()), ("RUNBOOK.md", "# Runbook\n")]);
    push(&world, "search", &heads["search"], &search).await;
    clock.set(day(5));
    let payments = world.fake.commit(OWNER, "payments", &payments_gold[..2]);
    push(&world, "payments", &heads["payments"], &payments).await;
    clock.set(day(6));
    let ledger = world.fake.commit(OWNER, "ledger", &[("README.md", good.as_str())]);
    push(&world, "ledger", &heads["ledger"], &ledger).await;
    clock.set(day(DAYS));
    sweep(&world).await;
    world
}

/// The hostile service's exception for `runbook`, ending twelve days after today.
fn exception() -> String {
    format!(
        "apiVersion: shipshape.dev/v1\nkind: Exception\nservice: {}\nrule: runbook\nreason: {}\nexpires: 2026-11-20\n",
        quoted(HOSTILE_NAME),
        quoted(HOSTILE_TEXT)
    )
}

/// The services `column` of the grid's row for `tier` counts: a level, `All` or `Meeting`.
fn in_cell(tier: u32, column: &str) -> BTreeSet<&'static str> {
    let today = DAYS - 1;
    SERVICES
        .iter()
        .filter(|s| s.tier == tier && (column == "All" || s.level == column || (column == "Meeting" && s.meets[today])))
        .map(|s| s.name)
        .collect()
}

/// (meeting, services) on each day, for a tier or for all (`None`).
fn trend(tier: Option<u32>) -> Vec<(usize, usize)> {
    let counted: Vec<&Expected> = SERVICES.iter().filter(|s| tier.is_none_or(|t| s.tier == t)).collect();
    (0..DAYS).map(|d| (counted.iter().filter(|s| s.meets[d]).count(), counted.len())).collect()
}

/// The `shipshape_session` cookie of alice, signed in through the fake GitHub's OAuth flow, set in the browser on
/// the App's origin.
async fn sign_in_by_cookie(browser: &Browser, world: &World) {
    let header = crate::signin::session_cookie(world, "alice").await;
    assert!(header.starts_with("shipshape_session="), "{header}");
    browser.goto(&app(world, "/static/shipshape.css")).await;
    let ip = world.running().addr.ip();
    let cookie = format!("{header}; Domain={ip}; Path=/; HttpOnly; SameSite=Lax");
    let cookie = fantoccini::cookies::Cookie::parse(cookie).unwrap().into_owned();
    browser.client.add_cookie(cookie).await.unwrap();
}

/// The path of the link `css` selects, after a click on it took the browser there.
async fn click(browser: &Browser, css: &str) -> String {
    browser.one(css).await.click().await.unwrap_or_else(|e| panic!("{css}: {e}"));
    browser.location().await
}

/// The GitHub address of the tracking issue the App opened in `repo` (the issue with the label and no parent).
fn tracking_issue(world: &World, repo: &str) -> String {
    let issue = world
        .fake
        .issues(OWNER, repo)
        .into_iter()
        .find(|i| i.parent.is_none() && i.labels.iter().any(|l| l == shipshape::tracking::LABEL))
        .unwrap_or_else(|| panic!("no tracking issue in {repo}"));
    format!("https://github.com/{OWNER}/{repo}/issues/{}", issue.number)
}

async fn attr(element: &fantoccini::elements::Element, name: &str) -> String {
    element.attr(name).await.unwrap().unwrap_or_else(|| panic!("no {name}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_a_browser_the_overview_shows_the_pipelines_counts_trend_and_links() {
    let Some(browser) = Browser::open(1280, 1000).await else { return };
    let world = world().await;

    // Signing in as a person does: `/` sends the browser to `/login`, the fake GitHub's authorize page (where the
    // browser is signed in as alice) sends it back to the callback, which sets the session and sends it to `/`.
    world.fake.sign_in_browser(Some("alice"));
    browser.goto(&app(&world, "/")).await;
    assert_eq!(browser.location().await, "/");
    assert_eq!(browser.text(".who").await, "alice");
    let web: Vec<String> = world.fake.web_requests().into_iter().map(|(path, _)| path).collect();
    assert_eq!(web, ["/login/oauth/authorize", "/login/oauth/access_token"]);
    let session = browser.client.get_named_cookie("shipshape_session").await.unwrap();
    assert_eq!(session.http_only(), Some(true), "{session:?}");
    browser.assert_nothing_injected().await;

    // The screenshot of the dashboard in docs/, on request only.
    let png = browser.client.screenshot().await.unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    let size = |at: usize| u32::from_be_bytes(png[at..at + 4].try_into().unwrap());
    assert_eq!((size(16), size(20)), (1280, 1000), "the screenshot is of the whole window");
    if std::env::var("SHIPSHAPE_UPDATE_SCREENSHOT").as_deref() == Ok("1") {
        let docs = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs");
        std::fs::create_dir_all(&docs).unwrap();
        std::fs::write(docs.join("dashboard.png"), &png).unwrap();
    }

    // The cards and the grid: every count is the number of services of its tier and level, and links to them.
    assert_eq!(browser.text("#services-count").await, "4");
    assert_eq!(browser.text("#meeting-count").await, "2");
    assert_eq!(browser.text("#not-meeting-count").await, "2");
    let columns = browser.texts("#grid thead th").await;
    assert_eq!(columns, ["Tier", "Requires", "none", "bronze", "silver", "gold", "All", "Meeting"]);
    let mut links = Vec::new();
    for row in browser.all("#grid tbody tr").await {
        let tier: u32 = attr(&row, "data-tier").await.parse().unwrap();
        let cells = row.find_all(fantoccini::Locator::Css("td.num a")).await.unwrap();
        assert_eq!(cells.len(), columns.len() - 2, "tier {tier}");
        for (link, column) in cells.iter().zip(&columns[2..]) {
            let count: usize = link.text().await.unwrap().parse().unwrap();
            assert_eq!(count, in_cell(tier, column).len(), "tier {tier}, {column}");
            links.push((tier, column.clone(), count, link.prop("href").await.unwrap().unwrap()));
        }
    }
    assert_eq!(links.iter().map(|l| l.0).collect::<BTreeSet<_>>(), BTreeSet::from([1, 2, 3]), "a row per tier");
    for (tier, column, count, href) in &links {
        browser.goto(href).await;
        let at = browser.location().await;
        assert!(at.starts_with("/services?tier="), "{at}");
        assert_eq!(browser.text("#row-count").await, format!("{count} services"), "{at}");
        let mut listed = BTreeSet::new();
        for row in browser.all("#services tbody tr").await {
            listed.insert(attr(&row, "data-service").await);
        }
        let wanted: BTreeSet<String> = in_cell(*tier, column).into_iter().map(String::from).collect();
        assert_eq!(listed, wanted, "tier {tier}, {column}: {at}");
    }

    // The trend: a line per tier and one for all, a point for each of the eight days, at the day's share.
    browser.goto(&app(&world, "/")).await;
    let mut seen = Vec::new();
    for line in browser.all("#trend svg.chart g.series").await {
        let label = attr(&line, "data-series").await;
        let tier = label.strip_prefix("tier ").map(|t| t.parse::<u32>().unwrap());
        let points = attr(&line.find(fantoccini::Locator::Css("polyline")).await.unwrap(), "points").await;
        let points: Vec<(f64, f64)> = points
            .split(' ')
            .map(|p| p.split_once(',').map(|(x, y)| (x.parse().unwrap(), y.parse().unwrap())).unwrap())
            .collect();
        assert_eq!(attr(&line, "data-points").await, DAYS.to_string(), "{label}");
        // The plot runs from y 194 (0%) up to y 10 (100%); the last day is at the right edge, x 610.
        let shares: Vec<f64> = points.iter().map(|(_, y)| ((194.0 - y) / 184.0 * 100.0).round()).collect();
        let wanted: Vec<f64> = trend(tier).iter().map(|(m, n)| (*m as f64 * 100.0 / *n as f64).round()).collect();
        assert_eq!(shares, wanted, "{label}");
        assert_eq!(points.last().unwrap().0, 610.0, "{label}");
        let dot = line.find(fantoccini::Locator::Css("circle")).await.unwrap();
        assert_eq!(attr(&dot, "cx").await.parse::<f64>().unwrap(), 610.0, "{label}: the last point is marked");
        seen.push(label);
    }
    assert_eq!(seen, ["all tiers", "tier 1", "tier 2", "tier 3"]);
    // Its table, folded away until the summary is clicked: the same numbers, newest day first.
    let table = browser.one("#trend-table").await;
    assert!(!table.is_displayed().await.unwrap(), "the table starts folded");
    browser.one("#trend summary").await.click().await.unwrap();
    assert!(table.is_displayed().await.unwrap());
    let rows = browser.all("#trend-table tbody tr").await;
    assert_eq!(rows.len(), 90, "a row for each of the 90 days");
    for (i, row) in rows.iter().take(DAYS + 1).enumerate() {
        let date = (day(DAYS) - chrono::TimeDelta::days(i as i64)).date_naive();
        let cells: Vec<String> = [None, Some(1), Some(2), Some(3)]
            .iter()
            .map(|t| match i {
                0..DAYS => trend(*t)[DAYS - 1 - i],
                _ => (0, 0),
            })
            .map(|(m, n)| if n == 0 { "–".to_string() } else { format!("{m} of {n}") })
            .collect();
        assert_eq!(row.text().await.unwrap(), format!("{date} {}", cells.join(" ")));
    }

    // The week's movers, and the drop's link to the service page.
    let movers = browser.all("#movers table.moves").await;
    assert_eq!(movers.len(), 2, "drops and improvements");
    let mut moved = Vec::new();
    for table in &movers {
        let mut rows = Vec::new();
        for row in table.find_all(fantoccini::Locator::Css("tbody tr")).await.unwrap() {
            let mut cells = Vec::new();
            for cell in row.find_all(fantoccini::Locator::Css("td")).await.unwrap().iter().take(3) {
                cells.push(cell.text().await.unwrap());
            }
            rows.push(cells.join(" "));
        }
        rows.sort();
        moved.push(rows);
    }
    assert_eq!(moved, [vec!["payments gold silver"], vec!["ledger none bronze", "search bronze silver"]]);
    assert_eq!(click(&browser, "#movers table.moves a[href='/services/payments']").await, "/services/payments");

    // The service page: its standing, its level per day with a record, its links to GitHub.
    assert_eq!(browser.text("#level").await, "silver");
    assert_eq!(browser.text("#scorecard tr[data-rule='slo'] td:nth-child(3)").await, "fail");
    assert_eq!(attr(&browser.one("#tracking").await, "href").await, tracking_issue(&world, "payments"));
    let entry = format!("https://github.com/{OWNER}/{CATALOG}/blob/main/services/payments.yaml");
    assert_eq!(attr(&browser.one("#entry").await, "href").await, entry);
    let repository = browser.one("#links a").await;
    assert_eq!(attr(&repository, "href").await, format!("{}/{OWNER}/payments", world.fake.url));
    let history = browser.one("#history svg.chart g.series").await;
    assert_eq!(attr(&history, "data-points").await, "3", "records on days 1, 5 and 8");
    browser.one("#history summary").await.click().await.unwrap();
    assert_eq!(
        browser.texts("#history-table tbody tr").await,
        ["2026-11-08 silver no", "2026-11-05 silver no", "2026-11-01 gold yes"]
    );
    browser.assert_nothing_injected().await;
    browser.close().await;
    world.fake.assert_clean();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_a_browser_hostile_catalog_and_policy_text_is_shown_as_text() {
    let Some(browser) = Browser::open(1280, 1000).await else { return };
    let world = world().await;
    sign_in_by_cookie(&browser, &world).await;

    // The overview: the rule's title, the exception's service and reason, the owner among the filters.
    browser.goto(&app(&world, "/")).await;
    browser.assert_nothing_injected().await;
    assert_eq!(browser.text("#rules tr[data-rule='notes'] td:first-child a").await, HOSTILE_TITLE);
    let expiring = browser.all("#expiring tbody tr").await;
    assert_eq!(expiring.len(), 1);
    assert_eq!(browser.text("#expiring tbody td:nth-child(1)").await, HOSTILE_NAME);
    assert_eq!(browser.text("#expiring tbody td:nth-child(4)").await, format!("{HOSTILE_TEXT} catalog file"));
    let owners = browser.all("select[name='owner'] option").await;
    let mut names = Vec::new();
    for option in owners {
        names.push(option.prop("textContent").await.unwrap().unwrap_or_default());
    }
    assert!(names.iter().any(|n| n == HOSTILE_OWNER), "{names:?}");
    let changes = browser.texts("#movers li").await;
    assert!(changes.contains(&format!("notes ({HOSTILE_TITLE}): fail → pass")), "{changes:?}");

    // The list of services: the row of the hostile service, and its link to its page.
    browser.goto(&app(&world, "/services")).await;
    browser.assert_nothing_injected().await;
    let mut row = None;
    for candidate in browser.all("#services tbody tr").await {
        if attr(&candidate, "data-service").await == HOSTILE_NAME {
            row = Some(candidate);
        }
    }
    let row = row.expect("a row for the hostile service");
    let cells = row.find_all(fantoccini::Locator::Css("td")).await.unwrap();
    assert!(cells[0].text().await.unwrap().starts_with(HOSTILE_NAME));
    assert_eq!(cells[1].text().await.unwrap(), HOSTILE_OWNER);
    assert_eq!(cells[5].text().await.unwrap(), "notes, slo", "the failing rules, by id");
    cells[0].find(fantoccini::Locator::Css("a")).await.unwrap().click().await.unwrap();

    // Its page, at the name's escaped address.
    let path = "/services/%22%3E%3Cimg%20src%3Dx%20onerror%3Dwindow%2E%5F%5Fpwned%3D1%3E";
    assert_eq!(browser.location().await, path);
    browser.assert_nothing_injected().await;
    assert_eq!(browser.client.title().await.unwrap(), format!("Service {HOSTILE_NAME} · shipshape"));
    assert_eq!(browser.text("h1").await, format!("Service {HOSTILE_NAME}"));
    let notes = "#scorecard tr[data-rule='notes']";
    assert_eq!(browser.text(&format!("{notes} td:nth-child(1) a")).await, HOSTILE_TITLE);
    assert_eq!(browser.text(&format!("{notes} td:nth-child(3)")).await, "fail");
    assert_eq!(browser.text(&format!("{notes} td:nth-child(4)")).await, HOSTILE_TEXT, "the rule's message");
    assert_eq!(browser.text("#scorecard tr[data-rule='runbook'] td:nth-child(3)").await, "excepted");
    assert_eq!(browser.text("#exceptions tbody td:nth-child(3)").await, HOSTILE_TEXT, "the exception's reason");
    assert_eq!(browser.text("#standing .card:nth-child(3) a").await, HOSTILE_OWNER);
    assert_eq!(attr(&browser.one("#tracking").await, "href").await, tracking_issue(&world, "widgets"));
    let entry = browser.one("#entry").await.prop("href").await.unwrap().unwrap();
    let file = "services/%22%3E%3Cimg%20src%3Dx%20onerror%3Dwindow.__pwned%3D1%3E.yaml";
    assert_eq!(entry, format!("https://github.com/{OWNER}/{CATALOG}/blob/main/{file}"));

    // The owner's team page, from the owner's link: the hostile service only.
    let team = click(&browser, "#standing .card:nth-child(3) a").await;
    assert_eq!(team, "/teams/%3Cscript%3Ewindow%2E%5F%5Fpwned%3D2%3C%2Fscript%3E");
    browser.assert_nothing_injected().await;
    assert_eq!(browser.text("h1").await, format!("Team {HOSTILE_OWNER}"));
    let rows = browser.all("#services tbody tr").await;
    assert_eq!(rows.len(), 1);
    assert_eq!(attr(&rows[0], "data-service").await, HOSTILE_NAME);

    // The rule's page, from the rule's link on the service page: its description and the one service failing it.
    browser.client.back().await.unwrap();
    assert_eq!(click(&browser, &format!("{notes} td:nth-child(1) a")).await, "/rules/notes");
    browser.assert_nothing_injected().await;
    assert_eq!(browser.text("h1").await, format!("Rule {HOSTILE_TITLE}"));
    assert_eq!(browser.text("#rule p:nth-child(2)").await, HOSTILE_TEXT, "the rule's description");
    let rows = browser.all("#services tbody tr").await;
    assert_eq!(rows.len(), 1);
    assert_eq!(attr(&rows[0], "data-service").await, HOSTILE_NAME);
    browser.close().await;
    world.fake.assert_clean();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_a_phone_the_pages_need_no_sideways_scrolling() {
    let Some(browser) = Browser::open(390, 844).await else { return };
    let world = world().await;
    sign_in_by_cookie(&browser, &world).await;
    let hostile = "/services/%22%3E%3Cimg%20src%3Dx%20onerror%3Dwindow%2E%5F%5Fpwned%3D1%3E";
    for path in ["/", "/services", "/services/payments", hostile, "/rules/notes", "/teams/team-payments"] {
        browser.goto(&app(&world, path)).await;
        assert_eq!(browser.location().await, path, "signed in");
        browser.assert_no_horizontal_overflow().await;
        browser.assert_nothing_injected().await;
    }
    // The phone's layout is the one drawn: columns marked for wide screens are hidden.
    browser.goto(&app(&world, "/")).await;
    let narrow = browser.all("#rules .hide-narrow").await;
    assert!(!narrow.is_empty());
    for cell in narrow {
        assert!(!cell.is_displayed().await.unwrap(), "a wide-screen column on a phone");
    }
    browser.close().await;
    world.fake.assert_clean();
}
