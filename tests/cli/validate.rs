//! `shipshape validate`: every problem printed as `file:line:col: message`, exit 2 on errors, 0 when valid.
//!
//! Each fixture is written out literally so the pinned line and column can be checked by counting.

use crate::support::{Dir, POLICY_HEAD, exception_yaml, rule, run_in, service_yaml};

/// `validate --policy policy.yaml` on `text`, run from the directory holding it (so paths print relative).
fn validate_policy(text: &str) -> crate::support::Out {
    let dir = Dir::new();
    dir.write("policy.yaml", text);
    run_in(dir.path(), ["validate", "--policy", "policy.yaml"])
}

/// A policy with one README rule: valid.
fn valid_policy() -> String {
    format!("{POLICY_HEAD}{}", rule("readme", "bronze", r#"{file: {any: ["README.md"]}}"#))
}

#[test]
fn yaml_syntax_error_points_at_the_bad_line() {
    // Line 7 is indented by three spaces: col 4 is where `level` starts.
    let out = validate_policy(
        "apiVersion: shipshape.dev/v1
kind: Scorecard
default_tier: 1
rules:
  - id: readme
    title: README
   level: bronze
",
    );
    out.expect_code(2);
    assert_eq!(
        out.stdout,
        "policy.yaml:7:4: invalid YAML: while parsing a block collection, did not find expected '-' indicator; check \
         the indentation of line 7: it starts at column 4, line 6 above it at column 5\n"
    );
}

#[test]
fn unclosed_flow_sequence_points_at_its_bracket() {
    // `tiers: [a` — the `[` is column 8 of line 3.
    let out = validate_policy("apiVersion: shipshape.dev/v1\nkind: Scorecard\ntiers: [a\n");
    out.expect_code(2);
    assert_eq!(out.stdout, "policy.yaml:3:8: invalid YAML: unclosed bracket '['\n");
}

#[test]
fn duplicate_yaml_key_is_an_error() {
    let out = validate_policy(&format!("{POLICY_HEAD}{}default_tier: 2\n", rule("a", "bronze", "{file: {any: [a]}}")));
    out.expect_code(2);
    // POLICY_HEAD has `default_tier` on line 8; the rule takes lines 10-14; the duplicate is line 15.
    assert_eq!(out.stdout, "policy.yaml:15:1: duplicate key `default_tier` (first defined at line 8)\n");
}

#[test]
fn misspelt_key_gets_did_you_mean() {
    let out = validate_policy(&format!(
        "{POLICY_HEAD}  - id: readme
    title: README
    level: bronze
    remediaton: Write a README.
    check: {{file: {{any: [README.md]}}}}
"
    ));
    out.expect_code(2);
    // The rule starts at line 10 (`- id` at col 5); `remediaton` is line 13, col 5.
    assert_eq!(
        out.stdout,
        "policy.yaml:10:5: missing required key `remediation`
policy.yaml:13:5: unknown key `remediaton` (did you mean `remediation`?); expected one of: id, title, level, \
         description, remediation, check, when, include_ignored
"
    );
}

#[test]
fn two_unknown_keys_in_one_file_are_both_reported() {
    let out = validate_policy(
        "apiVersion: shipshape.dev/v1
kind: Scorecard
metadata:
  name: mine
  descripton: Ours
tiers:
  1: {requires: bronze}
default_tier: 1
rules:
  - id: readme
    title: README
    level: bronze
    remediation: Write a README.
    check:
      file: {any: [README.md], ignorecase: true}
",
    );
    out.expect_code(2);
    // `descripton` is line 5 col 3; `ignorecase` is line 15: six spaces, `file: {any: [README.md], ` is 25 more.
    assert_eq!(
        out.stdout,
        "policy.yaml:5:3: unknown key `descripton` (did you mean `description`?); expected one of: name, description
policy.yaml:15:32: unknown key `ignorecase` (did you mean `ignore_case`?); expected one of: any, all, ignore_case, \
         min_bytes, min_words
"
    );
}

#[test]
fn duplicate_rule_ids() {
    let rules =
        [rule("readme", "bronze", "{file: {any: [README.md]}}"), rule("readme", "silver", "{file: {any: [x]}}")];
    let out = validate_policy(&format!("{POLICY_HEAD}{}", rules.concat()));
    out.expect_code(2);
    // Rules take five lines each from line 10: the second `id: readme` is line 15, its value at col 9.
    assert_eq!(out.stdout, "policy.yaml:15:9: duplicate rule id `readme` (first defined at line 10)\n");
}

#[test]
fn unknown_level_in_a_rule() {
    let out = validate_policy(&format!("{POLICY_HEAD}{}", rule("readme", "silverr", "{file: {any: [README.md]}}")));
    out.expect_code(2);
    // `    level: silverr` is line 12; the value starts at col 12.
    assert_eq!(
        out.stdout,
        "policy.yaml:12:12: rule `readme`: unknown level `silverr` (did you mean `silver`?); levels are: bronze, \
         silver, gold\n"
    );
}

#[test]
fn tier_requiring_an_unknown_level() {
    let out = validate_policy(&format!(
        "apiVersion: shipshape.dev/v1
kind: Scorecard
levels: [bronze, silver, gold]
tiers:
  1: {{requires: platinum}}
  2: {{requires: silver}}
default_tier: 2
rules:
{}",
        rule("readme", "bronze", "{file: {any: [README.md]}}")
    ));
    out.expect_code(2);
    // `  1: {requires: ` is 16 characters, so `platinum` starts at col 17 of line 5.
    assert_eq!(
        out.stdout,
        "policy.yaml:5:17: tier 1 requires: unknown level `platinum`; levels are: bronze, silver, gold\n"
    );
}

#[test]
fn default_tier_must_be_a_defined_tier() {
    let text = valid_policy().replace("default_tier: 3", "default_tier: 4");
    let out = validate_policy(&text);
    out.expect_code(2);
    assert_eq!(out.stdout, "policy.yaml:8:15: default_tier 4 is not one of the tiers (1, 2, 3)\n");
}

#[test]
fn invalid_glob() {
    let out =
        validate_policy(&format!("{POLICY_HEAD}{}", rule("docs", "bronze", r#"{file: {any: ["docs/[abc.md"]}}"#)));
    out.expect_code(2);
    // `    check: {file: {any: [` is 25 characters: the quoted glob starts at col 26 of line 14.
    assert_eq!(out.stdout, "policy.yaml:14:26: invalid glob `docs/[abc.md`: unclosed character class; missing ']'\n");
}

#[test]
fn invalid_regex_points_inside_the_pattern() {
    let out = validate_policy(&format!(
        "{POLICY_HEAD}  - id: no-todo
    title: No TODO
    level: bronze
    remediation: Remove it.
    check:
      content:
        files: [\"**/*.rs\"]
        not_matches: 'TODO(abc'
"
    ));
    out.expect_code(2);
    // Line 17: `        not_matches: '` is 22 characters; `TODO` is cols 23-26, the unclosed `(` col 27.
    assert_eq!(out.stdout, "policy.yaml:17:27: invalid regular expression: unclosed group\n");
}

#[test]
fn invalid_regex_repetition_points_at_the_brace() {
    let out = validate_policy(&format!(
        "{POLICY_HEAD}{}",
        rule("reps", "bronze", r#"{content: {files: [a.txt], matches: "ab{3,1}"}}"#)
    ));
    out.expect_code(2);
    // Line 14: `    check: {content: {files: [a.txt], matches: "` is 48 characters; `ab` is cols 49-50, `{` col 51.
    assert_eq!(
        out.stdout,
        "policy.yaml:14:51: invalid regular expression: invalid repetition count range, the start must be <= the end\n"
    );
}

#[test]
fn invalid_jq_points_at_the_problem() {
    let out = validate_policy(&format!(
        "{POLICY_HEAD}  - id: q
    title: Query
    level: bronze
    remediation: Fix it.
    check:
      query:
        files: [package.json]
        jq: '.scripts | ]'
  - id: q2
    title: Query 2
    level: bronze
    remediation: Fix it.
    check:
      query:
        files: [package.json]
        jq: .scripts | has(\"test\") and nosuchfn
"
    ));
    out.expect_code(2);
    // Line 17: `        jq: '` is 13 characters, `.scripts | ` 11 more: the `]` is col 25.
    // Line 25: `        jq: ` is 12 characters, `.scripts | has("test") and ` 27 more: `nosuchfn` starts at col 40.
    assert_eq!(
        out.stdout,
        "policy.yaml:17:25: invalid jq: unexpected `]`
policy.yaml:25:40: invalid jq: undefined filter `nosuchfn`
"
    );
}

#[test]
fn invalid_jq_in_a_catalog_check() {
    let out = validate_policy(&format!("{POLICY_HEAD}{}", rule("owner", "bronze", "{catalog: {jq: '.spec.owner |'}}")));
    out.expect_code(2);
    // Line 14: `    check: {catalog: {jq: '` is 27 characters; `.spec.owner |` ends at col 40, end of expression at 41.
    assert_eq!(out.stdout, "policy.yaml:14:41: invalid jq: expected term, found end of expression\n");
}

/// A catalog with the service `payments` (tier 1) and a valid policy at `policy.yaml`.
fn catalog_dir() -> Dir {
    let dir = Dir::new();
    dir.write("policy.yaml", &valid_policy());
    dir.write("cat/services/payments.yaml", &service_yaml("payments", Some(1), "service"));
    dir
}

fn validate_catalog(dir: &Dir, as_of: &str) -> crate::support::Out {
    run_in(dir.path(), ["validate", "--policy", "policy.yaml", "--catalog", "cat", "--as-of", as_of])
}

#[test]
fn exception_for_unknown_rule_gets_did_you_mean() {
    let dir = catalog_dir();
    dir.write("cat/exceptions/payments/readm.yaml", &exception_yaml("payments", "readm", "2025-07-01"));
    let out = validate_catalog(&dir, "2025-06-01");
    out.expect_code(2);
    // `rule: readm` is line 4; the value is col 7.
    assert_eq!(
        out.stdout,
        "cat/exceptions/payments/readm.yaml:4:7: exception for unknown rule `readm` (did you mean `readme`?)\n"
    );
}

#[test]
fn exception_for_unknown_service_gets_did_you_mean() {
    let dir = catalog_dir();
    dir.write("cat/exceptions/paymnts/readme.yaml", &exception_yaml("paymnts", "readme", "2030-01-01"));
    let out = validate_catalog(&dir, "2025-06-01");
    out.expect_code(2);
    // `service: paymnts` is line 3; the value is col 10.
    assert_eq!(
        out.stdout,
        "cat/exceptions/paymnts/readme.yaml:3:10: exception for unknown service `paymnts` (did you mean `payments`?)\n"
    );
}

#[test]
fn malformed_expiry_date_is_an_error() {
    let dir = catalog_dir();
    dir.write("cat/exceptions/payments/readme.yaml", &exception_yaml("payments", "readme", "2030-13-01"));
    let out = validate_catalog(&dir, "2025-06-01");
    out.expect_code(2);
    // `expires: 2030-13-01` is line 6; the value is col 10.
    assert_eq!(
        out.stdout,
        "cat/exceptions/payments/readme.yaml:6:10: expires must be a date written YYYY-MM-DD, found `2030-13-01`\n"
    );
}

#[test]
fn past_expiry_is_only_a_warning() {
    let dir = catalog_dir();
    dir.write("cat/exceptions/payments/readme.yaml", &exception_yaml("payments", "readme", "2025-05-31"));
    let out = validate_catalog(&dir, "2025-06-01");
    out.expect_code(0);
    assert_eq!(
        out.stdout,
        "cat/exceptions/payments/readme.yaml:6:10: warning: expired on 2025-05-31: it no longer applies and the file \
         can be removed
ok: policy.yaml (1 rule, 3 levels, 3 tiers); catalog cat (1 service, 1 exception)
"
    );
}

#[test]
fn expiry_today_is_not_a_warning() {
    let dir = catalog_dir();
    dir.write("cat/exceptions/payments/readme.yaml", &exception_yaml("payments", "readme", "2025-06-01"));
    let out = validate_catalog(&dir, "2025-06-01");
    out.expect_code(0);
    assert_eq!(out.stdout, "ok: policy.yaml (1 rule, 3 levels, 3 tiers); catalog cat (1 service, 1 exception)\n");
}

#[test]
fn exception_file_must_match_its_path() {
    let dir = catalog_dir();
    // Filed under `payments/readme.yaml` but naming another service and rule.
    dir.write("cat/exceptions/payments/readme.yaml", &exception_yaml("billing", "docs", "2030-01-01"));
    let out = validate_catalog(&dir, "2025-06-01");
    out.expect_code(2);
    assert_eq!(
        out.stdout,
        "cat/exceptions/payments/readme.yaml:3:10: service `billing` must match the directory `exceptions/payments/`
cat/exceptions/payments/readme.yaml:4:7: rule `docs` must match the file name `readme`
"
    );
}

#[test]
fn service_tier_unknown_to_the_policy_and_name_mismatch() {
    let dir = catalog_dir();
    dir.write("cat/services/search.yaml", &service_yaml("search", Some(7), "service"));
    dir.write("cat/services/billing.yaml", &service_yaml("invoices", Some(1), "service"));
    let out = validate_catalog(&dir, "2025-06-01");
    out.expect_code(2);
    // service_yaml: `  name: NAME` is line 4 (col 9); `  tier: N` is line 12 (col 9).
    assert_eq!(
        out.stdout,
        "cat/services/billing.yaml:4:9: metadata.name `invoices` must match the file name `billing`
cat/services/search.yaml:12:9: tier 7 is not defined by the policy (tiers: 1, 2, 3)
"
    );
}

#[test]
fn every_problem_of_several_files_in_one_run() {
    let dir = catalog_dir();
    dir.write(
        "policy.yaml",
        &format!("{POLICY_HEAD}{}", rule("readme", "goldd", r#"{file: {any: ["README.md"]}}"#))
            .replace("default_tier: 3", "default_tier: 3\nmetdata: {name: x}"),
    );
    dir.write("cat/exceptions/payments/slo.yaml", &exception_yaml("payments", "slo", "2030-02-30"));
    dir.write("cat/exceptions/search/readme.yaml", &exception_yaml("search", "readme", "2020-01-01"));
    let out = validate_catalog(&dir, "2025-06-01");
    out.expect_code(2);
    // The policy does not load (unknown key), so its compile errors are not reached, and the catalog is not checked
    // against it (which is said); the exception for `search` names an unknown service and has expired.
    assert_eq!(
        out.stdout,
        "cat:1:1: warning: not checked against the policy, which has errors: the rules exceptions name, the tiers of \
         services and how long exceptions may run
cat/exceptions/payments/slo.yaml:6:10: expires must be a date written YYYY-MM-DD, found `2030-02-30`
cat/exceptions/search/readme.yaml:3:10: exception for unknown service `search`
cat/exceptions/search/readme.yaml:6:10: warning: expired on 2020-01-01: it no longer applies and the file can be \
         removed
policy.yaml:9:1: unknown key `metdata` (did you mean `metadata`?); expected one of: apiVersion, kind, metadata, \
         levels, tiers, default_tier, rules, initiatives, ignore
"
    );
}

#[test]
fn every_compile_problem_of_one_policy_in_one_run() {
    let rules = [
        rule("a", "goldd", "{file: {any: [README.md]}}"),
        rule("b", "bronze", r#"{file: {any: ["[x"]}}"#),
        rule("c", "bronze", "{content: {files: [x], matches: '('}}"),
        rule("d", "bronze", "{catalog: {jq: 'nosuch'}}"),
    ];
    let out = validate_policy(&format!("{POLICY_HEAD}{}", rules.concat()));
    out.expect_code(2);
    // Rules take five lines from line 10; each check is on the rule's fifth line (14, 19, 24, 29).
    // Line 19: `    check: {file: {any: [` is 25 characters, the quoted glob starts at col 26.
    // Line 24: `    check: {content: {files: [x], matches: '` is 44 characters, the `(` is col 45.
    // Line 29: `    check: {catalog: {jq: '` is 27 characters, `nosuch` starts at col 28.
    assert_eq!(
        out.stdout,
        "policy.yaml:12:12: rule `a`: unknown level `goldd` (did you mean `gold`?); levels are: bronze, silver, gold
policy.yaml:19:26: invalid glob `[x`: unclosed character class; missing ']'
policy.yaml:24:45: invalid regular expression: unclosed group
policy.yaml:29:28: invalid jq: undefined filter `nosuch`
"
    );
}

#[test]
fn valid_policy_and_catalog() {
    let dir = catalog_dir();
    dir.write("cat/services/search.yaml", &service_yaml("search", None, "website"));
    dir.write("cat/exceptions/payments/readme.yaml", &exception_yaml("payments", "readme", "2025-08-30"));
    let out = validate_catalog(&dir, "2025-06-01");
    out.expect_code(0);
    assert_eq!(out.stdout, "ok: policy.yaml (1 rule, 3 levels, 3 tiers); catalog cat (2 services, 1 exception)\n");
    assert_eq!(out.stderr, "");
}

#[test]
fn an_exception_longer_than_its_tier_allows_is_an_error() {
    let dir = catalog_dir();
    // Tier 1 allows 90 days (the default): from 2025-06-01 that is 2025-08-30.
    dir.write("cat/exceptions/payments/readme.yaml", &exception_yaml("payments", "readme", "2025-08-31"));
    let out = validate_catalog(&dir, "2025-06-01");
    out.expect_code(2);
    assert_eq!(
        out.stdout,
        "cat/exceptions/payments/readme.yaml:6:10: expires 2025-08-31 is further away than tier 1 allows \
         (90 days: 2025-08-30 at the latest)\n"
    );
}

#[test]
fn catalog_policies_directory_replaces_the_embedded_scorecard() {
    let dir = Dir::new();
    dir.write("cat/services/payments.yaml", &service_yaml("payments", Some(1), "service"));
    dir.write("cat/policies/scorecard.yaml", &valid_policy());
    let out = run_in(dir.path(), ["validate", "--catalog", "cat"]);
    out.expect_code(0);
    assert_eq!(
        out.stdout,
        "ok: cat/policies/scorecard.yaml (1 rule, 3 levels, 3 tiers); catalog cat (1 service, 0 exceptions)\n"
    );
}

#[test]
fn embedded_policy_validates() {
    let out = run_in(Dir::new().path(), ["validate"]);
    out.expect_code(0);
    assert_eq!(out.stdout, "ok: policies/production-readiness.yaml (20 rules, 3 levels, 3 tiers)\n");
}

#[test]
fn missing_policy_file_is_an_input_error() {
    let out = run_in(Dir::new().path(), ["validate", "--policy", "nope.yaml"]);
    out.expect_code(2);
    assert!(out.stdout.starts_with("nope.yaml:1:1: cannot read: "), "{out:?}");
}

// Positions inside a pattern must be columns of the file (characters, as everywhere else), whatever the YAML quoting
// and whatever precedes the pattern on its line.

#[test]
fn invalid_regex_column_skips_escapes_of_a_double_quoted_scalar() {
    let out = validate_policy(&format!(
        "{POLICY_HEAD}  - id: no-print
    title: No print statements
    level: bronze
    remediation: Use the logger.
    check:
      content:
        files: [\"**/*.go\"]
        not_matches: \"fmt\\\\.Print(\"
"
    ));
    out.expect_code(2);
    // Line 17 is `        not_matches: "fmt\\.Print("`: the `"` is col 22, `fmt` cols 23-25, `\\` cols 26-27 (one
    // backslash once unescaped), `.Print` cols 28-33, the unclosed `(` col 34.
    assert_eq!(out.stdout, "policy.yaml:17:34: invalid regular expression: unclosed group\n");
}

#[test]
fn invalid_regex_column_counts_characters_not_bytes() {
    let out = validate_policy(&format!(
        "{POLICY_HEAD}{}",
        rule("cafe", "bronze", "{content: {files: [a.md], matches: 'café('}}")
    ));
    out.expect_code(2);
    // Line 14: `    check: {content: {files: [a.md], matches: '` is 47 characters; `café` is cols 48-51 (`é` is one
    // character, two bytes), the unclosed `(` col 52.
    assert_eq!(out.stdout, "policy.yaml:14:52: invalid regular expression: unclosed group\n");
}

#[test]
fn invalid_jq_column_after_non_ascii_text_on_the_same_line() {
    let out = validate_policy(&format!(
        "{POLICY_HEAD}{}",
        rule("q", "bronze", r#"{query: {files: ["über/*.json"], jq: '.a | ]'}}"#)
    ));
    out.expect_code(2);
    // Line 14: `    check: {query: {files: ["über/*.json"], jq: '` is 49 characters (`ü` is one character, two bytes);
    // `.a | ` is cols 50-54, `]` col 55.
    assert_eq!(out.stdout, "policy.yaml:14:55: invalid jq: unexpected `]`\n");
}

#[test]
fn invalid_jq_after_cjk_text_on_the_same_line_is_reported_not_a_panic() {
    let out = validate_policy(&format!(
        "{POLICY_HEAD}{}",
        rule("q", "bronze", r#"{query: {files: ["設定ファイル/日本語/例/*.json"], jq: '.a | ]'}}"#)
    ));
    assert_eq!(out.code, 2, "a bad jq expression must be a diagnostic, not a crash:\n{out:?}");
    // Line 14: `    check: {query: {files: ["設定ファイル/日本語/例/*.json"], jq: '` is 57 characters (each CJK character is
    // one character, three bytes); `.a | ` is cols 58-62, `]` col 63.
    assert_eq!(out.stdout, "policy.yaml:14:63: invalid jq: unexpected `]`\n");
}

#[test]
fn structural_problems_of_a_policy_all_reported() {
    let out = validate_policy(
        "apiVersion: shipshape.dev/v2
kind: ScoreCard
levels: [bronze, silver, bronze]
tiers:
  1: {requires: silver}
default_tier: 1
rules:
  - id: Readme_1
    title: README
    level: bronze
    remediation: R
    check: {file: {any: [README.md], all: [LICENSE]}}
  - id: grep
    title: Grep
    level: bronze
    remediation: R
    check: {content: {files: [a], matches: x, not_matches: y}}
  - id: tiered
    title: Tiered
    level: bronze
    remediation: R
    check: {file: {any: [a]}}
    when: {tiers: [5]}
  - id: empty-any
    title: E
    level: bronze
    remediation: R
    check: {any: []}
  - id: nofiles
    title: N
    level: bronze
    remediation: R
    check: {query: {files: [], jq: .}}
initiatives:
  - id: q3
    title: Q3 hardening
    deadline: 2025-13-01
    rules: [tiered, readmy]
",
    );
    out.expect_code(2);
    // Line 3: `levels: [bronze, silver, ` is 25 characters. Line 23: `    when: {tiers: [` is 19. Line 38:
    // `    rules: [tiered, ` is 20.
    assert_eq!(
        out.stdout,
        "policy.yaml:1:13: apiVersion must be `shipshape.dev/v1`, found `shipshape.dev/v2`
policy.yaml:2:7: kind must be `Scorecard`, found `ScoreCard`
policy.yaml:3:26: level `bronze` is listed twice
policy.yaml:8:9: rule id `Readme_1` must use lowercase letters, digits and `-` only
policy.yaml:12:12: a `file` check needs exactly one of `any` or `all` (a list of glob patterns)
policy.yaml:17:12: a `content` check needs exactly one of `matches` or `not_matches`
policy.yaml:23:20: unknown tier 5 (tiers are 1)
policy.yaml:28:12: `all` and `any` need at least one check
policy.yaml:33:12: a `query` check needs `files`: a list of glob patterns
policy.yaml:37:15: deadline must be a date written YYYY-MM-DD, found `2025-13-01`
policy.yaml:38:21: initiative `q3` names unknown rule `readmy`
"
    );
}

#[test]
fn two_check_kinds_in_one_check() {
    let out = validate_policy(&format!(
        "{POLICY_HEAD}{}",
        rule("two", "bronze", "{file: {any: [a]}, content: {files: [a], matches: x}}")
    ));
    out.expect_code(2);
    // Line 14: `    check: {file: {any: [a]}, ` is 30 characters: the second kind, `content`, is col 31.
    assert_eq!(
        out.stdout,
        "policy.yaml:14:31: expected exactly one of: file, content, query, codeowners, catalog, branch_protection, \
         vulnerability_alerts, oncall, ci_status, release_age, alert_rules, recording_rules, promql, http, private_keys, \
         all, any, not (found `file` and `content`; combine checks with `all` or `any`)\n"
    );
}

#[test]
fn tier_key_that_is_not_a_number_points_at_the_key() {
    let out = validate_policy(&format!(
        "apiVersion: shipshape.dev/v1
kind: Scorecard
tiers:
  1: {{requires: silver}}
  one: {{requires: bronze}}
default_tier: 1
rules:
{}",
        rule("readme", "bronze", "{file: {any: [README.md]}}")
    ));
    out.expect_code(2);
    // The problem is the key `one` (line 5, col 3), not the level it requires (col 19).
    assert_eq!(out.stdout, "policy.yaml:5:3: tier `one` must be a positive whole number (1, 2, 3, …)\n");
}

#[test]
fn catalog_service_problems_all_reported() {
    let dir = catalog_dir();
    let shared = |name: &str| service_yaml(name, Some(2), "service").replace(&format!("acme/{name}"), "acme/shared");
    dir.write("cat/services/alpha.yaml", &shared("alpha"));
    dir.write("cat/services/beta.yaml", &shared("beta"));
    dir.write(
        "cat/services/gamma.yaml",
        &service_yaml("gamma", Some(2), "service").replace("acme/gamma", "https://github.com/acme/gamma"),
    );
    dir.write("cat/services/delta.yaml", &service_yaml("delta", Some(2), "service").replace("Component", "API"));
    let out = validate_catalog(&dir, "2025-06-01");
    out.expect_code(2);
    // Line 6 is `    github.com/project-slug: VALUE`: the value starts at col 30.
    assert_eq!(
        out.stdout,
        "cat/services/alpha.yaml:6:30: repository `acme/shared` is also claimed by service `beta`
cat/services/beta.yaml:6:30: repository `acme/shared` is also claimed by service `alpha`
cat/services/delta.yaml:2:7: kind must be `Component`, found `API`
cat/services/gamma.yaml:6:30: annotation `github.com/project-slug` must be `owner/name`, found \
         `https://github.com/acme/gamma`
"
    );
}

#[test]
fn a_malformed_rule_does_not_hide_the_problems_of_the_others() {
    // Rule 1 lacks `remediation` (a shape error); rule 2 is well formed but names an unknown level; tier 1 requires
    // an unknown level. All three are reported in one run.
    let out = validate_policy(
        "apiVersion: shipshape.dev/v1
kind: Scorecard
tiers:
  1: {requires: goold}
default_tier: 1
rules:
  - id: readme
    title: README
    level: bronze
    check: {file: {any: [README.md]}}
  - id: runbook
    title: Runbook
    level: silvr
    remediation: write one
    check: {file: {any: [RUNBOOK.md]}}
",
    );
    out.expect_code(2);
    assert_eq!(
        out.stdout,
        "policy.yaml:4:17: tier 1 requires: unknown level `goold` (did you mean `gold`?); levels are: bronze, silver, gold
policy.yaml:7:5: missing required key `remediation`
policy.yaml:13:12: rule `runbook`: unknown level `silvr` (did you mean `silver`?); levels are: bronze, silver, gold
"
    );
}
