use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use super::*;

// ---- fixtures ----

/// The event folders whose every example must parse to an [`Event`].
const HANDLED_DIRS: [&str; 8] = [
    "check_run",
    "check_suite",
    "installation",
    "installation_repositories",
    "issue_comment",
    "ping",
    "pull_request",
    "push",
];

/// GitHub's example payloads (octokit/webhooks): `$SHIPSHAPE_FIXTURES/github-webhooks`, else
/// `../shared/fixtures/github-webhooks` next to the crate. Missing: a panic on CI, a visible skip elsewhere.
fn fixtures_dir() -> Option<PathBuf> {
    let dir = match std::env::var_os("SHIPSHAPE_FIXTURES") {
        Some(root) => PathBuf::from(root).join("github-webhooks"),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/fixtures/github-webhooks"),
    };
    if dir.is_dir() {
        return Some(dir);
    }
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!(
            "GitHub webhook fixtures missing at {} (CI=true): set SHIPSHAPE_FIXTURES to the folder holding \
             github-webhooks/",
            dir.display()
        );
    }
    eprintln!("SKIPPED: GitHub webhook fixtures missing at {} (set SHIPSHAPE_FIXTURES)", dir.display());
    None
}

/// Every `.json` file of one event folder, sorted, with its bytes and its JSON.
fn examples(dir: &Path, event: &str) -> Vec<(String, Vec<u8>, Value)> {
    let folder = dir.join(event);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&folder)
        .unwrap_or_else(|e| panic!("reading {}: {e}", folder.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no examples in {}", folder.display());
    files
        .into_iter()
        .map(|path| {
            let bytes = std::fs::read(&path).unwrap();
            let value: Value = serde_json::from_slice(&bytes).unwrap();
            (format!("{event}/{}", path.file_name().unwrap().to_string_lossy()), bytes, value)
        })
        .collect()
}

/// Parses an example that must be handled.
fn parse_ok(event: &str, name: &str, bytes: &[u8]) -> Event {
    match parse(event, bytes) {
        Ok(Some(parsed)) => parsed,
        other => panic!("{name}: expected an event, got {other:?}"),
    }
}

fn bytes(value: &Value) -> Vec<u8> {
    serde_json::to_vec(value).unwrap()
}

fn s(value: &Value) -> &str {
    value.as_str().unwrap_or_else(|| panic!("not a string: {value}"))
}

fn n(value: &Value) -> u64 {
    value.as_u64().unwrap_or_else(|| panic!("not a number: {value}"))
}

fn b(value: &Value) -> bool {
    value.as_bool().unwrap_or_else(|| panic!("not a bool: {value}"))
}

fn message(err: EventError) -> String {
    err.to_string()
}

/// The repository of a payload, as we expect it.
fn expected_repo(json: &Value) -> Repository {
    let r = &json["repository"];
    Repository {
        id: RepoId(n(&r["id"])),
        owner: s(&r["owner"]["login"]).to_string(),
        name: s(&r["name"]).to_string(),
        default_branch: s(&r["default_branch"]).to_string(),
        archived: b(&r["archived"]),
        fork: b(&r["fork"]),
        private: b(&r["private"]),
        has_issues: r["has_issues"].as_bool().unwrap_or(true),
    }
}

fn expected_installation(json: &Value) -> Option<InstallationId> {
    json.get("installation").map(|i| InstallationId(n(&i["id"])))
}

fn expected_actor(user: &Value) -> Actor {
    let login = s(&user["login"]).to_string();
    Actor { is_bot: user["type"] == "Bot" || login.ends_with("[bot]"), login }
}

fn expected_pr_refs(list: &Value) -> Vec<PrRef> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|pr| PrRef {
            number: PrNumber(n(&pr["number"])),
            head_sha: s(&pr["head"]["sha"]).to_string(),
            head_ref: s(&pr["head"]["ref"]).to_string(),
            base_sha: s(&pr["base"]["sha"]).to_string(),
            base_ref: s(&pr["base"]["ref"]).to_string(),
        })
        .collect()
}

fn expected_installed(list: &Value) -> Vec<InstalledRepo> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|r| InstalledRepo { id: RepoId(n(&r["id"])), full_name: s(&r["full_name"]).to_string() })
        .collect()
}

fn full_name(json: &Value) -> String {
    s(&json["repository"]["full_name"]).to_string()
}

// ---- every example ----

