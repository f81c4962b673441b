//! GitHub's OpenAPI description (the subset in `shared/fixtures/github-openapi/`): finding the operation of a request
//! by method and path template, and checking query parameters, request bodies and the fake's own responses against it
//! with a validator for the JSON Schema subset the document uses.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::OnceLock;

use serde_json::Value;

const FILE: &str = "api.github.com.subset.json";

/// Path parameters whose value may span several path segments (`heads/main`, `feature/x`, `docs/a.md`).
const SPANNING_PARAMS: &[&str] = &["ref", "branch", "path", "basehead"];

pub struct Spec {
    doc: Value,
    ops: Vec<Operation>,
}

pub struct Operation {
    /// Upper case, e.g. `GET`.
    pub method: String,
    /// As written in the document, e.g. `/repos/{owner}/{repo}/git/trees/{tree_sha}`.
    pub template: String,
    segments: Vec<Segment>,
}

enum Segment {
    Literal(String),
    Param(String),
}

/// A request path resolved to an operation.
pub struct RouteMatch<'a> {
    pub op: &'a Operation,
    /// Path parameters, percent-decoded.
    pub params: BTreeMap<String, String>,
}

/// Where the description lives: `$SHIPSHAPE_FIXTURES/github-openapi/` or `shared/fixtures/github-openapi/` beside the
/// crate.
pub fn spec_path() -> PathBuf {
    let dir = match std::env::var_os("SHIPSHAPE_FIXTURES") {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/fixtures"),
    };
    dir.join("github-openapi").join(FILE)
}

