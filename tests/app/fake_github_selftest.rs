//! The fake GitHub driven by the real octocrab client: App JWT, installation tokens, git data, check runs with
//! annotations, Dependabot alerts over several pages, comments, pull requests, fault injection, and the OpenAPI
//! violations it reports; and (raw HTTP) collaborator permissions, people's comments and reactions to them, git data
//! writes (blobs, trees, commits, references) and opening, merging and closing pull requests.

use base64::prelude::{BASE64_STANDARD, Engine};
use octocrab::jsonwebtoken::{self, EncodingKey};
use octocrab::models::{AppId, CheckRunId, CommentId, InstallationId};
use octocrab::params::checks::{
    CheckRunConclusion, CheckRunOutput, CheckRunOutputAnnotation, CheckRunOutputAnnotationLevel, CheckRunStatus,
};
use octocrab::{Octocrab, Page};
use serde_json::{Value, json};

use crate::fake_github::{AuthKind, DependabotState, FakeGitHub, RecordedRequest};

const INSTALLATION: u64 = 7;
const OWNER: &str = "acme";
const REPO: &str = "widgets";

/// A world with one installation, one repository and a commit on `main`; returns the fake and the commit sha.
async fn world() -> (FakeGitHub, String) {
    let fake = FakeGitHub::start().await;
    fake.add_installation(INSTALLATION, OWNER);
    fake.add_repo(INSTALLATION, OWNER, REPO, "main");
    let long = "line of a long file\n".repeat(20);
    let files = [("README.md", "hello\n"), (".github/workflows/ci.yml", "on: push\n"), ("docs/long.md", long.as_str())];
    let sha = fake.commit(OWNER, REPO, &files);
    fake.set_branch(OWNER, REPO, "main", &sha);
    (fake, sha)
}

fn app_client(fake: &FakeGitHub) -> Octocrab {
    let key = EncodingKey::from_rsa_pem(fake.private_key_pem().as_bytes()).expect("test key");
    Octocrab::builder()
        .base_uri(fake.url.as_str())
        .expect("base uri")
        .app(AppId(fake.app_id()), key)
        .build()
        .expect("app client")
}

async fn mint_token(app: &Octocrab) -> Value {
    app.post(format!("/app/installations/{INSTALLATION}/access_tokens"), None::<&()>).await.expect("token")
}

/// An installation client the way the App builds one: a minted token as a personal token on the fake's base URI.
async fn installation_client(fake: &FakeGitHub) -> Octocrab {
    let token = mint_token(&app_client(fake)).await;
    let token = token["token"].as_str().expect("token string").to_string();
    Octocrab::builder()
        .base_uri(fake.url.as_str())
        .expect("base uri")
        .personal_token(token)
        .build()
        .expect("installation client")
}

fn requests_to(fake: &FakeGitHub, template: &str) -> Vec<RecordedRequest> {
    fake.requests().into_iter().filter(|r| r.template.as_deref() == Some(template)).collect()
}

fn github_error(err: octocrab::Error) -> Box<octocrab::GitHubError> {
    match err {
        octocrab::Error::GitHub { source, .. } => source,
        other => panic!("expected a GitHub error, got {other:?}"),
    }
}

/// An annotation as raw JSON, for requests octocrab's types would not let through.
fn raw_annotation(line: u32, level: &str) -> Value {
    json!({"path": "README.md", "start_line": line, "end_line": line, "annotation_level": level, "message": "m"})
}

fn annotation(line: u32, level: CheckRunOutputAnnotationLevel) -> CheckRunOutputAnnotation {
    CheckRunOutputAnnotation {
        path: "README.md".into(),
        start_line: line,
        end_line: line,
        start_column: None,
        end_column: None,
        annotation_level: level,
        message: format!("finding on line {line}"),
        title: Some("Shipshape".into()),
        raw_details: None,
    }
}

