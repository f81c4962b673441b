//! A validated, compiled policy: levels resolved to indices, globs compiled into one set, regexes and jq
//! expressions compiled. Compiling reports every problem as a positioned diagnostic.

use super::model::{
    self, API_VERSION, Check, CodeownersCheck, ContentCheck, FileCheck, Format, Gate, PolicyFile, QueryCheck, Require,
};
use super::requests::{self, HttpSpec, PromqlSpec};
use super::template::Template;
use crate::diag::{Diagnostic, Diagnostics, Pos, suggestion};
use crate::jq::Jq;
use crate::yaml::{self, Located};
use chrono::NaiveDate;
use globset::{Glob, GlobBuilder, GlobSet, GlobSetBuilder};
use regex::{Regex, RegexBuilder};
use std::collections::{BTreeMap, HashMap};

/// The default scorecard, embedded in the binary.
pub const EMBEDDED_NAME: &str = "policies/production-readiness.yaml";
pub const EMBEDDED: &str = include_str!("../../policies/production-readiness.yaml");

#[derive(Debug)]
pub struct Policy {
    /// The file it was loaded from (for messages).
    pub file: String,
    pub name: Option<String>,
    /// Lowest first.
    pub levels: Vec<String>,
    pub tiers: BTreeMap<u32, Tier>,
    pub default_tier: u32,
    pub rules: Vec<Rule>,
    pub initiatives: Vec<Initiative>,
    /// Every glob of every check, matched against each path once per evaluation.
    pub globs: GlobTable,
    /// Files whose content some check reads.
    pub read_globs: GlobSet,
    /// What rules leave out unless they include ignored files.
    pub ignore: super::ignore::Ignore,
}

#[derive(Clone, Debug)]
pub struct Tier {
    pub number: u32,
    pub requires: String,
    pub requires_index: usize,
    pub deadline_days: u32,
    pub gate: Gate,
    pub exception_max_days: u32,
}

#[derive(Debug)]
pub struct Rule {
    pub id: String,
    pub title: String,
    pub level: String,
    pub level_index: usize,
    pub description: String,
    pub remediation: String,
    pub check: CompiledCheck,
    pub when: Option<CompiledWhen>,
    /// The rule also looks at the files `ignore` leaves out.
    pub include_ignored: bool,
}

#[derive(Debug)]
pub struct CompiledWhen {
    pub tiers: Option<Vec<u32>>,
    pub types: Option<Vec<String>>,
    pub check: Option<Box<CompiledCheck>>,
}

#[derive(Clone, Debug)]
pub struct Initiative {
    pub id: String,
    pub title: String,
    pub deadline: NaiveDate,
    pub rules: Vec<String>,
}

/// A compiled `private_keys` check.
#[derive(Debug)]
pub struct KeysSpec {
    /// Files read and searched for private-key blocks.
    pub files: Vec<GlobId>,
    /// Key stores judged by name.
    pub stores: Vec<GlobId>,
    pub fixture_dirs: Vec<String>,
    /// Keys under fixture directories fail the check too (`fixtures: fail`).
    pub fixtures_fail: bool,
}

/// Index into [`GlobTable`].
pub type GlobId = usize;

#[derive(Debug)]
pub struct GlobTable {
    pub set: GlobSet,
    pub patterns: Vec<String>,
}

#[derive(Debug)]
pub enum CompiledCheck {
    File {
        any: Vec<GlobId>,
        all: Vec<GlobId>,
        min_bytes: Option<u64>,
        min_words: Option<u32>,
    },
    Content {
        files: Vec<GlobId>,
        regex: Regex,
        negate: bool,
        message: Option<String>,
    },
    PrivateKeys(Box<KeysSpec>),
    Query {
        files: Vec<GlobId>,
        jq: Jq,
        format: Option<Format>,
        require: Require,
        prefer: Option<Jq>,
        message: Option<String>,
    },
    Codeowners {
        paths: Vec<GlobId>,
        every_file: bool,
    },
    Catalog {
        jq: Jq,
        message: Option<String>,
    },
    BranchProtection(model::BranchProtectionCheck),
    VulnerabilityAlerts(model::VulnerabilityAlertsCheck),
    Oncall(model::OncallCheck),
    CiStatus(model::CiStatusCheck),
    ReleaseAge(model::ReleaseAgeCheck),
    AlertRules {
        min: u32,
        labels: Vec<String>,
    },
    RecordingRules {
        min: u32,
        name_matches: Option<Regex>,
        labels: Vec<String>,
    },
    Promql(Box<PromqlSpec>),
    Http(Box<HttpSpec>),
    All(Vec<CompiledCheck>),
    Any(Vec<CompiledCheck>),
    Not(Box<CompiledCheck>),
}