impl Spec {
    /// The description, parsed once per test binary. Panics when it is missing: the fake cannot check anything
    /// without it (and in CI, `CI=true`, a missing fixture must never pass silently).
    pub fn global() -> &'static Spec {
        static SPEC: OnceLock<Spec> = OnceLock::new();
        SPEC.get_or_init(|| {
            let path = spec_path();
            let text = match std::fs::read_to_string(&path) {
                Ok(text) => text,
                Err(err) => {
                    let ci = std::env::var("CI").is_ok_and(|v| v == "true");
                    panic!(
                        "fake GitHub: cannot read GitHub's OpenAPI description {} ({err}){}. Set SHIPSHAPE_FIXTURES to \
                         the folder holding github-openapi/{FILE}; the fake cannot work without it.",
                        path.display(),
                        if ci { " in CI" } else { "" }
                    )
                }
            };
            let doc = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            Spec::from_document(doc)
        })
    }

    pub fn from_document(doc: Value) -> Spec {
        let mut ops = Vec::new();
        if let Some(paths) = doc["paths"].as_object() {
            for (template, item) in paths {
                let Some(item) = item.as_object() else { continue };
                for method in item.keys() {
                    if !["get", "put", "post", "delete", "options", "head", "patch", "trace"].contains(&method.as_str())
                    {
                        continue;
                    }
                    let segments = template
                        .trim_start_matches('/')
                        .split('/')
                        .map(|s| match s.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                            Some(name) => Segment::Param(name.to_string()),
                            None => Segment::Literal(s.to_string()),
                        })
                        .collect();
                    ops.push(Operation { method: method.to_uppercase(), template: template.clone(), segments });
                }
            }
        }
        Spec { doc, ops }
    }

    pub fn document(&self) -> &Value {
        &self.doc
    }

    /// The operation object (`paths[template][method]`).
    pub fn operation(&self, op: &Operation) -> &Value {
        &self.doc["paths"][&op.template][op.method.to_lowercase()]
    }

    /// A named example from `components/examples`, e.g. `check-run`.
    pub fn example(&self, name: &str) -> Value {
        let v = &self.doc["components"]["examples"][name]["value"];
        assert!(!v.is_null(), "no example {name:?} in the OpenAPI description");
        v.clone()
    }

    /// Finds the operation for `method` and a concrete `path` (no query). Prefers the template matching the most
    /// literal segments; a parameter in [`SPANNING_PARAMS`] may take several segments when nothing else matches.
    pub fn find(&self, method: &str, path: &str) -> Option<RouteMatch<'_>> {
        let segs: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        if segs.iter().any(|s| s.is_empty()) {
            return None;
        }
        let mut best: Option<((usize, std::cmp::Reverse<usize>), RouteMatch<'_>)> = None;
        for op in self.ops.iter().filter(|op| op.method.eq_ignore_ascii_case(method)) {
            let mut params = BTreeMap::new();
            let Some(extra) = match_segments(&op.segments, &segs, &mut params) else { continue };
            let literals = op.segments.iter().filter(|s| matches!(s, Segment::Literal(_))).count();
            let score = (literals, std::cmp::Reverse(extra));
            if best.as_ref().is_none_or(|(b, _)| score > *b) {
                best = Some((score, RouteMatch { op, params }));
            }
        }
        best.map(|(_, m)| m)
    }

    /// Whether the description has this operation (`template` as written there, e.g. `/repos/{owner}/{repo}`).
    pub fn has_operation(&self, method: &str, template: &str) -> bool {
        self.ops.iter().any(|op| op.method.eq_ignore_ascii_case(method) && op.template == template)
    }

    /// Follows `$ref`s (`#/components/...`) to the schema (or parameter, response) they name.
    pub fn resolve<'a>(&'a self, mut v: &'a Value) -> &'a Value {
        for _ in 0..32 {
            let Some(r) = v.get("$ref").and_then(Value::as_str) else { return v };
            let pointer = r.strip_prefix('#').unwrap_or_else(|| panic!("external $ref {r} not supported"));
            v = self.doc.pointer(pointer).unwrap_or_else(|| panic!("unresolved $ref {r}"));
        }
        panic!("$ref chain too long")
    }

    fn parameters(&self, m: &RouteMatch<'_>) -> Vec<&Value> {
        let item = &self.doc["paths"][&m.op.template];
        let op = self.operation(m.op);
        let mut out: Vec<&Value> = Vec::new();
        for list in [&item["parameters"], &op["parameters"]] {
            for p in list.as_array().into_iter().flatten() {
                let p = self.resolve(p);
                // Operation-level parameters override path-item-level ones of the same name and location.
                out.retain(|q| !(q["name"] == p["name"] && q["in"] == p["in"]));
                out.push(p);
            }
        }
        out
    }

    /// Checks path and query parameters and the JSON body of a request. Returns the problems found, each a
    /// sentence without the `METHOD template: ` prefix.
    pub fn check_request(&self, m: &RouteMatch<'_>, query: &[(String, String)], body: Option<&Value>) -> Vec<String> {
        let mut errs = self.check_query(m, query);
        errs.extend(self.check_body(m, body));
        errs
    }

    /// Path and query parameters: types, enums, required and undeclared query parameters.
    pub fn check_query(&self, m: &RouteMatch<'_>, query: &[(String, String)]) -> Vec<String> {
        let mut errs = Vec::new();
        let params = self.parameters(m);
        for p in &params {
            let (Some(name), Some(location)) = (p["name"].as_str(), p["in"].as_str()) else { continue };
            let schema = self.resolve(&p["schema"]);
            match location {
                "path" => {
                    if let Some(value) = m.params.get(name) {
                        self.check_text_param(&format!("path parameter {name}"), schema, value, &mut errs);
                    }
                }
                "query" => {
                    let values: Vec<&String> = query.iter().filter(|(k, _)| k == name).map(|(_, v)| v).collect();
                    if values.is_empty() && p["required"] == Value::Bool(true) {
                        errs.push(format!("query parameter {name} is required"));
                    }
                    for value in values {
                        self.check_text_param(&format!("query parameter {name}"), schema, value, &mut errs);
                    }
                }
                _ => {}
            }
        }
        for (k, _) in query {
            if !params.iter().any(|p| p["in"] == "query" && p["name"].as_str() == Some(k)) {
                errs.push(format!("query parameter {k} is not declared"));
            }
        }
        errs
    }

    /// The JSON request body against the operation's `requestBody`.
    pub fn check_body(&self, m: &RouteMatch<'_>, body: Option<&Value>) -> Vec<String> {
        let mut errs = Vec::new();
        let op = self.operation(m.op);
        let request_body = self.resolve(&op["requestBody"]);
        match (request_body.is_null(), body) {
            (true, Some(_)) => errs.push("the operation takes no request body, but one was sent".into()),
            (false, None) if request_body["required"] == Value::Bool(true) => {
                errs.push("request body is required".into())
            }
            (false, Some(body)) => match request_body["content"].get("application/json") {
                Some(media) => self.validate(&media["schema"], body, "body", &mut errs),
                None => errs.push("the operation takes no JSON request body".into()),
            },
            _ => {}
        }
        errs
    }

    fn check_text_param(&self, what: &str, schema: &Value, value: &str, errs: &mut Vec<String>) {
        if schema.get("oneOf").is_some() || schema.get("anyOf").is_some() {
            return;
        }
        let parsed = match schema["type"].as_str() {
            Some("integer") => match value.parse::<i64>() {
                Ok(n) => Value::from(n),
                Err(_) => return errs.push(format!("{what}: {value:?} is not an integer")),
            },
            Some("number") => match value.parse::<f64>() {
                Ok(n) => Value::from(n),
                Err(_) => return errs.push(format!("{what}: {value:?} is not a number")),
            },
            Some("boolean") => match value {
                "true" => Value::Bool(true),
                "false" => Value::Bool(false),
                _ => return errs.push(format!("{what}: {value:?} is not a boolean")),
            },
            Some("array") => return,
            _ => Value::String(value.to_string()),
        };
        self.validate(schema, &parsed, what, errs);
    }

    /// Checks a response the fake is about to send against the operation's declared response (when the status is
    /// declared with a JSON schema). A 2xx status the operation does not declare is a problem too.
    pub fn check_response(&self, m: &RouteMatch<'_>, status: u16, body: Option<&Value>) -> Vec<String> {
        let mut errs = Vec::new();
        let op = self.operation(m.op);
        let response = &op["responses"][status.to_string()];
        if response.is_null() {
            if (200..300).contains(&status) {
                errs.push(format!("response status {status} is not declared"));
            }
            return errs;
        }
        let response = self.resolve(response);
        if let (Some(media), Some(body)) = (response["content"].get("application/json"), body)
            && media.get("schema").is_some()
        {
            self.validate(&media["schema"], body, "response", &mut errs);
        }
        errs
    }

    /// Validates `value` against `schema`, pushing `<json path>: <reason>` for each problem.
    pub fn validate(&self, schema: &Value, value: &Value, at: &str, errs: &mut Vec<String>) {
        let schema = self.resolve(schema);
        let Some(s) = schema.as_object() else { return };
        if value.is_null() && s.get("nullable") == Some(&Value::Bool(true)) {
            return;
        }
        if let Some(t) = s.get("type") {
            let types: Vec<&str> = match t {
                Value::String(t) => vec![t.as_str()],
                Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
                _ => vec![],
            };
            if !types.is_empty() && !types.iter().any(|t| type_matches(t, value)) {
                errs.push(format!("{at}: expected {}, got {}", types.join(" or "), describe(value)));
                return;
            }
        }
        if let Some(Value::Array(allowed)) = s.get("enum")
            && !allowed.contains(value)
        {
            let list: Vec<String> =
                allowed.iter().map(|v| v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string())).collect();
            errs.push(format!("{at}: {value} not one of {}", list.join(", ")));
        }
        if let Value::String(text) = value {
            let len = text.chars().count();
            if let Some(max) = s.get("maxLength").and_then(Value::as_u64)
                && len as u64 > max
            {
                errs.push(format!("{at}: {len} characters, more than maxLength {max}"));
            }
            if let Some(min) = s.get("minLength").and_then(Value::as_u64)
                && (len as u64) < min
            {
                errs.push(format!("{at}: {len} characters, fewer than minLength {min}"));
            }
        }
        if let Some(n) = value.as_f64() {
            if let Some(min) = s.get("minimum").and_then(Value::as_f64)
                && n < min
            {
                errs.push(format!("{at}: {value} is less than minimum {min}"));
            }
            if let Some(max) = s.get("maximum").and_then(Value::as_f64)
                && n > max
            {
                errs.push(format!("{at}: {value} is more than maximum {max}"));
            }
        }
        if let Value::Array(items) = value {
            if let Some(max) = s.get("maxItems").and_then(Value::as_u64)
                && items.len() as u64 > max
            {
                errs.push(format!("{at}: {} items, more than maxItems {max}", items.len()));
            }
            if let Some(min) = s.get("minItems").and_then(Value::as_u64)
                && (items.len() as u64) < min
            {
                errs.push(format!("{at}: {} items, fewer than minItems {min}", items.len()));
            }
            if let Some(item_schema) = s.get("items") {
                for (i, item) in items.iter().enumerate() {
                    self.validate(item_schema, item, &format!("{at}[{i}]"), errs);
                }
            }
        }
        if let Value::Object(obj) = value {
            for name in s.get("required").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str) {
                if !obj.contains_key(name) {
                    errs.push(format!("{at}.{name}: required property missing"));
                }
            }
            let props = s.get("properties").and_then(Value::as_object);
            for (k, v) in obj {
                match props.and_then(|p| p.get(k)) {
                    Some(prop_schema) => self.validate(prop_schema, v, &format!("{at}.{k}"), errs),
                    None => match s.get("additionalProperties") {
                        Some(Value::Bool(false)) => errs.push(format!("{at}.{k}: property not allowed")),
                        Some(extra @ Value::Object(_)) => self.validate(extra, v, &format!("{at}.{k}"), errs),
                        _ => {}
                    },
                }
            }
        }
        if let Some(Value::Array(all)) = s.get("allOf") {
            for sub in all {
                self.validate(sub, value, at, errs);
            }
        }
        // oneOf is treated like anyOf: GitHub's alternatives overlap (e.g. a status-less check run matches more than
        // one), and what matters here is that the value fits at least one.
        for key in ["anyOf", "oneOf"] {
            let Some(Value::Array(alternatives)) = s.get(key) else { continue };
            let mut reasons = Vec::new();
            let fits = alternatives.iter().any(|alt| {
                let mut sub = Vec::new();
                self.validate(alt, value, at, &mut sub);
                let ok = sub.is_empty();
                reasons.push(sub.join("; "));
                ok
            });
            if !fits {
                let listed: Vec<String> = reasons.iter().enumerate().map(|(i, r)| format!("[{}] {r}", i + 1)).collect();
                errs.push(format!("{at}: matches none of the {key} alternatives: {}", listed.join(" | ")));
            }
        }
    }
}

