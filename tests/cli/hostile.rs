//! Hostile input (issue 12) through the binary: alias bombs and deep nesting in repository files and policies,
//! special and huge files given as policy or catalog, a CODEOWNERS too large to read, file names with newlines, and
//! a directory that is not a repository. Each ends in a bounded, explained outcome; the process never aborts.

use crate::support::{
    Dir, POLICY_HEAD, PolicyFile, Repo, gold_repo, payments_catalog, rule, rule_result, run, run_in, status,
};
use std::fmt::Write as _;
use std::time::{Duration, Instant};

#[path = "../common/hostile_inputs.rs"]
mod hostile_inputs;
use hostile_inputs::billion_laughs;

/// Generous for a debug build on a shared machine: the unbounded parser grew to gigabytes within seconds and
/// aborted.
const QUICK: Duration = Duration::from_secs(30);

fn timed<T>(f: impl FnOnce() -> T) -> T {
    let started = Instant::now();
    let out = f();
    assert!(started.elapsed() < QUICK, "took {:?}", started.elapsed());
    out
}

#[test]
fn an_alias_bomb_workflow_fails_the_ci_rule_with_its_position_and_the_rest_is_scored() {
    let repo = gold_repo("payments");
    repo.write(".github/workflows/ci.yml", &billion_laughs()).commit("a bomb for a workflow");
    for extra in [&[][..], &["--rev", "HEAD"][..]] {
        let mut args = vec!["evaluate".to_string(), repo.arg(), "--format".into(), "json".into()];
        args.extend(extra.iter().map(|a| a.to_string()));
        let out = timed(|| run(&args));
        out.expect_code(1);
        let card = out.json();
        let ci = rule_result(&card, "ci");
        assert_eq!(ci["status"], "fail", "{ci}");
        // The other CI systems the rule looks for follow (none is configured here).
        let message = ci["message"].as_str().unwrap();
        assert!(
            message.starts_with(
                "`.github/workflows/ci.yml`: too complex to read: more than 250000 values once aliases are expanded \
                 (the limit for one file) (at line 7, column 11); "
            ),
            "{message}"
        );
        assert_eq!(ci["evidence"][0]["path"], ".github/workflows/ci.yml");
        // Every other file is read and judged as usual.
        for id in ["readme", "codeowners", "runbook", "slo", "dependency-updates"] {
            assert_eq!(status(&card, id), "pass", "{id}: {}", rule_result(&card, id));
        }
    }
}

#[test]
fn a_workflow_nested_100000_levels_deep_is_refused_without_a_stack_overflow() {
    let repo = gold_repo("payments");
    let deep = format!("on: {}{}\n", "[".repeat(100_000), "]".repeat(100_000));
    repo.write(".github/workflows/ci.yml", &deep).commit("deep");
    let out = timed(|| run(["evaluate", &repo.arg(), "--format", "json"]));
    out.expect_code(1);
    let message = rule_result(&out.json(), "ci")["message"].as_str().unwrap().to_string();
    assert!(message.contains("too complex to read: nested more than 128 levels deep (at line 1, column"), "{message}");
}

#[test]
fn an_alias_bomb_policy_is_an_error_at_its_position() {
    let dir = Dir::new();
    dir.write("bomb.yaml", &billion_laughs());
    let out = timed(|| run_in(dir.path(), ["validate", "--policy", "bomb.yaml"]));
    out.expect_code(2);
    assert_eq!(
        out.stdout,
        "bomb.yaml:7:11: too complex to read: more than 250000 values once aliases are expanded (the limit for one \
         file)\n"
    );
    let repo = gold_repo("payments");
    let out = timed(|| run_in(dir.path(), ["evaluate", &repo.arg(), "--policy", "bomb.yaml"]));
    out.expect_code(2);
    assert!(out.stderr.starts_with("bomb.yaml:7:11: too complex to read"), "{out:?}");
}

