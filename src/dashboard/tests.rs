use super::*;
use crate::store::DayMark;
use chrono::{TimeZone, Utc};

fn date(day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, day).unwrap()
}

fn levels() -> Levels {
    Levels(vec!["bronze".into(), "silver".into(), "gold".into()])
}

/// A record of `service` (tier 1 requires gold, 2 silver, 3 bronze) on `day`.
fn record(service: &str, tier: u32, day: u32, level: Option<&str>, rules: &[(&str, Status)]) -> ServiceDay {
    let required = ["gold", "silver", "bronze"][tier as usize - 1];
    let rank = levels().rank(level);
    ServiceDay {
        org: "acme".into(),
        service: service.into(),
        day: date(day),
        repository: format!("acme/{service}"),
        owner: Some(format!("team-{}", if service.starts_with('p') { "payments" } else { "search" })),
        tier,
        level: level.map(str::to_string),
        required_level: required.into(),
        meets_required: rank >= levels().rank(Some(required)),
        unverified: 0,
        commit: format!("{service}{day}"),
        rules: rules.iter().map(|(id, s)| (id.to_string(), *s)).collect(),
        not_applicable: Default::default(),
        levels: levels().0,
        evaluated_at: Utc.with_ymd_and_hms(2026, 11, day, 12, 0, 0).unwrap(),
    }
}

use Status::{Excepted, Fail, Pass, Skipped};

fn corpus() -> Vec<ServiceDay> {
    vec![
        record("payments", 1, 1, Some("gold"), &[("readme", Pass), ("runbook", Pass), ("oncall", Pass)]),
        record("payments", 1, 20, Some("bronze"), &[("readme", Pass), ("runbook", Fail), ("oncall", Pass)]),
        record("payments", 1, 22, Some("bronze"), &[("readme", Pass), ("runbook", Fail), ("oncall", Skipped)]),
        record("search", 2, 10, None, &[("readme", Fail), ("runbook", Fail)]),
        record("search", 2, 19, Some("silver"), &[("readme", Pass), ("runbook", Excepted)]),
        record("profile", 3, 21, Some("bronze"), &[("readme", Pass), ("runbook", Fail)]),
    ]
}

#[test]
fn today_is_each_services_latest_record_filtered() {
    let records = corpus();
    let all = latest(&records, None, &Filter::default());
    assert_eq!(
        all.iter().map(|r| (r.service.as_str(), r.day)).collect::<Vec<_>>(),
        [("payments", date(22)), ("profile", date(21)), ("search", date(19))]
    );
    let tier1 = Filter { tier: Some(1), ..Filter::default() };
    assert_eq!(latest(&records, None, &tier1).len(), 1);
    let search_team = Filter { owner: Some("team-search".into()), ..Filter::default() };
    assert_eq!(latest(&records, None, &search_team)[0].service, "search");
    let bronze = Filter { level: Some("bronze".into()), ..Filter::default() };
    assert_eq!(latest(&records, None, &bronze).len(), 2, "payments and profile are bronze today");
    let none = Filter { level: Some(NO_LEVEL.into()), ..Filter::default() };
    assert!(latest(&records, None, &none).is_empty(), "search left `none` on day 19");
    let current: BTreeSet<String> = ["search".to_string(), "payments".to_string()].into();
    assert_eq!(latest(&records, Some(&current), &Filter::default()).len(), 2, "profile left the catalog");
}

