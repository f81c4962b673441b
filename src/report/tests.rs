use serde_json::Value;

use super::neutralise::ZWSP;
use super::*;
use crate::engine::{Evidence, ExceptionInfo, RuleResult, Scorecard, Status, Summary};

fn rule(id: &str, title: &str, level: &str, status: Status, required: bool) -> RuleResult {
    RuleResult {
        id: id.into(),
        title: title.into(),
        level: level.into(),
        status,
        message: format!("{id} message"),
        evidence: vec![],
        exception: None,
        remediation: format!("{id} remediation"),
        required,
    }
}

fn summary_of(rules: &[RuleResult]) -> Summary {
    let mut s = Summary::default();
    for r in rules {
        match r.status {
            Status::Pass => s.pass += 1,
            Status::Fail => s.fail += 1,
            Status::Excepted => s.excepted += 1,
            Status::Skipped => s.skipped += 1,
            Status::Error => s.error += 1,
        }
    }
    s
}

/// Every status, three levels, rules listed out of level order (gold first) to check grouping.
fn card() -> Scorecard {
    let mut codeowners = rule("codeowners", "Code owners are defined", "bronze", Status::Fail, true);
    codeowners.message = "no CODEOWNERS file".into();
    codeowners.remediation = "Add a CODEOWNERS file naming the owning team.".into();
    codeowners.evidence = vec![Evidence { path: ".github/CODEOWNERS".into(), line: Some(3) }];
    let mut runbook = rule("runbook", "Runbook is linked", "silver", Status::Excepted, true);
    runbook.message = "no runbook link in catalog-info.yaml".into();
    runbook.exception = Some(ExceptionInfo {
        reason: "migrating runbooks from the wiki".into(),
        expires: "2026-09-30".into(),
        approved_in: "https://github.com/acme/catalog/pull/42".into(),
    });
    let mut oncall = rule("oncall", "Someone is on call", "silver", Status::Skipped, true);
    oncall.message = "SHIPSHAPE_PAGERDUTY_TOKEN is not set".into();
    let mut slo = rule("slo", "SLOs are defined", "silver", Status::Error, true);
    slo.message = "Prometheus answered 503".into();
    let mut api = rule("api-spec", "API spec is published", "silver", Status::Fail, true);
    api.evidence = vec![Evidence { path: "openapi.yaml".into(), line: None }];
    let mut rules = vec![
        rule("dependency-updates", "Dependency updates are automated", "gold", Status::Fail, false),
        rule("readme", "README exists", "bronze", Status::Pass, true),
        codeowners,
        runbook,
        oncall,
        slo,
        api,
        rule("security-policy", "Security policy exists", "gold", Status::Pass, false),
    ];
    rules[1].message = "README.md found".into();
    Scorecard {
        service: Some("payments".into()),
        repository: "acme/payments".into(),
        tier: 1,
        required_level: "silver".into(),
        level: None,
        meets_required: false,
        summary: summary_of(&rules),
        rules,
        owner: Some("team-payments".into()),
        commit: Some("0123456789abcdef0123456789abcdef01234567".into()),
        levels: vec!["bronze".into(), "silver".into(), "gold".into()],
        notes: vec!["tier 1 from catalog entry services/payments.yaml".into()],
        unverified: vec![],
    }
}

/// A second repository that meets its level, no service, no commit.
fn passing_card() -> Scorecard {
    let rules = vec![
        rule("readme", "README exists", "bronze", Status::Pass, true),
        rule("ci", "CI runs on pull requests", "silver", Status::Pass, false),
    ];
    Scorecard {
        service: None,
        repository: "acme/website-frontend".into(),
        tier: 3,
        required_level: "bronze".into(),
        level: Some("silver".into()),
        meets_required: true,
        summary: summary_of(&rules),
        rules,
        owner: None,
        commit: None,
        levels: vec!["bronze".into(), "silver".into(), "gold".into()],
        notes: vec![],
        unverified: vec![],
    }
}

fn text(cards: &[Scorecard], color: bool) -> String {
    render(Format::Text, cards, &RenderOptions { color }).unwrap()
}

fn markdown(cards: &[Scorecard]) -> String {
    render(Format::Markdown, cards, &RenderOptions::default()).unwrap()
}

fn json_of(format: Format, cards: &[Scorecard]) -> Value {
    let out = render(format, cards, &RenderOptions::default()).unwrap();
    assert!(out.ends_with("}\n") || out.ends_with("]\n"), "{format} output ends with one newline");
    serde_json::from_str(&out).unwrap()
}