fn match_segments(template: &[Segment], path: &[&str], params: &mut BTreeMap<String, String>) -> Option<usize> {
    match (template.first(), path.first()) {
        (None, None) => Some(0),
        (None, Some(_)) | (Some(_), None) => None,
        (Some(Segment::Literal(lit)), Some(seg)) => {
            if lit == seg {
                match_segments(&template[1..], &path[1..], params)
            } else {
                None
            }
        }
        (Some(Segment::Param(name)), Some(_)) => {
            let max_take = if SPANNING_PARAMS.contains(&name.as_str()) { path.len() } else { 1 };
            for take in 1..=max_take.min(path.len()) {
                let mut sub = params.clone();
                if let Some(extra) = match_segments(&template[1..], &path[take..], &mut sub) {
                    let value: Vec<String> = path[..take].iter().map(|s| percent_decode(s)).collect();
                    sub.insert(name.clone(), value.join("/"));
                    *params = sub;
                    return Some(extra + take - 1);
                }
            }
            None
        }
    }
}

/// Decodes `%XX` escapes (and, when `plus` is set, `+` as a space, for query strings).
pub fn percent_decode_with(s: &str, plus: bool) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok().and_then(|h| u8::from_str_radix(h, 16).ok());
                match hex {
                    Some(b) => {
                        out.push(b);
                        i += 3;
                        continue;
                    }
                    None => out.push(b'%'),
                }
            }
            b'+' if plus => out.push(b' '),
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