impl Policy {
    /// The embedded default scorecard. It is validated by the test suite, so failing here is a build defect.
    pub fn embedded() -> Policy {
        let mut diags = Diagnostics::default();
        Policy::parse(EMBEDDED_NAME, EMBEDDED, &mut diags).expect("the embedded scorecard is valid")
    }

    /// Parses and compiles a policy; every problem goes to `diags`. `None` when there are errors.
    ///
    /// Rules are read one by one: a rule that does not deserialize is reported and left out, and the others are still
    /// compiled, so a user sees the problems of every rule (shape and meaning) in one run.
    pub fn parse(file: &str, text: &str, diags: &mut Diagnostics) -> Option<Policy> {
        let errors_before = diags.iter().filter(|d| d.is_error()).count();
        let mut root = match yaml::parse(text) {
            Ok(root) => root,
            Err(e) => {
                diags.push(Diagnostic::error(file, e.pos, e.message));
                return None;
            }
        };
        let mut dropped = 0;
        if let yaml::Value::Map(entries) = &mut root.value
            && let Some((_, rules)) = entries.iter_mut().find(|(k, _)| k.as_str() == Some("rules"))
            && let yaml::Value::Seq(items) = &mut rules.value
        {
            items.retain(|rule| match yaml::from_node::<model::RuleSpec>(rule) {
                Ok(_) => true,
                Err(errors) => {
                    dropped += 1;
                    for e in errors {
                        diags.push(Diagnostic::error(file, e.pos.unwrap_or(rule.pos), e.message));
                    }
                    false
                }
            });
        }
        let parsed = match yaml::from_node::<PolicyFile>(&root) {
            Ok(parsed) => parsed,
            Err(errors) => {
                for e in errors {
                    diags.push(Diagnostic::error(file, e.pos.unwrap_or(root.pos), e.message));
                }
                return None;
            }
        };
        let mut compiler = Compiler::new(file, text, diags);
        compiler.rules_left_out = dropped;
        let policy = compiler.policy(parsed);
        let errors_after = diags.iter().filter(|d| d.is_error()).count();
        (errors_after == errors_before).then_some(policy)
    }

    pub fn level_index(&self, level: &str) -> Option<usize> {
        self.levels.iter().position(|l| l == level)
    }

    pub fn rule(&self, id: &str) -> Option<&Rule> {
        self.rules.iter().find(|r| r.id == id)
    }
}

impl Policy {
    /// Every `http` and `promql` check of the policy (rules and their `when` conditions), for the collectors.
    pub fn linked_requests(&self) -> (Vec<&HttpSpec>, Vec<&PromqlSpec>) {
        let mut http = Vec::new();
        let mut promql = Vec::new();
        self.walk(&mut |c| match c {
            CompiledCheck::Http(spec) => http.push(&**spec),
            CompiledCheck::Promql(spec) => promql.push(&**spec),
            _ => {}
        });
        (http, promql)
    }

    /// Visits every check of every rule and of its `when`, nested ones included.
    pub fn walk<'a>(&'a self, f: &mut impl FnMut(&'a CompiledCheck)) {
        for rule in &self.rules {
            rule.check.walk(f);
            if let Some(check) = rule.when.as_ref().and_then(|w| w.check.as_deref()) {
                check.walk(f);
            }
        }
    }

    /// Whether some check of some rule (or of its `when`) is one `wanted` says yes to.
    pub fn has_check(&self, wanted: impl Fn(&CompiledCheck) -> bool) -> bool {
        let mut found = false;
        self.walk(&mut |c| found |= wanted(c));
        found
    }

    /// Whether some rule reads Prometheus rules.
    pub fn reads_prometheus_rules(&self) -> bool {
        self.has_check(|c| matches!(c, CompiledCheck::AlertRules { .. } | CompiledCheck::RecordingRules { .. }))
    }