/// Lines from `start` (a line equal to it) up to the next blank-line-separated heading or the end.
fn section<'a>(out: &'a str, heading: &str) -> &'a str {
    let start = out.find(&format!("\n{heading}\n")).unwrap_or_else(|| panic!("no section {heading:?} in\n{out}"));
    let rest = &out[start + 1..];
    let end = rest[heading.len() + 1..].find("\n\n").map_or(rest.len(), |e| e + heading.len() + 1);
    &rest[..end]
}

/// `|` not escaped by a backslash (an odd number of backslashes before it escapes it).
fn unescaped_pipes(line: &str) -> usize {
    let chars: Vec<char> = line.chars().collect();
    (0..chars.len())
        .filter(|&i| chars[i] == '|' && chars[..i].iter().rev().take_while(|&&c| c == '\\').count() % 2 == 0)
        .count()
}

// ---- Format ----

#[test]
fn format_names_parse_and_unknown_names_list_the_valid_ones() {
    for (name, format) in
        [("text", Format::Text), ("json", Format::Json), ("markdown", Format::Markdown), ("sarif", Format::Sarif)]
    {
        assert_eq!(name.parse::<Format>().unwrap(), format);
        assert_eq!(format.to_string(), name);
    }
    assert_eq!("SARIF".parse::<Format>().unwrap(), Format::Sarif);
    let err = "xml".parse::<Format>().unwrap_err().to_string();
    assert!(err.contains("`xml`"), "{err}");
    for name in ["text", "json", "markdown", "sarif"] {
        assert!(err.contains(name), "{err} lists {name}");
    }
    assert!("md".parse::<Format>().is_err());
}

#[test]
fn rendering_nothing_is_an_error() {
    for format in Format::ALL {
        assert!(render(format, &[], &RenderOptions::default()).is_err(), "{format}");
    }
}

// ---- JSON ----

#[test]
fn json_one_card_is_an_object_with_every_spec_field() {
    let v = json_of(Format::Json, &[card()]);
    let obj = v.as_object().expect("one card renders as an object");
    for key in ["service", "repository", "tier", "required_level", "level", "meets_required", "rules", "summary"] {
        assert!(obj.contains_key(key), "missing {key}");
    }
    assert_eq!(v["service"], "payments");
    assert_eq!(v["repository"], "acme/payments");
    assert_eq!(v["tier"], 1);
    assert_eq!(v["required_level"], "silver");
    assert!(v["level"].is_null(), "below the lowest level is null, not absent");
    assert_eq!(v["meets_required"], false);
    let summary = &v["summary"];
    for (key, n) in [("pass", 2), ("fail", 3), ("excepted", 1), ("skipped", 1), ("error", 1)] {
        assert_eq!(summary[key], n, "summary.{key}");
    }
    let rules = v["rules"].as_array().unwrap();
    assert_eq!(rules.len(), 8);
    for r in rules {
        for key in ["id", "title", "level", "status", "message", "evidence"] {
            assert!(r.get(key).is_some(), "rule {} missing {key}", r["id"]);
        }
        let status = r["status"].as_str().unwrap();
        assert!(["pass", "fail", "excepted", "skipped", "error"].contains(&status), "{status}");
        // `exception` only where there is one.
        assert_eq!(r.get("exception").is_some(), status == "excepted", "{}", r["id"]);
    }
    let by_id = |id: &str| rules.iter().find(|r| r["id"] == id).unwrap();
    assert_eq!(by_id("codeowners")["evidence"], serde_json::json!([{"path": ".github/CODEOWNERS", "line": 3}]));
    // `line?`: absent, not null, when unknown.
    assert_eq!(by_id("api-spec")["evidence"], serde_json::json!([{"path": "openapi.yaml"}]));
    assert_eq!(
        by_id("runbook")["exception"],
        serde_json::json!({
            "reason": "migrating runbooks from the wiki",
            "expires": "2026-09-30",
            "approved_in": "https://github.com/acme/catalog/pull/42",
        })
    );
    for (id, status) in
        [("readme", "pass"), ("codeowners", "fail"), ("runbook", "excepted"), ("oncall", "skipped"), ("slo", "error")]
    {
        assert_eq!(by_id(id)["status"], status);
    }
}

#[test]
fn json_several_cards_is_an_array_and_round_trips() {
    let cards = vec![card(), passing_card()];
    let out = render(Format::Json, &cards, &RenderOptions::default()).unwrap();
    assert!(out.starts_with("[\n"), "pretty-printed array");
    assert!(out.ends_with("]\n") && !out.ends_with("\n\n"));
    let back: Vec<Scorecard> = serde_json::from_str(&out).unwrap();
    assert_eq!(back, cards);

    let one = render(Format::Json, &cards[..1], &RenderOptions::default()).unwrap();
    assert!(one.starts_with("{\n"));
    let back: Scorecard = serde_json::from_str(&one).unwrap();
    assert_eq!(back, cards[0]);
}

