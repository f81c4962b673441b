//! Issues, labels and sub-issues. Issues and pull requests share one number sequence per repository and every pull
//! request is an issue too (listed with a `pull_request` key), as on GitHub. A repository with `has_issues` false
//! answers 410 "Issues are disabled for this repo" for its issues; one without sub-issues
//! ([`FakeGitHub::set_sub_issues_available`]) answers 404 on every sub-issue endpoint.

use serde_json::{Value, json};

use super::handlers::{
    Handled, app_json, bot_json, id_param, node_id, paginate, rebase, repo_access, user_json, with_link,
};
use super::*;

/// GitHub's limit of sub-issues per parent.
pub(crate) const MAX_SUB_ISSUES: usize = 100;
/// GitHub's limits on an issue's (or comment's) body and an issue's title, in characters.
pub(crate) const MAX_BODY: usize = 65_536;
const MAX_TITLE: usize = 256;

pub(crate) fn route(w: &mut World, ctx: &Ctx<'_>) -> Option<Reply> {
    let handled = match (ctx.method, ctx.template) {
        ("POST", "/repos/{owner}/{repo}/issues") => create_issue(w, ctx),
        ("GET", "/repos/{owner}/{repo}/issues") => list_issues(w, ctx),
        ("GET", "/repos/{owner}/{repo}/issues/{issue_number}") => get_issue(w, ctx),
        ("PATCH", "/repos/{owner}/{repo}/issues/{issue_number}") => update_issue(w, ctx),
        ("GET", "/repos/{owner}/{repo}/issues/{issue_number}/labels") => list_issue_labels(w, ctx),
        ("POST", "/repos/{owner}/{repo}/issues/{issue_number}/labels") => add_labels(w, ctx, false),
        ("PUT", "/repos/{owner}/{repo}/issues/{issue_number}/labels") => add_labels(w, ctx, true),
        ("DELETE", "/repos/{owner}/{repo}/issues/{issue_number}/labels/{name}") => remove_label(w, ctx),
        ("GET", "/repos/{owner}/{repo}/labels") => list_labels(w, ctx),
        ("POST", "/repos/{owner}/{repo}/labels") => create_label(w, ctx),
        ("GET", "/repos/{owner}/{repo}/labels/{name}") => get_label(w, ctx),
        ("GET", "/repos/{owner}/{repo}/issues/{issue_number}/sub_issues") => list_sub_issues(w, ctx),
        ("POST", "/repos/{owner}/{repo}/issues/{issue_number}/sub_issues") => add_sub_issue(w, ctx),
        ("DELETE", "/repos/{owner}/{repo}/issues/{issue_number}/sub_issue") => remove_sub_issue(w, ctx),
        ("GET", "/repos/{owner}/{repo}/issues/{issue_number}/parent") => get_parent(w, ctx),
        _ => return None,
    };
    Some(handled.unwrap_or_else(|reply| reply))
}

// ---------------------------------------------------------------------------------------------------------------
// Lookups and errors

fn issues_disabled() -> Reply {
    Reply::error(410, "Issues are disabled for this repo")
}

/// GitHub's 422 "Validation Failed" with one entry in `errors`.
pub(crate) fn validation_failed(resource: &str, field: &str, code: &str, message: Option<&str>) -> Reply {
    let mut error = json!({"resource": resource, "code": code, "field": field});
    if let Some(message) = message {
        error["message"] = json!(message);
    }
    Reply::json(
        422,
        json!({"message": "Validation Failed", "errors": [error], "documentation_url": DOCS, "status": "422"}),
    )
}

/// The number of the request's `{issue_number}`: a pull request's always; an issue's only while the repository has
/// issues (410 otherwise); 404 when there is neither.
pub(crate) fn find_issue(w: &World, ctx: &Ctx<'_>, key: &(String, String)) -> Result<u64, Reply> {
    let number = id_param(ctx, "issue_number")?;
    let repo = &w.repos[key];
    match repo.issues.get(&number) {
        Some(issue) if issue.pull => Ok(number),
        _ if !repo.has_issues => Err(issues_disabled()),
        Some(_) => Ok(number),
        None => Err(Reply::error(404, "Not Found")),
    }
}