    /// Whether some rule needs the last release (an extra read of tags per repository otherwise saved).
    pub fn reads_releases(&self) -> bool {
        self.has_check(|c| matches!(c, CompiledCheck::ReleaseAge(_)))
    }
}

impl CompiledCheck {
    /// Visits this check and every check nested in it.
    pub fn walk<'a>(&'a self, f: &mut impl FnMut(&'a CompiledCheck)) {
        f(self);
        match self {
            CompiledCheck::All(checks) | CompiledCheck::Any(checks) => checks.iter().for_each(|c| c.walk(f)),
            CompiledCheck::Not(check) => check.walk(f),
            _ => {}
        }
    }
}

struct Compiler<'a> {
    file: &'a str,
    source: &'a str,
    diags: &'a mut Diagnostics,
    globs: Vec<Glob>,
    patterns: Vec<String>,
    glob_ids: HashMap<(String, bool), GlobId>,
    read_globs: GlobSetBuilder,
    /// Rules already reported as malformed and left out.
    rules_left_out: usize,
}

impl<'a> Compiler<'a> {
    fn new(file: &'a str, source: &'a str, diags: &'a mut Diagnostics) -> Self {
        Self {
            file,
            source,
            diags,
            globs: Vec::new(),
            patterns: Vec::new(),
            glob_ids: HashMap::new(),
            rules_left_out: 0,
            // The repository's own catalog entry supplies the owner when no catalog is given.
            read_globs: {
                let mut set = GlobSetBuilder::new();
                set.add(Glob::new("catalog-info.yaml").expect("valid glob"));
                set
            },
        }
    }

    fn error(&mut self, pos: Pos, message: impl Into<String>) {
        self.diags.push(Diagnostic::error(self.file, pos, message));
    }

