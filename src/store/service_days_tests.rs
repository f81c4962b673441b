use super::{ServiceDay, Store};
use crate::engine::{Scorecard, Status, testing};
use chrono::{DateTime, NaiveDate, TimeZone, Utc};

fn card(repository: &str, service: &str, commit: &str, runbook: Status) -> Scorecard {
    let mut card = testing::card(vec![
        testing::rule("readme", "bronze", Status::Pass, true),
        testing::rule("runbook", "silver", runbook, true),
    ]);
    card.repository = repository.into();
    card.service = Some(service.into());
    card.commit = Some(commit.into());
    card.unverified = vec!["oncall".into()];
    card
}

fn at(day: u32, hour: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, day, hour, 0, 0).unwrap()
}

fn date(day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, day).unwrap()
}

async fn store() -> (crate::store::test_database::TestDatabase, Store) {
    let db = crate::store::test_database::TestDatabase::new().await;
    let store = Store::open(&db.url).await.unwrap();
    (db, store)
}

async fn record(store: &Store, card: &Scorecard, now: DateTime<Utc>) {
    store.record_service_day(&ServiceDay::from_card(card, now).unwrap()).await.unwrap();
}

#[tokio::test]
async fn a_day_keeps_its_latest_evaluation_and_each_day_its_own_record() {
    let (_dir, store) = store().await;
    record(&store, &card("acme/payments", "payments", "a", Status::Fail), at(1, 9)).await;
    record(&store, &card("acme/payments", "payments", "b", Status::Pass), at(1, 17)).await;
    // A delivery processed late carries an earlier evaluation time: it does not overwrite the day's later one.
    record(&store, &card("acme/payments", "payments", "late", Status::Fail), at(1, 12)).await;
    record(&store, &card("acme/payments", "payments", "c", Status::Fail), at(3, 8)).await;

    let days = store.service_days("acme", "payments", date(1)).await.unwrap();
    assert_eq!(days.iter().map(|d| (d.day, d.commit.as_str())).collect::<Vec<_>>(), [(date(1), "b"), (date(3), "c")]);
    let first = &days[0];
    assert_eq!(first.rules.get("runbook"), Some(&Status::Pass));
    assert_eq!((first.tier, first.level.as_deref(), first.required_level.as_str()), (2, Some("bronze"), "silver"));
    assert_eq!((first.unverified, first.owner.as_deref()), (1, Some("group:default/payments-team")));
    assert_eq!(first.evaluated_at, at(1, 17));
    assert_eq!(first.levels, ["bronze", "silver", "gold"]);
    assert_eq!(days[1].rules.get("runbook"), Some(&Status::Fail));
    assert!(!days[1].meets_required);
    assert_eq!(store.service_days("acme", "payments", date(2)).await.unwrap().len(), 1, "since is inclusive");
}

#[tokio::test]
async fn organisations_are_kept_apart_and_old_days_pruned() {
    let (_dir, store) = store().await;
    record(&store, &card("acme/payments", "payments", "a", Status::Pass), at(1, 9)).await;
    record(&store, &card("acme/search", "search", "b", Status::Pass), at(2, 9)).await;
    // Another organisation with a service of the same name.
    record(&store, &card("globex/payments", "payments", "z", Status::Fail), at(2, 9)).await;

    let acme = store.org_days("acme", date(1)).await.unwrap();
    assert_eq!(
        acme.iter().map(|d| (d.day, d.service.as_str())).collect::<Vec<_>>(),
        [(date(1), "payments"), (date(2), "search")]
    );
    assert!(acme.iter().all(|d| d.org == "acme"));
    let globex = store.org_days("globex", date(1)).await.unwrap();
    assert_eq!(globex.iter().map(|d| d.commit.as_str()).collect::<Vec<_>>(), ["z"]);

    record(&store, &card("acme/payments", "payments", "a2", Status::Fail), at(3, 9)).await;
    let latest = store.latest_service_days("acme").await.unwrap();
    assert_eq!(
        latest.iter().map(|d| (d.service.as_str(), d.commit.as_str())).collect::<Vec<_>>(),
        [("payments", "a2"), ("search", "b")]
    );
    assert_eq!(store.history_orgs().await.unwrap(), ["acme", "globex"]);

    assert_eq!(store.prune_service_days(date(2)).await.unwrap(), 1);
    assert_eq!(store.org_days("acme", date(1)).await.unwrap().len(), 2);
    assert_eq!(store.org_days("globex", date(1)).await.unwrap().len(), 1);
}

#[test]
fn only_catalog_services_of_a_github_repository_make_records() {
    let mut unlisted = card("acme/payments", "payments", "a", Status::Pass);
    unlisted.service = None;
    assert_eq!(ServiceDay::from_card(&unlisted, at(1, 9)), None);
    let local = card("../payments", "payments", "a", Status::Pass);
    assert_eq!(ServiceDay::from_card(&local, at(1, 9)), None, "a path scored by the CLI is not a GitHub repository");
    let listed = card("acme/payments", "payments", "a", Status::Pass);
    assert_eq!(ServiceDay::from_card(&listed, at(1, 9)).map(|d| d.org), Some("acme".to_string()));
}