#[test]
fn every_handled_example_parses_to_its_variant() {
    let Some(dir) = fixtures_dir() else { return };
    let mut parsed = 0;
    for event in HANDLED_DIRS {
        for (name, body, json) in examples(&dir, event) {
            let e = parse_ok(event, &name, &body);
            assert_eq!(e.name(), event, "{name}");
            let variant_ok = matches!(
                (event, &e),
                ("check_run", Event::CheckRun(_))
                    | ("check_suite", Event::CheckSuite(_))
                    | ("installation", Event::Installation(_))
                    | ("installation_repositories", Event::InstallationRepositories(_))
                    | ("issue_comment", Event::IssueComment(_))
                    | ("ping", Event::Ping(_))
                    | ("pull_request", Event::PullRequest(_))
                    | ("push", Event::Push(_))
            );
            assert!(variant_ok, "{name}: wrong variant {e:?}");
            // What every event answers, straight from the JSON.
            assert_eq!(e.action().as_deref(), json.get("action").map(s), "{name}");
            assert_eq!(e.installation(), expected_installation(&json), "{name}");
            match json.get("repository") {
                Some(_) => assert_eq!(e.repository(), Some(&expected_repo(&json)), "{name}"),
                None => assert_eq!(e.repository(), None, "{name}"),
            }
            if let Some(repo) = e.repository() {
                assert_eq!(repo.full_name(), full_name(&json), "{name}");
            }
            parsed += 1;
        }
    }
    eprintln!("parsed {parsed} example payloads");
    assert!(parsed >= HANDLED_DIRS.len());
}

#[test]
fn pull_request_examples() {
    let Some(dir) = fixtures_dir() else { return };
    for (name, body, json) in examples(&dir, "pull_request") {
        let Event::PullRequest(e) = parse_ok("pull_request", &name, &body) else { panic!("{name}") };
        let pr = &json["pull_request"];
        assert_eq!(e.action.as_str(), s(&json["action"]), "{name}");
        assert_eq!(e.pull_request.number, PrNumber(n(&json["number"])), "{name}");
        assert_eq!(e.pull_request.number, PrNumber(n(&pr["number"])), "{name}");
        assert_eq!(e.pull_request.head_sha, s(&pr["head"]["sha"]), "{name}");
        assert_eq!(e.pull_request.head_ref, s(&pr["head"]["ref"]), "{name}");
        assert_eq!(e.pull_request.base_sha, s(&pr["base"]["sha"]), "{name}");
        assert_eq!(e.pull_request.base_ref, s(&pr["base"]["ref"]), "{name}");
        assert_eq!(e.pull_request.draft, b(&pr["draft"]), "{name}");
        assert_eq!(e.pull_request.state.as_str(), s(&pr["state"]), "{name}");
        assert_eq!(e.pull_request.merged, pr["merged"].as_bool().unwrap_or(false), "{name}");
        assert_eq!(e.sender, expected_actor(&json["sender"]), "{name}");
        assert_eq!(e.installation, expected_installation(&json), "{name}");
        assert_eq!(e.repository, expected_repo(&json), "{name}");
    }

    // One example spelled out, so a wrong reading of the JSON cannot hide behind the comparisons above.
    let body = std::fs::read(dir.join("pull_request/synchronize.payload.json")).unwrap();
    let json: Value = serde_json::from_slice(&body).unwrap();
    let Event::PullRequest(e) = parse_ok("pull_request", "synchronize", &body) else { panic!() };
    assert_eq!(e.action, PrAction::Synchronize);
    assert_eq!(e.pull_request.state, PrState::Open);
    assert_eq!(e.pull_request.head_sha, s(&json["pull_request"]["head"]["sha"]));
    assert_eq!(e.pull_request.head_sha.len(), 40);
    assert_eq!(e.repository.owner, s(&json["repository"]["owner"]["login"]));
    assert_eq!(e.sender.login, s(&json["sender"]["login"]));
    assert!(!e.sender.is_bot);
    assert_eq!(e.pull_request.pr_ref().number, e.pull_request.number);
}

#[test]
fn pull_request_actions_known_to_the_enum() {
    let Some(dir) = fixtures_dir() else { return };
    let action_of = |file: &str| {
        let body = std::fs::read(dir.join("pull_request").join(file)).unwrap();
        match parse_ok("pull_request", file, &body) {
            Event::PullRequest(e) => e.action,
            other => panic!("{other:?}"),
        }
    };
    assert_eq!(action_of("opened.payload.json"), PrAction::Opened);
    assert_eq!(action_of("opened.with-null-body.json"), PrAction::Opened);
    assert_eq!(action_of("reopened.payload.json"), PrAction::Reopened);
    assert_eq!(action_of("ready_for_review.payload.json"), PrAction::ReadyForReview);
    assert_eq!(action_of("converted_to_draft.payload.json"), PrAction::ConvertedToDraft);
    assert_eq!(action_of("closed.payload.json"), PrAction::Closed);
    assert_eq!(action_of("labeled.payload.json"), PrAction::Other("labeled".into()));
    assert_eq!(action_of("review_requested.payload.json"), PrAction::Other("review_requested".into()));
}