/// `open` or `closed`; a pull request's state is its pull's.
pub(crate) fn current_state<'a>(repo: &'a Repo, issue: &'a Issue) -> &'a str {
    match repo.pulls.get(&issue.number) {
        Some(pull) if issue.pull => &pull.state,
        _ => &issue.state,
    }
}

fn sub_issues_gate(w: &World, key: &(String, String)) -> Result<(), Reply> {
    if w.repos[key].sub_issues_available { Ok(()) } else { Err(Reply::error(404, "Not Found")) }
}

/// Who is writing: every repository endpoint is called with an installation token, so the App's bot.
pub(crate) fn caller_login() -> String {
    format!("{APP_SLUG}[bot]")
}

pub(crate) fn check_lengths(resource: &str, title: Option<&str>, body: Option<&str>) -> Result<(), Reply> {
    if let Some(title) = title
        && title.chars().count() > MAX_TITLE
    {
        let message = format!("title is too long (maximum is {MAX_TITLE} characters)");
        return Err(validation_failed(resource, "title", "custom", Some(&message)));
    }
    if let Some(body) = body
        && body.chars().count() > MAX_BODY
    {
        let message = format!("body is too long (maximum is {MAX_BODY} characters)");
        return Err(validation_failed(resource, "body", "custom", Some(&message)));
    }
    Ok(())
}