#[test]
fn json_ignores_colour() {
    let plain = render(Format::Json, &[card()], &RenderOptions { color: false }).unwrap();
    let coloured = render(Format::Json, &[card()], &RenderOptions { color: true }).unwrap();
    assert_eq!(plain, coloured);
    assert!(!plain.contains('\x1b'));
}

// ---- Text ----

#[test]
fn text_header_names_repository_service_tier_levels_and_verdict() {
    let out = text(&[card()], false);
    let first = out.lines().next().unwrap();
    assert_eq!(first, "acme/payments (service payments) — tier 1 — level none, requires silver — BELOW REQUIRED LEVEL");
    assert_eq!(out.lines().nth(1).unwrap(), "owner team-payments · commit 0123456789ab");

    let out = text(&[passing_card()], false);
    let first = out.lines().next().unwrap();
    assert_eq!(first, "acme/website-frontend — tier 3 — level silver, requires bronze — meets required level");
    assert_eq!(out.lines().nth(1).unwrap(), "", "no owner or commit line");
}

#[test]
fn text_groups_rules_by_level_lowest_first() {
    let out = text(&[card()], false);
    let lines: Vec<&str> = out.lines().collect();
    let at = |l: &str| lines.iter().position(|x| *x == l).unwrap_or_else(|| panic!("no line {l:?} in\n{out}"));
    let (bronze, silver, gold) = (at("bronze (required)"), at("silver (required)"), at("gold"));
    assert!(bronze < silver && silver < gold);
    let rule_at = |id: &str| {
        lines
            .iter()
            .position(|l| l.starts_with("  ") && l.ends_with(&format!("({id})")))
            .unwrap_or_else(|| panic!("{id}"))
    };
    // dependency-updates comes first in the card but belongs to gold.
    assert!(rule_at("dependency-updates") > gold);
    assert!(rule_at("security-policy") > gold);
    for id in ["readme", "codeowners"] {
        assert!(bronze < rule_at(id) && rule_at(id) < silver, "{id} under bronze");
    }
    for id in ["runbook", "oncall", "slo", "api-spec"] {
        assert!(silver < rule_at(id) && rule_at(id) < gold, "{id} under silver");
    }
    // Policy order within a level.
    assert!(rule_at("runbook") < rule_at("oncall") && rule_at("slo") < rule_at("api-spec"));
}

#[test]
fn text_marks_each_status_with_its_symbol() {
    let out = text(&[card()], false);
    for line in [
        "  ✓ README exists (readme)",
        "  ✗ Code owners are defined (codeowners)",
        "  ~ Runbook is linked (runbook)",
        "  - Someone is on call (oncall)",
        "  ! SLOs are defined (slo)",
    ] {
        assert!(out.lines().any(|l| l == line), "missing {line:?} in\n{out}");
    }
}

#[test]
fn text_shows_remediation_and_evidence_for_failures_only() {
    let out = text(&[card()], false);
    assert!(out.contains(
        "  ✗ Code owners are defined (codeowners)\n      no CODEOWNERS file\n      fix: Add a CODEOWNERS file naming the \
         owning team.\n      at .github/CODEOWNERS:3\n"
    ));
    assert!(out.contains("      fix: api-spec remediation\n      at openapi.yaml\n"));
    assert!(out.contains("      fix: dependency-updates remediation\n"));
    for id in ["readme", "runbook", "oncall", "slo", "security-policy"] {
        assert!(!out.contains(&format!("{id} remediation")), "{id}'s remediation shown in\n{out}");
    }
    assert_eq!(out.matches("fix: ").count() - out.matches("to reach silver, fix: ").count(), 3);
}

#[test]
fn text_says_why_for_excepted_skipped_and_error() {
    let out = text(&[card()], false);
    assert!(out.contains(
        "  ~ Runbook is linked (runbook)\n      no runbook link in catalog-info.yaml\n      excepted until 2026-09-30: \
         migrating runbooks from the wiki (approved in https://github.com/acme/catalog/pull/42)\n"
    ));
    assert!(out.contains("  - Someone is on call (oncall)\n      skipped: SHIPSHAPE_PAGERDUTY_TOKEN is not set\n"));
    assert!(out.contains("  ! SLOs are defined (slo)\n      error: Prometheus answered 503\n"));

    let mut c = passing_card();
    c.rules[1].status = Status::Skipped;
    c.rules[1].message = String::new();
    assert!(text(&[c], false).contains("  - CI runs on pull requests (ci)\n      skipped: no reason given\n"));
}