#[test]
fn check_suite_examples() {
    let Some(dir) = fixtures_dir() else { return };
    for (name, body, json) in examples(&dir, "check_suite") {
        let Event::CheckSuite(e) = parse_ok("check_suite", &name, &body) else { panic!("{name}") };
        let suite = &json["check_suite"];
        assert_eq!(e.action.as_str(), s(&json["action"]), "{name}");
        assert!(!matches!(e.action, CheckSuiteAction::Other(_)), "{name}: {:?}", e.action);
        assert_eq!(e.head_sha, s(&suite["head_sha"]), "{name}");
        assert_eq!(e.head_branch.as_deref(), suite["head_branch"].as_str(), "{name}");
        assert_eq!(e.app_id, n(&suite["app"]["id"]), "{name}");
        assert_eq!(e.pull_requests, expected_pr_refs(&suite["pull_requests"]), "{name}");
        assert_eq!(e.sender, Some(expected_actor(&json["sender"])), "{name}");
    }

    let body = std::fs::read(dir.join("check_suite/rerequested.payload.json")).unwrap();
    let json: Value = serde_json::from_slice(&body).unwrap();
    let Event::CheckSuite(e) = parse_ok("check_suite", "rerequested", &body) else { panic!() };
    assert_eq!(e.action, CheckSuiteAction::Rerequested);
    assert_eq!(e.installation, Some(InstallationId(n(&json["installation"]["id"]))));
    assert_eq!(e.pull_requests.len(), 1);
    assert_eq!(e.pull_requests[0].number, PrNumber(n(&json["check_suite"]["pull_requests"][0]["number"])));
    // This example's sender is a bot (`type: "Bot"`).
    assert_eq!(json["sender"]["type"], "Bot");
    assert!(e.sender.unwrap().is_bot);
}

#[test]
fn check_run_examples() {
    let Some(dir) = fixtures_dir() else { return };
    for (name, body, json) in examples(&dir, "check_run") {
        let Event::CheckRun(e) = parse_ok("check_run", &name, &body) else { panic!("{name}") };
        let run = &json["check_run"];
        assert_eq!(e.action.as_str(), s(&json["action"]), "{name}");
        assert!(!matches!(e.action, CheckRunAction::Other(_)), "{name}: {:?}", e.action);
        assert_eq!(e.check_run_id, CheckRunId(n(&run["id"])), "{name}");
        assert_eq!(e.name, s(&run["name"]), "{name}");
        assert_eq!(e.head_sha, s(&run["head_sha"]), "{name}");
        assert_eq!(e.head_branch.as_deref(), run["check_suite"]["head_branch"].as_str(), "{name}");
        assert_eq!(e.app_id, n(&run["app"]["id"]), "{name}");
        assert_eq!(e.pull_requests, expected_pr_refs(&run["pull_requests"]), "{name}");
        assert_eq!(e.sender, expected_actor(&json["sender"]), "{name}");
    }

    let body = std::fs::read(dir.join("check_run/requested_action.payload.json")).unwrap();
    let json: Value = serde_json::from_slice(&body).unwrap();
    let Event::CheckRun(e) = parse_ok("check_run", "requested_action", &body) else { panic!() };
    assert_eq!(
        e.action,
        CheckRunAction::RequestedAction { identifier: s(&json["requested_action"]["identifier"]).to_string() }
    );
    assert_eq!(e.action.as_str(), "requested_action");
    assert_eq!(e.installation, Some(InstallationId(n(&json["installation"]["id"]))));
    assert_eq!(e.repository.full_name(), full_name(&json));
    assert_eq!(e.pull_requests[0].base_ref, s(&json["check_run"]["pull_requests"][0]["base"]["ref"]));

    let body = std::fs::read(dir.join("check_run/created.payload.json")).unwrap();
    let Event::CheckRun(e) = parse_ok("check_run", "created", &body) else { panic!() };
    assert_eq!(e.action, CheckRunAction::Created);
    assert_eq!(e.installation, None, "this example has no installation");
}