#[tokio::test]
async fn app_jwt_mints_a_token_that_reads_trees_blobs_commits_and_refs() {
    let (fake, sha) = world().await;
    let app = app_client(&fake);
    let token = mint_token(&app).await;
    assert!(token["token"].as_str().unwrap().starts_with("ghs_"), "{token}");
    assert_eq!(token["repository_selection"], "all");
    let expires = chrono::DateTime::parse_from_rfc3339(token["expires_at"].as_str().unwrap()).unwrap();
    let ahead = expires.signed_duration_since(chrono::Utc::now()).num_minutes();
    assert!((58..=60).contains(&ahead), "expires in {ahead} minutes");
    let minted = requests_to(&fake, "/app/installations/{installation_id}/access_tokens");
    assert_eq!((minted[0].status, minted[0].auth), (201, AuthKind::AppJwt));

    let crab = installation_client(&fake).await;
    let tree = crab.git(OWNER, REPO).get_tree("main").recursive(true).send().await.expect("tree");
    let paths: Vec<(&str, &str)> = tree.tree.iter().map(|e| (e.path.as_str(), e.r#type.as_str())).collect();
    assert_eq!(
        paths,
        [
            (".github", "tree"),
            (".github/workflows", "tree"),
            (".github/workflows/ci.yml", "blob"),
            ("README.md", "blob"),
            ("docs", "tree"),
            ("docs/long.md", "blob"),
        ]
    );
    assert!(!tree.truncated);
    let readme = tree.tree.iter().find(|e| e.path == "README.md").unwrap();
    // `printf 'hello\n' | git hash-object --stdin`
    assert_eq!(readme.sha, "ce013625030ba8dba906f756967f9e9ca394464a");
    assert_eq!(readme.size, Some(6));
    // Without `recursive`, one level; a commit sha works as tree_sha too, and both name the same root tree.
    let top = crab.git(OWNER, REPO).get_tree(sha.as_str()).send().await.expect("tree");
    assert_eq!(top.tree.len(), 3);
    assert_eq!(top.sha, tree.sha);

    let blob = crab.git(OWNER, REPO).get_blob(readme.sha.as_str()).await.expect("blob");
    assert_eq!((blob.encoding.as_str(), blob.size), ("base64", 6));
    let long = tree.tree.iter().find(|e| e.path == "docs/long.md").unwrap();
    let blob = crab.git(OWNER, REPO).get_blob(long.sha.as_str()).await.expect("blob");
    let lines: Vec<&str> = blob.content.split_terminator('\n').collect();
    assert!(lines.len() > 2 && lines[..lines.len() - 1].iter().all(|l| l.len() == 60), "GitHub wraps at 60");
    assert!(blob.content.ends_with('\n'));
    let decoded = BASE64_STANDARD.decode(blob.content.replace('\n', "")).unwrap();
    assert_eq!(String::from_utf8(decoded).unwrap(), "line of a long file\n".repeat(20));

    let commit: Value = crab.get(format!("/repos/{OWNER}/{REPO}/commits/main"), None::<&()>).await.expect("commit");
    assert_eq!(commit["sha"], sha.as_str());
    assert_eq!(commit["commit"]["tree"]["sha"], tree.sha.as_str());
    let typed = crab.commits(OWNER, REPO).get(sha.as_str()).await.expect("typed commit");
    assert_eq!(typed.sha, sha);
    let reference: Value =
        crab.get(format!("/repos/{OWNER}/{REPO}/git/ref/heads/main"), None::<&()>).await.expect("ref");
    assert_eq!(reference["ref"], "refs/heads/main");
    assert_eq!(reference["object"]["sha"], sha.as_str());
    let repo = crab.repos(OWNER, REPO).get().await.expect("repo");
    assert_eq!(repo.default_branch.as_deref(), Some("main"));

    // octocrab's own installation client (it mints tokens itself) reaches the same data.
    let own = app.installation(InstallationId(INSTALLATION)).expect("installation client");
    let again = own.git(OWNER, REPO).get_tree("main").send().await.expect("tree");
    assert_eq!(again.sha, tree.sha);

    let data: Vec<RecordedRequest> = fake
        .requests()
        .into_iter()
        .filter(|r| r.template.as_deref().is_some_and(|t| t.starts_with("/repos/")))
        .collect();
    assert!(data.iter().all(|r| r.auth == AuthKind::InstallationToken && r.installation == Some(INSTALLATION)));
    assert!(data.iter().all(|r| r.status == 200), "{data:#?}");
    fake.assert_clean();
}

#[tokio::test]
async fn check_runs_are_created_and_updated_with_annotations() {
    let (fake, sha) = world().await;
    let crab = installation_client(&fake).await;
    let checks = crab.checks(OWNER, REPO);
    let created = checks
        .create_check_run("shipshape", sha.as_str())
        .status(CheckRunStatus::InProgress)
        .external_id("evaluation-1")
        .output(CheckRunOutput {
            title: "Evaluating".into(),
            summary: "In progress".into(),
            text: None,
            annotations: (1..=3).map(|l| annotation(l, CheckRunOutputAnnotationLevel::Warning)).collect(),
            images: vec![],
        })
        .send()
        .await
        .expect("create");
    assert_eq!(fake.check_runs(OWNER, REPO)[0]["status"], "in_progress");
    assert_eq!(created.output.annotations_count, 3);

    let updated = checks
        .update_check_run(created.id)
        .conclusion(CheckRunConclusion::Failure)
        .output(CheckRunOutput {
            title: "2 checks failed".into(),
            summary: "Scorecard".into(),
            text: Some("details".into()),
            annotations: (4..=5).map(|l| annotation(l, CheckRunOutputAnnotationLevel::Failure)).collect(),
            images: vec![],
        })
        .send()
        .await
        .expect("update");
    assert_eq!(updated.conclusion.as_deref(), Some("failure"));
    assert!(updated.completed_at.is_some());
    let fetched: octocrab::models::checks::CheckRun =
        crab.get(format!("/repos/{OWNER}/{REPO}/check-runs/{}", created.id), None::<&()>).await.expect("get");
    assert_eq!(fetched, updated);

    let stored = fake.check_runs(OWNER, REPO);
    assert_eq!(stored.len(), 1);
    let run = &stored[0];
    assert_eq!((run["name"].as_str(), run["head_sha"].as_str()), (Some("shipshape"), Some(sha.as_str())));
    assert_eq!((run["status"].as_str(), run["conclusion"].as_str()), (Some("completed"), Some("failure")));
    assert_eq!(run["external_id"], "evaluation-1");
    assert_eq!(run["output"]["title"], "2 checks failed");
    assert_eq!(run["output"]["annotations_count"], 5);
    let annotations = fake.annotations(created.id.0);
    assert_eq!(annotations.len(), 5);
    assert_eq!(annotations[4]["annotation_level"], "failure");
    assert_eq!(annotations[0]["blob_href"], format!("https://github.com/{OWNER}/{REPO}/blob/{sha}/README.md"));

    let listed =
        checks.list_check_runs_for_git_ref(octocrab::params::repos::Commitish(sha.clone())).send().await.expect("list");
    assert_eq!(listed.total_count, 1);
    assert_eq!(listed.check_runs[0].id, created.id);
    // octocrab's builder has no check_name; the App sends it raw.
    let by_name: Value = crab
        .get(format!("/repos/{OWNER}/{REPO}/commits/main/check-runs"), Some(&[("check_name", "shipshape")]))
        .await
        .expect("list by name");
    assert_eq!(by_name["total_count"], 1);
    let other: Value = crab
        .get(format!("/repos/{OWNER}/{REPO}/commits/main/check-runs"), Some(&[("check_name", "other")]))
        .await
        .expect("list by name");
    assert_eq!(other["total_count"], 0);
    let page: Value = crab
        .get(format!("/repos/{OWNER}/{REPO}/check-runs/{}/annotations", created.id), Some(&[("per_page", 2)]))
        .await
        .expect("annotations");
    assert_eq!(page.as_array().unwrap().len(), 2);

    // Actions (which octocrab's builder lacks) through a raw request; GitHub does not echo them, the fake keeps them.
    let _: Value = crab
        .patch(
            format!("/repos/{OWNER}/{REPO}/check-runs/{}", created.id),
            Some(&json!({"actions": [{"label": "Re-run", "description": "Evaluate again", "identifier": "rerun"}]})),
        )
        .await
        .expect("actions");
    assert_eq!(fake.check_runs(OWNER, REPO)[0]["actions"][0]["identifier"], "rerun");
    fake.assert_clean();

    // More than 50 annotations in one request: 422, as GitHub, and a violation of the schema's maxItems.
    let many: Vec<Value> = (1..=51).map(|l| raw_annotation(l, "notice")).collect();
    let err = crab
        .patch::<Value, _, _>(
            format!("/repos/{OWNER}/{REPO}/check-runs/{}", created.id),
            Some(&json!({"output": {"title": "t", "summary": "s", "annotations": many}})),
        )
        .await
        .unwrap_err();
    assert_eq!(github_error(err).status_code, 422);
    assert_eq!(
        fake.take_violations(),
        ["PATCH /repos/{owner}/{repo}/check-runs/{check_run_id}: \
             body.output.annotations: 51 items, more than maxItems 50"]
    );
    assert_eq!(fake.annotations(created.id.0).len(), 5);

    // A head_sha the repository does not have: 422 "No commit found", as GitHub.
    let err = checks.create_check_run("shipshape", "0".repeat(40)).send().await.unwrap_err();
    assert_eq!(github_error(err).status_code, 422);
    let _: CheckRunId = created.id;
}

/// Three pages of Dependabot alerts, following the `Link` header. Records what becomes of the `Authorization` header
/// on page 2 (an absolute URL on the fake's host, which is not api.github.com) with each kind of octocrab client.
#[tokio::test]
async fn dependabot_alerts_paginate_over_three_pages() {
    let (fake, _) = world().await;
    let alerts = vec![
        ("critical", "open"),
        ("high", "open"),
        ("low", "fixed"),
        ("medium", "open"),
        ("high", "open"),
        ("low", "open"),
        ("high", "dismissed"),
        ("medium", "open"),
        ("critical", "open"),
    ];
    fake.set_dependabot(OWNER, REPO, DependabotState::Alerts(alerts));
    let route = format!("/repos/{OWNER}/{REPO}/dependabot/alerts");
    let template = "/repos/{owner}/{repo}/dependabot/alerts";
    let params = [("state", "open"), ("per_page", "3")];

    // 1. Personal-token client (the App's installation client): octocrab's all_pages follows `next`.
    let crab = installation_client(&fake).await;
    let first: Page<Value> = crab.get(&route, Some(&params)).await.expect("page 1");
    assert_eq!(first.items.len(), 3);
    let next = first.next.clone().expect("a next link");
    assert_eq!(next.authority().map(|a| a.as_str()), fake.url.strip_prefix("http://"), "absolute, on the fake's host");
    assert!(first.last.is_none(), "cursor pagination has no rel=last");
    let all = crab.all_pages(first).await.expect("all pages");
    let numbers: Vec<u64> = all.iter().map(|a| a["number"].as_u64().unwrap()).collect();
    assert_eq!(numbers, [9, 8, 6, 5, 4, 2, 1], "open alerts, newest first");
    let seen = requests_to(&fake, template);
    assert_eq!(seen.len(), 3);
    assert!(seen.iter().all(|r| r.auth == AuthKind::InstallationToken && r.status == 200), "{seen:#?}");
    assert!(seen[1].query.iter().any(|(k, _)| k == "after"), "page 2 by cursor: {:?}", seen[1].query);

    // 2. octocrab's own installation client (AuthState::Installation): the token is added in `execute`, only for
    //    relative URIs or the host api.github.com, so page 2 on another host goes out without credentials.
    let app = app_client(&fake);
    let own = app.installation(InstallationId(INSTALLATION)).expect("installation client");
    let first: Page<Value> = own.get(&route, Some(&params)).await.expect("page 1");
    let before = fake.requests().len();
    let err = own.get_page::<Value>(&first.next).await.unwrap_err();
    assert_eq!(github_error(err).status_code, 401);
    let page2: Vec<RecordedRequest> = fake.requests()[before..].to_vec();
    let kinds: Vec<(AuthKind, u16)> = page2.iter().map(|r| (r.auth, r.status)).collect();
    // The 401 makes octocrab drop its token, mint a new one (App JWT) and retry once, again without credentials.
    assert_eq!(kinds, [(AuthKind::None, 401), (AuthKind::AppJwt, 201), (AuthKind::None, 401)]);
    // A raw `_get` of the absolute next URL fares the same with that client...
    let response = own._get(first.next.clone().unwrap().to_string()).await.expect("response");
    assert_eq!(response.status(), 401);
    assert_eq!(fake.requests().last().unwrap().auth, AuthKind::None);
    // ...and carries the token with the personal-token client (its host is the base URI's).
    let response = crab._get(first.next.clone().unwrap().to_string()).await.expect("response");
    assert_eq!(response.status(), 200);
    assert_eq!(fake.requests().last().unwrap().auth, AuthKind::InstallationToken);
    // The workaround for the installation client: request the next link's path and query, relative to the base.
    let relative = first.next.as_ref().and_then(|u| u.path_and_query()).unwrap().to_string();
    let page: Page<Value> = own.get(relative, None::<&()>).await.expect("relative page 2");
    assert_eq!(page.items.len(), 3);
    assert_eq!(fake.requests().last().unwrap().auth, AuthKind::InstallationToken);

    // `page` is refused, as GitHub refuses it on this endpoint (and it is not in the description).
    let err = crab.get::<Value, _, _>(&route, Some(&[("page", "2")])).await.unwrap_err();
    let err = github_error(err);
    assert_eq!(
        (err.status_code.as_u16(), err.message.as_str()),
        (400, "Pagination using the `page` parameter is not supported.")
    );
    assert_eq!(
        fake.take_violations(),
        ["GET /repos/{owner}/{repo}/dependabot/alerts: query parameter page is not declared"]
    );

    fake.set_dependabot(OWNER, REPO, DependabotState::Disabled);
    let err = github_error(crab.get::<Value, _, _>(&route, None::<&()>).await.unwrap_err());
    assert_eq!(
        (err.status_code.as_u16(), err.message.as_str()),
        (403, "Dependabot alerts are disabled for this repository.")
    );
    fake.assert_clean();
}

#[tokio::test]
async fn comments_and_pull_requests() {
    let (fake, sha) = world().await;
    fake.add_pull(OWNER, REPO, 5, &sha, "feature/x", "main");
    let crab = installation_client(&fake).await;
    let issues = crab.issues(OWNER, REPO);
    let comment = issues.create_comment(5, "Scorecard: 3/5").await.expect("comment");
    assert_eq!(comment.user.login, "shipshape-test[bot]");
    let comments = fake.issue_comments(OWNER, REPO, 5);
    assert_eq!(comments.len(), 1);
    assert_eq!(comments[0]["body"], "Scorecard: 3/5");
    let posted = requests_to(&fake, "/repos/{owner}/{repo}/issues/{issue_number}/comments");
    assert_eq!(posted[0].body, Some(json!({"body": "Scorecard: 3/5"})));

    // Editing with PATCH, as GitHub documents it.
    let edited: octocrab::models::issues::Comment = crab
        .patch(
            format!("/repos/{OWNER}/{REPO}/issues/comments/{}", comment.id),
            Some(&json!({"body": "Scorecard: 4/5"})),
        )
        .await
        .expect("edit");
    assert_eq!(edited.body.as_deref(), Some("Scorecard: 4/5"));
    let listed = issues.list_comments(5).send().await.expect("list");
    assert_eq!(listed.items.len(), 1);
    assert_eq!(listed.items[0].body.as_deref(), Some("Scorecard: 4/5"));
    fake.assert_clean();

    // octocrab 0.54's `update_comment` sends POST, which GitHub's description does not have.
    let err = issues.update_comment(CommentId(comment.id.0), "again").await.unwrap_err();
    assert_eq!(github_error(err).status_code, 404);
    let violations = fake.take_violations();
    assert_eq!(violations, [format!("unknown endpoint POST /repos/{OWNER}/{REPO}/issues/comments/{}", comment.id)]);

    // No such issue.
    let err = issues.create_comment(6, "x").await.unwrap_err();
    assert_eq!(github_error(err).status_code, 404);

    let pull = crab.pulls(OWNER, REPO).get(5).await.expect("pull");
    assert_eq!((pull.head.sha.as_str(), pull.head.ref_field.as_str()), (sha.as_str(), "feature/x"));
    assert_eq!(pull.base.ref_field, "main");
    let open: Vec<Value> = crab
        .get(format!("/repos/{OWNER}/{REPO}/pulls"), Some(&[("state", "open"), ("head", "acme:feature/x")]))
        .await
        .expect("pulls");
    assert_eq!(open.len(), 1);
    let none: Vec<Value> =
        crab.get(format!("/repos/{OWNER}/{REPO}/pulls"), Some(&[("state", "closed")])).await.expect("pulls");
    assert!(none.is_empty());

    // A check run on the pull request's head lists the pull request, as GitHub does.
    let run = crab.checks(OWNER, REPO).create_check_run("shipshape", sha.as_str()).send().await.expect("run");
    assert_eq!(run.pull_requests.len(), 1);
    fake.assert_clean();
}

#[tokio::test]
async fn fault_injection_answers_then_real_handling_resumes() {
    let (fake, sha) = world().await;
    let crab = installation_client(&fake).await;
    let template = "/repos/{owner}/{repo}/check-runs";
    fake.fail_next("POST", template, 1, 502, &[], json!({"message": "Server Error"}));
    let err = crab.checks(OWNER, REPO).create_check_run("shipshape", sha.as_str()).send().await.unwrap_err();
    assert_eq!(github_error(err).status_code, 502);
    crab.checks(OWNER, REPO).create_check_run("shipshape", sha.as_str()).send().await.expect("second try");
    let runs = requests_to(&fake, template);
    let seen: Vec<(u16, bool)> = runs.iter().map(|r| (r.status, r.injected)).collect();
    assert_eq!(seen, [(502, true), (201, false)]);
    assert_eq!(fake.check_runs(OWNER, REPO).len(), 1);

    // A secondary rate limit (403, retry-after) and a 429, with the headers visible to the App.
    let repo = "/repos/{owner}/{repo}";
    fake.fail_next("GET", repo, 1, 403, &[("retry-after", "1")], FakeGitHub::secondary_rate_limit_body());
    fake.fail_next(
        "GET",
        repo,
        1,
        429,
        &[("retry-after", "2"), ("x-ratelimit-remaining", "0")],
        json!({"message": "Too many"}),
    );
    let err = github_error(crab.repos(OWNER, REPO).get().await.unwrap_err());
    assert_eq!(err.status_code, 403);
    assert!(err.message.contains("secondary rate limit"), "{}", err.message);
    assert_eq!(err.headers.as_ref().unwrap()["retry-after"], "1");
    let err = github_error(crab.repos(OWNER, REPO).get().await.unwrap_err());
    assert_eq!(err.status_code, 429);
    let headers = err.headers.unwrap();
    assert_eq!(
        (&headers["retry-after"], &headers["x-ratelimit-remaining"]),
        (&"2".parse().unwrap(), &"0".parse().unwrap())
    );
    crab.repos(OWNER, REPO).get().await.expect("real handling resumes");

    // Rate-limit headers on every answer; remaining goes down.
    let remaining = |r: &http_response::Head| r.remaining;
    let a = http_response::head(&crab, &format!("{}/repos/{OWNER}/{REPO}", fake.url)).await;
    let b = http_response::head(&crab, &format!("{}/repos/{OWNER}/{REPO}", fake.url)).await;
    assert_eq!(remaining(&b) + 1, remaining(&a));
    assert_eq!((a.limit, a.resource.as_str()), (5000, "core"));
    fake.set_rate_limit_remaining(0);
    let err = github_error(crab.repos(OWNER, REPO).get().await.unwrap_err());
    assert_eq!(err.status_code, 403);
    assert!(err.message.starts_with("API rate limit exceeded"), "{}", err.message);
    fake.assert_clean();
}

mod http_response {
    pub struct Head {
        pub limit: u64,
        pub remaining: u64,
        pub resource: String,
    }

    pub async fn head(crab: &octocrab::Octocrab, url: &str) -> Head {
        let response = crab._get(url).await.expect("response");
        let header = |name: &str| response.headers()[name].to_str().unwrap().to_string();
        Head {
            limit: header("x-ratelimit-limit").parse().unwrap(),
            remaining: header("x-ratelimit-remaining").parse().unwrap(),
            resource: header("x-ratelimit-resource"),
        }
    }
}

#[tokio::test]
async fn credentials_are_checked_like_github() {
    let (fake, _) = world().await;
    fake.add_installation(8, "other");
    fake.add_repo(8, "other", "secret", "main");
    let crab = installation_client(&fake).await;
    let route = format!("/repos/{OWNER}/{REPO}");

    // A repository of another installation: 404.
    let err = github_error(crab.repos("other", "secret").get().await.unwrap_err());
    assert_eq!(err.status_code, 404);
    // No credentials, unknown token, an App JWT where a token is needed: 401.
    let anonymous = Octocrab::builder().base_uri(fake.url.as_str()).unwrap().build().unwrap();
    assert_eq!(github_error(anonymous.get::<Value, _, _>(&route, None::<&()>).await.unwrap_err()).status_code, 401);
    let bogus =
        Octocrab::builder().base_uri(fake.url.as_str()).unwrap().personal_token("ghs_bogus".to_string()).build();
    let err = github_error(bogus.unwrap().get::<Value, _, _>(&route, None::<&()>).await.unwrap_err());
    assert_eq!((err.status_code.as_u16(), err.message.as_str()), (401, "Bad credentials"));
    let app = app_client(&fake);
    assert_eq!(github_error(app.get::<Value, _, _>(&route, None::<&()>).await.unwrap_err()).status_code, 401);
    // An installation token where the App JWT is needed: 401.
    let err = crab.post::<_, Value>(format!("/app/installations/{INSTALLATION}/access_tokens"), None::<&()>).await;
    assert_eq!(github_error(err.unwrap_err()).status_code, 401);

    // JWTs with a wrong issuer or an expiry too far ahead are refused.
    let key = EncodingKey::from_rsa_pem(fake.private_key_pem().as_bytes()).unwrap();
    let now = chrono::Utc::now().timestamp();
    for claims in [
        json!({"iss": 1, "iat": now - 60, "exp": now + 500}),
        json!({"iss": fake.app_id(), "iat": now - 60, "exp": now + 3600}),
        json!({"iss": fake.app_id(), "iat": now - 700, "exp": now - 100}),
    ] {
        let jwt =
            jsonwebtoken::encode(&jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256), &claims, &key).unwrap();
        let client = Octocrab::builder().base_uri(fake.url.as_str()).unwrap().personal_token(jwt).build().unwrap();
        let err = client.get::<Value, _, _>(format!("/app/installations/{INSTALLATION}"), None::<&()>).await;
        assert_eq!(github_error(err.unwrap_err()).status_code, 401, "{claims}");
    }
    let installation: Value = app.get(format!("/app/installations/{INSTALLATION}"), None::<&()>).await.expect("get");
    assert_eq!(installation["account"]["login"], OWNER);
    let by_repo: Value = app.get(format!("/repos/{OWNER}/{REPO}/installation"), None::<&()>).await.expect("get");
    assert_eq!(by_repo["id"], INSTALLATION);

    // A token scoped to some repositories lists them and reaches no other.
    let scoped: Value = app
        .post(format!("/app/installations/{INSTALLATION}/access_tokens"), Some(&json!({"repositories": [REPO]})))
        .await
        .expect("scoped token");
    assert_eq!(scoped["repository_selection"], "selected");
    assert_eq!(scoped["repositories"][0]["full_name"], format!("{OWNER}/{REPO}"));

    // Expired tokens answer 401; octocrab's own installation client then mints a new one and retries.
    let own = app.installation(InstallationId(INSTALLATION)).unwrap();
    own.repos(OWNER, REPO).get().await.expect("first token");
    fake.expire_tokens();
    assert_eq!(github_error(crab.repos(OWNER, REPO).get().await.unwrap_err()).status_code, 401);
    own.repos(OWNER, REPO).get().await.expect("re-minted token");
    fake.assert_clean();
}

#[tokio::test]
async fn protection_rules_and_their_absence() {
    let (fake, _) = world().await;
    let crab = installation_client(&fake).await;
    let route = format!("/repos/{OWNER}/{REPO}/branches/main/protection");
    let err = github_error(crab.get::<Value, _, _>(&route, None::<&()>).await.unwrap_err());
    assert_eq!((err.status_code.as_u16(), err.message.as_str()), (404, "Branch not protected"));
    let protection = json!({
        "url": format!("{}{route}", fake.url),
        "required_status_checks": {
            "url": format!("{}{route}/required_status_checks", fake.url), "strict": true, "contexts": ["shipshape"],
            "contexts_url": format!("{}{route}/required_status_checks/contexts", fake.url),
            "checks": [{"context": "shipshape", "app_id": null}]
        },
        "required_pull_request_reviews": {
            "url": format!("{}{route}/required_pull_request_reviews", fake.url), "dismiss_stale_reviews": true,
            "require_code_owner_reviews": true, "required_approving_review_count": 1,
            "require_last_push_approval": false
        },
        "enforce_admins": {"url": format!("{}{route}/enforce_admins", fake.url), "enabled": true},
        "required_linear_history": {"enabled": false}, "allow_force_pushes": {"enabled": false},
        "allow_deletions": {"enabled": false}
    });
    fake.set_branch_protection(OWNER, REPO, "main", Some(protection.clone()));
    let got: Value = crab.get(&route, None::<&()>).await.expect("protection");
    assert_eq!(got, protection);
    let rules =
        vec![json!({"type": "pull_request", "ruleset_source_type": "Repository", "ruleset_source": "acme/widgets",
        "ruleset_id": 1, "parameters": {"required_approving_review_count": 1, "dismiss_stale_reviews_on_push": true,
        "require_code_owner_review": true, "require_last_push_approval": false,
        "required_review_thread_resolution": false, "allowed_merge_methods": ["squash"]}})];
    fake.set_rules(OWNER, REPO, "main", rules.clone());
    let got: Vec<Value> =
        crab.get(format!("/repos/{OWNER}/{REPO}/rules/branches/main"), None::<&()>).await.expect("rules");
    assert_eq!(got, rules);
    let err = github_error(
        crab.get::<Value, _, _>(format!("/repos/{OWNER}/{REPO}/branches/nope/protection"), None::<&()>)
            .await
            .unwrap_err(),
    );
    assert_eq!(err.message, "Branch not found");
    fake.assert_clean();
}

#[tokio::test]
async fn invalid_bodies_and_unknown_paths_are_violations() {
    let (fake, sha) = world().await;
    let crab = installation_client(&fake).await;
    let mut annotations: Vec<Value> = (1..=3).map(|l| raw_annotation(l, "notice")).collect();
    annotations.push(raw_annotation(4, "fatal"));
    let output = json!({"title": "t", "summary": "s", "annotations": annotations});
    let body = json!({"name": "shipshape", "head_sha": sha, "output": output});
    let err = crab.post::<_, Value>(format!("/repos/{OWNER}/{REPO}/check-runs"), Some(&body)).await.unwrap_err();
    let err = github_error(err);
    assert_eq!(err.status_code, 422);
    assert!(err.message.starts_with("Invalid request."), "{}", err.message);
    let err = crab.get::<Value, _, _>(format!("/repos/{OWNER}/{REPO}/nonsense"), None::<&()>).await.unwrap_err();
    assert_eq!(github_error(err).status_code, 404);
    let err = crab
        .get::<Value, _, _>(format!("/repos/{OWNER}/{REPO}/commits/{sha}/check-runs"), Some(&[("status", "done")]))
        .await;
    assert!(err.is_ok(), "an enum violation in the query is reported but still answered");
    assert_eq!(
        fake.take_violations(),
        [
            "POST /repos/{owner}/{repo}/check-runs: \
             body.output.annotations[3].annotation_level: \"fatal\" not one of notice, warning, failure",
            "unknown endpoint GET /repos/acme/widgets/nonsense",
            "GET /repos/{owner}/{repo}/commits/{ref}/check-runs: \
             query parameter status: \"done\" not one of queued, in_progress, completed",
        ]
    );
    assert!(fake.check_runs(OWNER, REPO).is_empty());
    let unknown = fake.requests().into_iter().find(|r| r.path.ends_with("/nonsense")).unwrap();
    assert_eq!((unknown.template, unknown.status), (None, 404));
    fake.assert_clean();
}

#[tokio::test]
#[should_panic(expected = "unexamined OpenAPI violation")]
async fn dropping_the_fake_with_violations_panics() {
    let (fake, _) = world().await;
    let crab = installation_client(&fake).await;
    let _ = crab.get::<Value, _, _>(format!("/repos/{OWNER}/{REPO}/nonsense"), None::<&()>).await;
}

// ---------------------------------------------------------------------------------------------------------------
// Raw HTTP (reqwest) against the fake, for the status codes and headers octocrab hides: installations, issues,
// labels, sub-issues and conditional requests.

/// A reqwest client that sends one credential (an App JWT or an installation token) to the fake.
struct Http {
    client: reqwest::Client,
    base: String,
    auth: String,
}

/// A response: status, headers and the body as JSON (`Null` when empty).
struct Answer {
    status: u16,
    headers: reqwest::header::HeaderMap,
    body: Value,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    fn numbers(&self) -> Vec<u64> {
        self.body.as_array().expect("an array").iter().map(|i| i["number"].as_u64().expect("number")).collect()
    }
}

fn app_jwt(fake: &FakeGitHub) -> String {
    let key = EncodingKey::from_rsa_pem(fake.private_key_pem().as_bytes()).expect("test key");
    let now = chrono::Utc::now().timestamp();
    let claims = json!({"iss": fake.app_id(), "iat": now - 60, "exp": now + 540});
    jsonwebtoken::encode(&jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256), &claims, &key).expect("JWT")
}