#[test]
fn text_ends_with_summary_blockers_and_notes() {
    let out = text(&[card()], false);
    assert!(out.ends_with(
        "\nsummary: 2 pass, 3 fail, 1 excepted, 1 skipped, 1 error\nto reach silver, fix: codeowners, api-spec\nnote: \
         tier 1 from catalog entry services/payments.yaml\n"
    ));
    let out = text(&[passing_card()], false);
    assert!(out.ends_with("\nsummary: 2 pass, 0 fail, 0 excepted, 0 skipped, 0 error\n"), "{out}");
}

#[test]
fn text_indents_every_line_of_multi_line_text() {
    let mut c = card();
    c.rules[2].remediation = "Add .github/CODEOWNERS:\n\n  * @acme/payments\nthen push.\n".into();
    let out = text(&[c], false);
    assert!(
        out.contains(
            "      fix: Add .github/CODEOWNERS:\n\n             * @acme/payments\n           then push.\n      at "
        ),
        "{out}"
    );
}

#[test]
fn text_colours_only_when_asked() {
    let plain = text(&[card(), passing_card()], false);
    assert!(!plain.contains('\x1b'), "no escape sequences without colour");

    let out = text(&[card()], true);
    let line_of = |id: &str| out.lines().find(|l| l.contains(&format!("({id})"))).unwrap();
    assert_eq!(line_of("readme"), "  \x1b[32m✓ README exists (readme)\x1b[0m");
    assert_eq!(line_of("codeowners"), "  \x1b[31m✗ Code owners are defined (codeowners)\x1b[0m");
    assert!(line_of("runbook").starts_with("  \x1b[33m~ "));
    assert!(line_of("slo").starts_with("  \x1b[33m! "));
    assert!(line_of("oncall").starts_with("  \x1b[2m- "));
    assert!(out.contains("\x1b[31mBELOW REQUIRED LEVEL\x1b[0m"));
    assert!(text(&[passing_card()], true).contains("\x1b[32mmeets required level\x1b[0m"));
    // Same words once the escapes are gone.
    let stripped = strip_ansi(&out);
    assert_eq!(stripped, text(&[card()], false));
}