    fn policy(mut self, parsed: PolicyFile) -> Policy {
        crate::catalog::check_header(
            self.file,
            &parsed.api_version,
            API_VERSION,
            &parsed.kind,
            "Scorecard",
            self.diags,
        );

        let mut levels: Vec<String> = Vec::new();
        for level in &parsed.levels {
            if levels.contains(&level.value) {
                self.error(level.pos, format!("level `{}` is listed twice", level.value));
            } else {
                levels.push(level.value.clone());
            }
        }
        if levels.is_empty() {
            self.error(Pos::new(1, 1), "`levels` must list at least one level");
        }

        let mut tiers = BTreeMap::new();
        for (key, spec) in &parsed.tiers {
            let Some(number) = key.parse::<u32>().ok().filter(|n| *n > 0) else {
                self.error(key.pos, format!("tier `{}` must be a positive whole number (1, 2, 3, …)", key.value));
                continue;
            };
            let Some(requires_index) = self.level(&levels, &spec.requires, &format!("tier {number} requires")) else {
                continue;
            };
            tiers.insert(
                number,
                Tier {
                    number,
                    requires: spec.requires.value.clone(),
                    requires_index,
                    deadline_days: spec.deadline_days,
                    gate: spec.gate.unwrap_or(if number == 1 { Gate::Level } else { Gate::Regression }),
                    exception_max_days: spec.exception_max_days.value,
                },
            );
        }
        if parsed.tiers.is_empty() {
            self.error(Pos::new(1, 1), "`tiers` must define at least one tier");
        } else if !parsed.tiers.contains_key(&Located::new(parsed.default_tier.value.to_string())) {
            let known: Vec<_> = parsed.tiers.keys().map(|k| k.value.clone()).collect();
            self.error(
                parsed.default_tier.pos,
                format!("default_tier {} is not one of the tiers ({})", parsed.default_tier.value, known.join(", ")),
            );
        }

        let id_format = Regex::new("^[a-z0-9][a-z0-9-]*$").expect("valid regex");
        let mut seen: HashMap<String, Pos> = HashMap::new();
        let mut rules = Vec::new();
        for spec in parsed.rules {
            if let Some(first) = seen.get(&spec.id.value) {
                let message = format!("duplicate rule id `{}` (first defined at line {})", spec.id.value, first.line);
                self.error(spec.id.pos, message);
                continue;
            }
            seen.insert(spec.id.value.clone(), spec.id.pos);
            if !id_format.is_match(&spec.id) {
                self.error(
                    spec.id.pos,
                    format!("rule id `{}` must use lowercase letters, digits and `-` only", spec.id.value),
                );
            }
            let level_index = self.level(&levels, &spec.level, &format!("rule `{}`", spec.id.value));
            let check = self.check(&spec.check);
            let when = spec.when.as_ref().map(|w| self.when(w, &parsed.tiers));
            if let (Some(level_index), Some(check), Some(when)) = (level_index, check, when.unwrap_or(Some(None))) {
                rules.push(Rule {
                    id: spec.id.value,
                    title: spec.title,
                    level: spec.level.value,
                    level_index,
                    description: spec.description,
                    remediation: spec.remediation,
                    check,
                    when,
                    include_ignored: spec.include_ignored,
                });
            }
        }
        if seen.is_empty() && self.rules_left_out == 0 {
            self.error(Pos::new(1, 1), "`rules` must define at least one rule");
        }

        let mut initiatives = Vec::new();
        for spec in &parsed.initiatives {
            for rule in &spec.rules {
                if !seen.contains_key(&rule.value) {
                    let hint = suggestion(rule, seen.keys().map(String::as_str));
                    self.error(rule.pos, format!("initiative `{}` names unknown rule `{}`{hint}", *spec.id, **rule));
                }
            }
            match NaiveDate::parse_from_str(&spec.deadline, "%Y-%m-%d") {
                Ok(deadline) => initiatives.push(Initiative {
                    id: spec.id.value.clone(),
                    title: spec.title.clone(),
                    deadline,
                    rules: spec.rules.iter().map(|r| r.value.clone()).collect(),
                }),
                Err(_) => self.error(
                    spec.deadline.pos,
                    format!("deadline must be a date written YYYY-MM-DD, found `{}`", *spec.deadline),
                ),
            }
        }

        let ignore = super::ignore::compile(self.file, &parsed.ignore, self.diags);
        if ignore.gitattributes {
            self.read_globs.add(Glob::new("**/.gitattributes").expect("valid glob"));
        }
        let set = build_set(&self.globs);
        let read_globs = self.read_globs.build().unwrap_or_else(|_| GlobSet::empty());
        Policy {
            file: self.file.to_string(),
            name: parsed.metadata.name,
            levels,
            tiers,
            default_tier: parsed.default_tier.value,
            rules,
            initiatives,
            globs: GlobTable { set, patterns: self.patterns },
            read_globs,
            ignore,
        }
    }

    fn level(&mut self, levels: &[String], level: &Located<String>, what: &str) -> Option<usize> {
        let index = levels.iter().position(|l| *l == level.value);
        if index.is_none() {
            let hint = suggestion(level, levels.iter().map(String::as_str));
            let message = format!("{what}: unknown level `{}`{hint}; levels are: {}", level.value, levels.join(", "));
            self.error(level.pos, message);
        }
        index
    }

    fn when(
        &mut self,
        when: &model::When,
        tiers: &BTreeMap<Located<String>, model::TierSpec>,
    ) -> Option<Option<CompiledWhen>> {
        let mut ok = true;
        for tier in when.tiers.iter().flatten() {
            if !tiers.contains_key(&Located::new(tier.value.to_string())) {
                let known: Vec<_> = tiers.keys().map(|k| k.value.clone()).collect();
                self.error(tier.pos, format!("unknown tier {} (tiers are {})", tier.value, known.join(", ")));
                ok = false;
            }
        }
        let check = match &when.check {
            Some(check) => Some(Box::new(self.check(check)?)),
            None => None,
        };
        ok.then(|| {
            Some(CompiledWhen {
                tiers: when.tiers.as_ref().map(|t| t.iter().map(|t| t.value).collect()),
                types: when.types.clone(),
                check,
            })
        })
    }