pub fn percent_decode(s: &str) -> String {
    percent_decode_with(s, false)
}

/// Splits a query string into decoded pairs, in order.
pub fn parse_query(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode_with(k, true), percent_decode_with(v, true))
        })
        .collect()
}

fn type_matches(t: &str, v: &Value) -> bool {
    match t {
        "string" => v.is_string(),
        "integer" => v.is_i64() || v.is_u64(),
        "number" => v.is_number(),
        "boolean" => v.is_boolean(),
        "object" => v.is_object(),
        "array" => v.is_array(),
        "null" => v.is_null(),
        _ => true,
    }
}

fn describe(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(_) => format!("boolean {v}"),
        Value::Number(_) => format!("number {v}"),
        Value::String(s) if s.chars().count() > 40 => format!("string {:?}…", s.chars().take(40).collect::<String>()),
        Value::String(_) => format!("string {v}"),
        Value::Array(a) => format!("array of {}", a.len()),
        Value::Object(_) => "object".into(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn body_errors(method: &str, path: &str, body: Value) -> Vec<String> {
        let spec = Spec::global();
        let m = spec.find(method, path).expect("operation");
        spec.check_request(&m, &[], Some(&body))
    }

    fn annotation(level: &str) -> Value {
        json!({"path": "README.md", "start_line": 1, "end_line": 1, "annotation_level": level, "message": "m"})
    }

    #[test]
    fn finds_templates_with_spanning_refs() {
        let spec = Spec::global();
        let m = spec.find("GET", "/repos/o/r/git/ref/heads/feature/x").unwrap();
        assert_eq!(m.op.template, "/repos/{owner}/{repo}/git/ref/{ref}");
        assert_eq!(m.params["ref"], "heads/feature/x");
        let m = spec.find("GET", "/repos/o/r/commits/heads%2Fmain/check-runs").unwrap();
        assert_eq!(m.op.template, "/repos/{owner}/{repo}/commits/{ref}/check-runs");
        assert_eq!(m.params["ref"], "heads/main");
        let m = spec.find("GET", "/repos/o/r/commits/abc").unwrap();
        assert_eq!(m.op.template, "/repos/{owner}/{repo}/commits/{ref}");
        let m = spec.find("GET", "/repos/o/r/branches/feature/x/protection").unwrap();
        assert_eq!(m.op.template, "/repos/{owner}/{repo}/branches/{branch}/protection");
        assert_eq!(m.params["branch"], "feature/x");
        let m = spec.find("PATCH", "/repos/o/r/issues/comments/7").unwrap();
        assert_eq!(m.op.template, "/repos/{owner}/{repo}/issues/comments/{comment_id}");
        assert!(spec.find("GET", "/repos/o/r/nonsense").is_none());
        assert!(spec.find("PUT", "/repos/o/r/check-runs").is_none());
        // owner and repo never span.
        assert!(spec.find("GET", "/repos/o/x/y/git/blobs/abc/def").is_none());
    }

    #[test]
    fn valid_check_run_create_passes() {
        let annotations: Vec<Value> = (0..3).map(|_| annotation("warning")).collect();
        let errs = body_errors(
            "POST",
            "/repos/o/r/check-runs",
            json!({
                "name": "shipshape", "head_sha": "a".repeat(40), "status": "completed", "conclusion": "failure",
                "details_url": "https://example.com", "external_id": "42",
                "output": {"title": "t", "summary": "s", "text": "x", "annotations": annotations},
                "actions": [{"label": "Re-run", "description": "Evaluate again", "identifier": "rerun"}]
            }),
        );
        assert_eq!(errs, Vec::<String>::new());
        let errs = body_errors("POST", "/repos/o/r/check-runs", json!({"name": "n", "head_sha": "abc"}));
        assert_eq!(errs, Vec::<String>::new());
    }

    #[test]
    fn missing_head_sha_is_reported() {
        let errs = body_errors("POST", "/repos/o/r/check-runs", json!({"name": "shipshape"}));
        assert_eq!(errs, ["body.head_sha: required property missing"]);
    }

    #[test]
    fn bad_enum_is_reported_with_its_path() {
        let mut annotations: Vec<Value> = (0..3).map(|_| annotation("notice")).collect();
        annotations.push(annotation("fatal"));
        let errs = body_errors(
            "POST",
            "/repos/o/r/check-runs",
            json!({"name": "n", "head_sha": "abc",
                   "output": {"title": "t", "summary": "s", "annotations": annotations}}),
        );
        assert_eq!(
            errs,
            [r#"body.output.annotations[3].annotation_level: "fatal" not one of notice, warning, failure"#]
        );
    }

    #[test]
    fn completed_without_conclusion_matches_no_alternative() {
        let errs =
            body_errors("POST", "/repos/o/r/check-runs", json!({"name": "n", "head_sha": "a", "status": "completed"}));
        assert_eq!(errs.len(), 1, "{errs:?}");
        assert!(errs[0].starts_with("body: matches none of the oneOf alternatives"), "{errs:?}");
        assert!(errs[0].contains("body.conclusion: required property missing"), "{errs:?}");
    }

    #[test]
    fn too_many_annotations_and_wrong_types() {
        let annotations: Vec<Value> = (0..51).map(|_| annotation("notice")).collect();
        let errs = body_errors(
            "PATCH",
            "/repos/o/r/check-runs/5",
            json!({"output": {"title": "t", "summary": "s", "annotations": annotations}}),
        );
        assert_eq!(errs, ["body.output.annotations: 51 items, more than maxItems 50"]);
        let errs = body_errors("PATCH", "/repos/o/r/check-runs/5", json!({"output": {"title": 3, "summary": "s"}}));
        assert_eq!(errs, ["body.output.title: expected string, got number 3"]);
        let errs = body_errors("POST", "/repos/o/r/issues/1/comments", json!({"body": null}));
        assert_eq!(errs, ["body.body: expected string, got null"]);
        let errs = body_errors(
            "POST",
            "/repos/o/r/check-runs",
            json!({"name": "n", "head_sha": "a",
                   "actions": [{"label": "x".repeat(21), "description": "d", "identifier": "i"}]}),
        );
        assert_eq!(errs, ["body.actions[0].label: 21 characters, more than maxLength 20"]);
    }

    #[test]
    fn query_and_path_parameters() {
        let spec = Spec::global();
        let m = spec.find("GET", "/repos/o/r/commits/main/check-runs").unwrap();
        let q = parse_query("check_name=ship+shape&status=done&per_page=x&bogus=1");
        assert_eq!(
            spec.check_request(&m, &q, None),
            [
                r#"query parameter status: "done" not one of queued, in_progress, completed"#,
                r#"query parameter per_page: "x" is not an integer"#,
                "query parameter bogus is not declared",
            ]
        );
        let m = spec.find("GET", "/repos/o/r/check-runs/abc").unwrap();
        assert_eq!(spec.check_request(&m, &[], None), [r#"path parameter check_run_id: "abc" is not an integer"#]);
        let m = spec.find("GET", "/repos/o/r/git/trees/main").unwrap();
        assert_eq!(spec.check_request(&m, &parse_query("recursive=1"), None), Vec::<String>::new());
    }

    #[test]
    fn nullable_any_of_and_additional_properties() {
        let spec = Spec::from_document(json!({"paths": {}, "components": {"schemas": {
            "thing": {"type": "object", "additionalProperties": false, "required": ["a"],
                      "properties": {"a": {"type": "string", "nullable": true},
                                     "b": {"anyOf": [{"type": "integer"}, {"$ref": "#/components/schemas/word"}]},
                                     "c": {"type": "object", "additionalProperties": {"type": "integer"}}}},
            "word": {"type": "string", "enum": ["x", "y"]}
        }}}));
        let schema = json!({"$ref": "#/components/schemas/thing"});
        let check = |v: Value| {
            let mut errs = Vec::new();
            spec.validate(&schema, &v, "body", &mut errs);
            errs
        };
        assert_eq!(check(json!({"a": null, "b": 3, "c": {"k": 1}})), Vec::<String>::new());
        assert_eq!(check(json!({"a": "s", "b": "y"})), Vec::<String>::new());
        assert_eq!(
            check(json!({"b": 1, "z": 1})),
            ["body.a: required property missing", "body.z: property not allowed"]
        );
        assert_eq!(check(json!({"a": "s", "c": {"k": "v"}})), ["body.c.k: expected integer, got string \"v\""]);
        let errs = check(json!({"a": "s", "b": "z"}));
        assert_eq!(
            errs,
            [concat!(
                r#"body.b: matches none of the anyOf alternatives: "#,
                r#"[1] body.b: expected integer, got string "z" | [2] body.b: "z" not one of x, y"#
            )]
        );
    }

    #[test]
    fn query_strings_decode() {
        assert_eq!(
            parse_query("a=b%2Fc&d=e+f&g&h=%zz"),
            [
                ("a".into(), "b/c".into()),
                ("d".into(), "e f".into()),
                ("g".into(), "".into()),
                ("h".into(), "%zz".into())
            ]
        );
    }
}
