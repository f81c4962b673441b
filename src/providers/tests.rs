//! The shared GET and its circuit breaker, against a server that is down or failing, on a manual clock.

use super::*;
use crate::clock::ManualClock;
use axum::response::IntoResponse;
use std::sync::atomic::{AtomicUsize, Ordering};

/// A server answering `status` to every request, counting them.
async fn server(status: u16) -> (String, Arc<AtomicUsize>) {
    let count = Arc::new(AtomicUsize::new(0));
    let seen = count.clone();
    let app = axum::Router::new().fallback(move || {
        seen.fetch_add(1, Ordering::SeqCst);
        async move { (axum::http::StatusCode::from_u16(status).unwrap(), "{}").into_response() }
    });
    let url = crate::providers::fake::serve(app).await;
    (url, count)
}

fn setup() -> (Arc<ManualClock>, Limits, HttpClient) {
    let clock = Arc::new(ManualClock::new("2026-11-22T09:00:00Z".parse().unwrap()));
    let limits = Limits {
        timeout: Duration::from_millis(500),
        attempts: 1,
        max_wait: Duration::from_secs(1),
        breaker: Some(Arc::new(Breaker::new(clock.clone()))),
        observer: None,
    };
    (clock, limits.clone(), HttpClient::new(limits.timeout).unwrap())
}

#[tokio::test]
async fn a_failing_host_is_left_alone_for_a_while_then_tried_once() {
    let (clock, limits, client) = setup();
    let (url, count) = server(503).await;
    for _ in 0..Breaker::TRIP_AFTER {
        assert_eq!(
            get("http", &client, &limits, &format!("{url}/a"), &[], None).await.err(),
            Some(Failure::Down { reason: "answered 503".into(), kind: DownKind::ServerError(503) })
        );
    }
    // Tripped: not asked, whatever the path, with the time it will be asked again.
    let failure = get("http", &client, &limits, &format!("{url}/b?x=1"), &[], None).await.err().unwrap();
    assert_eq!(
        failure,
        Failure::Unavailable("not asked: the last requests to this host failed; asked again from 09:02:00 UTC".into())
    );
    assert_eq!(count.load(Ordering::SeqCst), 3);
    // After the pause one request goes through; failing again, the host is left alone again at once.
    clock.advance(Duration::from_secs(121));
    assert!(matches!(get("http", &client, &limits, &url, &[], None).await, Err(Failure::Down { .. })));
    assert!(matches!(get("http", &client, &limits, &url, &[], None).await, Err(Failure::Unavailable(_))));
    assert_eq!(count.load(Ordering::SeqCst), 4);
}

#[tokio::test]
async fn refusals_and_answers_do_not_trip_it_and_a_success_resets_it() {
    let (_, limits, client) = setup();
    let (refusing, count) = server(401).await;
    for _ in 0..5 {
        assert!(matches!(get("http", &client, &limits, &refusing, &[], None).await, Err(Failure::Unavailable(_))));
    }
    assert_eq!(count.load(Ordering::SeqCst), 5, "a refused credential is the tool answering: always asked");
    let (failing, _) = server(500).await;
    let (fine, _) = server(200).await;
    get("http", &client, &limits, &failing, &[], None).await.unwrap_err();
    get("http", &client, &limits, &failing, &[], None).await.unwrap_err();
    // Another host is counted apart.
    assert!(get("http", &client, &limits, &fine, &[], None).await.is_ok());
    get("http", &client, &limits, &failing, &[], None).await.unwrap_err();
    assert!(
        matches!(get("http", &client, &limits, &failing, &[], None).await, Err(Failure::Unavailable(_))),
        "third failure"
    );
    // Unreachable hosts count as failing too.
    let closed = "http://127.0.0.1:9";
    for _ in 0..Breaker::TRIP_AFTER {
        assert!(matches!(get("http", &client, &limits, closed, &[], None).await, Err(Failure::Down { .. })));
    }
    assert!(matches!(get("http", &client, &limits, closed, &[], None).await, Err(Failure::Unavailable(_))));
}

#[tokio::test]
async fn the_hosts_it_left_alone_are_reported_with_the_kind_of_failure_only() {
    let (clock, limits, client) = setup();
    let breaker = limits.breaker.clone().unwrap();
    let (url, _) = server(502).await;
    let secret = format!("{url}/api/project_status?projectKey=acme-payments&token=hunter2");
    get("prometheus", &client, &limits, &secret, &[], None).await.unwrap_err();
    clock.advance(Duration::from_secs(10));
    get("http", &client, &limits, &secret, &[], None).await.unwrap_err();
    assert!(breaker.down().is_empty(), "two failures: not tripped yet");
    get("http", &client, &limits, &secret, &[], None).await.unwrap_err();
    let open = ToolDown {
        tool: "http",
        host: url.to_ascii_lowercase(),
        state: BreakerState::Open,
        since: "2026-11-22T09:00:00Z".parse().unwrap(),
        retry_at: "2026-11-22T09:02:10Z".parse().unwrap(),
        last_error: "answered 502".into(),
    };
    assert_eq!(breaker.down(), std::slice::from_ref(&open));
    let json = serde_json::to_string(&breaker.down()).unwrap();
    assert!(!json.contains("hunter2") && !json.contains("acme-payments") && !json.contains("/api"), "{json}");
    assert!(json.contains(r#""state":"open""#), "{json}");

    // Past the pause: half open until the one request let through fails, then open again.
    clock.advance(Duration::from_secs(121));
    assert_eq!(breaker.down(), [ToolDown { state: BreakerState::HalfOpen, ..open.clone() }]);
    get("http", &client, &limits, &secret, &[], None).await.unwrap_err();
    let retry_at = "2026-11-22T09:04:11Z".parse().unwrap();
    assert_eq!(breaker.down(), [ToolDown { retry_at, ..open }], "still failing since the first failure");

    // An answer closes it; a failure after that starts a new count.
    breaker.record(&format!("{url}/x"), "http", None);
    assert!(breaker.down().is_empty());
    breaker.record(&url, "pagerduty", Some(DownKind::TimedOut));
    assert!(breaker.down().is_empty(), "one failure");
}

#[test]
fn hosts_are_counted_by_scheme_and_authority_without_credentials() {
    assert_eq!(Breaker::host("https://user:pw@Sonar.example.com:8443/api?x=1"), "https://sonar.example.com:8443");
    assert_eq!(Breaker::host("http://127.0.0.1:9"), "http://127.0.0.1:9");
}