    /// Compiles a check; `None` (with diagnostics) when any part is invalid. Every part is checked even after a
    /// problem, so all problems are reported.
    fn check(&mut self, check: &Located<Check>) -> Option<CompiledCheck> {
        let pos = check.pos;
        match &check.value {
            Check::File(FileCheck { any, all, ignore_case, min_bytes, min_words }) => {
                if any.is_empty() == all.is_empty() {
                    self.error(pos, "a `file` check needs exactly one of `any` or `all` (a list of glob patterns)");
                    return None;
                }
                // Counting words needs the text.
                let any = self.globs(any, *ignore_case, min_words.is_some());
                let all = self.globs(all, *ignore_case, min_words.is_some());
                Some(CompiledCheck::File { any: any?, all: all?, min_bytes: *min_bytes, min_words: *min_words })
            }
            Check::PrivateKeys(spec) => self.private_keys(pos, spec),
            Check::Content(ContentCheck { files, matches, not_matches, ignore_case, message }) => {
                let files_ids = self.non_empty_globs(pos, files, *ignore_case, "content")?;
                let (pattern, negate) = match (matches, not_matches) {
                    (Some(p), None) => (p, false),
                    (None, Some(p)) => (p, true),
                    _ => {
                        self.error(pos, "a `content` check needs exactly one of `matches` or `not_matches`");
                        return None;
                    }
                };
                let regex = self.regex(pattern, *ignore_case)?;
                Some(CompiledCheck::Content { files: files_ids?, regex, negate, message: message.clone() })
            }
            Check::Query(QueryCheck { files, jq, format, require, prefer, message }) => {
                let files_ids = self.non_empty_globs(pos, files, false, "query")?;
                let jq = self.jq(jq);
                let prefer = prefer.as_ref().map(|p| self.jq(p).ok_or(())).transpose();
                let (files, jq, prefer) = (files_ids?, jq?, prefer.ok()?);
                let (format, require, message) = (*format, *require, message.clone());
                Some(CompiledCheck::Query { files, jq, format, require, prefer, message })
            }
            Check::Codeowners(CodeownersCheck { paths, every_file }) => {
                for location in crate::codeowners::LOCATIONS {
                    self.read_globs.add(Glob::new(location).expect("valid glob"));
                }
                let paths = self.globs(paths, false, false)?;
                Some(CompiledCheck::Codeowners { paths, every_file: *every_file })
            }
            Check::Catalog(model::CatalogCheck { jq, message }) => {
                Some(CompiledCheck::Catalog { jq: self.jq(jq)?, message: message.clone() })
            }
            Check::BranchProtection(spec) => Some(CompiledCheck::BranchProtection(spec.clone())),
            Check::VulnerabilityAlerts(spec) => Some(CompiledCheck::VulnerabilityAlerts(spec.clone())),
            Check::Oncall(spec) => Some(CompiledCheck::Oncall(spec.clone())),
            Check::CiStatus(spec) => Some(CompiledCheck::CiStatus(spec.clone())),
            Check::ReleaseAge(spec) => Some(CompiledCheck::ReleaseAge(spec.clone())),
            Check::AlertRules(spec) => {
                self.labels(pos, &spec.labels)?;
                Some(CompiledCheck::AlertRules { min: spec.min, labels: spec.labels.clone() })
            }
            Check::RecordingRules(spec) => {
                // Both problems are reported at once.
                let labels_ok = self.labels(pos, &spec.labels).is_some();
                let name_matches = spec.name_matches.as_ref().map(|pattern| self.regex(pattern, false));
                if !labels_ok || matches!(name_matches, Some(None)) {
                    return None;
                }
                let name_matches = name_matches.flatten();
                Some(CompiledCheck::RecordingRules { min: spec.min, name_matches, labels: spec.labels.clone() })
            }
            Check::Promql(spec) => {
                if spec.min.is_none() && spec.max.is_none() {
                    self.error(pos, "a `promql` check needs `min`, `max` or both");
                    return None;
                }
                let query = self.template(&spec.query, false)?;
                Some(CompiledCheck::Promql(Box::new(PromqlSpec {
                    query,
                    min: spec.min,
                    max: spec.max,
                    description: spec.description.clone(),
                })))
            }
            Check::Http(spec) => self.http(pos, spec),
            Check::All(checks) | Check::Any(checks) => {
                let compiled: Vec<_> = checks.iter().map(|c| self.check(c)).collect();
                let compiled: Option<Vec<_>> = compiled.into_iter().collect();
                let compiled = compiled?;
                if compiled.is_empty() {
                    self.error(pos, "`all` and `any` need at least one check");
                    return None;
                }
                Some(if matches!(check.value, Check::All(_)) {
                    CompiledCheck::All(compiled)
                } else {
                    CompiledCheck::Any(compiled)
                })
            }
            Check::Not(inner) => Some(CompiledCheck::Not(Box::new(self.check(inner)?))),
        }
    }