fn strip_ansi(s: &str) -> String {
    let mut out = String::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            for c in chars.by_ref() {
                if c == 'm' {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[test]
fn text_drops_terminal_escapes_from_untrusted_text() {
    let mut c = card();
    c.rules[2].message = "evil\x1b]0;pwned\x07 \x1b[2Jmessage\r".into();
    c.repository = "acme/\x1b[31mpay".into();
    let out = text(&[c], false);
    assert!(!out.contains('\x1b') && !out.contains('\x07') && !out.contains('\r'));
    assert!(out.contains("      evil]0;pwned [2Jmessage\n"));
    assert!(out.starts_with("acme/[31mpay (service payments)"));
}

#[test]
fn text_several_cards_end_with_the_summary_table() {
    let out = text(&[card(), passing_card()], false);
    let first = out.find("acme/payments (service payments) — tier 1").unwrap();
    let second = out.find("acme/website-frontend — tier 3").unwrap();
    let table = out.find("REPOSITORY").unwrap();
    assert!(first < second && second < table);
    assert!(out.ends_with(&summary_table(&[card(), passing_card()])));
    // One card: no table.
    assert!(!text(&[card()], false).contains("REPOSITORY"));
}

#[test]
fn summary_table_has_one_aligned_row_per_repository() {
    let table = summary_table(&[card(), passing_card()]);
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(
        lines,
        [
            "REPOSITORY             TIER  LEVEL   REQUIRED  MEETS  FAIL",
            "acme/payments          1     none    silver    no     3",
            "acme/website-frontend  3     silver  bronze    yes    0",
        ]
    );
    // Columns start where their headers start, whatever the widths.
    let mut long = passing_card();
    long.repository = "acme/a-much-longer-repository-name".into();
    long.tier = 12;
    let table = summary_table(&[card(), long]);
    let lines: Vec<&str> = table.lines().collect();
    for header in ["TIER", "LEVEL", "REQUIRED", "MEETS", "FAIL"] {
        let col = lines[0].find(header).unwrap();
        for line in &lines[1..] {
            let before = line.chars().take(col).collect::<String>();
            assert!(before.ends_with("  "), "column {header} aligned in {line:?}");
            assert_ne!(line.chars().nth(col), Some(' '), "column {header} aligned in {line:?}");
        }
    }
}

#[test]
fn levels_missing_from_the_level_list_follow_it_and_empty_levels_are_left_out() {
    let mut c = passing_card();
    c.rules.push(rule("custom", "Custom rule", "platinum", Status::Fail, false));
    c.levels = vec!["bronze".into(), "silver".into(), "gold".into()];
    let groups = group_by_level(&c);
    let names: Vec<&str> = groups.iter().map(|g| g.name).collect();
    assert_eq!(names, ["bronze", "silver", "platinum"], "gold has no rules");
    assert_eq!(groups.iter().map(|g| g.required).collect::<Vec<_>>(), [true, false, false]);
    // No level list at all (an older JSON): order of appearance.
    c.levels.clear();
    let names: Vec<&str> = group_by_level(&c).iter().map(|g| g.name).collect();
    assert_eq!(names, ["bronze", "silver", "platinum"]);
}

// ---- Markdown ----

#[test]
fn markdown_starts_with_a_status_line() {
    let out = markdown(&[card()]);
    assert!(
        out.starts_with(
            "## ❌ Production readiness: acme/payments\n\n**Below the required level.** Reached **no level**; tier 1 \
         requires **silver**. 2 required rules fail: `codeowners`, `api-spec`.\n\n**Service:** payments · \
         **Owner:** team-payments · **Tier:** 1 · **Commit:** `0123456789ab`\n\n✅ 2 passed · ❌ 3 failed · 🟡 1 \
         excepted · ⏭️ 1 skipped · ⚠️ 1 error\n"
        ),
        "{out}"
    );
    let out = markdown(&[passing_card()]);
    assert!(
        out.starts_with(
            "## ✅ Production readiness: acme/website-frontend\n\n**Meets the required level.** Reached **silver**; \
         tier 3 requires **bronze**.\n\n**Tier:** 3\n\n"
        ),
        "{out}"
    );
}

#[test]
fn markdown_has_one_table_per_level_in_order() {
    let out = markdown(&[card()]);
    let bronze = section(&out, "### bronze (required)");
    assert_eq!(
        bronze,
        "### bronze (required)\n\n| | Rule | Result |\n| :-: | --- | --- |\n| ✅ | **README exists** `readme` | README.md \
         found |\n| ❌ | **Code owners are defined** `codeowners` | no CODEOWNERS file |"
    );
    let silver = section(&out, "### silver (required)");
    assert!(silver.contains(
        "| 🟡 | **Runbook is linked** `runbook` | no runbook link in catalog-info.yaml<br>_Excepted until 2026-09-30_ |"
    ));
    assert!(
        silver.contains("| ⏭️ | **Someone is on call** `oncall` | _Skipped:_ SHIPSHAPE_PAGERDUTY_TOKEN is not set |")
    );
    assert!(silver.contains("| ⚠️ | **SLOs are defined** `slo` | _Error:_ Prometheus answered 503 |"));
    let gold = section(&out, "### gold");
    assert!(gold.contains("`dependency-updates`") && gold.contains("`security-policy`"));
    let (b, s, g) = (out.find("### bronze").unwrap(), out.find("### silver").unwrap(), out.find("### gold").unwrap());
    assert!(b < s && s < g);
    // Every table row has the header's number of cells.
    for line in out.lines().filter(|l| l.starts_with('|')) {
        let expected =
            if line.contains("Approved in") || out[..out.find(line).unwrap()].contains("### Active") { 5 } else { 4 };
        assert_eq!(unescaped_pipes(line), expected, "{line}");
    }
}

#[test]
fn markdown_how_to_fix_lists_failing_rules_required_first() {
    let out = markdown(&[card()]);
    let fix = section(&out, "### How to fix");
    assert_eq!(
        fix,
        "### How to fix\n\n- ❌ **Code owners are defined** (`codeowners`, bronze, required)\n  - **Problem:** no \
         CODEOWNERS file\n  - **Fix:** Add a CODEOWNERS file naming the owning team.\n  - **Where:** \
         `.github/CODEOWNERS:3`\n- ❌ **API spec is published** (`api-spec`, silver, required)\n  - **Problem:** api-spec \
         message\n  - **Fix:** api-spec remediation\n  - **Where:** `openapi.yaml`\n- ❌ **Dependency updates are \
         automated** (`dependency-updates`, gold)\n  - **Problem:** dependency-updates message\n  - **Fix:** \
         dependency-updates remediation"
    );
    // Remediation of rules that do not fail appears nowhere.
    for id in ["readme", "runbook", "oncall", "slo", "security-policy"] {
        assert!(!out.contains(&format!("{id} remediation")), "{id}");
    }
    assert!(out.contains("Comment `/request-exception <rule-id> for 30d <reason>` on a pull request"));
}

#[test]
fn markdown_lists_exceptions_skipped_rules_and_notes() {
    let out = markdown(&[card()]);
    assert_eq!(
        section(&out, "### Active exceptions"),
        "### Active exceptions\n\n| Rule | Reason | Expires | Approved in |\n| --- | --- | --- | --- |\n| **Runbook \
         is linked** `runbook` | migrating runbooks from the wiki | 2026-09-30 | https://github.com/acme/catalog/pull/42 |"
    );
    let not_scored = out[out.find("### Not scored").unwrap()..].to_owned();
    assert!(not_scored.contains(
        "- ⏭️ **Someone is on call** (`oncall`): _Skipped_ — SHIPSHAPE_PAGERDUTY_TOKEN is not set\n- ⚠️ **SLOs are \
         defined** (`slo`): _Error_ — Prometheus answered 503\n"
    ));
    assert!(out.ends_with("### Notes\n\n- tier 1 from catalog entry services/payments.yaml\n"));
    assert!(!out.contains("\n\n\n"));
}

#[test]
fn markdown_of_a_passing_card_has_no_empty_sections() {
    let out = markdown(&[passing_card()]);
    for heading in ["### How to fix", "### Active exceptions", "### Not scored", "### Notes", "/request-exception"] {
        assert!(!out.contains(heading), "{heading} in\n{out}");
    }
    assert!(out.contains("### bronze (required)") && out.contains("### silver\n"));
    assert!(out.ends_with("|\n") && !out.ends_with("\n\n"));
}

fn hostile_card() -> Scorecard {
    let mut c = card();
    c.service = Some("@payments-oncall".into());
    c.owner = Some("@acme/payments".into());
    let r = &mut c.rules[2]; // codeowners, failing
    r.title = "<script>alert(1)</script> owners".into();
    r.message = "ping @team | then\nbreak the row <img src=x onerror=alert(1)>".into();
    r.remediation = "Ask @acme/sre & <b>bold</b> | escape".into();
    r.evidence = vec![Evidence { path: "docs/a|b<i>.md".into(), line: Some(7) }];
    let e = c.rules[3].exception.as_mut().unwrap(); // runbook, excepted
    e.reason = "approved by @cto\n| injected | row |".into();
    c.notes.push("<details><summary>@everyone</summary>".into());
    c
}

#[test]
fn markdown_neutralises_mentions_html_and_table_breakers() {
    let out = markdown(&[hostile_card()]);
    for raw in ["<script", "<img", "<b>", "<details", "<i>", "@team", "@acme/", "@cto", "@everyone", "@payments"] {
        assert!(!out.contains(raw), "{raw:?} survived in\n{out}");
    }
    let z = ZWSP;
    assert!(out.contains("&lt;script&gt;alert(1)&lt;/script&gt; owners"));
    assert!(out.contains(&format!("ping @{z}team \\| then<br>break the row &lt;img src=x onerror=alert(1)&gt;")));
    assert!(out.contains(&format!("**Fix:** Ask @{z}acme/sre &amp; &lt;b&gt;bold&lt;/b&gt; \\| escape")));
    assert!(out.contains(&format!("**Service:** @{z}payments-oncall · **Owner:** @{z}acme/payments")));
    assert!(out.contains(&format!("approved by @{z}cto<br>\\| injected \\| row \\|")));
    assert!(out.contains("docs/a\\|b&lt;i&gt;.md:7"), "a path with `|` is not put in a code span");
    // The tables keep their shape.
    for line in out.lines().filter(|l| l.starts_with('|')) {
        let cells = unescaped_pipes(line);
        assert!(cells == 4 || cells == 5, "{cells} pipes in {line}");
    }
    let exceptions = section(&out, "### Active exceptions");
    assert_eq!(exceptions.lines().count(), 5, "heading, blank, header, rule, one row:\n{exceptions}");
}

#[test]
fn markdown_several_cards_are_separated() {
    let out = markdown(&[card(), passing_card()]);
    let parts: Vec<&str> = out.split("\n\n---\n\n").collect();
    assert_eq!(parts.len(), 2, "{out}");
    assert!(parts[0].starts_with("## ❌ Production readiness: acme/payments"));
    assert!(parts[1].starts_with("## ✅ Production readiness: acme/website-frontend"));
    assert_eq!(format!("{}\n", parts[0]), markdown(&[card()]));
}

// ---- SARIF ----

fn sarif(cards: &[Scorecard]) -> Value {
    json_of(Format::Sarif, cards)
}

fn obj<'a>(v: &'a Value, what: &str) -> &'a serde_json::Map<String, Value> {
    v.as_object().unwrap_or_else(|| panic!("{what} is an object: {v}"))
}

fn non_empty_str(v: &Value, what: &str) -> String {
    let s = v.as_str().unwrap_or_else(|| panic!("{what} is a string: {v}"));
    assert!(!s.trim().is_empty(), "{what} is not empty");
    s.to_owned()
}

/// The properties the SARIF 2.1.0 schema requires (and the constraints it puts on them) for every object shipshape
/// emits, plus what GitHub code scanning needs on top (a location with an artifact URI on every result).
fn check_sarif_schema(log: &Value) {
    let log_obj = obj(log, "sarifLog");
    assert_eq!(log["version"], "2.1.0");
    assert_eq!(log["$schema"], SARIF_SCHEMA);
    for key in log_obj.keys() {
        assert!(["$schema", "version", "runs"].contains(&key.as_str()), "unexpected sarifLog.{key}");
    }
    let runs = log["runs"].as_array().expect("runs is an array");
    for run in runs {
        let driver = obj(&run["tool"]["driver"], "tool.driver");
        assert_eq!(driver["name"], "shipshape");
        non_empty_str(&driver["version"], "driver.version");
        assert!(driver["informationUri"].as_str().unwrap().starts_with("https://"));
        let rules = driver["rules"].as_array().expect("driver.rules is an array");
        let mut ids = std::collections::HashSet::new();
        for rule in rules {
            let id = non_empty_str(&rule["id"], "reportingDescriptor.id");
            assert!(ids.insert(id.clone()), "rule ids are unique: {id}");
            non_empty_str(&rule["shortDescription"]["text"], "shortDescription.text");
            non_empty_str(&rule["fullDescription"]["text"], "fullDescription.text");
            non_empty_str(&rule["help"]["text"], "help.text");
            assert!(rule["help"]["markdown"].is_string());
            let level = &rule["defaultConfiguration"]["level"];
            assert!(level == "error" || level == "warning", "{level}");
            let tags: Vec<&str> =
                rule["properties"]["tags"].as_array().unwrap().iter().map(|t| t.as_str().unwrap()).collect();
            let unique: std::collections::HashSet<_> = tags.iter().collect();
            assert_eq!(unique.len(), tags.len(), "tags are unique");
        }
        for result in run["results"].as_array().expect("results is an array") {
            obj(result, "result");
            non_empty_str(&result["message"]["text"], "result.message.text");
            let index = result["ruleIndex"].as_u64().expect("ruleIndex is a non-negative integer") as usize;
            assert!(index < rules.len(), "ruleIndex in range");
            assert_eq!(result["ruleId"], rules[index]["id"], "ruleIndex points at the result's rule");
            assert!(result["level"] == "error" || result["level"] == "warning");
            assert_eq!(result["kind"], "fail");
            for (_, fp) in obj(&result["partialFingerprints"], "partialFingerprints") {
                assert!(fp.is_string());
            }
            let locations = result["locations"].as_array().expect("locations is an array");
            assert!(!locations.is_empty() && locations.len() <= 10, "1..=10 locations");
            for location in locations {
                let physical = &location["physicalLocation"];
                let uri = non_empty_str(&physical["artifactLocation"]["uri"], "artifactLocation.uri");
                assert!(!uri.contains('\\'));
                if let Some(region) = physical.get("region") {
                    let line = region["startLine"].as_u64().expect("startLine is an integer");
                    assert!(line >= 1, "startLine >= 1");
                }
            }
        }
    }
}

#[test]
fn sarif_has_every_required_property() {
    check_sarif_schema(&sarif(&[card()]));
    check_sarif_schema(&sarif(&[card(), passing_card()]));
    check_sarif_schema(&sarif(&[hostile_card()]));
}

#[test]
fn sarif_results_are_the_failing_rules() {
    let log = sarif(&[card()]);
    let run = &log["runs"][0];
    assert_eq!(log["runs"].as_array().unwrap().len(), 1);
    let rules: Vec<&str> =
        run["tool"]["driver"]["rules"].as_array().unwrap().iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(rules.len(), 8, "every rule is described, not only failing ones");
    let results = run["results"].as_array().unwrap();
    let ids: Vec<&str> = results.iter().map(|r| r["ruleId"].as_str().unwrap()).collect();
    assert_eq!(
        ids,
        ["dependency-updates", "codeowners", "api-spec"],
        "fail only: not excepted, skipped, error or pass"
    );
    for r in results {
        assert_eq!(rules[r["ruleIndex"].as_u64().unwrap() as usize], r["ruleId"].as_str().unwrap());
    }
    let by_id = |id: &str| results.iter().find(|r| r["ruleId"] == id).unwrap();
    assert_eq!(by_id("codeowners")["level"], "error", "required");
    assert_eq!(by_id("dependency-updates")["level"], "warning", "not required");
    assert_eq!(
        by_id("codeowners")["message"]["text"],
        "Code owners are defined: no CODEOWNERS file\nHow to fix: Add a CODEOWNERS file naming the owning team."
    );
    let codeowners_rule = &run["tool"]["driver"]["rules"][2];
    assert_eq!(codeowners_rule["id"], "codeowners");
    assert_eq!(codeowners_rule["shortDescription"]["text"], "Code owners are defined");
    assert_eq!(codeowners_rule["help"]["text"], "Add a CODEOWNERS file naming the owning team.");
    assert_eq!(codeowners_rule["properties"]["level"], "bronze");
    assert_eq!(codeowners_rule["defaultConfiguration"]["level"], "error");
    assert_eq!(run["tool"]["driver"]["version"], env!("CARGO_PKG_VERSION"));
    assert!(run.get("automationDetails").is_none(), "one card: the uploader picks the category");

    let passing = sarif(&[passing_card()]);
    assert_eq!(passing["runs"][0]["results"], serde_json::json!([]));
}

#[test]
fn sarif_locations_come_from_evidence() {
    let mut c = card();
    c.rules[0].evidence =
        vec![Evidence { path: "./renovate json.json".into(), line: Some(0) }, Evidence { path: "".into(), line: None }];
    let log = sarif(&[c]);
    let results = log["runs"][0]["results"].as_array().unwrap();
    let by_id = |id: &str| &results.iter().find(|r| r["ruleId"] == id).unwrap()["locations"];
    assert_eq!(
        by_id("codeowners"),
        &serde_json::json!([{"physicalLocation": {
            "artifactLocation": {"uri": ".github/CODEOWNERS", "uriBaseId": "%SRCROOT%"},
            "region": {"startLine": 3},
        }}])
    );
    assert_eq!(
        by_id("api-spec"),
        &serde_json::json!([{"physicalLocation": {"artifactLocation": {"uri": "openapi.yaml", "uriBaseId": "%SRCROOT%"}}}]),
        "no line, no region"
    );
    // Line 0 is not a line; an empty path is not a file; spaces are encoded.
    assert_eq!(
        by_id("dependency-updates"),
        &serde_json::json!([{"physicalLocation": {
            "artifactLocation": {"uri": "renovate%20json.json", "uriBaseId": "%SRCROOT%"},
        }}])
    );
    // No evidence at all: GitHub still needs a location.
    let mut c = card();
    c.rules[0].evidence.clear();
    let log = sarif(&[c]);
    assert_eq!(
        log["runs"][0]["results"][0]["locations"],
        serde_json::json!([{"physicalLocation": {
            "artifactLocation": {
                "uri": NO_FILE_URI,
                "uriBaseId": "%SRCROOT%",
                "description": {"text": "the repository as a whole (no single file)"},
            },
            "region": {"startLine": 1},
        }}])
    );
}

#[test]
fn sarif_several_cards_are_separate_runs() {
    let log = sarif(&[card(), passing_card()]);
    let runs = log["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 2);
    assert_eq!(runs[0]["automationDetails"]["id"], "shipshape/acme/payments/");
    assert_eq!(runs[1]["automationDetails"]["id"], "shipshape/acme/website-frontend/");
    assert_eq!(runs[0]["properties"]["repository"], "acme/payments");
    assert_eq!(runs[0]["results"].as_array().unwrap().len(), 3);
    assert_eq!(runs[1]["results"].as_array().unwrap().len(), 0);
    assert_eq!(runs[1]["tool"]["driver"]["rules"].as_array().unwrap().len(), 2);
}

#[test]
fn sarif_fingerprints_ignore_where_the_evidence_moved() {
    let fingerprint = |line: usize| {
        let mut c = card();
        c.rules[2].evidence[0].line = Some(line);
        sarif(&[c])["runs"][0]["results"][1]["partialFingerprints"].clone()
    };
    assert_eq!(fingerprint(3), fingerprint(30));
    assert_eq!(fingerprint(3)["shipshapeRule/v1"], "payments:codeowners");
}