#[cfg(unix)]
#[test]
fn dev_zero_as_the_policy_is_refused_at_once() {
    let out = timed(|| run(["validate", "--policy", "/dev/zero"]));
    out.expect_code(2);
    assert_eq!(out.stdout, "/dev/zero:1:1: not a regular file (a character device): not read\n");
    let repo = gold_repo("payments");
    let out = timed(|| run(["evaluate", &repo.arg(), "--policy", "/dev/zero"]));
    out.expect_code(2);
    assert_eq!(out.stderr, "/dev/zero:1:1: not a regular file (a character device): not read\n");
    assert_eq!(out.stdout, "");
}

#[cfg(unix)]
#[test]
fn a_catalog_with_a_fifo_a_huge_file_and_a_link_to_dev_zero_reports_each_and_reads_the_rest() {
    let catalog = payments_catalog();
    let fifo = catalog.path().join("services/fifo.yaml");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status().expect("mkfifo runs");
    assert!(made.success());
    // Sparse: 10 GiB on paper, nothing on disk.
    let huge = std::fs::File::create(catalog.path().join("services/huge.yaml")).unwrap();
    huge.set_len(10 << 30).unwrap();
    let just_over = catalog.path().join("exceptions/payments/slo.yaml");
    std::fs::create_dir_all(just_over.parent().unwrap()).unwrap();
    std::fs::write(&just_over, "#".repeat(1024 * 1024 + 1)).unwrap();
    std::os::unix::fs::symlink("/dev/zero", catalog.path().join("services/zero.yaml")).unwrap();

    let out = timed(|| run_in(catalog.path(), ["validate", "--catalog", "."]));
    out.expect_code(2);
    assert_eq!(
        out.stdout,
        "./exceptions/payments/slo.yaml:1:1: larger than the 1 MiB limit for policy and catalog files (1048577 \
         bytes): not read\n\
         ./services/fifo.yaml:1:1: not a regular file (a FIFO): not read\n\
         ./services/huge.yaml:1:1: larger than the 1 MiB limit for policy and catalog files (10737418240 bytes): not \
         read\n\
         ./services/zero.yaml:1:1: not a regular file (a character device): not read\n"
    );
    // The good file was read: without the bad ones the catalog is valid.
    for bad in ["services/fifo.yaml", "services/huge.yaml", "services/zero.yaml", "exceptions/payments/slo.yaml"] {
        std::fs::remove_file(catalog.path().join(bad)).unwrap();
    }
    let out = run_in(catalog.path(), ["validate", "--catalog", "."]);
    out.expect_code(0);
    assert!(out.stdout.contains("catalog . (1 service, 0 exceptions)"), "{out:?}");
}

#[test]
fn a_codeowners_file_too_large_to_read_is_an_error_saying_so() {
    let repo = gold_repo("payments");
    let mut codeowners = String::from("* @acme/payments\n");
    let mut n = 0;
    while codeowners.len() <= 1024 * 1024 {
        let _ = writeln!(codeowners, "/services/svc-{n}/ @acme/team-{n}");
        n += 1;
    }
    let size = codeowners.len();
    repo.write(".github/CODEOWNERS", &codeowners).commit("many owners");
    let out = run(["evaluate", &repo.arg(), "--format", "json"]);
    let card = out.json();
    for id in ["codeowners", "codeowners-coverage"] {
        let rule = rule_result(&card, id);
        assert_eq!(rule["status"], "error", "{id}: {rule}");
        assert_eq!(
            rule["message"],
            format!(
                "`.github/CODEOWNERS` was not read ({size} bytes, over the 1 MiB limit for files read), so its owners \
                 cannot be checked"
            )
        );
    }
    assert_eq!(card["summary"]["error"], 2, "{card:#}");
}

