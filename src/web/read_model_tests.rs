use super::*;
use crate::engine::Status;
use chrono::{DateTime, TimeZone, Utc};

fn at(day: u32, hour: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, day, hour, 0, 0).unwrap()
}

fn record(org: &str, service: &str, day: u32, hour: u32, level: Option<&str>) -> ServiceDay {
    let at = at(day, hour);
    ServiceDay {
        org: org.into(),
        service: service.into(),
        day: at.date_naive(),
        repository: format!("{org}/{service}"),
        owner: Some("team-a".into()),
        tier: 1,
        level: level.map(str::to_string),
        required_level: "silver".into(),
        meets_required: level == Some("silver"),
        unverified: 0,
        commit: format!("{service}{day}{hour}"),
        rules: [("readme".to_string(), Status::Pass)].into(),
        not_applicable: Default::default(),
        levels: vec!["bronze".into(), "silver".into()],
        evaluated_at: at,
    }
}

/// What a fresh load from the store says, to compare the caught-up model with.
async fn fresh(store: &Store, today: NaiveDate) -> Vec<(Vec<DayMark>, Vec<ServiceDay>)> {
    let model = ReadModel::new(store.clone());
    let histories = model.histories(today, |_| true).await.unwrap();
    histories.iter().map(|h| (h.marks().cloned().collect(), h.latest().cloned().collect())).collect()
}

#[tokio::test]
async fn the_model_reads_only_what_was_written_since_and_ends_where_a_fresh_load_does() {
    let dir = crate::store::test_database::TestDatabase::new().await;
    let store = Store::open(&dir.url).await.unwrap();
    let today = at(20, 0).date_naive();
    let model = ReadModel::new(store.clone());
    assert!(model.histories(today, |_| true).await.unwrap().is_empty(), "no records, no organisations");

    store.record_service_day(&record("acme", "payments", 18, 9, Some("bronze"))).await.unwrap();
    store.record_service_day(&record("acme", "search", 19, 9, None)).await.unwrap();
    let first = model.histories(today, |_| true).await.unwrap();
    assert_eq!(first.len(), 1);
    assert_eq!(first[0].marks().count(), 2);

    // A later evaluation of the same day, an earlier one that loses, a new day, a new organisation, and a record
    // older than the marks' window (it is only someone's latest).
    store.record_service_day(&record("acme", "payments", 18, 17, Some("silver"))).await.unwrap();
    store.record_service_day(&record("acme", "payments", 18, 8, None)).await.unwrap();
    store.record_service_day(&record("acme", "search", 20, 9, Some("silver"))).await.unwrap();
    store.record_service_day(&record("globex", "ledger", 20, 10, Some("bronze"))).await.unwrap();
    let old = NaiveDate::from_ymd_opt(2026, 8, 1).unwrap().and_hms_opt(9, 0, 0).unwrap().and_utc();
    let mut archived = record("acme", "archive", 1, 9, None);
    (archived.day, archived.evaluated_at) = (old.date_naive(), old);
    store.record_service_day(&archived).await.unwrap();

    let caught_up = model.histories(today, |_| true).await.unwrap();
    let caught_up: Vec<_> =
        caught_up.iter().map(|h| (h.marks().cloned().collect::<Vec<_>>(), h.latest().cloned().collect())).collect();
    assert_eq!(caught_up, fresh(&store, today).await);
    let (marks, latest) = &caught_up[0];
    assert_eq!(marks.len(), 3, "payments 18, search 19 and 20; the archive's record is older than the window");
    let payments = latest.iter().find(|r| r.service == "payments").unwrap();
    assert_eq!((payments.level.as_deref(), payments.evaluated_at), (Some("silver"), at(18, 17)));
    assert_eq!(latest.iter().map(|r| r.service.as_str()).collect::<Vec<_>>(), ["archive", "payments", "search"]);
    assert_eq!(caught_up[1].1[0].org, "globex");

    // Only the organisations asked for; and when the days move on, the window moves with them.
    let acme = model.histories(today, |o| o == "acme").await.unwrap();
    assert_eq!(acme.len(), 1);
    let later = today + TimeDelta::days(MARK_DAYS - 1);
    let moved = model.histories(later, |o| o == "acme").await.unwrap();
    let days: Vec<NaiveDate> = moved[0].marks().map(|m| m.day).collect();
    assert_eq!(days, [at(20, 0).date_naive()], "only the last day is still within {MARK_DAYS} days");
    assert_eq!(moved[0].marks().cloned().collect::<Vec<_>>(), fresh(&store, later).await[0].0);
}