#[test]
fn push_examples() {
    let Some(dir) = fixtures_dir() else { return };
    for (name, body, json) in examples(&dir, "push") {
        let Event::Push(e) = parse_ok("push", &name, &body) else { panic!("{name}") };
        assert_eq!(e.git_ref, s(&json["ref"]), "{name}");
        assert_eq!(e.before, s(&json["before"]), "{name}");
        assert_eq!(e.after, s(&json["after"]), "{name}");
        assert_eq!(e.created, b(&json["created"]), "{name}");
        assert_eq!(e.deleted, b(&json["deleted"]), "{name}");
        assert_eq!(e.forced, b(&json["forced"]), "{name}");
        assert_eq!(e.head_commit.as_deref(), json["head_commit"]["id"].as_str(), "{name}");
        assert_eq!(e.sender, Some(expected_actor(&json["sender"])), "{name}");
    }

    let body = std::fs::read(dir.join("push/with-new-branch.payload.json")).unwrap();
    let json: Value = serde_json::from_slice(&body).unwrap();
    let Event::Push(e) = parse_ok("push", "with-new-branch", &body) else { panic!() };
    assert!(e.created && !e.deleted);
    assert_eq!(e.head_commit.as_deref(), Some(s(&json["after"])));
    assert_eq!(e.branch(), s(&json["ref"]).strip_prefix("refs/heads/"));

    // The plain example deletes a tag: no head commit.
    let body = std::fs::read(dir.join("push/payload.json")).unwrap();
    let Event::Push(e) = parse_ok("push", "payload", &body) else { panic!() };
    assert!(e.deleted);
    assert_eq!(e.head_commit, None);
    assert_eq!(e.branch(), None);
}

#[test]
fn issue_comment_examples() {
    let Some(dir) = fixtures_dir() else { return };
    for (name, body, json) in examples(&dir, "issue_comment") {
        let Event::IssueComment(e) = parse_ok("issue_comment", &name, &body) else { panic!("{name}") };
        let comment = &json["comment"];
        assert_eq!(e.action.as_str(), s(&json["action"]), "{name}");
        assert!(!matches!(e.action, CommentAction::Other(_)), "{name}: {:?}", e.action);
        assert_eq!(e.issue_number, PrNumber(n(&json["issue"]["number"])), "{name}");
        assert_eq!(e.is_pull_request, json["issue"].get("pull_request").is_some(), "{name}");
        assert_eq!(e.comment_id, CommentId(n(&comment["id"])), "{name}");
        assert_eq!(e.body, s(&comment["body"]), "{name}");
        assert_eq!(e.html_url, s(&comment["html_url"]), "{name}");
        assert_eq!(e.author, expected_actor(&comment["user"]), "{name}");
    }

    let body = std::fs::read(dir.join("issue_comment/created.with-installation.payload.json")).unwrap();
    let json: Value = serde_json::from_slice(&body).unwrap();
    let Event::IssueComment(e) = parse_ok("issue_comment", "created", &body) else { panic!() };
    assert_eq!(e.action, CommentAction::Created);
    assert_eq!(e.installation, Some(InstallationId(n(&json["installation"]["id"]))));
    assert!(!e.is_pull_request, "the examples comment on an issue");
    assert_eq!(e.author.login, s(&json["comment"]["user"]["login"]));
    assert!(!e.author.is_bot);
}

#[test]
fn issue_comment_on_a_pull_request_and_by_a_bot() {
    let Some(dir) = fixtures_dir() else { return };
    // None of the examples is on a pull request: add `issue.pull_request` as GitHub sends it.
    let mut json: Value =
        serde_json::from_slice(&std::fs::read(dir.join("issue_comment/created.payload.json")).unwrap()).unwrap();
    let number = n(&json["issue"]["number"]);
    json["issue"]["pull_request"] = json!({
        "url": format!("https://api.github.com/repos/{}/pulls/{number}", full_name(&json)),
        "merged_at": null,
    });
    json["comment"]["user"]["login"] = json!("shipshape[bot]");
    let Event::IssueComment(e) = parse_ok("issue_comment", "on a PR", &bytes(&json)) else { panic!() };
    assert!(e.is_pull_request);
    assert_eq!(e.author, Actor { login: "shipshape[bot]".into(), is_bot: true });
    assert_eq!(Event::IssueComment(e).serial_key().unwrap(), format!("{}#{number}", full_name(&json)));

    json["comment"]["user"]["login"] = json!("renovate");
    json["comment"]["user"]["type"] = json!("Bot");
    let Event::IssueComment(e) = parse_ok("issue_comment", "by a bot", &bytes(&json)) else { panic!() };
    assert!(e.author.is_bot);
}