    fn private_keys(&mut self, pos: Pos, spec: &model::PrivateKeysCheck) -> Option<CompiledCheck> {
        let files = self.non_empty_globs(pos, &spec.files, false, "private_keys")?;
        let stores = self.globs(&spec.stores, false, false);
        let bad_dir = spec.fixture_dirs.iter().find(|d| d.is_empty() || d.contains('/'));
        if let Some(dir) = bad_dir {
            self.error(pos, format!("`fixture_dirs` holds directory names without `/`, found `{dir}`"));
        }
        let spec = KeysSpec {
            files: files?,
            stores: stores?,
            fixture_dirs: spec.fixture_dirs.clone(),
            fixtures_fail: spec.fixtures == model::Fixtures::Fail,
        };
        bad_dir.is_none().then(|| CompiledCheck::PrivateKeys(Box::new(spec)))
    }

    fn labels(&mut self, pos: Pos, labels: &[String]) -> Option<()> {
        if labels.is_empty() {
            self.error(pos, "`labels` needs at least one label name");
            return None;
        }
        Some(())
    }

    fn template(&mut self, text: &Located<String>, secrets_allowed: bool) -> Option<Template> {
        match Template::parse(text, secrets_allowed) {
            Ok(template) => Some(template),
            Err(e) => {
                let pos = self.inner_pos(text.pos, e.offset);
                self.error(pos, e.message);
                None
            }
        }
    }

    fn http(&mut self, pos: Pos, spec: &model::HttpCheck) -> Option<CompiledCheck> {
        let url = self.template(&spec.url, false);
        if let Some(url) = &url {
            let source = url.source().trim_start();
            let scheme_ok = ["http://", "https://"]
                .iter()
                .any(|s| source.len() >= s.len() && source[..s.len()].eq_ignore_ascii_case(s));
            if !scheme_ok {
                self.error(spec.url.pos, "an `http` check's `url` must start with `https://` or `http://`");
            }
        }
        let mut headers = Vec::new();
        let mut ok = true;
        for (name, value) in &spec.headers {
            if http::HeaderName::from_bytes(name.as_bytes()).is_err() {
                self.error(value.pos, format!("`{name}` is not a valid header name"));
                ok = false;
            }
            match self.template(value, true) {
                Some(template) => headers.push((name.clone(), template)),
                None => ok = false,
            }
        }
        let jq = self.jq(&spec.jq);
        let max_bytes = spec.max_bytes.map_or(requests::HTTP_DEFAULT_MAX_BYTES, |n| n as usize);
        if max_bytes == 0 || max_bytes > requests::HTTP_MAX_BYTES {
            self.error(pos, format!("`max_bytes` must be between 1 and {}", requests::HTTP_MAX_BYTES));
            ok = false;
        }
        let timeout = match spec.timeout_seconds {
            None => requests::HTTP_DEFAULT_TIMEOUT,
            Some(s) if (1..=requests::HTTP_MAX_TIMEOUT_SECONDS).contains(&s) => {
                std::time::Duration::from_secs(s.into())
            }
            Some(_) => {
                self.error(
                    pos,
                    format!("`timeout_seconds` must be between 1 and {}", requests::HTTP_MAX_TIMEOUT_SECONDS),
                );
                ok = false;
                requests::HTTP_DEFAULT_TIMEOUT
            }
        };
        let (url, jq) = (url?, jq?);
        ok.then(|| {
            CompiledCheck::Http(Box::new(HttpSpec {
                url,
                headers,
                jq,
                message: spec.message.clone(),
                max_bytes,
                timeout,
            }))
        })
    }

    fn non_empty_globs(
        &mut self,
        pos: Pos,
        patterns: &[Located<String>],
        ignore_case: bool,
        kind: &str,
    ) -> Option<Option<Vec<GlobId>>> {
        if patterns.is_empty() {
            self.error(pos, format!("a `{kind}` check needs `files`: a list of glob patterns"));
            return None;
        }
        Some(self.globs(patterns, ignore_case, true))
    }