#[test]
fn the_overview_counts_services_by_tier_and_level_and_rates_rules_worst_first() {
    let records = corpus();
    let today = latest(&records, None, &Filter::default());
    let o = overview(&today, &levels(), date(22));
    assert_eq!((o.services, o.meeting), (3, 2), "payments (tier 1, bronze) misses gold");
    assert_eq!(o.grid.levels, ["none", "bronze", "silver", "gold"]);
    let rows: Vec<_> = o.grid.tiers.iter().map(|r| (r.tier, r.required_level.as_str(), r.counts.clone())).collect();
    assert_eq!(rows, [(1, "gold", vec![0, 1, 0, 0]), (2, "silver", vec![0, 0, 1, 0]), (3, "bronze", vec![0, 1, 0, 0])]);
    let rates: Vec<_> = o.rules.iter().map(|r| (r.rule.as_str(), r.passing, r.failing, r.unjudged)).collect();
    // runbook: 1 of 3 (the excepted one counts as passing); readme 3 of 3; oncall judged nowhere today: last.
    assert_eq!(rates, [("runbook", 1, 2, 0), ("readme", 3, 0, 0), ("oncall", 0, 0, 1)]);
    assert!((o.rules[0].rate.unwrap() - 1.0 / 3.0).abs() < 1e-9);
    assert_eq!(o.rules[2].rate, None);
}

#[test]
fn the_trend_carries_each_record_for_a_week_and_draws_a_line_per_tier() {
    let marks: Vec<DayMark> = corpus().iter().map(DayMark::of).collect();
    let records: Vec<&DayMark> = marks.iter().collect();
    let lines = trend(&records, &Filter::default(), date(30), 30);
    let all = &lines[0];
    assert_eq!(all.tier, None);
    assert_eq!(all.points.len(), 30);
    assert_eq!(all.points[0].day, date(1));
    let on = |line: &TierTrend, day: u32| {
        let p = line.points.iter().find(|p| p.day == date(day)).unwrap();
        (p.services, p.meeting)
    };
    assert_eq!(on(all, 1), (1, 1), "payments at gold");
    assert_eq!(on(all, 7), (1, 1), "its day-1 record stands for a week");
    assert_eq!(on(all, 8), (0, 0), "then it is stale");
    assert_eq!(on(all, 10), (1, 0), "search below its level");
    assert_eq!(on(all, 19), (1, 1));
    assert_eq!(on(all, 21), (3, 2), "payments dropped on day 20, profile is new");
    assert_eq!(on(all, 28), (1, 0), "only payments' day-22 record is less than a week old");
    assert_eq!(on(all, 29), (0, 0));
    let tier1 = lines.iter().find(|l| l.tier == Some(1)).unwrap();
    assert_eq!(on(tier1, 21), (1, 0));
    assert_eq!(lines.iter().map(|l| l.tier).collect::<Vec<_>>(), [None, Some(1), Some(2), Some(3)]);
    // The owner filter applies on every day.
    let search = trend(&records, &Filter { owner: Some("team-search".into()), ..Filter::default() }, date(30), 30);
    assert_eq!(on(&search[0], 1), (0, 0));
    assert_eq!(on(&search[0], 19), (1, 1));
}

#[test]
fn the_weeks_movers_say_from_to_when_and_which_rules_changed() {
    let records = corpus();
    let marks: Vec<DayMark> = records.iter().map(DayMark::of).collect();
    let marks: Vec<&DayMark> = marks.iter().collect();
    let today = latest(&records, None, &Filter::default());
    let mut m = movers(&marks, &today, &levels(), date(22));
    let record = |service: &str, day: NaiveDate| records.iter().find(|r| r.service == service && r.day == day).unwrap();
    for moved in m.drops.iter_mut().chain(&mut m.improvements) {
        let now = today.iter().find(|r| r.service == moved.service).unwrap();
        moved.compare(record(&moved.service, moved.since), now);
    }
    assert_eq!(m.drops.len(), 1, "{m:#?}");
    let drop = &m.drops[0];
    assert_eq!(
        (drop.service.as_str(), drop.from.as_deref(), drop.to.as_deref()),
        ("payments", Some("gold"), Some("bronze"))
    );
    assert_eq!((drop.when, drop.since), (date(20), date(1)));
    let changed: Vec<_> = drop.rules.iter().map(|c| (c.rule.as_str(), c.from, c.to)).collect();
    assert_eq!(changed, [("oncall", Some(Pass), Some(Skipped)), ("runbook", Some(Pass), Some(Fail))]);
    // search: none on day 10 (its latest record a week before day 22), silver since day 19.
    assert_eq!(m.improvements.len(), 1);
    let up = &m.improvements[0];
    assert_eq!(
        (up.service.as_str(), up.from.as_deref(), up.to.as_deref(), up.when),
        ("search", None, Some("silver"), date(19))
    );
    // profile has no record a week old: new, not a mover. A week later nothing moved within the week.
    let later = movers(&marks, &today, &levels(), date(30));
    assert!(later.drops.is_empty() && later.improvements.is_empty(), "{later:#?}");
}