#[test]
fn installation_examples() {
    let Some(dir) = fixtures_dir() else { return };
    for (name, body, json) in examples(&dir, "installation") {
        let Event::Installation(e) = parse_ok("installation", &name, &body) else { panic!("{name}") };
        assert_eq!(e.action.as_str(), s(&json["action"]), "{name}");
        assert!(!matches!(e.action, InstallationAction::Other(_)), "{name}: {:?}", e.action);
        assert_eq!(e.installation, InstallationId(n(&json["installation"]["id"])), "{name}");
        assert_eq!(e.account_login.as_deref(), Some(s(&json["installation"]["account"]["login"])), "{name}");
        assert_eq!(e.repositories, json.get("repositories").map(expected_installed), "{name}");
        assert_eq!(e.sender, Some(expected_actor(&json["sender"])), "{name}");
    }

    let body = std::fs::read(dir.join("installation/suspend.payload.json")).unwrap();
    let Event::Installation(e) = parse_ok("installation", "suspend", &body) else { panic!() };
    assert_eq!(e.action, InstallationAction::Suspend);
    assert_eq!(e.repositories, None, "suspend carries no repositories");

    let body = std::fs::read(dir.join("installation/created.payload.json")).unwrap();
    let json: Value = serde_json::from_slice(&body).unwrap();
    let Event::Installation(e) = parse_ok("installation", "created", &body) else { panic!() };
    assert_eq!(e.action, InstallationAction::Created);
    let repos = e.repositories.unwrap();
    assert_eq!(repos[0].full_name, s(&json["repositories"][0]["full_name"]));
    assert_eq!(repos[0].id, RepoId(n(&json["repositories"][0]["id"])));
}

#[test]
fn installation_repositories_examples() {
    let Some(dir) = fixtures_dir() else { return };
    for (name, body, json) in examples(&dir, "installation_repositories") {
        let Event::InstallationRepositories(e) = parse_ok("installation_repositories", &name, &body) else {
            panic!("{name}")
        };
        assert_eq!(e.action.as_str(), s(&json["action"]), "{name}");
        assert_eq!(e.installation, InstallationId(n(&json["installation"]["id"])), "{name}");
        assert_eq!(e.added, expected_installed(&json["repositories_added"]), "{name}");
        assert_eq!(e.removed, expected_installed(&json["repositories_removed"]), "{name}");
    }

    let body = std::fs::read(dir.join("installation_repositories/added.payload.json")).unwrap();
    let json: Value = serde_json::from_slice(&body).unwrap();
    let Event::InstallationRepositories(e) = parse_ok("installation_repositories", "added", &body) else { panic!() };
    assert_eq!(e.action, InstallationRepositoriesAction::Added);
    assert_eq!(e.added.len(), 1);
    assert_eq!(e.added[0].full_name, s(&json["repositories_added"][0]["full_name"]));
    assert!(e.removed.is_empty());
}

#[test]
fn ping_examples() {
    let Some(dir) = fixtures_dir() else { return };
    for (name, body, json) in examples(&dir, "ping") {
        let Event::Ping(e) = parse_ok("ping", &name, &body) else { panic!("{name}") };
        assert_eq!(e.zen, s(&json["zen"]), "{name}");
        assert_eq!(e.hook_id, n(&json["hook_id"]), "{name}");
        assert_eq!(e.app_id, json["hook"]["app_id"].as_u64(), "{name}");
        assert_eq!(e.repository.is_some(), json.get("repository").is_some(), "{name}");
    }

    let body = std::fs::read(dir.join("ping/with-app_id.payload.json")).unwrap();
    let json: Value = serde_json::from_slice(&body).unwrap();
    let Event::Ping(e) = parse_ok("ping", "with-app_id", &body) else { panic!() };
    assert_eq!(e.app_id, Some(n(&json["hook"]["app_id"])));

    // An organization hook's ping has no repository.
    let body = std::fs::read(dir.join("ping/with-organization.payload.json")).unwrap();
    let e = parse_ok("ping", "with-organization", &body);
    assert_eq!(e.repository(), None);
    assert_eq!(e.installation(), None);
    assert_eq!(e.action(), None);
}

// ---- not handled, malformed ----

#[test]
fn pull_request_review_is_not_handled() {
    let Some(dir) = fixtures_dir() else { return };
    for (name, body, _) in examples(&dir, "pull_request_review") {
        assert!(matches!(parse("pull_request_review", &body), Ok(None)), "{name}");
    }
}