#[cfg(unix)]
#[test]
fn file_names_with_newlines_stay_on_one_line_in_every_report() {
    let forged = "docs/runbook\n  ✓ Security policy (forged)\n.md";
    let repo = Repo::new("svc");
    repo.write(forged, "TODO: write the runbook\n").commit("a name with newlines");
    let policy = PolicyFile::new(&[
        rule("runbook", "bronze", r#"{file: {any: ["docs/runbook*"]}}"#),
        rule("todo", "bronze", r#"{content: {files: ["docs/**"], not_matches: "TODO"}}"#),
    ]);
    let shown = r#""docs/runbook\n  ✓ Security policy (forged)\n.md""#;
    for format in ["text", "markdown"] {
        let out = run(["evaluate", &repo.arg(), "--policy", &policy.arg(), "--format", format]);
        out.expect_code(1);
        assert!(!out.stdout.lines().any(|l| l.contains("(forged)") && !l.contains(shown)), "{format}:\n{}", out.stdout);
        assert!(out.stdout.contains(&format!("found `{shown}`")), "{format}:\n{}", out.stdout);
    }
    let out = run(["evaluate", &repo.arg(), "--policy", &policy.arg(), "--format", "text"]);
    assert!(out.stdout.contains(&format!("at {shown}:1\n")), "{}", out.stdout);
    // SARIF percent-encodes the name in its URI; JSON keeps the real name (it is data, escaped by JSON itself).
    let sarif = run(["evaluate", &repo.arg(), "--policy", &policy.arg(), "--format", "sarif"]).json();
    let uri = &sarif["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"];
    assert_eq!(uri, "docs/runbook%0A%20%20%E2%9C%93%20Security%20policy%20(forged)%0A.md");
    let card = run(["evaluate", &repo.arg(), "--policy", &policy.arg(), "--format", "json"]).json();
    assert_eq!(rule_result(&card, "todo")["evidence"][0]["path"], forged);
}

#[test]
fn a_directory_outside_any_repository_is_an_input_error() {
    let plain = Dir::new();
    plain.write("README.md", "not a repository\n");
    for command in ["evaluate", "initiatives"] {
        let policy = PolicyFile::new(&[format!(
            "{}initiatives:\n  - id: q1\n    title: Q1\n    deadline: 2030-01-01\n    rules: [readme]\n",
            rule("readme", "bronze", r#"{file: {any: ["README.md"]}}"#)
        )]);
        let out = run([command, &plain.arg(), "--policy", &policy.arg()]);
        out.expect_code(2);
        assert_eq!(out.stderr, format!("shipshape: not a git repository: {}\n", plain.arg()), "{command}");
        assert_eq!(out.stdout, "", "{command}");
    }
    // Inside a repository, a subdirectory is fine.
    let repo = Repo::new("svc");
    repo.write("sub/README.md", "x").commit("init");
    let policy = format!("{POLICY_HEAD}{}", rule("readme", "bronze", r#"{file: {any: ["**/README.md"]}}"#));
    let dir = Dir::new();
    dir.write("policy.yaml", &policy);
    let sub = repo.path().join("sub");
    run_in(dir.path(), ["evaluate", sub.to_str().unwrap(), "--policy", "policy.yaml"]).expect_code(0);
}

/// A policy with hundreds of problems prints a hundred of them and counts the rest, instead of flooding the output.
#[test]
fn a_policy_with_hundreds_of_problems_prints_a_hundred_and_counts_the_rest() {
    let mut text = POLICY_HEAD.to_string();
    for n in 0..300 {
        text.push_str(&rule(&format!("r{n}"), "bronze", "{file: {any: [README.md], colour: red}}"));
    }
    let dir = Dir::new();
    let path = dir.write("policy.yaml", &text);
    let out = run(["validate", "--policy", path.to_str().unwrap()]);
    assert_eq!(out.code, 2, "{out:?}");
    let lines: Vec<&str> =
        out.stdout.lines().chain(out.stderr.lines()).filter(|l| l.contains("policy.yaml:")).collect();
    assert_eq!(lines.len(), 101, "{}", lines.join("\n"));
    assert!(lines[100].ends_with("200 more problem(s) in this file not shown"), "{}", lines[100]);
}