    /// Compiles patterns (deduplicated across the policy); `read` marks their files as needing content.
    fn globs(&mut self, patterns: &[Located<String>], ignore_case: bool, read: bool) -> Option<Vec<GlobId>> {
        let mut ids = Some(Vec::new());
        for pattern in patterns {
            let text = pattern.value.strip_prefix('/').unwrap_or(&pattern.value);
            let glob = match GlobBuilder::new(text).literal_separator(true).case_insensitive(ignore_case).build() {
                Ok(glob) => glob,
                Err(e) => {
                    self.error(pattern.pos, format!("invalid glob `{}`: {}", pattern.value, e.kind()));
                    ids = None;
                    continue;
                }
            };
            if read {
                self.read_globs.add(glob.clone());
            }
            let key = (text.to_string(), ignore_case);
            let id = *self.glob_ids.entry(key).or_insert_with(|| {
                self.globs.push(glob);
                self.patterns.push(pattern.value.clone());
                self.globs.len() - 1
            });
            if let Some(ids) = &mut ids {
                ids.push(id);
            }
        }
        ids
    }

    fn regex(&mut self, pattern: &Located<String>, ignore_case: bool) -> Option<Regex> {
        if let Err(e) = regex_syntax::ParserBuilder::new().build().parse(pattern) {
            let (offset, message) = match &e {
                regex_syntax::Error::Parse(e) => (e.span().start.offset, e.kind().to_string()),
                regex_syntax::Error::Translate(e) => (e.span().start.offset, e.kind().to_string()),
                _ => (0, e.to_string()),
            };
            let pos = self.inner_pos(pattern.pos, offset);
            self.error(pos, format!("invalid regular expression: {message}"));
            return None;
        }
        match RegexBuilder::new(pattern).case_insensitive(ignore_case).multi_line(true).build() {
            Ok(regex) => Some(regex),
            Err(e) => {
                self.error(pattern.pos, format!("invalid regular expression: {e}"));
                None
            }
        }
    }

    fn jq(&mut self, expr: &Located<String>) -> Option<Jq> {
        match Jq::compile(expr) {
            Ok(jq) => Some(jq),
            Err(e) => {
                let pos = self.inner_pos(expr.pos, e.offset);
                self.error(pos, e.message);
                None
            }
        }
    }

    /// The position of byte `offset` of a scalar's value, for a one-line scalar starting at `pos`: walks the
    /// source characters, skipping an opening quote and counting YAML escapes by what they decode to. Block scalars
    /// (`|`, `>`) give the scalar's own position.
    fn inner_pos(&self, pos: Pos, offset: usize) -> Pos {
        let Some(line) = self.source.lines().nth(pos.line.saturating_sub(1)) else { return pos };
        let mut raw = line.chars().skip(pos.col.saturating_sub(1)).peekable();
        let quote = match raw.peek() {
            Some('|' | '>') | None => return pos,
            Some(&q @ ('"' | '\'')) => {
                raw.next();
                Some(q)
            }
            Some(_) => None,
        };
        let mut col = pos.col + usize::from(quote.is_some());
        let mut decoded = 0;
        while decoded < offset {
            let Some(c) = raw.next() else { break };
            let (bytes, width) = match (quote, c) {
                (Some('"'), '\\') => {
                    let (len, digits) = match raw.next() {
                        Some('x') => (None, 2),
                        Some('u') => (None, 4),
                        Some('U') => (None, 8),
                        Some(_) => (Some(1), 0),
                        None => (Some(1), 0),
                    };
                    let hex: String = raw.by_ref().take(digits).collect();
                    let len = len.unwrap_or_else(|| {
                        u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32).map_or(1, char::len_utf8)
                    });
                    (len, 2 + digits)
                }
                (Some('\''), '\'') if raw.peek() == Some(&'\'') => {
                    raw.next();
                    (1, 2)
                }
                _ => (c.len_utf8(), 1),
            };
            decoded += bytes;
            col += width;
        }
        Pos::new(pos.line, col)
    }
}

fn build_set(globs: &[Glob]) -> GlobSet {
    let mut builder = GlobSetBuilder::new();
    for glob in globs {
        builder.add(glob.clone());
    }
    builder.build().expect("globs compiled one by one build a set")
}