#[test]
fn unknown_events_are_not_handled() {
    assert!(matches!(parse("pull_request_review", br#"{"action":"submitted"}"#), Ok(None)));
    assert!(matches!(parse("no_such_event", b"{}"), Ok(None)));
    assert!(matches!(parse("", b"[1, 2]"), Ok(None)));
    // Handled names are exact: GitHub sends them in lower case.
    assert!(matches!(parse("Pull_Request", b"{}"), Ok(None)));
}

#[test]
fn not_json_is_an_error_for_any_event() {
    for event in ["pull_request", "push", "ping", "no_such_event"] {
        let err = parse(event, b"{\"action\": \"opened\",\n  nope}").unwrap_err();
        let text = message(err);
        assert!(text.starts_with(&format!("malformed `{event}` payload: not JSON: ")), "{text}");
        assert!(text.contains("line 2 column"), "{text}");
    }
    let text = message(parse("push", b"").unwrap_err());
    assert!(text.contains("not JSON: EOF while parsing"), "{text}");
    let text = message(parse("push", &[0xff, 0xfe]).unwrap_err());
    assert!(text.contains("not JSON"), "{text}");
    let EventError::Malformed { event, .. } = parse("check_run", b"<html>").unwrap_err();
    assert_eq!(event, "check_run");
}

/// A minimal `pull_request` payload with every field we read.
fn minimal_pull_request() -> Value {
    json!({
        "action": "opened",
        "number": 7,
        "pull_request": {
            "number": 7,
            "state": "open",
            "draft": true,
            "merged": null,
            "head": {"sha": "a".repeat(40), "ref": "feature"},
            "base": {"sha": "b".repeat(40), "ref": "main"}
        },
        "repository": {
            "id": 42,
            "name": "api",
            "owner": {"login": "acme"},
            "default_branch": "main",
            "archived": false,
            "fork": false,
            "private": true
        },
        "sender": {"login": "dependabot[bot]"}
    })
}

#[test]
fn a_minimal_payload_is_enough() {
    let e = parse("pull_request", &bytes(&minimal_pull_request())).unwrap().unwrap();
    let Event::PullRequest(pr) = &e else { panic!("{e:?}") };
    assert_eq!(pr.installation, None);
    assert!(pr.pull_request.draft);
    assert!(!pr.pull_request.merged, "`merged: null` reads as false");
    assert!(pr.sender.is_bot, "a login ending in [bot] is a bot even without `type`");
    assert_eq!(pr.repository.full_name(), "acme/api");
    assert!(pr.repository.private);
    assert_eq!(e.serial_key().as_deref(), Some("acme/api#7"));
    assert_eq!(e.head_sha(), Some("a".repeat(40).as_str()));
}

#[test]
fn a_handled_event_without_repository_names_the_field() {
    let mut json = minimal_pull_request();
    json.as_object_mut().unwrap().remove("repository");
    let text = message(parse("pull_request", &bytes(&json)).unwrap_err());
    assert!(text.starts_with("malformed `pull_request` payload: missing field `repository`"), "{text}");
    assert!(text.contains("at line 1 column"), "{text}");
    assert!(text.contains("(at the top level)"), "{text}");

    // The same from a real example, pretty-printed as GitHub sends it.
    let Some(dir) = fixtures_dir() else { return };
    let mut json: Value =
        serde_json::from_slice(&std::fs::read(dir.join("push/with-installation.payload.json")).unwrap()).unwrap();
    json.as_object_mut().unwrap().remove("repository");
    let text = message(parse("push", &serde_json::to_vec_pretty(&json).unwrap()).unwrap_err());
    assert!(text.starts_with("malformed `push` payload: missing field `repository` at line "), "{text}");
}

#[test]
fn nested_problems_name_the_path() {
    let mut json = minimal_pull_request();
    json["pull_request"]["head"].as_object_mut().unwrap().remove("sha");
    let text = message(parse("pull_request", &bytes(&json)).unwrap_err());
    assert!(text.contains("missing field `sha`"), "{text}");
    assert!(text.ends_with("(in `pull_request.head`)"), "{text}");

    let mut json = minimal_pull_request();
    json["repository"]["owner"] = json!({"id": 1});
    let text = message(parse("pull_request", &bytes(&json)).unwrap_err());
    assert!(text.contains("missing field `login`"), "{text}");
    assert!(text.ends_with("(in `repository.owner`)"), "{text}");

    // Wrong types name the field itself.
    let mut json = minimal_pull_request();
    json["pull_request"]["number"] = json!("7");
    let text = message(parse("pull_request", &bytes(&json)).unwrap_err());
    assert!(text.contains("invalid type: string \"7\", expected u64"), "{text}");
    assert!(text.ends_with("(in `pull_request.number`)"), "{text}");

    // Inside arrays, with the index; pretty-printed bodies (several lines) too.
    let run = json!({
        "action": "completed",
        "check_run": {
            "id": 1, "name": "readiness", "head_sha": "c".repeat(40), "app": {"id": 9},
            "pull_requests": [
                {"number": 1, "head": {"sha": "x", "ref": "a"}, "base": {"sha": "y", "ref": "main"}},
                {"number": 2, "head": {"sha": "x", "ref": "a"}, "base": {"ref": "main"}}
            ]
        },
        "repository": minimal_pull_request()["repository"].clone(),
        "sender": {"login": "octocat", "type": "User"}
    });
    let text = message(parse("check_run", &serde_json::to_vec_pretty(&run).unwrap()).unwrap_err());
    assert!(text.contains("missing field `sha`"), "{text}");
    assert!(text.ends_with("(in `check_run.pull_requests[1].base`)"), "{text}");

    // Keys with escapes and strings holding brackets do not confuse the path.
    let body = br#"{"a\"{": "[{", "action": "x", "installation": {"id": "one"}}"#;
    let text = message(parse("installation_repositories", body).unwrap_err());
    assert!(text.ends_with("(in `installation.id`)"), "{text}");
}

#[test]
fn requested_action_without_its_identifier_is_malformed() {
    let mut json = json!({
        "action": "requested_action",
        "check_run": {"id": 1, "name": "readiness", "head_sha": "c".repeat(40), "app": {"id": 9}},
        "repository": minimal_pull_request()["repository"].clone(),
        "sender": {"login": "octocat", "type": "User"}
    });
    let text = message(parse("check_run", &bytes(&json)).unwrap_err());
    assert!(text.contains("missing field `requested_action`"), "{text}");

    json["requested_action"] = json!({"identifier": "recheck"});
    let Some(Event::CheckRun(e)) = parse("check_run", &bytes(&json)).unwrap() else { panic!() };
    assert_eq!(e.action, CheckRunAction::RequestedAction { identifier: "recheck".into() });
    assert_eq!(e.head_branch, None, "no check_suite: no branch");
    assert!(e.pull_requests.is_empty());
}

#[test]
fn unknown_actions_are_kept() {
    let mut json = minimal_pull_request();
    json["action"] = json!("auto_merge_enabled");
    json["pull_request"]["state"] = json!("merged_someday");
    let e = parse("pull_request", &bytes(&json)).unwrap().unwrap();
    assert_eq!(e.action().as_deref(), Some("auto_merge_enabled"));
    let Event::PullRequest(pr) = e else { panic!() };
    assert_eq!(pr.action, PrAction::Other("auto_merge_enabled".into()));
    assert_eq!(pr.pull_request.state, PrState::Other("merged_someday".into()));

    assert_eq!(CheckSuiteAction::from("requested".to_string()), CheckSuiteAction::Requested);
    assert_eq!(CheckSuiteAction::from("x".to_string()).as_str(), "x");
    assert_eq!(CommentAction::from("pinned".to_string()), CommentAction::Other("pinned".into()));
    assert_eq!(
        InstallationAction::from("new_permissions_accepted".to_string()).to_string(),
        "new_permissions_accepted"
    );
    assert_eq!(InstallationRepositoriesAction::from("removed".to_string()), InstallationRepositoriesAction::Removed);
    assert_eq!(CheckRunAction::Other("x".into()).to_string(), "x");
}

#[test]
fn ids_display_and_serialise_as_plain_numbers() {
    assert_eq!(InstallationId(957387).to_string(), "957387");
    assert_eq!(PrNumber(2).to_string(), "2");
    assert_eq!(serde_json::to_string(&RepoId(186853002)).unwrap(), "186853002");
    assert_eq!(serde_json::from_str::<CheckRunId>("4").unwrap(), CheckRunId(4));
    assert_eq!(CommentId::from(5), CommentId(5));
    assert!(PrNumber(2) < PrNumber(10));
}

#[test]
fn handled_events_are_the_ones_parse_knows() {
    for event in HANDLED_EVENTS {
        // Every handled event needs fields, so `{}` is an error rather than `None`.
        assert!(parse(event, b"{}").is_err(), "{event}");
    }
    assert_eq!(HANDLED_EVENTS, HANDLED_DIRS);
}

// ---- serial_key, head_sha ----

fn example(dir: &Path, file: &str) -> (Event, Value) {
    let body = std::fs::read(dir.join(file)).unwrap();
    let json: Value = serde_json::from_slice(&body).unwrap();
    let event = file.split('/').next().unwrap();
    (parse_ok(event, file, &body), json)
}

#[test]
fn serial_key_and_head_sha_for_pull_requests() {
    let Some(dir) = fixtures_dir() else { return };
    let (e, json) = example(&dir, "pull_request/opened.payload.json");
    assert_eq!(e.serial_key().unwrap(), format!("{}#{}", full_name(&json), n(&json["number"])));
    assert_eq!(e.head_sha(), Some(s(&json["pull_request"]["head"]["sha"])));
}

#[test]
fn serial_key_and_head_sha_for_check_suites() {
    let Some(dir) = fixtures_dir() else { return };
    // Exactly one pull request: the pull request's key.
    let (e, json) = example(&dir, "check_suite/completed.payload.json");
    let suite = &json["check_suite"];
    assert_eq!(suite["pull_requests"].as_array().unwrap().len(), 1);
    assert_eq!(e.serial_key().unwrap(), format!("{}#{}", full_name(&json), n(&suite["pull_requests"][0]["number"])));
    assert_eq!(e.head_sha(), Some(s(&suite["head_sha"])));

    // None: the branch.
    let (e, json) = example(&dir, "check_suite/requested.payload.json");
    let suite = &json["check_suite"];
    assert!(suite["pull_requests"].as_array().unwrap().is_empty());
    assert_eq!(e.serial_key().unwrap(), format!("{}@refs/heads/{}", full_name(&json), s(&suite["head_branch"])));
    assert_eq!(e.head_sha(), Some(s(&suite["head_sha"])));

    // No branch (`null`, as GitHub sends for forks): the head sha.
    let mut json = json.clone();
    json["check_suite"]["head_branch"] = Value::Null;
    let e = parse_ok("check_suite", "null branch", &bytes(&json));
    assert_eq!(e.serial_key().unwrap(), format!("{}@{}", full_name(&json), s(&json["check_suite"]["head_sha"])));

    // Several pull requests: the branch, not any one of them.
    let (_, mut json) = example(&dir, "check_suite/completed.payload.json");
    let mut second = json["check_suite"]["pull_requests"][0].clone();
    second["number"] = json!(n(&second["number"]) + 1);
    json["check_suite"]["pull_requests"].as_array_mut().unwrap().push(second);
    let e = parse_ok("check_suite", "two PRs", &bytes(&json));
    assert_eq!(
        e.serial_key().unwrap(),
        format!("{}@refs/heads/{}", full_name(&json), s(&json["check_suite"]["head_branch"]))
    );
}

#[test]
fn serial_key_and_head_sha_for_check_runs() {
    let Some(dir) = fixtures_dir() else { return };
    let (e, json) = example(&dir, "check_run/completed.payload.json");
    let run = &json["check_run"];
    assert_eq!(e.serial_key().unwrap(), format!("{}#{}", full_name(&json), n(&run["pull_requests"][0]["number"])));
    assert_eq!(e.head_sha(), Some(s(&run["head_sha"])));

    let (e, json) = example(&dir, "check_run/rerequested.payload.json");
    let run = &json["check_run"];
    assert!(run["pull_requests"].as_array().unwrap().is_empty());
    assert_eq!(
        e.serial_key().unwrap(),
        format!("{}@refs/heads/{}", full_name(&json), s(&run["check_suite"]["head_branch"]))
    );
    assert_eq!(e.head_sha(), Some(s(&run["head_sha"])));
}

#[test]
fn serial_key_and_head_sha_for_pushes() {
    let Some(dir) = fixtures_dir() else { return };
    let (e, json) = example(&dir, "push/with-new-branch.payload.json");
    assert_eq!(e.serial_key().unwrap(), format!("{}@{}", full_name(&json), s(&json["ref"])));
    assert_eq!(e.head_sha(), Some(s(&json["after"])));

    // A deleted ref has no head.
    let (e, json) = example(&dir, "push/payload.json");
    assert_eq!(e.serial_key().unwrap(), format!("{}@{}", full_name(&json), s(&json["ref"])));
    assert!(b(&json["deleted"]));
    assert_eq!(e.head_sha(), None);

    // A push to a branch and a check suite on it share the key.
    let (suite, _) = example(&dir, "check_suite/requested.payload.json");
    let Event::CheckSuite(suite_event) = &suite else { panic!() };
    let mut json = json.clone();
    json["ref"] = json!(format!("refs/heads/{}", suite_event.head_branch.as_deref().unwrap()));
    json["deleted"] = json!(false);
    json["after"] = json!(suite_event.head_sha);
    let push = parse_ok("push", "branch push", &bytes(&json));
    assert_eq!(push.serial_key(), suite.serial_key());
    assert_eq!(push.head_sha(), suite.head_sha());
}

#[test]
fn serial_key_and_head_sha_for_issue_comments() {
    let Some(dir) = fixtures_dir() else { return };
    // On an issue: the default branch, which `/recheck` on the tracking issue re-evaluates.
    let (e, json) = example(&dir, "issue_comment/created.payload.json");
    assert_eq!(
        e.serial_key().unwrap(),
        format!("{}@refs/heads/{}", full_name(&json), s(&json["repository"]["default_branch"]))
    );
    assert_eq!(e.head_sha(), None, "comment payloads carry no sha");
    // On a pull request: see issue_comment_on_a_pull_request_and_by_a_bot.
}

#[test]
fn serial_key_and_head_sha_for_installations_and_pings() {
    let Some(dir) = fixtures_dir() else { return };
    for file in ["installation/created.payload.json", "installation_repositories/removed.payload.json"] {
        let (e, json) = example(&dir, file);
        assert_eq!(e.serial_key().unwrap(), format!("installation:{}", n(&json["installation"]["id"])), "{file}");
        assert_eq!(e.head_sha(), None, "{file}");
        assert_eq!(e.repository(), None, "{file}");
    }
    for file in ["ping/payload.json", "ping/with-organization.payload.json"] {
        let (e, _) = example(&dir, file);
        assert_eq!(e.serial_key(), None, "{file}");
        assert_eq!(e.head_sha(), None, "{file}");
    }
}