impl Http {
    fn app(fake: &FakeGitHub) -> Http {
        Http { client: reqwest::Client::new(), base: fake.url.clone(), auth: format!("Bearer {}", app_jwt(fake)) }
    }

    /// An installation token of [`INSTALLATION`], for all its repositories or (with `body`) a selection.
    async fn installation(fake: &FakeGitHub, body: Option<Value>) -> Http {
        let minted =
            Http::app(fake).send("POST", &format!("/app/installations/{INSTALLATION}/access_tokens"), body).await;
        assert_eq!(minted.status, 201, "{}", minted.body);
        let token = minted.body["token"].as_str().expect("token");
        Http { client: reqwest::Client::new(), base: fake.url.clone(), auth: format!("token {token}") }
    }

    async fn send(&self, method: &str, path: &str, body: Option<Value>) -> Answer {
        self.send_with(method, path, body, &[]).await
    }

    async fn get(&self, path: &str) -> Answer {
        self.send("GET", path, None).await
    }

    async fn send_with(&self, method: &str, path: &str, body: Option<Value>, headers: &[(&str, &str)]) -> Answer {
        let url = if path.starts_with("http") { path.to_string() } else { format!("{}{path}", self.base) };
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let mut request = self
            .client
            .request(method, url)
            .header("authorization", &self.auth)
            .header("accept", "application/vnd.github+json")
            .header("user-agent", "shipshape-selftest")
            .header("x-github-api-version", "2022-11-28");
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("request");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = response.text().await.expect("body");
        let body = if text.is_empty() { Value::Null } else { serde_json::from_str(&text).expect("JSON body") };
        Answer { status, headers, body }
    }
}

/// The URL of a `Link` header's `rel`, if any.
fn link(answer: &Answer, rel: &str) -> Option<String> {
    let header = answer.header("link")?;
    header.split(", ").find(|part| part.ends_with(&format!("rel=\"{rel}\""))).map(|part| {
        let url = part.split(';').next().unwrap_or_default();
        url.trim().trim_start_matches('<').trim_end_matches('>').to_string()
    })
}

