use super::*;

#[test]
fn durations_read_as_words() {
    let cases = [(0.0, "0.0 s"), (0.42, "0.4 s"), (44.2, "44 s"), (185.0, "3 min 5 s"), (7805.0, "2 h 10 min")];
    for (seconds, text) in cases {
        assert_eq!(duration_text(seconds), text);
    }
}

#[test]
fn times_are_utc_iso_to_the_second() {
    let t: DateTime<Utc> = "2026-11-01T09:00:00.123Z".parse().unwrap();
    assert_eq!(iso(t), "2026-11-01T09:00:00Z");
}

fn at(seconds: i64) -> DateTime<Utc> {
    "2026-11-01T09:00:00Z".parse::<DateTime<Utc>>().unwrap() + chrono::TimeDelta::seconds(seconds)
}

fn run(listed: Option<i64>) -> crate::store::SweepRun {
    crate::store::SweepRun {
        id: "sweep-1".into(),
        reason: "schedule".into(),
        started_at: at(0),
        listed_at: listed.map(at),
        repositories: listed.map(|_| 3),
        skipped: listed.map(|_| 1),
    }
}

#[test]
fn a_sweep_is_finished_once_listed_with_no_job_pending() {
    use crate::store::SweepProgress;
    let listing = LastSweep::new(run(None), SweepProgress::default());
    assert_eq!((listing.finished_at, listing.duration_seconds), (None, None));
    let pending = SweepProgress { finished: 2, failed: 0, pending: 1, last_finished_at: Some(at(30)) };
    let running = LastSweep::new(run(Some(5)), pending);
    assert_eq!((running.finished_at, running.duration_seconds), (None, None));
    let done = SweepProgress { finished: 2, failed: 1, pending: 0, last_finished_at: Some(at(90)) };
    let finished = LastSweep::new(run(Some(5)), done);
    assert_eq!((finished.finished_at, finished.duration_seconds), (Some(at(90)), Some(90.0)));
    let nothing = LastSweep::new(run(Some(5)), SweepProgress::default());
    assert_eq!((nothing.finished_at, nothing.duration_seconds), (Some(at(5)), Some(5.0)), "no repository to score");
}

/// A report with nothing in it, on 1 November 2026 at 09:01 UTC.
fn empty_report() -> OpsReport {
    OpsReport {
        generated_at: at(60),
        queue_depth: 0,
        failed_since: at(60) - crate::web::ops::FAILED_WINDOW,
        failed_count: 0,
        failed: vec![],
        retrying: vec![],
        tools_down: vec![],
        last_sweep: None,
    }
}

fn render(report: OpsReport) -> String {
    let session = crate::web::session::Session {
        login: "alice".into(),
        orgs: ["acme".to_string()].into(),
        expires: 0,
        csrf: "token".into(),
    };
    let viewer = Viewer { visible: crate::web::access::Visible::Orgs(session.orgs.clone()), session };
    crate::web::templates::render("ops.html", &page(&viewer, report)).unwrap()
}

#[test]
fn the_page_says_what_is_running_and_what_is_left_out() {
    let failed = |id: &str| FailedDelivery {
        delivery_id: id.into(),
        event: "push".into(),
        action: None,
        repository: Some("acme/api".into()),
        attempts: 5,
        reason: Some("gave up".into()),
        received_at: at(0),
        failed_at: Some(at(1)),
        next_attempt_at: None,
    };
    let pending = crate::store::SweepProgress { finished: 1, failed: 0, pending: 2, last_finished_at: None };
    let html = render(OpsReport {
        queue_depth: 2,
        failed_count: 7,
        failed: vec![failed("d1"), failed("d2")],
        last_sweep: Some(LastSweep::new(run(Some(5)), pending)),
        ..empty_report()
    });
    assert!(html.contains(r#"<td id="sweep-state">running</td>"#), "{html}");
    assert!(html.contains(r#"<td id="sweep-jobs">1 finished, 0 failed, 2 pending</td>"#), "{html}");
    assert!(html.contains(r#"<td id="sweep-duration">still running</td>"#), "{html}");
    assert!(html.contains("The newest 2 of 7."), "{html}");
    assert!(html.contains("<td>push</td>"), "no action: {html}");
    assert!(html.contains("Every linked tool is answering."), "{html}");
    assert!(html.contains("No delivery you can see is waiting to be retried."), "{html}");

    let html = render(OpsReport { last_sweep: Some(LastSweep::new(run(None), Default::default())), ..empty_report() });
    assert!(html.contains(r#"<td id="sweep-state">listing repositories</td>"#), "{html}");
    assert!(html.contains("<td>not yet</td>"), "{html}");

    let html = render(empty_report());
    assert!(html.contains("No sweep of every installation has run yet."), "{html}");
    assert!(html.contains("No delivery you can see failed in the last 24 hours."), "{html}");
    assert!(!html.contains("The newest"), "{html}");
}