/// Label names from a request: strings or `{"name": ...}` objects.
fn label_names(items: &Value) -> Vec<String> {
    let names = match items {
        Value::String(s) => vec![s.clone()],
        Value::Array(items) => items
            .iter()
            .filter_map(|l| match l {
                Value::String(s) => Some(s.clone()),
                Value::Object(o) => o.get("name").and_then(Value::as_str).map(str::to_string),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    };
    names.into_iter().map(|n| n.trim().to_string()).filter(|n| !n.is_empty()).collect()
}

/// Creates the labels the repository lacks (GitHub does so for callers with push access) and returns the names as
/// the repository spells them, without duplicates.
fn ensure_labels(w: &mut World, key: &(String, String), names: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for name in names {
        let name = w.ensure_label(key, name);
        if !out.iter().any(|n| n.eq_ignore_ascii_case(&name)) {
            out.push(name);
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------------------------
// JSON shapes

fn encode_path_segment(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A user by login: the App's bot, `octocat` (id 1) or a person with an id derived from the login.
pub(crate) fn login_json(base: &str, login: &str) -> Value {
    if login == caller_login() {
        return bot_json(base);
    }
    let id = if login.eq_ignore_ascii_case("octocat") {
        1
    } else {
        let digest = Sha256::digest(login.to_lowercase().as_bytes());
        1_000_000 + u64::from(u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]]) % 10_000_000)
    };
    user_json(base, login, id, "User")
}

fn label_json(base: &str, repo: &Repo, name: &str) -> Value {
    let full_name = format!("{}/{}", repo.owner, repo.name);
    let (id, name, color, description) = match repo.labels.get(&name.to_lowercase()) {
        Some(l) => (l.id, l.name.clone(), l.color.clone(), l.description.clone()),
        None => (0, name.to_string(), "ededed".to_string(), None),
    };
    json!({
        "id": id, "node_id": node_id("Label", id),
        "url": format!("{base}/repos/{full_name}/labels/{}", encode_path_segment(&name)),
        "name": name, "description": description, "color": color, "default": false
    })
}

pub(crate) fn labels_json(base: &str, repo: &Repo, names: &[String]) -> Vec<Value> {
    names.iter().map(|n| label_json(base, repo, n)).collect()
}

fn sub_issues_summary(repo: &Repo, issue: &Issue) -> Value {
    let total = issue.sub_issues.len();
    let completed = issue
        .sub_issues
        .iter()
        .filter_map(|n| repo.issues.get(n))
        .filter(|i| current_state(repo, i) == "closed")
        .count();
    let percent = (completed * 100).checked_div(total).unwrap_or(0);
    json!({"total": total, "completed": completed, "percent_completed": percent})
}

/// An `issue` (also a pull request's issue, with its `pull_request` key).
pub(crate) fn issue_json(w: &World, base: &str, repo: &Repo, issue: &Issue) -> Value {
    let full_name = format!("{}/{}", repo.owner, repo.name);
    let api = format!("{base}/repos/{full_name}");
    let n = issue.number;
    let kind = if issue.pull { "pull" } else { "issues" };
    let key = repo_key(&repo.owner, &repo.name);
    let comments = w.comments.values().filter(|c| c.repo == key && c.issue_number == n).count();
    let bot = issue.user == caller_login();
    let mut v = rebase(Spec::global().example("issue"), base, &full_name);
    v["id"] = json!(issue.id);
    v["node_id"] = json!(node_id(if issue.pull { "PullRequest" } else { "Issue" }, issue.id));
    v["url"] = json!(format!("{api}/issues/{n}"));
    v["repository_url"] = json!(api);
    v["labels_url"] = json!(format!("{api}/issues/{n}/labels{{/name}}"));
    v["comments_url"] = json!(format!("{api}/issues/{n}/comments"));
    v["events_url"] = json!(format!("{api}/issues/{n}/events"));
    v["timeline_url"] = json!(format!("{api}/issues/{n}/timeline"));
    v["html_url"] = json!(format!("https://github.com/{full_name}/{kind}/{n}"));
    v["number"] = json!(n);
    v["state"] = json!(current_state(repo, issue));
    v["state_reason"] = json!(issue.state_reason);
    v["title"] = json!(issue.title);
    v["body"] = json!(issue.body);
    v["user"] = login_json(base, &issue.user);
    v["labels"] = Value::Array(labels_json(base, repo, &issue.labels));
    let assignees: Vec<Value> = issue.assignees.iter().map(|a| login_json(base, a)).collect();
    v["assignee"] = assignees.first().cloned().unwrap_or(Value::Null);
    v["assignees"] = Value::Array(assignees);
    v["milestone"] = Value::Null;
    v["locked"] = json!(false);
    v["active_lock_reason"] = Value::Null;
    v["comments"] = json!(comments);
    v["created_at"] = json!(timestamp(issue.created_at));
    v["updated_at"] = json!(timestamp(issue.updated_at));
    v["closed_at"] = json!(issue.closed_at.map(timestamp));
    v["closed_by"] = issue.closed_by.as_deref().map(|l| login_json(base, l)).unwrap_or(Value::Null);
    v["author_association"] = json!(if bot { "NONE" } else { "MEMBER" });
    v["performed_via_github_app"] = if bot { app_json(w, base) } else { Value::Null };
    let map = v.as_object_mut().expect("issue example is an object");
    if issue.pull {
        let pull = repo.pulls.get(&n);
        map.insert(
            "pull_request".into(),
            json!({
                "url": format!("{api}/pulls/{n}"), "html_url": format!("https://github.com/{full_name}/pull/{n}"),
                "diff_url": format!("https://github.com/{full_name}/pull/{n}.diff"),
                "patch_url": format!("https://github.com/{full_name}/pull/{n}.patch"),
                "merged_at": pull.and_then(|p| p.merged_at).map(timestamp)
            }),
        );
        map.insert("draft".into(), json!(pull.is_some_and(|p| p.draft)));
    } else {
        map.remove("pull_request");
    }
    if repo.sub_issues_available {
        map.insert("sub_issues_summary".into(), sub_issues_summary(repo, issue));
        let parent = issue.parent.map(|p| format!("{api}/issues/{p}"));
        map.insert("parent_issue_url".into(), json!(parent));
    } else {
        map.remove("sub_issues_summary");
        map.remove("parent_issue_url");
    }
    v
}

fn issue_reply(w: &World, ctx: &Ctx<'_>, key: &(String, String), number: u64, status: u16) -> Reply {
    let repo = &w.repos[key];
    Reply::json(status, issue_json(w, ctx.base, repo, &repo.issues[&number]))
}

// ---------------------------------------------------------------------------------------------------------------
// Issues

fn create_issue(w: &mut World, ctx: &Ctx<'_>) -> Handled {
    let key = repo_access(w, ctx)?;
    if !w.repos[&key].has_issues {
        return Err(issues_disabled());
    }
    let body = ctx.body.cloned().unwrap_or_default();
    let title = match &body["title"] {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        _ => String::new(),
    };
    if title.trim().is_empty() {
        return Err(validation_failed("Issue", "title", "missing_field", None));
    }
    let text = body["body"].as_str().map(str::to_string);
    check_lengths("Issue", Some(&title), text.as_deref())?;
    let labels = ensure_labels(w, &key, &label_names(&body["labels"]));
    let mut assignees: Vec<String> =
        body["assignees"].as_array().into_iter().flatten().filter_map(Value::as_str).map(str::to_string).collect();
    if let Some(a) = body["assignee"].as_str()
        && !assignees.iter().any(|x| x == a)
    {
        assignees.insert(0, a.to_string());
    }
    let id = w.id();
    let repo = w.repos.get_mut(&key).expect("repository");
    let number = repo.next_number();
    let mut issue = Issue::new(id, number, &title, text, &caller_login());
    issue.labels = labels;
    issue.assignees = assignees;
    repo.issues.insert(number, issue);
    let reply = issue_reply(w, ctx, &key, number, 201);
    let location = reply.body.as_ref().and_then(|b| b["url"].as_str()).unwrap_or_default().to_string();
    Ok(reply.header("location", location))
}

fn list_issues(w: &mut World, ctx: &Ctx<'_>) -> Handled {
    let key = repo_access(w, ctx)?;
    let repo = &w.repos[&key];
    if !repo.has_issues {
        return Err(issues_disabled());
    }
    let state = ctx.query("state").unwrap_or("open");
    let wanted_labels: Vec<String> = ctx
        .query("labels")
        .map(|l| l.split(',').map(|s| s.trim().to_lowercase()).filter(|s| !s.is_empty()).collect())
        .unwrap_or_default();
    let since = ctx.query("since").and_then(|s| DateTime::parse_from_rfc3339(s).ok());
    let comments = |n: u64| w.comments.values().filter(|c| c.repo == key && c.issue_number == n).count();
    let mut selected: Vec<&Issue> = repo
        .issues
        .values()
        .filter(|i| state == "all" || current_state(repo, i) == state)
        .filter(|i| wanted_labels.iter().all(|l| i.labels.iter().any(|have| have.to_lowercase() == *l)))
        .filter(|i| ctx.query("creator").is_none_or(|c| c.eq_ignore_ascii_case(&i.user)))
        .filter(|i| match ctx.query("assignee") {
            None => true,
            Some("none") => i.assignees.is_empty(),
            Some("*") => !i.assignees.is_empty(),
            Some(login) => i.assignees.iter().any(|a| a.eq_ignore_ascii_case(login)),
        })
        // No milestones in the fake: `none` (or no filter) keeps every issue, anything else none.
        .filter(|_| ctx.query("milestone").is_none_or(|m| m == "none"))
        .filter(|i| since.is_none_or(|s| i.updated_at >= s))
        .collect();
    match ctx.query("sort").unwrap_or("created") {
        "updated" => selected.sort_by_key(|i| (i.updated_at, i.number)),
        "comments" => selected.sort_by_key(|i| (comments(i.number), i.number)),
        _ => selected.sort_by_key(|i| (i.created_at, i.number)),
    }
    if ctx.query("direction").unwrap_or("desc") == "desc" {
        selected.reverse();
    }
    let items: Vec<Value> = selected.iter().map(|i| issue_json(w, ctx.base, repo, i)).collect();
    let (page, link) = paginate(ctx, items);
    Ok(with_link(Reply::json(200, Value::Array(page)), link))
}

fn get_issue(w: &mut World, ctx: &Ctx<'_>) -> Handled {
    let key = repo_access(w, ctx)?;
    let number = find_issue(w, ctx, &key)?;
    Ok(issue_reply(w, ctx, &key, number, 200))
}

fn update_issue(w: &mut World, ctx: &Ctx<'_>) -> Handled {
    let key = repo_access(w, ctx)?;
    let number = find_issue(w, ctx, &key)?;
    let body = ctx.body.cloned().unwrap_or_else(|| json!({}));
    let title = match &body["title"] {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    };
    if title.as_deref().is_some_and(|t| t.trim().is_empty()) {
        return Err(validation_failed("Issue", "title", "missing_field", None));
    }
    check_lengths("Issue", title.as_deref(), body["body"].as_str())?;
    let labels = match body.get("labels") {
        Some(l) if l.is_array() => Some(ensure_labels(w, &key, &label_names(l))),
        _ => None,
    };
    let repo = w.repos.get_mut(&key).expect("repository");
    let issue = repo.issues.get_mut(&number).expect("issue");
    if let Some(title) = title {
        issue.title = title;
    }
    match body.get("body") {
        Some(Value::String(s)) => issue.body = Some(s.clone()),
        Some(Value::Null) => issue.body = None,
        _ => {}
    }
    if let Some(labels) = labels {
        issue.labels = labels;
    }
    if let Some(assignees) = body.get("assignees").and_then(Value::as_array) {
        issue.assignees =
            assignees.iter().filter_map(|a| a.as_str().or_else(|| a["login"].as_str())).map(str::to_string).collect();
    }
    if let Some(state) = body.get("state").and_then(Value::as_str) {
        let reason = body.get("state_reason").and_then(Value::as_str);
        if repo.pulls.contains_key(&number) {
            repo.set_pull_state(number, state, reason, &caller_login());
        } else {
            issue.set_state(state, reason, &caller_login());
        }
    }
    repo.issues.get_mut(&number).expect("issue").updated_at = now();
    Ok(issue_reply(w, ctx, &key, number, 200))
}

// ---------------------------------------------------------------------------------------------------------------
// Labels

fn labels_reply(w: &World, ctx: &Ctx<'_>, key: &(String, String), number: u64) -> Reply {
    let repo = &w.repos[key];
    Reply::json(200, Value::Array(labels_json(ctx.base, repo, &repo.issues[&number].labels)))
}

fn list_issue_labels(w: &mut World, ctx: &Ctx<'_>) -> Handled {
    let key = repo_access(w, ctx)?;
    let number = find_issue(w, ctx, &key)?;
    let repo = &w.repos[&key];
    let (page, link) = paginate(ctx, labels_json(ctx.base, repo, &repo.issues[&number].labels));
    Ok(with_link(Reply::json(200, Value::Array(page)), link))
}

/// `POST` adds to the issue's labels, `PUT` (`replace`) sets them; missing repository labels are created. Answers
/// the issue's labels.
fn add_labels(w: &mut World, ctx: &Ctx<'_>, replace: bool) -> Handled {
    let key = repo_access(w, ctx)?;
    let number = find_issue(w, ctx, &key)?;
    let body = ctx.body.cloned().unwrap_or(Value::Null);
    let items = match &body {
        Value::Object(o) => o.get("labels").cloned().unwrap_or(Value::Null),
        other => other.clone(),
    };
    let names = ensure_labels(w, &key, &label_names(&items));
    let issue = w.repos.get_mut(&key).and_then(|r| r.issues.get_mut(&number)).expect("issue");
    if replace {
        issue.labels.clear();
    }
    for name in names {
        if !issue.labels.iter().any(|l| l.eq_ignore_ascii_case(&name)) {
            issue.labels.push(name);
        }
    }
    issue.updated_at = now();
    Ok(labels_reply(w, ctx, &key, number))
}

fn remove_label(w: &mut World, ctx: &Ctx<'_>) -> Handled {
    let key = repo_access(w, ctx)?;
    let number = find_issue(w, ctx, &key)?;
    let name = ctx.param("name").to_string();
    let issue = w.repos.get_mut(&key).and_then(|r| r.issues.get_mut(&number)).expect("issue");
    let Some(at) = issue.labels.iter().position(|l| l.eq_ignore_ascii_case(&name)) else {
        return Err(Reply::error(404, "Label does not exist"));
    };
    issue.labels.remove(at);
    issue.updated_at = now();
    Ok(labels_reply(w, ctx, &key, number))
}

fn list_labels(w: &mut World, ctx: &Ctx<'_>) -> Handled {
    let key = repo_access(w, ctx)?;
    let repo = &w.repos[&key];
    let items: Vec<Value> = repo.labels.values().map(|l| label_json(ctx.base, repo, &l.name)).collect();
    let (page, link) = paginate(ctx, items);
    Ok(with_link(Reply::json(200, Value::Array(page)), link))
}

fn get_label(w: &mut World, ctx: &Ctx<'_>) -> Handled {
    let key = repo_access(w, ctx)?;
    let repo = &w.repos[&key];
    match repo.labels.get(&ctx.param("name").to_lowercase()) {
        Some(label) => Ok(Reply::json(200, label_json(ctx.base, repo, &label.name))),
        None => Err(Reply::error(404, "Not Found")),
    }
}

fn create_label(w: &mut World, ctx: &Ctx<'_>) -> Handled {
    let key = repo_access(w, ctx)?;
    let body = ctx.body.cloned().unwrap_or_default();
    let name = body["name"].as_str().unwrap_or_default().trim().to_string();
    if name.is_empty() {
        return Err(validation_failed("Label", "name", "missing_field", None));
    }
    if w.repos[&key].labels.contains_key(&name.to_lowercase()) {
        return Err(validation_failed("Label", "name", "already_exists", None));
    }
    let color = body["color"].as_str().unwrap_or("ededed").to_string();
    if color.len() != 6 || !color.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(validation_failed("Label", "color", "invalid", None));
    }
    let description = body["description"].as_str().map(str::to_string);
    if description.as_ref().is_some_and(|d| d.chars().count() > 100) {
        let message = "description is too long (maximum is 100 characters)";
        return Err(validation_failed("Label", "description", "custom", Some(message)));
    }
    let id = w.id();
    let label = Label { id, name: name.clone(), color: color.to_lowercase(), description };
    w.repos.get_mut(&key).expect("repository").labels.insert(name.to_lowercase(), label);
    let v = label_json(ctx.base, &w.repos[&key], &name);
    let location = v["url"].as_str().unwrap_or_default().to_string();
    Ok(Reply::json(201, v).header("location", location))
}

// ---------------------------------------------------------------------------------------------------------------
// Sub-issues

fn list_sub_issues(w: &mut World, ctx: &Ctx<'_>) -> Handled {
    let key = repo_access(w, ctx)?;
    sub_issues_gate(w, &key)?;
    let number = find_issue(w, ctx, &key)?;
    let repo = &w.repos[&key];
    let items: Vec<Value> = repo.issues[&number]
        .sub_issues
        .iter()
        .filter_map(|n| repo.issues.get(n))
        .map(|i| issue_json(w, ctx.base, repo, i))
        .collect();
    let (page, link) = paginate(ctx, items);
    Ok(with_link(Reply::json(200, Value::Array(page)), link))
}

fn sub_issue_error(message: &str) -> Reply {
    validation_failed("Issue", "sub_issue_id", "custom", Some(message))
}

/// The number of the issue (not pull request) whose id is the body's `sub_issue_id`.
fn sub_issue_number(w: &World, ctx: &Ctx<'_>, key: &(String, String)) -> Option<u64> {
    let id = ctx.body.and_then(|b| b["sub_issue_id"].as_u64())?;
    w.repos[key].issues.values().find(|i| i.id == id && !i.pull).map(|i| i.number)
}

fn add_sub_issue(w: &mut World, ctx: &Ctx<'_>) -> Handled {
    let key = repo_access(w, ctx)?;
    sub_issues_gate(w, &key)?;
    let parent = find_issue(w, ctx, &key)?;
    let replace_parent = ctx.body.and_then(|b| b["replace_parent"].as_bool()).unwrap_or(false);
    let child = sub_issue_number(w, ctx, &key).ok_or_else(|| sub_issue_error("Sub issue does not exist"))?;
    let repo = &w.repos[&key];
    if repo.issues[&parent].pull {
        return Err(Reply::error(404, "Not Found"));
    }
    if child == parent {
        return Err(sub_issue_error("Sub issue cannot be its own parent"));
    }
    let mut ancestor = repo.issues[&parent].parent;
    while let Some(a) = ancestor {
        if a == child {
            return Err(sub_issue_error("Sub issue cannot be an ancestor of its parent"));
        }
        ancestor = repo.issues.get(&a).and_then(|i| i.parent);
    }
    let old_parent = repo.issues[&child].parent;
    if old_parent == Some(parent) {
        return Err(sub_issue_error("Issue may not contain duplicate sub-issues"));
    }
    if old_parent.is_some() && !replace_parent {
        return Err(sub_issue_error("Sub issue may only have one parent"));
    }
    if repo.issues[&parent].sub_issues.len() >= MAX_SUB_ISSUES {
        return Err(sub_issue_error(&format!("Parent cannot have more than {MAX_SUB_ISSUES} sub-issues")));
    }
    let at = now();
    let repo = w.repos.get_mut(&key).expect("repository");
    if let Some(old) = old_parent.and_then(|p| repo.issues.get_mut(&p)) {
        old.sub_issues.retain(|n| *n != child);
        old.updated_at = at;
    }
    let p = repo.issues.get_mut(&parent).expect("parent");
    p.sub_issues.push(child);
    p.updated_at = at;
    let c = repo.issues.get_mut(&child).expect("child");
    c.parent = Some(parent);
    c.updated_at = at;
    Ok(issue_reply(w, ctx, &key, parent, 201))
}

fn remove_sub_issue(w: &mut World, ctx: &Ctx<'_>) -> Handled {
    let key = repo_access(w, ctx)?;
    sub_issues_gate(w, &key)?;
    let parent = find_issue(w, ctx, &key)?;
    let child = sub_issue_number(w, ctx, &key).ok_or_else(|| Reply::error(404, "Not Found"))?;
    let at = now();
    let repo = w.repos.get_mut(&key).expect("repository");
    if repo.issues[&child].parent != Some(parent) {
        return Err(Reply::error(404, "Not Found"));
    }
    let p = repo.issues.get_mut(&parent).expect("parent");
    p.sub_issues.retain(|n| *n != child);
    p.updated_at = at;
    let c = repo.issues.get_mut(&child).expect("child");
    c.parent = None;
    c.updated_at = at;
    Ok(issue_reply(w, ctx, &key, parent, 200))
}

fn get_parent(w: &mut World, ctx: &Ctx<'_>) -> Handled {
    let key = repo_access(w, ctx)?;
    sub_issues_gate(w, &key)?;
    let number = find_issue(w, ctx, &key)?;
    let parent = w.repos[&key].issues[&number].parent.ok_or_else(|| Reply::error(404, "Not Found"))?;
    Ok(issue_reply(w, ctx, &key, parent, 200))
}