#[tokio::test]
async fn installations_and_installation_repositories_paginate() {
    let (fake, _) = world().await;
    for name in ["alpha", "beta", "gamma", "delta"] {
        fake.add_repo(INSTALLATION, OWNER, name, "main");
    }
    fake.add_installation(8, "other");
    fake.add_repo(8, "other", "secret", "main");
    let app = Http::app(&fake);

    let first = app.get("/app/installations?per_page=1").await;
    assert_eq!(first.status, 200, "{}", first.body);
    assert_eq!(first.body[0]["id"], INSTALLATION);
    assert_eq!(first.body[0]["account"]["login"], OWNER);
    let next = link(&first, "next").expect("a next page");
    let second = app.get(&next).await;
    assert_eq!((second.body.as_array().unwrap().len(), &second.body[0]["id"]), (1, &json!(8)));
    assert!(link(&second, "next").is_none());

    let crab = Http::installation(&fake, None).await;
    let page1 = crab.get("/installation/repositories?per_page=2").await;
    assert_eq!(page1.status, 200, "{}", page1.body);
    assert_eq!(page1.body["total_count"], 5);
    assert_eq!(page1.body["repository_selection"], "all");
    let names = |a: &Answer| -> Vec<String> {
        a.body["repositories"].as_array().unwrap().iter().map(|r| r["full_name"].as_str().unwrap().into()).collect()
    };
    assert_eq!(names(&page1), ["acme/alpha", "acme/beta"]);
    assert!(link(&page1, "last").expect("rel=last").contains("page=3"));
    let page2 = crab.get(&link(&page1, "next").expect("next")).await;
    assert_eq!(names(&page2), ["acme/delta", "acme/gamma"]);
    let page3 = crab.get(&link(&page2, "next").expect("next")).await;
    assert_eq!(names(&page3), ["acme/widgets"]);
    assert_eq!(page3.body["total_count"], 5);
    assert!(link(&page3, "next").is_none());
    assert!(link(&page3, "prev").expect("prev").contains("page=2"));

    // A token for some repositories lists only those.
    let scoped = Http::installation(&fake, Some(json!({"repositories": ["beta", "widgets"]}))).await;
    let listed = scoped.get("/installation/repositories").await;
    assert_eq!(
        (listed.body["total_count"].as_u64(), names(&listed)),
        (Some(2), vec!["acme/beta".into(), "acme/widgets".into()])
    );
    assert_eq!(listed.body["repository_selection"], "selected");

    // Each endpoint wants its own credential.
    assert_eq!(app.get("/installation/repositories").await.status, 401);
    assert_eq!(crab.get("/app/installations").await.status, 401);
    fake.assert_clean();
}

#[tokio::test]
async fn repository_flags_and_pushed_at() {
    let (fake, _) = world().await;
    let crab = Http::installation(&fake, None).await;
    let route = format!("/repos/{OWNER}/{REPO}");
    let repo = crab.get(&route).await;
    let flags = |r: &Answer| (r.body["archived"].clone(), r.body["fork"].clone(), r.body["has_issues"].clone());
    assert_eq!(flags(&repo), (json!(false), json!(false), json!(true)));
    let pushed = repo.body["pushed_at"].as_str().expect("pushed_at").to_string();

    let sha = fake.commit(OWNER, REPO, &[("README.md", "changed\n")]);
    fake.set_branch(OWNER, REPO, "main", &sha);
    let after = crab.get(&route).await;
    let pushed_after = after.body["pushed_at"].as_str().expect("pushed_at").to_string();
    assert!(pushed_after > pushed, "{pushed_after} after {pushed}");
    // Pointing a branch where it already is is no push.
    fake.set_branch(OWNER, REPO, "main", &sha);
    assert_eq!(crab.get(&route).await.body["pushed_at"], pushed_after.as_str());

    fake.set_archived(OWNER, REPO, true);
    fake.set_fork(OWNER, REPO, true);
    fake.set_has_issues(OWNER, REPO, false);
    let changed = crab.get(&route).await;
    assert_eq!(flags(&changed), (json!(true), json!(true), json!(false)));
    let listed = crab.get("/installation/repositories").await;
    assert_eq!(listed.body["repositories"][0]["archived"], true);
    // An archived repository is read-only.
    let refused = crab.send("POST", &format!("{route}/labels"), Some(json!({"name": "x"}))).await;
    assert_eq!(
        (refused.status, refused.body["message"].as_str()),
        (403, Some("Repository was archived so is read-only."))
    );
    fake.assert_clean();
}

