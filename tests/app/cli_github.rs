//! `shipshape evaluate` reading GitHub facts with `SHIPSHAPE_GITHUB_TOKEN`, for a local clone whose `origin` is on
//! GitHub: the binary against the fake GitHub, which checks every request against GitHub's OpenAPI description.

use crate::e2e::{INSTALLATION, OWNER, REPO, World, good_files};
use crate::fake_github::CodeScanningState;
use serde_json::{Value, json};
use std::path::Path;
use std::process::Command;

/// A local clone of `acme/payments` (its `origin` on github.com) holding `files`, committed.
fn local_clone(dir: &Path, files: &[(String, String)]) {
    let repo = git2::Repository::init(dir).unwrap();
    for (path, content) in files {
        let full = dir.join(path);
        std::fs::create_dir_all(full.parent().unwrap()).unwrap();
        std::fs::write(full, content).unwrap();
    }
    let mut index = repo.index().unwrap();
    index.add_all(["*"], git2::IndexAddOption::DEFAULT, None).unwrap();
    index.write().unwrap();
    let tree = repo.find_tree(index.write_tree().unwrap()).unwrap();
    let who = git2::Signature::now("Dev", "dev@example.com").unwrap();
    repo.commit(Some("HEAD"), &who, &who, "init", &tree, &[]).unwrap();
    repo.remote("origin", &format!("https://github.com/{OWNER}/{REPO}.git")).unwrap();
}

fn evaluate(dir: &Path, env: &[(&str, &str)]) -> (i32, Value, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_shipshape"))
        .args(["evaluate", &dir.display().to_string(), "--format", "json", "--tier", "1"])
        .env_remove("SHIPSHAPE_GITHUB_TOKEN")
        .env_remove("SHIPSHAPE_PAGERDUTY_TOKEN")
        .env_remove("SHIPSHAPE_PROMETHEUS_URL")
        .env("NO_COLOR", "1")
        .envs(env.iter().copied())
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    let card = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}\n{stderr}"));
    (out.status.code().unwrap(), card, format!("{stdout}{stderr}"))
}

fn rule(card: &Value, id: &str) -> (String, String) {
    let r = card["rules"].as_array().unwrap().iter().find(|r| r["id"] == id).unwrap_or_else(|| panic!("no {id}"));
    (r["status"].as_str().unwrap().to_string(), r["message"].as_str().unwrap().to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn evaluate_reads_github_facts_with_a_token() {
    let world = World::new(1).await;
    let fake = &world.fake;
    let files = good_files();
    let head = world.commit(&files);
    fake.set_branch(OWNER, REPO, "main", &head);
    fake.set_rules(
        OWNER,
        REPO,
        "main",
        vec![
            json!({"type": "pull_request", "ruleset_source_type": "Repository", "ruleset_source": "acme/payments",
                   "ruleset_id": 42, "parameters": {"required_approving_review_count": 2,
                   "dismiss_stale_reviews_on_push": true, "require_code_owner_review": true,
                   "require_last_push_approval": false, "required_review_thread_resolution": false}}),
            json!({"type": "required_status_checks", "ruleset_source_type": "Repository",
                   "ruleset_source": "acme/payments", "ruleset_id": 42, "parameters": {
                   "strict_required_status_checks_policy": false,
                   "required_status_checks": [{"context": "build"}]}}),
        ],
    );
    fake.set_code_scanning(OWNER, REPO, CodeScanningState::Alerts(vec![("critical", "open")]));
    fake.set_secret_scanning(OWNER, REPO, Some(&[]));
    fake.add_actions_run(OWNER, REPO, &head, "build", Some("success"));
    let token = fake.read_token(INSTALLATION);
    let dir = tempfile::tempdir().unwrap();
    local_clone(dir.path(), &files);

    let env = [("SHIPSHAPE_GITHUB_TOKEN", token.as_str()), ("SHIPSHAPE_GITHUB_API_URL", fake.url.as_str())];
    let (code, card, output) = evaluate(dir.path(), &env);
    assert_eq!(code, 1, "{output}");
    assert_eq!(
        rule(&card, "branch-protection"),
        ("pass".into(), "branch `main` requires 2 approving review(s) and passing status checks".into()),
        "a ruleset that requires reviews counts"
    );
    assert_eq!(
        rule(&card, "vulnerabilities"),
        ("fail".into(), "open code scanning alerts: 1 critical (at most 0)".into())
    );
    assert_eq!(
        rule(&card, "ci-passing"),
        ("pass".into(), format!("1 CI result(s) passed on `main` ({}): `build` (GitHub Actions)", &head[..7]))
    );
    assert!(!output.contains(&token), "the token reached the output");
    let requests = fake.requests();
    assert!(requests.iter().any(|r| r.path.ends_with("/code-scanning/alerts")), "{requests:?}");
    fake.assert_clean();

    // A token GitHub refuses: every GitHub rule is `error`, saying so without the token.
    let (_, card, output) =
        evaluate(dir.path(), &[("SHIPSHAPE_GITHUB_TOKEN", "ghp_revoked"), ("SHIPSHAPE_GITHUB_API_URL", &fake.url)]);
    assert_eq!(
        rule(&card, "branch-protection"),
        ("error".into(), "GitHub refused SHIPSHAPE_GITHUB_TOKEN (401)".into())
    );
    assert!(!output.contains("ghp_revoked"));
}