#[test]
fn initiatives_count_services_done_failing_and_unknown_and_rules_that_do_not_apply_as_done() {
    let initiative = catalog::InitiativeEntry {
        id: "ownership".into(),
        title: "Every service is owned".into(),
        deadline: date(10),
        rules: vec!["owner".into(), "oncall".into()],
    };
    let done = record("payments", 1, 20, Some("gold"), &[("owner", Pass), ("oncall", Excepted)]);
    let failing = record("search", 2, 20, Some("bronze"), &[("owner", Fail), ("oncall", Skipped)]);
    let unknown = record("pricing", 2, 20, Some("bronze"), &[("owner", Pass), ("oncall", Skipped)]);
    let mut not_applying = record("profile", 3, 20, Some("bronze"), &[("owner", Pass), ("oncall", Skipped)]);
    not_applying.not_applicable.insert("oncall".into());
    let missing = record("queue", 3, 20, Some("bronze"), &[("owner", Pass)]);
    let latest = [&done, &failing, &unknown, &not_applying, &missing];

    let rows = initiatives(&latest, std::slice::from_ref(&initiative), date(12));
    assert_eq!(rows.len(), 1);
    let row = &rows[0];
    assert_eq!((row.total, row.done, row.failing, row.unknown), (5, 2, 1, 2), "{row:?}");
    assert_eq!(row.days_left, -2);
    assert!(row.overdue, "past the deadline with a failing service");

    let on_time = initiatives(&latest, std::slice::from_ref(&initiative), date(10));
    assert!(!on_time[0].overdue, "the deadline day itself is not overdue");
    assert_eq!(on_time[0].days_left, 0);
    let nobody_failing = initiatives(&[&done, &unknown], std::slice::from_ref(&initiative), date(12));
    assert!(!nobody_failing[0].overdue, "unknown services never make an initiative overdue");
}

#[test]
fn the_catalog_view_links_files_at_the_default_branch() {
    let view = CatalogView {
        html_url: Some("https://github.example/acme/catalog/".into()),
        branch: "release/main".into(),
        ..CatalogView::default()
    };
    assert_eq!(
        view.file_url("services/pay ments#1.yaml").as_deref(),
        Some("https://github.example/acme/catalog/blob/release/main/services/pay%20ments%231.yaml")
    );
    assert_eq!(CatalogView::default().file_url("services/x.yaml"), None, "no html_url, no link");
}

#[test]
fn exception_requests_are_kept_newest_first_once_per_pull_request_and_bounded() {
    let request = |number: u64| catalog::ExceptionRequest {
        rule: "runbook".into(),
        url: format!("https://github.com/acme/catalog/pull/{number}"),
        number,
        expires: date(30),
        requested_by: "alice".into(),
        opened_at: Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).unwrap(),
    };
    let mut kept = Vec::new();
    for n in 0..25 {
        kept = catalog::add_request(kept, request(n));
    }
    kept = catalog::add_request(kept, request(20));
    assert_eq!(kept.len(), catalog::MAX_REQUESTS);
    assert_eq!(kept[0].number, 20);
    assert_eq!(kept.iter().filter(|r| r.number == 20).count(), 1);
    assert_eq!(kept[1].number, 24);
}