#[tokio::test]
async fn issues_are_created_listed_closed_and_reopened() {
    let (fake, sha) = world().await;
    fake.add_pull(OWNER, REPO, 1, &sha, "feature/x", "main");
    let crab = Http::installation(&fake, None).await;
    let issues = format!("/repos/{OWNER}/{REPO}/issues");

    let created = crab
        .send(
            "POST",
            &issues,
            Some(
                json!({"title": "Shipshape: 3 checks failing", "body": "Details", "labels": ["shipshape", "tracking"]}),
            ),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let issue = &created.body;
    assert_eq!(issue["number"], 2, "numbers are shared with pull requests");
    assert_eq!(
        (issue["state"].as_str(), &issue["state_reason"], &issue["closed_at"]),
        (Some("open"), &Value::Null, &Value::Null)
    );
    assert_eq!(issue["user"]["login"], "shipshape-test[bot]");
    assert_eq!(issue["user"]["type"], "Bot");
    assert_eq!(issue["performed_via_github_app"]["slug"], "shipshape-test");
    assert_eq!(issue["labels"][1]["name"], "tracking");
    assert_eq!(issue["labels"][1]["color"], "ededed");
    assert_eq!(issue["html_url"], format!("https://github.com/{OWNER}/{REPO}/issues/2"));
    assert_eq!(issue["sub_issues_summary"], json!({"total": 0, "completed": 0, "percent_completed": 0}));
    assert_eq!(created.header("location"), issue["url"].as_str());
    assert!(issue["id"].as_u64().unwrap() != 2, "an id is not a number");
    // The labels did not exist: they were created.
    let label = crab.get(&format!("/repos/{OWNER}/{REPO}/labels/tracking")).await;
    assert_eq!((label.status, label.body["name"].as_str()), (200, Some("tracking")));
    assert_eq!(crab.get(&format!("/repos/{OWNER}/{REPO}/labels/nope")).await.status, 404);

    let by_person = fake.create_issue(OWNER, REPO, "Broken link", "See README", &["bug"], "octocat");
    assert_eq!(by_person, 3);

    // Listing: open by default, pull requests too (with `pull_request`), newest first.
    let open = crab.get(&issues).await;
    assert_eq!(open.numbers(), [3, 2, 1]);
    assert!(open.body[2]["pull_request"]["url"].as_str().unwrap().ends_with("/pulls/1"));
    assert!(open.body[1].get("pull_request").is_none());
    assert_eq!(crab.get(&format!("{issues}?labels=tracking")).await.numbers(), [2]);
    assert_eq!(crab.get(&format!("{issues}?labels=Tracking,shipshape")).await.numbers(), [2]);
    assert!(crab.get(&format!("{issues}?labels=tracking,bug")).await.numbers().is_empty());
    assert_eq!(crab.get(&format!("{issues}?creator=shipshape-test%5Bbot%5D")).await.numbers(), [2]);
    assert_eq!(crab.get(&format!("{issues}?sort=created&direction=asc")).await.numbers(), [1, 2, 3]);
    let page1 = crab.get(&format!("{issues}?per_page=2")).await;
    assert_eq!(page1.numbers(), [3, 2]);
    let page2 = crab.get(&link(&page1, "next").expect("next")).await;
    assert_eq!(page2.numbers(), [1]);

    // Close as not planned, reopen, close again (completed by default).
    let one = format!("{issues}/2");
    let closed = crab.send("PATCH", &one, Some(json!({"state": "closed", "state_reason": "not_planned"}))).await;
    assert_eq!(closed.status, 200, "{}", closed.body);
    assert_eq!(
        (closed.body["state"].as_str(), closed.body["state_reason"].as_str()),
        (Some("closed"), Some("not_planned"))
    );
    assert!(closed.body["closed_at"].is_string());
    assert_eq!(closed.body["closed_by"]["login"], "shipshape-test[bot]");
    assert_eq!(crab.get(&issues).await.numbers(), [3, 1]);
    assert_eq!(crab.get(&format!("{issues}?state=closed")).await.numbers(), [2]);
    assert_eq!(crab.get(&format!("{issues}?state=all")).await.numbers(), [3, 2, 1]);
    let reopened = crab.send("PATCH", &one, Some(json!({"state": "open"}))).await;
    assert_eq!(
        (reopened.body["state"].as_str(), reopened.body["state_reason"].as_str()),
        (Some("open"), Some("reopened"))
    );
    assert_eq!(reopened.body["closed_at"], Value::Null);
    let edit =
        json!({"title": "Shipshape: 1 check failing", "body": "Less", "labels": ["shipshape", "Tracking", "fresh"]});
    let edited = crab.send("PATCH", &one, Some(edit)).await;
    assert_eq!(edited.body["state_reason"], "reopened", "a reason only changes with the state");
    let names: Vec<&str> =
        edited.body["labels"].as_array().unwrap().iter().map(|l| l["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["shipshape", "tracking", "fresh"]);
    let closed = crab.send("PATCH", &one, Some(json!({"state": "closed"}))).await;
    assert_eq!(closed.body["state_reason"], "completed");
    let got = crab.get(&one).await;
    assert_eq!((got.status, &got.body["title"]), (200, &json!("Shipshape: 1 check failing")));
    assert_eq!(crab.get(&format!("{issues}/99")).await.status, 404);

    // The test accessors.
    let all = fake.issues(OWNER, REPO);
    assert_eq!(all.iter().map(|i| i.number).collect::<Vec<_>>(), [2, 3], "issues, not pull requests");
    let tracking = &all[0];
    assert_eq!(tracking.title, "Shipshape: 1 check failing");
    assert_eq!(tracking.body.as_deref(), Some("Less"));
    assert_eq!((tracking.state.as_str(), tracking.state_reason.as_deref()), ("closed", Some("completed")));
    assert_eq!(tracking.labels, ["shipshape", "tracking", "fresh"]);
    assert_eq!((tracking.user.as_str(), tracking.parent), ("shipshape-test[bot]", None));
    assert!(tracking.closed_at.is_some());
    assert_eq!(tracking.id, got.body["id"].as_u64().unwrap());
    assert_eq!(all[1].user, "octocat");

    // Comments on the issue.
    let comment = crab.send("POST", &format!("{one}/comments"), Some(json!({"body": "Still failing"}))).await;
    assert_eq!(comment.status, 201);
    assert_eq!(crab.get(&format!("{one}/comments")).await.body.as_array().unwrap().len(), 1);
    assert_eq!(crab.get(&one).await.body["comments"], 1);
    assert_eq!(fake.issue_comments(OWNER, REPO, 2)[0]["body"], "Still failing");

    // Titles and bodies have GitHub's limits.
    let long = crab.send("POST", &issues, Some(json!({"title": "t", "body": "x".repeat(65_537)}))).await;
    assert_eq!((long.status, long.body["errors"][0]["field"].as_str()), (422, Some("body")));
    fake.set_issue_state(OWNER, REPO, 3, "closed", Some("not_planned"));
    assert_eq!(fake.issues(OWNER, REPO)[1].state_reason.as_deref(), Some("not_planned"));
    fake.assert_clean();
}

#[tokio::test]
async fn labels_are_added_removed_and_created() {
    let (fake, _) = world().await;
    let crab = Http::installation(&fake, None).await;
    let number = fake.create_issue(OWNER, REPO, "Tracking", "", &["shipshape"], "shipshape-test[bot]");
    let labels = format!("/repos/{OWNER}/{REPO}/issues/{number}/labels");
    let names = |a: &Answer| -> Vec<String> {
        a.body.as_array().expect("labels").iter().map(|l| l["name"].as_str().unwrap().to_string()).collect()
    };

    let added = crab.send("POST", &labels, Some(json!({"labels": ["severity:high", "shipshape"]}))).await;
    assert_eq!(added.status, 200, "{}", added.body);
    assert_eq!(names(&added), ["shipshape", "severity:high"]);
    assert_eq!(crab.get(&format!("/repos/{OWNER}/{REPO}/labels/severity:high")).await.status, 200);
    let set = crab.send("PUT", &labels, Some(json!({"labels": ["only"]}))).await;
    assert_eq!(names(&set), ["only"]);
    let added = crab.send("POST", &labels, Some(json!(["shipshape"]))).await;
    assert_eq!(names(&added), ["only", "shipshape"]);

    let removed = crab.send("DELETE", &format!("{labels}/only"), None).await;
    assert_eq!((removed.status, names(&removed)), (200, vec!["shipshape".to_string()]));
    let again = crab.send("DELETE", &format!("{labels}/only"), None).await;
    assert_eq!((again.status, again.body["message"].as_str()), (404, Some("Label does not exist")));
    assert_eq!(crab.get(&labels).await.body.as_array().unwrap().len(), 1);

    let create = format!("/repos/{OWNER}/{REPO}/labels");
    let made = crab
        .send("POST", &create, Some(json!({"name": "needs triage", "color": "0E8A16", "description": "New"})))
        .await;
    assert_eq!(made.status, 201, "{}", made.body);
    assert_eq!((made.body["color"].as_str(), made.body["description"].as_str()), (Some("0e8a16"), Some("New")));
    assert!(made.body["url"].as_str().unwrap().ends_with("/labels/needs%20triage"));
    let fetched = crab.get(&format!("{create}/needs%20triage")).await;
    assert_eq!(fetched.body, made.body);
    let exists = crab.send("POST", &create, Some(json!({"name": "Shipshape", "color": "000000"}))).await;
    assert_eq!(exists.status, 422);
    assert_eq!(exists.body["message"], "Validation Failed");
    assert_eq!(exists.body["errors"], json!([{"resource": "Label", "code": "already_exists", "field": "name"}]));
    let bad = crab.send("POST", &create, Some(json!({"name": "x", "color": "#00ff00"}))).await;
    assert_eq!((bad.status, bad.body["errors"][0]["field"].as_str()), (422, Some("color")));
    let all = fake.labels(OWNER, REPO);
    assert!(all.iter().any(|(name, color, _)| name == "needs triage" && color == "0e8a16"), "{all:?}");
    fake.assert_clean();
}

#[tokio::test]
async fn issues_disabled_answer_410() {
    let (fake, sha) = world().await;
    fake.add_pull(OWNER, REPO, 1, &sha, "feature/x", "main");
    let number = fake.create_issue(OWNER, REPO, "Old", "", &[], "octocat");
    fake.set_has_issues(OWNER, REPO, false);
    let crab = Http::installation(&fake, None).await;
    let issues = format!("/repos/{OWNER}/{REPO}/issues");
    let gone = |a: &Answer| (a.status, a.body["message"].as_str().map(str::to_string));
    let expected = (410, Some("Issues are disabled for this repo".to_string()));
    assert_eq!(gone(&crab.send("POST", &issues, Some(json!({"title": "t"}))).await), expected);
    assert_eq!(gone(&crab.get(&issues).await), expected);
    assert_eq!(gone(&crab.get(&format!("{issues}/{number}")).await), expected);
    assert_eq!(
        gone(&crab.send("PATCH", &format!("{issues}/{number}"), Some(json!({"state": "closed"}))).await),
        expected
    );
    assert_eq!(gone(&crab.get(&format!("{issues}/{number}/comments")).await), expected);
    let comment = crab.send("POST", &format!("{issues}/{number}/comments"), Some(json!({"body": "b"}))).await;
    assert_eq!(gone(&comment), expected);
    // Pull requests keep their conversation.
    let on_pull = crab.send("POST", &format!("{issues}/1/comments"), Some(json!({"body": "b"}))).await;
    assert_eq!(on_pull.status, 201);
    assert!(fake.issues(OWNER, REPO).iter().all(|i| i.state == "open"));
    fake.assert_clean();
}

#[tokio::test]
async fn sub_issues_are_linked_up_to_githubs_limit() {
    let (fake, _) = world().await;
    let crab = Http::installation(&fake, None).await;
    let parent = crab.send("POST", &format!("/repos/{OWNER}/{REPO}/issues"), Some(json!({"title": "Tracking"}))).await;
    let parent = parent.body["number"].as_u64().expect("number");
    let children: Vec<u64> = (1..=101)
        .map(|i| fake.create_issue(OWNER, REPO, &format!("Check {i}"), "", &[], "shipshape-test[bot]"))
        .collect();
    let id_of = |number: u64| fake.issues(OWNER, REPO).into_iter().find(|i| i.number == number).unwrap().id;
    let sub_issues = format!("/repos/{OWNER}/{REPO}/issues/{parent}/sub_issues");

    for child in &children[..100] {
        let added = crab.send("POST", &sub_issues, Some(json!({"sub_issue_id": id_of(*child)}))).await;
        assert_eq!((added.status, added.body["number"].as_u64()), (201, Some(parent)), "{}", added.body);
    }
    let full = crab.send("POST", &sub_issues, Some(json!({"sub_issue_id": id_of(children[100])}))).await;
    assert_eq!(full.status, 422, "the 101st sub-issue");
    assert_eq!(full.body["message"], "Validation Failed");
    assert!(full.body["errors"][0]["message"].as_str().unwrap().contains("100"), "{}", full.body);
    assert_eq!(fake.sub_issues(OWNER, REPO, parent), children[..100]);

    let listed = crab.get(&format!("{sub_issues}?per_page=40")).await;
    assert_eq!(listed.numbers(), children[..40]);
    assert!(link(&listed, "last").expect("rel=last").contains("page=3"));
    let child = children[0];
    assert_eq!(listed.body[0]["parent_issue_url"], format!("{}/repos/{OWNER}/{REPO}/issues/{parent}", fake.url));
    fake.set_issue_state(OWNER, REPO, child, "closed", None);
    let summary = crab.get(&format!("/repos/{OWNER}/{REPO}/issues/{parent}")).await.body["sub_issues_summary"].clone();
    assert_eq!(summary, json!({"total": 100, "completed": 1, "percent_completed": 1}));
    let up = crab.get(&format!("/repos/{OWNER}/{REPO}/issues/{child}/parent")).await;
    assert_eq!(up.body["number"].as_u64(), Some(parent));

    // One parent per sub-issue, unless replace_parent; unknown ids are refused.
    let other = fake.create_issue(OWNER, REPO, "Other tracking", "", &[], "shipshape-test[bot]");
    let other_subs = format!("/repos/{OWNER}/{REPO}/issues/{other}/sub_issues");
    let taken = crab.send("POST", &other_subs, Some(json!({"sub_issue_id": id_of(child)}))).await;
    assert_eq!(taken.status, 422);
    let moved =
        crab.send("POST", &other_subs, Some(json!({"sub_issue_id": id_of(child), "replace_parent": true}))).await;
    assert_eq!(moved.status, 201);
    assert_eq!(fake.sub_issues(OWNER, REPO, other), [child]);
    assert_eq!(fake.sub_issues(OWNER, REPO, parent).len(), 99);
    assert_eq!(fake.issues(OWNER, REPO).iter().find(|i| i.number == child).unwrap().parent, Some(other));
    let unknown = crab.send("POST", &other_subs, Some(json!({"sub_issue_id": 1}))).await;
    assert_eq!(unknown.status, 422);
    let by_number = crab.send("POST", &other_subs, Some(json!({"sub_issue_id": children[100]}))).await;
    assert_eq!(by_number.status, 422, "sub_issue_id is an id, not a number");

    let removed = crab
        .send(
            "DELETE",
            &format!("/repos/{OWNER}/{REPO}/issues/{other}/sub_issue"),
            Some(json!({"sub_issue_id": id_of(child)})),
        )
        .await;
    assert_eq!((removed.status, removed.body["number"].as_u64()), (200, Some(other)));
    assert!(fake.sub_issues(OWNER, REPO, other).is_empty());
    assert_eq!(fake.issues(OWNER, REPO).iter().find(|i| i.number == child).unwrap().parent, None);
    let again = crab
        .send(
            "DELETE",
            &format!("/repos/{OWNER}/{REPO}/issues/{other}/sub_issue"),
            Some(json!({"sub_issue_id": id_of(child)})),
        )
        .await;
    assert_eq!(again.status, 404);
    fake.assert_clean();
}

#[tokio::test]
async fn sub_issues_unavailable_answer_404() {
    let (fake, _) = world().await;
    let parent = fake.create_issue(OWNER, REPO, "Tracking", "", &[], "shipshape-test[bot]");
    let child = fake.create_issue(OWNER, REPO, "Check", "", &[], "shipshape-test[bot]");
    let child_id = fake.issues(OWNER, REPO).iter().find(|i| i.number == child).expect("child").id;
    fake.set_sub_issues_available(OWNER, REPO, false);
    let crab = Http::installation(&fake, None).await;
    let base = format!("/repos/{OWNER}/{REPO}/issues/{parent}");
    let not_found = |a: &Answer| (a.status, a.body["message"].as_str().map(str::to_string));
    let expected = (404, Some("Not Found".to_string()));
    assert_eq!(not_found(&crab.get(&format!("{base}/sub_issues")).await), expected);
    let add = crab.send("POST", &format!("{base}/sub_issues"), Some(json!({"sub_issue_id": child_id}))).await;
    assert_eq!(not_found(&add), expected);
    let remove = crab.send("DELETE", &format!("{base}/sub_issue"), Some(json!({"sub_issue_id": child_id}))).await;
    assert_eq!(not_found(&remove), expected);
    let issue = crab.get(&base).await;
    assert_eq!(issue.status, 200);
    assert!(issue.body.get("sub_issues_summary").is_none(), "no sub-issues, no summary");
    assert!(fake.sub_issues(OWNER, REPO, parent).is_empty());
    fake.assert_clean();
}

#[tokio::test]
async fn conditional_requests_answer_304_and_do_not_count() {
    let (fake, _) = world().await;
    let number = fake.create_issue(OWNER, REPO, "Tracking", "", &[], "shipshape-test[bot]");
    let crab = Http::installation(&fake, None).await;
    let route = format!("/repos/{OWNER}/{REPO}/issues/{number}");
    let remaining = |a: &Answer| a.header("x-ratelimit-remaining").unwrap().parse::<u64>().unwrap();

    let first = crab.get(&route).await;
    let etag = first.header("etag").expect("an ETag").to_string();
    assert!(etag.starts_with("W/\"") && etag.ends_with('"'), "{etag}");
    assert_eq!(crab.get(&route).await.header("etag"), Some(etag.as_str()), "same body, same ETag");
    let before = remaining(&crab.get(&route).await);
    let cached = crab.send_with("GET", &route, None, &[("if-none-match", &etag)]).await;
    assert_eq!((cached.status, &cached.body), (304, &Value::Null));
    assert_eq!(remaining(&cached), before, "a 304 costs nothing");
    let other = crab.send_with("GET", &route, None, &[("if-none-match", "W/\"0000\"")]).await;
    assert_eq!(other.status, 200);
    assert_eq!(remaining(&other), before - 1);

    // A changed resource has a new ETag; the old one no longer matches.
    let patched = crab.send("PATCH", &route, Some(json!({"body": "changed"}))).await;
    assert_eq!(patched.status, 200);
    assert!(patched.header("etag").is_none(), "only GETs carry ETags");
    let changed = crab.send_with("GET", &route, None, &[("if-none-match", &etag)]).await;
    assert_eq!(changed.status, 200);
    let new_etag = changed.header("etag").expect("an ETag");
    assert_ne!(new_etag, etag);
    assert_eq!(crab.send_with("GET", &route, None, &[("if-none-match", new_etag)]).await.status, 304);

    // Lists and App endpoints too.
    let app = Http::app(&fake);
    let listed = app.get("/app/installations").await;
    let etag = listed.header("etag").expect("an ETag").to_string();
    assert_eq!(app.send_with("GET", "/app/installations", None, &[("if-none-match", &etag)]).await.status, 304);

    let seen = fake.requests();
    let not_modified = seen.iter().filter(|r| r.status == 304).count();
    assert_eq!(not_modified, 3);
    assert!(seen.windows(2).all(|w| w[0].at <= w[1].at), "`at` follows arrival order");
    let writes_in_last_minute =
        seen.iter().filter(|r| r.method != "GET" && r.at.elapsed() < std::time::Duration::from_secs(60)).count();
    assert_eq!(writes_in_last_minute, 2, "minting the token and the PATCH");
    fake.assert_clean();
}

#[tokio::test]
async fn fake_slack_accepts_checks_and_fails_on_demand() {
    use crate::fake_slack::FakeSlack;
    let slack = FakeSlack::start().await;
    assert!(slack.url.ends_with("/services/T000/B000/XXXX"), "{}", slack.url);
    let client = reqwest::Client::new();
    let post = |body: String, content_type: &'static str| {
        let request = client.post(&slack.url).header("content-type", content_type).body(body);
        async move {
            let response = request.send().await.expect("POST");
            let status = response.status().as_u16();
            let retry = response.headers().get("retry-after").map(|v| v.to_str().unwrap().to_string());
            let content_type = response.headers()["content-type"].to_str().unwrap().to_string();
            (status, response.text().await.unwrap(), retry, content_type)
        }
    };
    let json = "application/json";

    let (status, text, _, content_type) = post(json!({"text": "Sweep finished"}).to_string(), json).await;
    assert_eq!((status, text.as_str()), (200, "ok"));
    assert!(content_type.starts_with("text/plain"), "{content_type}");
    let blocks = json!({"text": "fallback", "blocks": [
        {"type": "header", "text": {"type": "plain_text", "text": "Shipshape"}},
        {"type": "section", "text": {"type": "mrkdwn", "text": "*3* repositories failing"}},
        {"type": "divider"}
    ]});
    assert_eq!(post(blocks.to_string(), json).await.0, 200);
    assert_eq!(post("not json".into(), json).await.1, "invalid_payload");
    assert_eq!(post("{}".into(), json).await.1, "invalid_payload");
    let unknown = json!({"blocks": [{"type": "table"}]});
    assert_eq!(
        post(unknown.to_string(), json).await,
        (400, "invalid_blocks".into(), None, "text/plain; charset=utf-8".into())
    );
    let long = json!({"blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "x".repeat(3001)}}]});
    assert_eq!(post(long.to_string(), json).await.1, "invalid_blocks");
    let header = json!({"blocks": [{"type": "header", "text": {"type": "plain_text", "text": "h".repeat(151)}}]});
    assert_eq!(post(header.to_string(), json).await.1, "invalid_blocks");
    let many: Vec<Value> = (0..51).map(|_| json!({"type": "divider"})).collect();
    assert_eq!(post(json!({"text": "t", "blocks": many}).to_string(), json).await.1, "invalid_blocks");

    slack.fail_next(429);
    slack.fail_next(500);
    let limited = post(json!({"text": "retry me"}).to_string(), json).await;
    assert_eq!((limited.0, limited.2.as_deref()), (429, Some("1")));
    assert_eq!(post(json!({"text": "retry me"}).to_string(), json).await.0, 500);
    assert_eq!(post(json!({"text": "retry me"}).to_string(), json).await.0, 200);
    // Slack also takes a form with the JSON in `payload`.
    let form = "payload=%7B%22text%22%3A%22from+a+form%22%7D".to_string();
    assert_eq!(post(form, "application/x-www-form-urlencoded").await.0, 200);

    let elsewhere = client.post(slack.url.replace("XXXX", "YYYY")).body("{}").send().await.unwrap();
    assert_eq!(elsewhere.status().as_u16(), 404);

    let texts: Vec<Value> = slack.messages().iter().map(|m| m["text"].clone()).collect();
    assert_eq!(texts, [json!("Sweep finished"), json!("fallback"), json!("retry me"), json!("from a form")]);
    let statuses: Vec<u16> = slack.requests().iter().map(|r| r.status).collect();
    assert_eq!(statuses, [200, 200, 400, 400, 400, 400, 400, 400, 429, 500, 200, 200]);
    assert!(slack.requests()[8].injected);
}

// ---------------------------------------------------------------------------------------------------------------
// Comment commands and catalog pull requests: collaborator permissions, comments by people and reactions to them,
// git data writes and pull requests.

#[tokio::test]
async fn collaborator_permissions_map_roles_like_github() {
    let (fake, _) = world().await;
    for (login, role) in
        [("Alice", "admin"), ("bob", "maintain"), ("carol", "write"), ("dave", "triage"), ("erin", "read")]
    {
        fake.set_permission(OWNER, REPO, login, role);
    }
    let crab = Http::installation(&fake, None).await;
    let crab = &crab;
    let ask = |login: &str| {
        let path = format!("/repos/{OWNER}/{REPO}/collaborators/{login}/permission");
        async move { crab.get(&path).await }
    };
    let expected = [
        ("alice", "admin", "admin", [true, true, true, true, true]),
        ("bob", "write", "maintain", [false, true, true, true, true]),
        ("carol", "write", "write", [false, false, true, true, true]),
        ("dave", "read", "triage", [false, false, false, true, true]),
        ("erin", "read", "read", [false, false, false, false, true]),
        ("mallory", "none", "none", [false; 5]),
    ];
    for (login, permission, role, flags) in expected {
        let answer = ask(login).await;
        assert_eq!(answer.status, 200, "{}", answer.body);
        let body = &answer.body;
        assert_eq!(
            (body["permission"].as_str(), body["role_name"].as_str()),
            (Some(permission), Some(role)),
            "{login}"
        );
        assert_eq!(body["user"]["role_name"], role);
        let have: Vec<bool> = ["admin", "maintain", "push", "triage", "pull"]
            .iter()
            .map(|k| body["user"]["permissions"][k].as_bool().unwrap())
            .collect();
        assert_eq!(have, flags, "{login}");
    }
    // Logins are case-insensitive; the answer spells the login as it was set.
    let alice = ask("ALICE").await;
    assert_eq!(
        (alice.body["permission"].as_str(), alice.body["user"]["login"].as_str()),
        (Some("admin"), Some("Alice"))
    );
    assert_eq!(alice.body["user"]["type"], "User");
    fake.set_permission(OWNER, REPO, "alice", "none");
    assert_eq!(ask("alice").await.body["permission"], "none");
    // Another installation's repository is not reachable.
    assert_eq!(crab.get("/repos/other/secret/collaborators/alice/permission").await.status, 404);
    fake.assert_clean();
}

#[tokio::test]
async fn people_comment_and_the_app_reacts_once_per_content() {
    let (fake, _) = world().await;
    let number = fake.create_issue(OWNER, REPO, "Catalog change", "", &[], "octocat");
    fake.set_permission(OWNER, REPO, "alice", "write");
    let comment_id = fake.add_user_comment(OWNER, REPO, number, "alice", "/shipshape except payments");
    let crab = Http::installation(&fake, None).await;
    let posted = crab
        .send("POST", &format!("/repos/{OWNER}/{REPO}/issues/{number}/comments"), Some(json!({"body": "On it"})))
        .await;
    assert_eq!(posted.status, 201);

    // The person's comment is listed with the App's, with its author.
    let comments = fake.issue_comments(OWNER, REPO, number);
    assert_eq!(comments.len(), 2);
    assert_eq!(comments[0]["id"], comment_id);
    assert_eq!(
        (comments[0]["user"]["login"].as_str(), comments[0]["user"]["type"].as_str()),
        (Some("alice"), Some("User"))
    );
    assert_eq!(comments[0]["performed_via_github_app"], Value::Null);
    assert_eq!(comments[0]["author_association"], "MEMBER");
    assert_eq!(comments[1]["user"]["login"], "shipshape-test[bot]");
    let listed = crab.get(&format!("/repos/{OWNER}/{REPO}/issues/{number}/comments")).await;
    assert_eq!(listed.body[0]["body"], "/shipshape except payments");
    let one = crab.get(&format!("/repos/{OWNER}/{REPO}/issues/comments/{comment_id}")).await;
    assert_eq!((one.status, one.body["user"]["login"].as_str()), (200, Some("alice")));

    // 201 for a new reaction, 200 with the same one when the App already reacted so.
    let reactions = format!("/repos/{OWNER}/{REPO}/issues/comments/{comment_id}/reactions");
    let eyes = crab.send("POST", &reactions, Some(json!({"content": "eyes"}))).await;
    assert_eq!(eyes.status, 201, "{}", eyes.body);
    assert_eq!(
        (eyes.body["content"].as_str(), eyes.body["user"]["login"].as_str()),
        (Some("eyes"), Some("shipshape-test[bot]"))
    );
    let again = crab.send("POST", &reactions, Some(json!({"content": "eyes"}))).await;
    assert_eq!((again.status, &again.body["id"]), (200, &eyes.body["id"]));
    // octocrab's typed call reads the reaction.
    let octo = installation_client(&fake).await;
    let plus_one = octo
        .issues(OWNER, REPO)
        .create_comment_reaction(comment_id, octocrab::models::reactions::ReactionContent::PlusOne)
        .await
        .expect("reaction");
    assert_eq!(plus_one.content, octocrab::models::reactions::ReactionContent::PlusOne);
    assert_eq!(fake.comment_reactions(OWNER, REPO, comment_id), ["eyes", "+1"]);

    let all = crab.get(&reactions).await;
    assert_eq!(all.body.as_array().map(Vec::len), Some(2));
    let only_eyes = crab.get(&format!("{reactions}?content=eyes")).await;
    assert_eq!(only_eyes.body.as_array().map(Vec::len), Some(1));
    let page1 = crab.get(&format!("{reactions}?per_page=1")).await;
    assert_eq!(page1.body[0]["content"], "eyes");
    let page2 = crab.get(&link(&page1, "next").expect("a next page")).await;
    assert_eq!(page2.body[0]["content"], "+1");

    // An unknown comment (or one of another repository) is 404.
    let missing = format!("/repos/{OWNER}/{REPO}/issues/comments/999999/reactions");
    assert_eq!(crab.send("POST", &missing, Some(json!({"content": "eyes"}))).await.status, 404);
    assert_eq!(crab.get(&missing).await.status, 404);
    assert_eq!(crab.get(&format!("/repos/{OWNER}/{REPO}/issues/comments/999999")).await.status, 404);
    assert!(fake.comment_reactions(OWNER, REPO, 999_999).is_empty());
    fake.assert_clean();

    // A reaction GitHub does not have is refused, and is a violation of the description.
    let odd = crab.send("POST", &reactions, Some(json!({"content": "thumbsup"}))).await;
    assert_eq!(odd.status, 422);
    let violations = fake.take_violations();
    assert_eq!(violations.len(), 1, "{violations:?}");
    assert!(violations[0].contains("body.content"), "{violations:?}");
}

/// The `tree` of a `GET .../git/trees/{sha}?recursive=1` answer as `(path, type)`.
async fn tree_paths(crab: &Http, sha: &str) -> Vec<(String, String)> {
    let tree = crab.get(&format!("/repos/{OWNER}/{REPO}/git/trees/{sha}?recursive=1")).await;
    assert_eq!(tree.status, 200, "{}", tree.body);
    tree.body["tree"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["path"].as_str().unwrap().to_string(), e["type"].as_str().unwrap().to_string()))
        .collect()
}

#[tokio::test]
async fn git_data_writes_build_a_commit_on_a_new_branch() {
    let (fake, main) = world().await;
    let crab = Http::installation(&fake, None).await;
    let git = format!("/repos/{OWNER}/{REPO}/git");

    // Blobs, in both encodings, with their real ids.
    let blob =
        crab.send("POST", &format!("{git}/blobs"), Some(json!({"content": "hello\n", "encoding": "utf-8"}))).await;
    assert_eq!(blob.status, 201, "{}", blob.body);
    // `printf 'hello\n' | git hash-object --stdin`
    assert_eq!(blob.body["sha"], "ce013625030ba8dba906f756967f9e9ca394464a");
    assert_eq!(blob.header("location"), blob.body["url"].as_str());
    let encoded = BASE64_STANDARD.encode("owner: team-payments\n");
    let b64 = crab.send("POST", &format!("{git}/blobs"), Some(json!({"content": encoded, "encoding": "base64"}))).await;
    assert_eq!(b64.status, 201);
    let owner_blob = b64.body["sha"].as_str().unwrap().to_string();
    let read = crab.get(&format!("{git}/blobs/{owner_blob}")).await;
    let decoded = BASE64_STANDARD.decode(read.body["content"].as_str().unwrap().replace('\n', "")).unwrap();
    assert_eq!(decoded, b"owner: team-payments\n");
    let bad = crab.send("POST", &format!("{git}/blobs"), Some(json!({"content": "x", "encoding": "latin1"}))).await;
    assert_eq!((bad.status, bad.body["message"].as_str()), (422, Some("Validation Failed")));

    // A tree over main's: a nested new file (intermediate trees appear), a blob by sha, a deletion.
    let base_tree = crab.get(&format!("{git}/trees/{main}")).await.body["sha"].as_str().unwrap().to_string();
    let items = json!([
        {"path": "exceptions/payments/oncall.yaml", "mode": "100644", "type": "blob", "content": "until: 2030-01-01\n"},
        {"path": "owners/payments.yaml", "mode": "100644", "type": "blob", "sha": owner_blob},
        {"path": "README.md", "mode": "100644", "type": "blob", "sha": null}
    ]);
    let tree = crab.send("POST", &format!("{git}/trees"), Some(json!({"base_tree": base_tree, "tree": items}))).await;
    assert_eq!(tree.status, 201, "{}", tree.body);
    let new_tree = tree.body["sha"].as_str().unwrap().to_string();
    let top: Vec<&str> = tree.body["tree"].as_array().unwrap().iter().map(|e| e["path"].as_str().unwrap()).collect();
    assert_eq!(top, [".github", "docs", "exceptions", "owners"], "one level, README.md gone");
    let paths = tree_paths(&crab, &new_tree).await;
    assert!(paths.contains(&("exceptions/payments".into(), "tree".into())), "{paths:?}");
    assert!(paths.contains(&("exceptions/payments/oncall.yaml".into(), "blob".into())), "{paths:?}");
    assert!(paths.contains(&("docs/long.md".into(), "blob".into())), "the base tree's files stay");
    assert!(!paths.iter().any(|(p, _)| p == "README.md"));
    // Without base_tree, only the items; deleting a whole directory works too.
    let only = json!({"tree": [{"path": "a/b.txt", "mode": "100755", "type": "blob", "content": "x"}]});
    let only = crab.send("POST", &format!("{git}/trees"), Some(only)).await;
    assert_eq!(
        tree_paths(&crab, only.body["sha"].as_str().unwrap()).await,
        [("a".into(), "tree".into()), ("a/b.txt".into(), "blob".into())]
    );
    let no_docs =
        json!({"base_tree": new_tree, "tree": [{"path": "docs", "mode": "040000", "type": "tree", "sha": null}]});
    let no_docs = crab.send("POST", &format!("{git}/trees"), Some(no_docs)).await;
    assert!(!tree_paths(&crab, no_docs.body["sha"].as_str().unwrap()).await.iter().any(|(p, _)| p.starts_with("docs")));

    // Tree errors: unknown base_tree, unknown blob, deleting what is not there, both sha and content.
    let trees = format!("{git}/trees");
    let refused = |body: Value| crab.send("POST", &trees, Some(body));
    let unknown_base = refused(json!({"base_tree": "0".repeat(40), "tree": []})).await;
    assert_eq!(
        (unknown_base.status, unknown_base.body["message"].as_str()),
        (422, Some("base_tree is not a valid tree oid"))
    );
    let unknown_blob =
        refused(json!({"tree": [{"path": "x", "mode": "100644", "type": "blob", "sha": "1".repeat(40)}]})).await;
    assert_eq!(unknown_blob.status, 422);
    assert!(unknown_blob.body["message"].as_str().unwrap().ends_with("is not a valid blob"), "{}", unknown_blob.body);
    let not_there = refused(
        json!({"base_tree": base_tree, "tree": [{"path": "nope.md", "mode": "100644", "type": "blob", "sha": null}]}),
    )
    .await;
    assert_eq!(not_there.status, 422);
    let both =
        refused(json!({"tree": [{"path": "x", "mode": "100644", "type": "blob", "sha": owner_blob, "content": "y"}]}))
            .await;
    assert_eq!(both.status, 422);
    let malformed =
        refused(json!({"tree": [{"path": "a//b", "mode": "100644", "type": "blob", "content": "y"}]})).await;
    assert_eq!(malformed.status, 422);

    // A commit on main, with a real id, readable as a git commit and as a commit with its changes.
    let author = json!({"name": "Shipshape", "email": "shipshape@example.com", "date": "2030-01-01T12:00:00+02:00"});
    let body =
        json!({"message": "Add an exception for payments", "tree": new_tree, "parents": [main], "author": author});
    let commit = crab.send("POST", &format!("{git}/commits"), Some(body)).await;
    assert_eq!(commit.status, 201, "{}", commit.body);
    let sha = commit.body["sha"].as_str().unwrap().to_string();
    assert_eq!(sha.len(), 40);
    assert_eq!(commit.body["parents"][0]["sha"], main.as_str());
    assert_eq!(commit.body["tree"]["sha"], new_tree.as_str());
    assert_eq!(commit.body["author"]["date"], "2030-01-01T10:00:00Z");
    assert_eq!(commit.body["committer"]["name"], "Shipshape", "the committer defaults to the author");
    assert_eq!(commit.header("location"), commit.body["url"].as_str());
    let again = crab.get(&format!("{git}/commits/{sha}")).await;
    assert_eq!((again.status, &again.body["message"]), (200, &json!("Add an exception for payments")));
    let full = crab.get(&format!("/repos/{OWNER}/{REPO}/commits/{sha}")).await;
    assert_eq!(full.body["parents"][0]["sha"], main.as_str());
    let files: Vec<(&str, &str)> = full.body["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["filename"].as_str().unwrap(), f["status"].as_str().unwrap()))
        .collect();
    assert_eq!(
        files,
        [("README.md", "removed"), ("exceptions/payments/oncall.yaml", "added"), ("owners/payments.yaml", "added")]
    );
    // Without an author: the App's bot.
    let plain = crab
        .send("POST", &format!("{git}/commits"), Some(json!({"message": "m", "tree": new_tree, "parents": [sha]})))
        .await;
    assert_eq!(plain.body["author"]["name"], "shipshape-test[bot]");
    let unknown_tree =
        crab.send("POST", &format!("{git}/commits"), Some(json!({"message": "m", "tree": "2".repeat(40)}))).await;
    assert_eq!((unknown_tree.status, unknown_tree.body["message"].as_str()), (422, Some("Tree SHA does not exist")));
    let unknown_parent = crab
        .send(
            "POST",
            &format!("{git}/commits"),
            Some(json!({"message": "m", "tree": new_tree, "parents": ["3".repeat(40)]})),
        )
        .await;
    assert_eq!(unknown_parent.status, 422);

    // References: create, refuse a duplicate and bad names, move forward, refuse to move back unless forced, delete.
    let branch = "shipshape/exception-payments";
    let created = crab
        .send("POST", &format!("{git}/refs"), Some(json!({"ref": format!("refs/heads/{branch}"), "sha": main})))
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    assert_eq!(created.body["ref"], format!("refs/heads/{branch}"));
    assert_eq!(created.body["object"]["sha"], main.as_str());
    let duplicate = crab
        .send("POST", &format!("{git}/refs"), Some(json!({"ref": format!("refs/heads/{branch}"), "sha": sha})))
        .await;
    assert_eq!((duplicate.status, duplicate.body["message"].as_str()), (422, Some("Reference already exists")));
    for name in ["heads/x", "refs/x", "refs/heads/a..b"] {
        let bad = crab.send("POST", &format!("{git}/refs"), Some(json!({"ref": name, "sha": main}))).await;
        assert_eq!(bad.status, 422, "{name}");
    }
    let no_object =
        crab.send("POST", &format!("{git}/refs"), Some(json!({"ref": "refs/heads/y", "sha": "4".repeat(40)}))).await;
    assert_eq!((no_object.status, no_object.body["message"].as_str()), (422, Some("Object does not exist")));

    let reference = format!("{git}/refs/heads/{branch}");
    let forward = crab.send("PATCH", &reference, Some(json!({"sha": sha}))).await;
    assert_eq!((forward.status, &forward.body["object"]["sha"]), (200, &json!(sha)));
    let read_ref = crab.get(&format!("{git}/ref/heads/{branch}")).await;
    assert_eq!(read_ref.body["object"]["sha"], sha.as_str());
    assert_eq!(
        fake.file_at(OWNER, REPO, branch, "exceptions/payments/oncall.yaml").as_deref(),
        Some("until: 2030-01-01\n")
    );
    assert_eq!(fake.file_at(OWNER, REPO, &sha, "README.md"), None);
    assert_eq!(fake.file_at(OWNER, REPO, "main", "README.md").as_deref(), Some("hello\n"));
    assert_eq!(fake.file_at(OWNER, REPO, &sha[..7], "owners/payments.yaml").as_deref(), Some("owner: team-payments\n"));
    assert_eq!(fake.file_at(OWNER, REPO, "nope", "README.md"), None);
    let tree_of_branch = tree_paths(&crab, &branch.replace('/', "%2F")).await;
    assert!(tree_of_branch.contains(&("owners/payments.yaml".into(), "blob".into())));
    let commit_of_branch = crab.get(&format!("/repos/{OWNER}/{REPO}/commits/{branch}")).await;
    assert_eq!(commit_of_branch.body["sha"], sha.as_str());
    let back = crab.send("PATCH", &reference, Some(json!({"sha": main}))).await;
    assert_eq!((back.status, back.body["message"].as_str()), (422, Some("Update is not a fast forward")));
    let forced = crab.send("PATCH", &reference, Some(json!({"sha": main, "force": true}))).await;
    assert_eq!(forced.status, 200);
    let missing = crab.send("PATCH", &format!("{git}/refs/heads/missing"), Some(json!({"sha": main}))).await;
    assert_eq!((missing.status, missing.body["message"].as_str()), (422, Some("Reference does not exist")));
    assert_eq!(fake.branches(OWNER, REPO), [("main".to_string(), main.clone()), (branch.to_string(), main.clone())]);
    let deleted = crab.send("DELETE", &reference, None).await;
    assert_eq!((deleted.status, &deleted.body), (204, &Value::Null));
    let twice = crab.send("DELETE", &reference, None).await;
    assert_eq!((twice.status, twice.body["message"].as_str()), (422, Some("Reference does not exist")));
    assert_eq!(crab.get(&format!("{git}/ref/heads/{branch}")).await.status, 404);
    assert_eq!(
        crab.send("DELETE", &format!("{git}/refs/heads/main"), None).await.status,
        422,
        "the default branch stays"
    );
    // Tags live beside branches.
    let tag = crab.send("POST", &format!("{git}/refs"), Some(json!({"ref": "refs/tags/v1", "sha": sha}))).await;
    assert_eq!(tag.status, 201);
    assert_eq!(crab.get(&format!("{git}/ref/tags/v1")).await.body["object"]["sha"], sha.as_str());
    assert_eq!(fake.branches(OWNER, REPO).len(), 1);

    // Writes into a repository without branches: 409, as GitHub answers.
    fake.add_repo(INSTALLATION, OWNER, "empty", "main");
    let empty = crab.send("POST", &format!("/repos/{OWNER}/empty/git/blobs"), Some(json!({"content": "x"}))).await;
    assert_eq!((empty.status, empty.body["message"].as_str()), (409, Some("Git Repository is empty.")));
    fake.assert_clean();
}

/// Creates `branch` from `from` with one commit changing `files` (`None`: delete); returns the commit's sha.
async fn commit_on_branch(
    crab: &Http,
    branch: &str,
    from: &str,
    files: &[(&str, Option<&str>)],
    create: bool,
) -> String {
    let git = format!("/repos/{OWNER}/{REPO}/git");
    let base_tree = crab.get(&format!("{git}/commits/{from}")).await.body["tree"]["sha"].as_str().unwrap().to_string();
    let items: Vec<Value> = files
        .iter()
        .map(|(path, content)| match content {
            Some(text) => json!({"path": path, "mode": "100644", "type": "blob", "content": text}),
            None => json!({"path": path, "mode": "100644", "type": "blob", "sha": null}),
        })
        .collect();
    let tree = crab.send("POST", &format!("{git}/trees"), Some(json!({"base_tree": base_tree, "tree": items}))).await;
    assert_eq!(tree.status, 201, "{}", tree.body);
    let body = json!({"message": format!("Change {branch}"), "tree": tree.body["sha"], "parents": [from]});
    let commit = crab.send("POST", &format!("{git}/commits"), Some(body)).await;
    let sha = commit.body["sha"].as_str().unwrap().to_string();
    let answer = if create {
        crab.send("POST", &format!("{git}/refs"), Some(json!({"ref": format!("refs/heads/{branch}"), "sha": sha})))
            .await
    } else {
        crab.send("PATCH", &format!("{git}/refs/heads/{branch}"), Some(json!({"sha": sha}))).await
    };
    assert!(answer.status == 201 || answer.status == 200, "{}", answer.body);
    sha
}

#[tokio::test]
async fn pull_requests_are_opened_listed_merged_and_closed() {
    let (fake, main) = world().await;
    let issue = fake.create_issue(OWNER, REPO, "An issue first", "", &[], "octocat");
    let crab = Http::installation(&fake, None).await;
    let pulls = format!("/repos/{OWNER}/{REPO}/pulls");
    let head =
        commit_on_branch(&crab, "shipshape/catalog", &main, &[("catalog/payments.yaml", Some("tier: 1\n"))], true)
            .await;

    let opened = crab
        .send(
            "POST",
            &pulls,
            Some(json!({"title": "Catalog: payments is tier 1", "head": "shipshape/catalog", "base": "main",
                        "body": "Requested by @alice", "maintainer_can_modify": false})),
        )
        .await;
    assert_eq!(opened.status, 201, "{}", opened.body);
    let pr = &opened.body;
    let number = pr["number"].as_u64().unwrap();
    assert_eq!(number, issue + 1, "numbers are shared with issues");
    assert_eq!(pr["html_url"], format!("https://github.com/{OWNER}/{REPO}/pull/{number}"));
    assert_eq!(
        (pr["state"].as_str(), &pr["merged"], &pr["merge_commit_sha"]),
        (Some("open"), &json!(false), &Value::Null)
    );
    assert_eq!(
        (pr["body"].as_str(), pr["title"].as_str()),
        (Some("Requested by @alice"), Some("Catalog: payments is tier 1"))
    );
    assert_eq!(pr["user"]["login"], "shipshape-test[bot]");
    assert_eq!(
        (pr["head"]["ref"].as_str(), pr["head"]["sha"].as_str()),
        (Some("shipshape/catalog"), Some(head.as_str()))
    );
    assert_eq!((pr["base"]["ref"].as_str(), pr["base"]["sha"].as_str()), (Some("main"), Some(main.as_str())));
    assert_eq!((&pr["commits"], &pr["changed_files"], &pr["additions"]), (&json!(1), &json!(1), &json!(1)));
    assert_eq!(opened.header("location"), pr["url"].as_str());

    // It is an issue too: comments work on it.
    let comment = crab
        .send("POST", &format!("/repos/{OWNER}/{REPO}/issues/{number}/comments"), Some(json!({"body": "Opened"})))
        .await;
    assert_eq!(comment.status, 201);
    assert!(comment.body["html_url"].as_str().unwrap().contains(&format!("/pull/{number}#issuecomment-")));
    let as_issue = crab.get(&format!("/repos/{OWNER}/{REPO}/issues/{number}")).await;
    assert_eq!(
        (as_issue.body["title"].as_str(), &as_issue.body["comments"]),
        (Some("Catalog: payments is tier 1"), &json!(1))
    );

    // GitHub's validation errors.
    let open =
        |head: &str, base: &str| crab.send("POST", &pulls, Some(json!({"title": "t", "head": head, "base": base})));
    let no_head = open("missing", "main").await;
    assert_eq!(no_head.status, 422);
    assert_eq!(no_head.body["errors"], json!([{"resource": "PullRequest", "field": "head", "code": "invalid"}]));
    let no_base = open("shipshape/catalog", "missing").await;
    assert_eq!(no_base.body["errors"], json!([{"resource": "PullRequest", "field": "base", "code": "invalid"}]));
    let duplicate = open(&format!("{OWNER}:shipshape/catalog"), "main").await;
    assert_eq!(duplicate.status, 422);
    assert_eq!(
        duplicate.body["errors"][0]["message"],
        format!("A pull request already exists for {OWNER}:shipshape/catalog.")
    );
    let same = crab
        .send("POST", &format!("/repos/{OWNER}/{REPO}/git/refs"), Some(json!({"ref": "refs/heads/same", "sha": main})))
        .await;
    assert_eq!(same.status, 201);
    let nothing = open("same", "main").await;
    assert_eq!(
        (nothing.status, nothing.body["errors"][0]["message"].as_str()),
        (422, Some("No commits between main and same"))
    );
    let untitled = crab.send("POST", &pulls, Some(json!({"head": "shipshape/catalog", "base": "main"}))).await;
    assert_eq!(untitled.status, 422);

    // Reading: one, and lists filtered by state, head and base.
    let got = crab.get(&format!("{pulls}/{number}")).await;
    assert_eq!((got.status, got.body["body"].as_str()), (200, Some("Requested by @alice")));
    assert_eq!((&got.body["merged"], &got.body["merged_at"]), (&json!(false), &Value::Null));
    assert_eq!(got.body["_links"]["html"]["href"], format!("https://github.com/{OWNER}/{REPO}/pull/{number}"));
    let octo = installation_client(&fake).await;
    let typed = octo.pulls(OWNER, REPO).get(number).await.expect("typed pull request");
    assert_eq!(typed.body.as_deref(), Some("Requested by @alice"));
    let numbers = |a: &Answer| a.numbers();
    assert_eq!(numbers(&crab.get(&format!("{pulls}?head={OWNER}:shipshape/catalog&base=main")).await), [number]);
    assert!(numbers(&crab.get(&format!("{pulls}?head={OWNER}:other")).await).is_empty());
    assert!(numbers(&crab.get(&format!("{pulls}?base=develop")).await).is_empty());
    assert!(numbers(&crab.get(&format!("{pulls}?state=closed")).await).is_empty());
    assert_eq!(crab.get(&pulls).await.body[0]["body"], "Requested by @alice");

    // Main moves on (another file changes): the merge keeps both changes, file by file.
    let moved = commit_on_branch(&crab, "main", &main, &[("README.md", Some("hello again\n"))], false).await;
    let fakes = fake.pulls(OWNER, REPO);
    assert_eq!(fakes.len(), 1);
    assert_eq!((fakes[0].head_sha.as_str(), fakes[0].base_sha.as_str()), (head.as_str(), moved.as_str()));
    assert_eq!((fakes[0].user.as_str(), fakes[0].body.as_str()), ("shipshape-test[bot]", "Requested by @alice"));
    let merge = fake.merge_pull(OWNER, REPO, number);
    assert_eq!(fake.file_at(OWNER, REPO, "main", "catalog/payments.yaml").as_deref(), Some("tier: 1\n"));
    assert_eq!(fake.file_at(OWNER, REPO, "main", "README.md").as_deref(), Some("hello again\n"));
    assert_eq!(fake.file_at(OWNER, REPO, &merge, "docs/long.md"), fake.file_at(OWNER, REPO, &main, "docs/long.md"));
    let merge_commit = crab.get(&format!("/repos/{OWNER}/{REPO}/git/commits/{merge}")).await;
    let parents: Vec<&str> =
        merge_commit.body["parents"].as_array().unwrap().iter().map(|p| p["sha"].as_str().unwrap()).collect();
    assert_eq!(parents, [moved.as_str(), head.as_str()]);
    assert!(
        merge_commit.body["message"]
            .as_str()
            .unwrap()
            .starts_with(&format!("Merge pull request #{number} from {OWNER}/shipshape/catalog"))
    );
    assert!(fake.branches(OWNER, REPO).contains(&("main".to_string(), merge.clone())));
    let merged = crab.get(&format!("{pulls}/{number}")).await;
    assert_eq!((merged.body["state"].as_str(), &merged.body["merged"]), (Some("closed"), &json!(true)));
    assert_eq!(merged.body["merge_commit_sha"], merge.as_str());
    assert!(merged.body["merged_at"].is_string() && merged.body["closed_at"].is_string());
    assert_eq!(merged.body["merged_by"]["login"], "octocat");
    assert_eq!(merged.body["base"]["sha"], moved.as_str(), "the base as it was when merged");
    let pulled = &fake.pulls(OWNER, REPO)[0];
    assert_eq!(
        (pulled.state.as_str(), pulled.merged, pulled.merge_commit_sha.as_deref()),
        ("closed", true, Some(merge.as_str()))
    );
    assert_eq!(numbers(&crab.get(&format!("{pulls}?state=closed")).await), [number]);
    assert!(numbers(&crab.get(&pulls).await).is_empty());
    let as_issue = crab.get(&format!("/repos/{OWNER}/{REPO}/issues/{number}")).await;
    assert_eq!(as_issue.body["state"], "closed");
    assert!(as_issue.body["pull_request"]["merged_at"].is_string());

    // When the base did not move, the merge's tree is the head's.
    let second = commit_on_branch(&crab, "shipshape/second", &merge, &[("README.md", None)], true).await;
    let again =
        crab.send("POST", &pulls, Some(json!({"title": "Second", "head": "shipshape/second", "base": "main"}))).await;
    assert_eq!(again.status, 201, "{}", again.body);
    let second_number = again.body["number"].as_u64().unwrap();
    let second_merge = fake.merge_pull(OWNER, REPO, second_number);
    let tree_of = |sha: String| {
        let crab = &crab;
        async move { crab.get(&format!("/repos/{OWNER}/{REPO}/git/commits/{sha}")).await.body["tree"]["sha"].clone() }
    };
    assert_eq!(tree_of(second_merge).await, tree_of(second).await);
    assert_eq!(fake.file_at(OWNER, REPO, "main", "README.md"), None);

    // Closing without merging; pushing to the head branch moves an open pull request's head; deleting the head branch
    // closes the pull request.
    let third = commit_on_branch(&crab, "shipshape/third", &main, &[("c.txt", Some("c\n"))], true).await;
    let third_pr = crab
        .send("POST", &pulls, Some(json!({"title": "Third", "head": "shipshape/third", "base": "main", "draft": true})))
        .await;
    let third_number = third_pr.body["number"].as_u64().unwrap();
    assert_eq!(third_pr.body["draft"], true);
    fake.close_pull(OWNER, REPO, third_number);
    let closed = fake.pulls(OWNER, REPO).into_iter().find(|p| p.number == third_number).unwrap();
    assert_eq!((closed.state.as_str(), closed.merged, closed.head_sha.as_str()), ("closed", false, third.as_str()));
    let fourth_head = commit_on_branch(&crab, "shipshape/fourth", &main, &[("d.txt", Some("d\n"))], true).await;
    let fourth =
        crab.send("POST", &pulls, Some(json!({"title": "Fourth", "head": "shipshape/fourth", "base": "main"}))).await;
    let fourth_number = fourth.body["number"].as_u64().unwrap();
    let pushed = commit_on_branch(&crab, "shipshape/fourth", &fourth_head, &[("d.txt", Some("dd\n"))], false).await;
    assert_eq!(crab.get(&format!("{pulls}/{fourth_number}")).await.body["head"]["sha"], pushed.as_str());
    assert_eq!(
        crab.send("DELETE", &format!("/repos/{OWNER}/{REPO}/git/refs/heads/shipshape/fourth"), None).await.status,
        204
    );
    assert_eq!(crab.get(&format!("{pulls}/{fourth_number}")).await.body["state"], "closed");
    assert!(numbers(&crab.get(&pulls).await).is_empty());
    let all = crab.get(&format!("{pulls}?state=all")).await;
    assert_eq!(numbers(&all), [fourth_number, third_number, second_number, number]);
    fake.assert_clean();
}
