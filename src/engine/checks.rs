//! Evaluating one compiled check against the facts.

use super::{Evidence, NO_CATALOG, Status, Subject};
use crate::codeowners;
use crate::diag::shown_path as shown;
use crate::facts::{AlertCounts, Content, Fact, FileFacts, HttpAnswer, MAX_READ_BYTES, PromRule};
use crate::jq::{EvalError, Jq};
use crate::policy::model::{Format, Require, VulnerabilityAlertsCheck};
use crate::policy::requests::{HttpSpec, PromqlSpec};
use crate::policy::{CompiledCheck, GlobId, Policy};
use crate::yaml::SyntaxKind;
use std::cell::{Cell, OnceCell};
use std::collections::BTreeSet;

mod ci;
mod explain;
mod ignored;
pub(super) mod keys;
pub(super) mod words;

/// Most evidence entries kept for one rule.
const MAX_EVIDENCE: usize = 20;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    pub status: Status,
    pub message: String,
    pub evidence: Vec<Evidence>,
}

impl Outcome {
    fn pass(message: impl Into<String>) -> Self {
        Self { status: Status::Pass, message: message.into(), evidence: Vec::new() }
    }

    fn fail(message: impl Into<String>) -> Self {
        Self { status: Status::Fail, message: message.into(), evidence: Vec::new() }
    }

    pub fn skipped(message: impl Into<String>) -> Self {
        Self { status: Status::Skipped, message: message.into(), evidence: Vec::new() }
    }

    fn error(message: impl Into<String>) -> Self {
        Self { status: Status::Error, message: message.into(), evidence: Vec::new() }
    }

    fn at(mut self, path: &str, line: Option<usize>) -> Self {
        if self.evidence.len() < MAX_EVIDENCE {
            self.evidence.push(Evidence { path: path.to_string(), line });
        }
        self
    }

    /// A fact from a linked tool that is missing becomes `skipped` (not configured) or `error` (unavailable).
    fn missing<T>(fact: &Fact<T>) -> Option<Self> {
        match fact {
            Fact::Known(_) => None,
            Fact::NotConfigured(why) => Some(Self::skipped(why.clone())),
            Fact::Unavailable(why) => Some(Self::error(why.clone())),
        }
    }
}

/// Per-evaluation state: glob matches computed once over all files.
pub struct Ctx<'a> {
    pub policy: &'a Policy,
    pub subject: &'a Subject<'a>,
    /// For each glob of the policy, the files it matches (sorted) that count by default.
    matches: Vec<Vec<&'a str>>,
    /// For each glob of the policy, the files it matches that the policy's `ignore` leaves out.
    left_out: Vec<Vec<&'a str>>,
    scope: ignored::LeftOut<'a>,
    /// Whether the rule being checked says `include_ignored`.
    pub include_ignored: Cell<bool>,
    codeowners: OnceCell<Option<(&'static str, codeowners::Codeowners, Vec<codeowners::CodeownersError>)>>,
}

impl<'a> Ctx<'a> {
    pub fn new(policy: &'a Policy, subject: &'a Subject<'a>) -> Self {
        let scope = ignored::LeftOut::of(policy, subject.facts);
        let mut matches = vec![Vec::new(); policy.globs.patterns.len()];
        let mut left_out = vec![Vec::new(); policy.globs.patterns.len()];
        let mut hits = Vec::new();
        if !matches.is_empty() {
            for path in subject.facts.files.keys() {
                policy.globs.set.matches_into(path.as_str(), &mut hits);
                let target = if scope.reasons.contains_key(path.as_str()) { &mut left_out } else { &mut matches };
                for &id in &hits {
                    target[id].push(path.as_str());
                }
            }
        }
        let include_ignored = Cell::new(false);
        Self { policy, subject, matches, left_out, scope, include_ignored, codeowners: OnceCell::new() }
    }

    /// Problems met reading `.gitattributes`, for the scorecard's notes.
    pub fn scope_notes(&self) -> &[String] {
        &self.scope.notes
    }

    /// The files one glob matches that count for the rule being checked (sorted).
    fn matched(&self, id: GlobId) -> Vec<&'a str> {
        if !self.include_ignored.get() || self.left_out[id].is_empty() {
            return self.matches[id].clone();
        }
        let mut all = [self.matches[id].as_slice(), self.left_out[id].as_slice()].concat();
        all.sort_unstable();
        all
    }

    fn files(&self, globs: &[GlobId]) -> BTreeSet<&'a str> {
        let mut files: BTreeSet<&'a str> = globs.iter().flat_map(|&id| self.matches[id].iter().copied()).collect();
        if self.include_ignored.get() {
            files.extend(globs.iter().flat_map(|&id| self.left_out[id].iter().copied()));
        }
        files
    }

    /// The patterns for a message: all of them when few, else the first three and a count.
    fn patterns(&self, globs: &[GlobId]) -> String {
        let shown = if globs.len() > 4 { 3 } else { globs.len() };
        let mut text = globs[..shown]
            .iter()
            .map(|&id| format!("`{}`", self.policy.globs.patterns[id]))
            .collect::<Vec<_>>()
            .join(", ");
        if shown < globs.len() {
            text += &format!(" or {} other pattern(s)", globs.len() - shown);
        }
        text
    }

    pub fn check(&self, check: &CompiledCheck) -> Outcome {
        match check {
            CompiledCheck::File { any, all, min_bytes, min_words } => {
                let outcome = match min_words {
                    None => self.file(any, all, *min_bytes),
                    Some(words) => self.substantial_file(any, all, *min_bytes, *words),
                };
                self.with_left_out(outcome, &[any, all], false)
            }
            CompiledCheck::Content { files, regex, negate, message } => {
                let outcome = self.content(files, regex, *negate).explained(message.as_deref());
                self.with_left_out(outcome, &[files], *negate)
            }
            CompiledCheck::PrivateKeys(spec) => {
                self.with_left_out(self.private_keys(spec), &[&spec.files, &spec.stores], true)
            }
            CompiledCheck::Query { files, jq, format, require, prefer, message } => {
                let outcome = self.query(files, jq, *format, *require, prefer.as_ref()).explained(message.as_deref());
                self.with_left_out(outcome, &[files], false)
            }
            CompiledCheck::Codeowners { paths, every_file } => self.codeowners(paths, *every_file),
            CompiledCheck::Catalog { jq, message } => self.catalog(jq, message.as_deref()),
            CompiledCheck::BranchProtection(spec) => {
                let fact = &self.subject.linked.branch_protection;
                if let Some(missing) = Outcome::missing(fact) {
                    return missing;
                }
                let Fact::Known(bp) = fact else { unreachable!() };
                if !bp.protected {
                    return Outcome::fail(format!(
                        "branch `{}` is not protected (no branch protection or ruleset)",
                        bp.branch
                    ));
                }
                let mut gaps = Vec::new();
                if bp.required_approvals < spec.min_approvals {
                    gaps.push(format!(
                        "{} approving review(s) required, {} expected",
                        bp.required_approvals, spec.min_approvals
                    ));
                }
                if spec.require_status_checks && !bp.requires_status_checks {
                    gaps.push("status checks are not required".to_string());
                }
                if spec.require_code_owner_reviews && !bp.requires_code_owner_reviews {
                    gaps.push("code owner reviews are not required".to_string());
                }
                if gaps.is_empty() {
                    Outcome::pass(format!(
                        "branch `{}` requires {} approving review(s){}",
                        bp.branch,
                        bp.required_approvals,
                        if bp.requires_status_checks { " and passing status checks" } else { "" }
                    ))
                } else {
                    Outcome::fail(format!("branch `{}`: {}", bp.branch, gaps.join("; ")))
                }
            }
            CompiledCheck::VulnerabilityAlerts(spec) => self.vulnerabilities(spec),
            CompiledCheck::Oncall(spec) => self.oncall(spec.min_escalation_levels),
            CompiledCheck::CiStatus(spec) => self.ci(spec.pending_passes),
            CompiledCheck::ReleaseAge(spec) => self.release_age(spec.max_days),
            CompiledCheck::AlertRules { min, labels } => self.prometheus_rules("alerting", *min, None, labels),
            CompiledCheck::RecordingRules { min, name_matches, labels } => {
                self.prometheus_rules("recording", *min, name_matches.as_ref(), labels)
            }
            CompiledCheck::Promql(spec) => self.promql(spec),
            CompiledCheck::Http(spec) => self.http(spec),
            CompiledCheck::All(checks) => combine(checks.iter().map(|c| self.check(c)), true),
            CompiledCheck::Any(checks) => combine(checks.iter().map(|c| self.check(c)), false),
            CompiledCheck::Not(inner) => {
                let outcome = self.check(inner);
                let status = match outcome.status {
                    Status::Pass => Status::Fail,
                    Status::Fail => Status::Pass,
                    other => other,
                };
                Outcome { status, ..outcome }
            }
        }
    }

    fn file(&self, any: &[GlobId], all: &[GlobId], min_bytes: Option<u64>) -> Outcome {
        let big_enough = |path: &&str| min_bytes.is_none_or(|min| self.subject.facts.files[*path].size >= min);
        let too_small = |globs: &[GlobId]| {
            let small = self.files(globs).into_iter().find(|p| !big_enough(p))?;
            Some(format!(
                "`{}` has only {} bytes (at least {} expected)",
                shown(small),
                self.subject.facts.files[small].size,
                min_bytes.unwrap_or(0)
            ))
        };
        if !any.is_empty() {
            return match self.files(any).into_iter().find(big_enough) {
                Some(path) => Outcome::pass(format!("found `{}`", shown(path))).at(path, None),
                None => {
                    Outcome::fail(too_small(any).unwrap_or_else(|| format!("no file matches {}", self.patterns(any))))
                }
            };
        }
        let mut missing = Vec::new();
        let mut found = Vec::new();
        for &id in all {
            match self.matched(id).into_iter().find(|p| big_enough(p)) {
                Some(path) => found.push(path),
                None => missing.push(id),
            }
        }
        if missing.is_empty() {
            let mut outcome = Outcome::pass(format!(
                "found {}",
                found.iter().map(|p| format!("`{}`", shown(p))).collect::<Vec<_>>().join(", ")
            ));
            for path in found {
                outcome = outcome.at(path, None);
            }
            outcome
        } else {
            Outcome::fail(too_small(&missing).unwrap_or_else(|| format!("no file matches {}", self.patterns(&missing))))
        }
    }

    fn content(&self, globs: &[GlobId], regex: &regex::Regex, negate: bool) -> Outcome {
        let files = self.files(globs);
        let pattern = short(regex.as_str());
        if files.is_empty() {
            return if negate {
                Outcome::pass(format!("no file matches {}", self.patterns(globs)))
            } else {
                Outcome::fail(format!("no file matches {}", self.patterns(globs)))
            };
        }
        let mut offenders = Vec::new();
        let mut unreadable = 0;
        for path in &files {
            let Some(text) = self.subject.facts.text(path) else {
                unreadable += 1;
                continue;
            };
            if let Some(m) = regex.find(text) {
                let line = text[..m.start()].matches('\n').count() + 1;
                if !negate {
                    return Outcome::pass(format!("`{}` line {line} matches /{pattern}/", shown(path)))
                        .at(path, Some(line));
                }
                offenders.push((*path, line));
            }
        }
        let skipped =
            if unreadable > 0 { format!(" ({unreadable} large or binary file(s) not read)") } else { String::new() };
        if !negate {
            return Outcome::fail(format!("no file matching {} contains /{pattern}/{skipped}", self.patterns(globs)));
        }
        if offenders.is_empty() {
            return Outcome::pass(format!(
                "{} file(s) checked, none contains the forbidden pattern{skipped}",
                files.len()
            ));
        }
        let listed: Vec<String> = offenders.iter().take(5).map(|(p, l)| format!("`{}` line {l}", shown(p))).collect();
        let more = if offenders.len() > 5 { format!(" and {} more", offenders.len() - 5) } else { String::new() };
        let mut outcome = Outcome::fail(format!("/{pattern}/ found in {}{more}", listed.join(", ")));
        for (path, line) in offenders {
            outcome = outcome.at(path, Some(line));
        }
        outcome
    }

    /// `prefer` only ranks passing files: under `any` the first preferred one (else the first) is the evidence, under
    /// `all` preferred files come first.
    fn query(
        &self,
        globs: &[GlobId],
        jq: &Jq,
        format: Option<Format>,
        require: Require,
        prefer: Option<&Jq>,
    ) -> Outcome {
        let files = self.files(globs);
        if files.is_empty() {
            return Outcome::fail(format!("no file matches {}", self.patterns(globs)));
        }
        let expr = short(jq.source());
        let limits = &self.subject.jq_limits;
        let mut failures = Vec::new();
        let mut passed = Vec::new();
        let mut preferred = 0;
        let mut stopped = Vec::new();
        for path in files {
            let documents = parse_structured(path, self.subject.facts.files.get(path).map(|f| &f.content), format);
            match documents.as_ref().map_err(Clone::clone).and_then(|documents| holds(jq, documents, limits)) {
                Ok(Ok(true)) => {
                    let ranked =
                        prefer.is_some_and(|p| documents.iter().flatten().any(|d| p.test(d, limits) == Ok(true)));
                    if require == Require::Any && (ranked || prefer.is_none()) {
                        return Outcome::pass(format!("`{}` passes the query", shown(path))).at(path, None);
                    }
                    if ranked {
                        passed.insert(preferred, path);
                        preferred += 1;
                    } else {
                        passed.push(path);
                    }
                }
                Ok(Ok(false)) => failures.push((path, format!("`{}`: `{expr}` does not hold", shown(path)))),
                Ok(Err(why)) => stopped.push((path, why)),
                Err(e) => failures.push((path, format!("`{}`: {e}", shown(path)))),
            }
        }
        if let (Require::Any, Some(path)) = (require, passed.first()) {
            return Outcome::pass(format!("`{}` passes the query", shown(path))).at(path, None);
        }
        // A file whose query was stopped could not be judged: under `any` it might have passed, under `all` only
        // a file that fails decides.
        if let Some((path, why)) = stopped.first()
            && (require == Require::Any || failures.is_empty())
        {
            return Outcome::error(format!("`{}`: {why}", shown(path))).at(path, None);
        }
        match failures.first() {
            None => {
                let mut outcome = Outcome::pass(format!("{} file(s) pass the query", passed.len()));
                for path in passed {
                    outcome = outcome.at(path, None);
                }
                outcome
            }
            Some((path, message)) => {
                let more = if failures.len() > 1 {
                    format!(" (and {} more file(s))", failures.len() - 1)
                } else {
                    String::new()
                };
                let mut outcome = Outcome::fail(format!("{message}{more}")).at(path, None);
                for (path, _) in &failures[1..] {
                    outcome = outcome.at(path, None);
                }
                outcome
            }
        }
    }

    fn codeowners(&self, paths: &[GlobId], every_file: bool) -> Outcome {
        let facts = self.subject.facts;
        let parsed = self.codeowners.get_or_init(|| {
            let location = codeowners::locate(|p| facts.files.contains_key(p))?;
            let text = facts.text(location).unwrap_or("");
            let (owners, errors) = codeowners::parse(text);
            Some((location, owners, errors))
        });
        let Some((location, owners, errors)) = parsed else {
            return Outcome::fail("no CODEOWNERS file in `.github/`, the root or `docs/`");
        };
        if let Some(unread) = codeowners_unread(location, &facts.files[*location]) {
            return unread.at(location, None);
        }
        if let Some(e) = errors.first() {
            let mut outcome = Outcome::fail(format!(
                "`{location}` line {}: {}{}",
                e.line,
                e.message,
                if errors.len() > 1 { format!(" (and {} more error(s))", errors.len() - 1) } else { String::new() }
            ));
            for e in errors {
                outcome = outcome.at(location, Some(e.line));
            }
            return outcome;
        }
        // GitHub's own reading of the file at this very commit (unknown users and teams, which we cannot check).
        if let Fact::Known(github) = &self.subject.linked.codeowners_errors
            && facts.commit.as_deref() == Some(github.commit.as_str())
            && let Some(e) = github.errors.first()
        {
            let mut outcome = Outcome::fail(format!(
                "GitHub reports `{}` line {}: {}{}",
                e.path,
                e.line,
                e.message.lines().next().unwrap_or(&e.kind),
                if github.errors.len() > 1 {
                    format!(" (and {} more error(s))", github.errors.len() - 1)
                } else {
                    String::new()
                }
            ));
            for e in &github.errors {
                outcome = outcome.at(&e.path, Some(e.line));
            }
            return outcome;
        }
        if owners.is_empty() {
            return Outcome::fail(format!("`{location}` assigns no owners")).at(location, None);
        }
        let candidates: Box<dyn Iterator<Item = &str>> = if every_file {
            Box::new(facts.files.keys().map(String::as_str).filter(|p| self.counts(p)))
        } else {
            Box::new(self.files(paths).into_iter())
        };
        let unowned: Vec<&str> = candidates.filter(|p| owners.owners_of(p).is_empty()).collect();
        if unowned.is_empty() {
            let scope = if every_file {
                " to every file".to_string()
            } else if paths.is_empty() {
                String::new()
            } else {
                format!(" to every file matching {}", self.patterns(paths))
            };
            return Outcome::pass(format!("`{location}` assigns owners{scope}")).at(location, None);
        }
        let examples: Vec<String> = unowned.iter().take(3).map(|p| format!("`{}`", shown(p))).collect();
        let mut outcome =
            Outcome::fail(format!("{} file(s) have no code owner, e.g. {}", unowned.len(), examples.join(", ")));
        for path in unowned {
            outcome = outcome.at(path, None);
        }
        outcome
    }

    fn catalog(&self, jq: &Jq, message: Option<&str>) -> Outcome {
        let Some(service) = self.subject.service else {
            if !self.subject.catalog_given {
                return Outcome::skipped(format!(
                    "{NO_CATALOG} (`--catalog DIR`) and no `catalog-info.yaml` in the repository: the entry cannot be \
                     checked"
                ));
            }
            return Outcome::fail(
                "no catalog entry for this repository (add services/<name>.yaml to the catalog with the \
                 `github.com/project-slug` annotation)",
            );
        };
        let location = service.file.as_str();
        match jq.test(&service.entity, &self.subject.jq_limits) {
            Ok(true) => Outcome::pass(format!("catalog entry `{}` passes", service.name)).at(location, None),
            Ok(false) => Outcome::fail(message.map(str::to_string).unwrap_or_else(|| {
                format!("catalog entry `{}`: `{}` does not hold", service.name, short(jq.source()))
            }))
            .at(location, None),
            Err(e @ EvalError::Program(_)) => {
                Outcome::fail(format!("catalog entry `{}`: {e}", service.name)).at(location, None)
            }
            Err(e @ EvalError::Limit(_)) => {
                Outcome::error(format!("catalog entry `{}`: {e}", service.name)).at(location, None)
            }
        }
    }

    fn vulnerabilities(&self, spec: &VulnerabilityAlertsCheck) -> Outcome {
        let linked = self.subject.linked;
        // One source's open alerts against the limits; `off` is what a disabled source means for the rule.
        let judge = |source: &str, fact: &Fact<Option<AlertCounts>>, off: Outcome| match fact {
            Fact::Known(Some(c)) => {
                let over: Vec<String> = [
                    ("critical", c.critical, Some(spec.max_critical)),
                    ("high", c.high, Some(spec.max_high)),
                    ("medium", c.medium, spec.max_medium),
                    ("low", c.low, spec.max_low),
                ]
                .iter()
                .filter_map(|(name, n, max)| max.filter(|m| n > m).map(|m| format!("{n} {name} (at most {m})")))
                .collect();
                if over.is_empty() {
                    let counts =
                        format!("{} critical, {} high, {} medium, {} low", c.critical, c.high, c.medium, c.low);
                    Outcome::pass(format!("open {source} alerts: {counts}"))
                } else {
                    Outcome::fail(format!("open {source} alerts: {}", over.join(", ")))
                }
            }
            Fact::Known(None) => off,
            missing => Outcome::missing(missing).expect("not known"),
        };
        let mut parts = vec![judge(
            "Dependabot",
            &linked.vulnerability_alerts,
            Outcome::fail("Dependabot alerts are disabled, so vulnerabilities go unnoticed"),
        )];
        if spec.code_scanning {
            parts.push(judge(
                "code scanning",
                &linked.code_scanning_alerts,
                Outcome::pass("code scanning is not set up"),
            ));
        }
        if let Some(max) = spec.max_secret_alerts {
            parts.push(match &linked.secret_scanning_alerts {
                Fact::Known(Some(n)) if *n > max => Outcome::fail(format!(
                    "{n} open secret scanning alert(s) (at most {max}): rotate the leaked secrets"
                )),
                Fact::Known(Some(n)) => Outcome::pass(format!("{n} open secret scanning alert(s)")),
                Fact::Known(None) => Outcome::pass("secret scanning is disabled"),
                missing => Outcome::missing(missing).expect("not known"),
            });
        }
        combine(parts.into_iter(), true)
    }

    fn release_age(&self, max_days: u32) -> Outcome {
        let fact = &self.subject.linked.last_release;
        if let Some(missing) = Outcome::missing(fact) {
            return missing;
        }
        let Fact::Known(release) = fact else { unreachable!() };
        let Some(release) = release else {
            return Outcome::fail("no release tag (like `v1.2.3`) on GitHub: nothing shows the service ships");
        };
        let age = (self.subject.today - release.date.date_naive()).num_days().max(0);
        let when = release.date.format("%Y-%m-%d");
        if age > i64::from(max_days) {
            return Outcome::fail(format!(
                "the last release, `{}` ({when}), is {age} days old (at most {max_days})",
                release.tag
            ));
        }
        Outcome::pass(format!("last release `{}` on {when}, {age} day(s) ago", release.tag))
    }

    /// The name Prometheus labels carry for this service: the catalog name, else the repository's name.
    fn service_name(&self) -> &str {
        super::service_name(self.subject.service, &self.subject.repository)
    }

    fn prometheus_rules(
        &self,
        kind: &str,
        min: u32,
        name_matches: Option<&regex::Regex>,
        labels: &[String],
    ) -> Outcome {
        let fact = &self.subject.linked.prometheus_rules;
        if let Some(missing) = Outcome::missing(fact) {
            return missing;
        }
        let Fact::Known(rules) = fact else { unreachable!() };
        let name = self.service_name();
        let matching: Vec<&PromRule> = rules
            .iter()
            .filter(|r| r.kind == kind)
            .filter(|r| labels.iter().any(|l| r.labels.get(l).is_some_and(|v| v == name)))
            .filter(|r| name_matches.is_none_or(|re| re.is_match(&r.name)))
            .collect();
        let labelled = labels.iter().map(|l| format!("{l}=\"{name}\"")).collect::<Vec<_>>().join(" or ");
        let named = name_matches.map(|re| format!(" named like /{}/", re.as_str())).unwrap_or_default();
        if (matching.len() as u32) < min {
            return Outcome::fail(format!(
                "Prometheus has {} {kind} rule(s){named} labelled {labelled}, {min} expected",
                matching.len()
            ));
        }
        let broken: Vec<&str> = matching.iter().filter(|r| r.health == "err").map(|r| r.name.as_str()).collect();
        let shown: Vec<String> = matching.iter().take(5).map(|r| format!("`{}`", r.name)).collect();
        let more = if matching.len() > 5 { format!(" and {} more", matching.len() - 5) } else { String::new() };
        let health = if broken.is_empty() {
            String::new()
        } else {
            format!(" ({} failing to evaluate: {})", broken.len(), broken.join(", "))
        };
        Outcome::pass(format!("Prometheus {kind} rules for `{name}`: {}{more}{health}", shown.join(", ")))
    }

    fn promql(&self, spec: &PromqlSpec) -> Outcome {
        // Whether Prometheus is configured at all; a failed rules listing says nothing about this query.
        if let Fact::NotConfigured(why) = &self.subject.linked.prometheus_rules {
            return Outcome::skipped(why.clone());
        }
        let entity = self.subject.service.map(|s| &s.entity);
        let query = match spec.key(entity) {
            Ok(query) => query,
            Err(e) => return Outcome::fail(format!("cannot build the PromQL query: {e}")),
        };
        let what = spec.description.clone().unwrap_or_else(|| format!("`{}`", short(&query)));
        let value = match self.subject.linked.promql.get(&query) {
            None => return Outcome::skipped(format!("{what} was not queried in this evaluation")),
            Some(Fact::Known(value)) => value,
            Some(missing) => return Outcome::missing(missing).expect("not known"),
        };
        let Some(value) = value else {
            return Outcome::fail(format!("{what}: Prometheus returned no sample"));
        };
        if value.is_nan() {
            return Outcome::fail(format!("{what} is NaN"));
        }
        if let Some(min) = spec.min.filter(|min| value < min) {
            return Outcome::fail(format!("{what} is {value}, at least {min} expected"));
        }
        if let Some(max) = spec.max.filter(|max| value > max) {
            return Outcome::fail(format!("{what} is {value}, at most {max} expected"));
        }
        Outcome::pass(format!("{what} is {value}"))
    }

    fn http(&self, spec: &HttpSpec) -> Outcome {
        let entity = self.subject.service.map(|s| &s.entity);
        let key = match spec.key(entity) {
            Ok(key) => key,
            Err(e) => return Outcome::fail(format!("cannot build the request: {e}")),
        };
        let url = spec.shown_url(entity);
        let answer = match self.subject.linked.http.get(&key) {
            None => return Outcome::skipped(format!("GET {url} was not requested in this evaluation")),
            Some(Fact::Known(answer)) => answer,
            Some(missing) => return Outcome::missing(missing).expect("not known"),
        };
        let body = match answer {
            HttpAnswer::NotFound => return Outcome::fail(format!("GET {url} answered 404 Not Found")),
            HttpAnswer::Json(body) => body,
        };
        match spec.jq.test(body, &self.subject.jq_limits) {
            Ok(true) => Outcome::pass(format!("GET {url}: `{}` holds", short(spec.jq.source()))),
            Ok(false) => Outcome::fail(
                spec.message
                    .clone()
                    .unwrap_or_else(|| format!("GET {url}: `{}` does not hold", short(spec.jq.source()))),
            ),
            Err(e) => Outcome::error(format!("GET {url}: {e}")),
        }
    }

    fn oncall(&self, min_levels: u32) -> Outcome {
        let Some(service_id) = self.subject.service.and_then(|s| s.pagerduty_service.as_deref()) else {
            if self.subject.service.is_none() && !self.subject.catalog_given {
                return Outcome::skipped(format!(
                    "{NO_CATALOG}: the PagerDuty service comes from the catalog entry's `pagerduty.com/service-id`"
                ));
            }
            return Outcome::fail(
                "no PagerDuty service linked: add the `pagerduty.com/service-id` annotation to the catalog entry",
            );
        };
        let fact = &self.subject.linked.oncall;
        if let Some(missing) = Outcome::missing(fact) {
            return missing;
        }
        let Fact::Known(oncall) = fact else { unreachable!() };
        if !oncall.exists {
            return Outcome::fail(format!("PagerDuty service `{service_id}` does not exist"));
        }
        if oncall.disabled {
            return Outcome::fail(format!("PagerDuty service `{service_id}` is disabled"));
        }
        if oncall.escalation_levels < min_levels {
            return Outcome::fail(format!(
                "the escalation policy of `{service_id}` has {} level(s), {min_levels} expected",
                oncall.escalation_levels
            ));
        }
        if oncall.on_call_now.is_empty() {
            return Outcome::fail(format!("nobody is on call for `{service_id}` right now"));
        }
        Outcome::pass(format!("on call now: {}", oncall.on_call_now.join(", ")))
    }
}

/// A CODEOWNERS file whose text was not read cannot be judged by its lines: `error` with the reason, except a file
/// GitHub itself ignores for its size, which fails.
fn codeowners_unread(location: &str, file: &FileFacts) -> Option<Outcome> {
    let why = match file.content {
        Content::Text(_) => return None,
        Content::TooLarge if file.size >= codeowners::GITHUB_MAX_BYTES => {
            return Some(Outcome::fail(format!(
                "`{location}` is {} bytes: GitHub ignores a CODEOWNERS file of 3 MB or more",
                file.size
            )));
        }
        Content::TooLarge => {
            format!("{} bytes, over the {} MiB limit for files read", file.size, MAX_READ_BYTES / (1024 * 1024))
        }
        Content::Binary => "not UTF-8 text".to_string(),
        Content::OutsideLink => "a symlink to outside the repository, not followed".to_string(),
        Content::NotRead => "its content was not fetched".to_string(),
    };
    Some(Outcome::error(format!("`{location}` was not read ({why}), so its owners cannot be checked")))
}

/// `all` (every outcome must pass) or `any` (one must). A failure decides `all`, a pass decides `any`; otherwise an
/// error, then a skip, wins: a check that cannot be decided is not guessed.
fn combine(outcomes: impl Iterator<Item = Outcome>, all: bool) -> Outcome {
    let outcomes: Vec<Outcome> = outcomes.collect();
    let deciding = if all { Status::Fail } else { Status::Pass };
    if let Some(decided) = outcomes.iter().find(|o| o.status == deciding) {
        return decided.clone();
    }
    for status in [Status::Error, Status::Skipped] {
        if let Some(o) = outcomes.iter().find(|o| o.status == status) {
            return o.clone();
        }
    }
    // All passed (`all`) or all failed (`any`): say so with every message.
    let status = if all { Status::Pass } else { Status::Fail };
    let message = outcomes.iter().map(|o| o.message.as_str()).collect::<Vec<_>>().join("; ");
    let evidence = outcomes.into_iter().flat_map(|o| o.evidence).take(MAX_EVIDENCE).collect();
    Outcome { status, message, evidence }
}

/// Whether `jq` holds on a file's documents (a YAML stream passes when one of its documents does): `Err` for a
/// program error, `Ok(Err)` when a limit stopped it.
fn holds(jq: &Jq, documents: &[serde_json::Value], limits: &crate::jq::Limits) -> Result<Result<bool, String>, String> {
    let mut outcome = Ok(Ok(false));
    for document in documents {
        outcome = match jq.test(document, limits) {
            Ok(holds) => Ok(Ok(holds)),
            Err(e @ EvalError::Program(_)) => Err(e.to_string()),
            Err(EvalError::Limit(why)) => Ok(Err(why)),
        };
        if outcome == Ok(Ok(true)) {
            break;
        }
    }
    outcome
}

/// A jq expression for a message: whitespace collapsed, long ones cut.
fn short(expr: &str) -> String {
    let collapsed = expr.split_whitespace().collect::<Vec<_>>().join(" ");
    match collapsed.char_indices().nth(80) {
        Some((cut, _)) => format!("{}…", &collapsed[..cut]),
        None => collapsed,
    }
}

/// The documents of a structured file (a YAML stream may hold several; JSON and TOML hold one).
fn parse_structured(
    path: &str,
    content: Option<&Content>,
    format: Option<Format>,
) -> Result<Vec<serde_json::Value>, String> {
    let text = match content {
        Some(Content::Text(text)) => text,
        Some(Content::TooLarge) => return Err("too large to read (over 1 MiB)".into()),
        Some(Content::Binary) => return Err("not a text file".into()),
        Some(Content::OutsideLink) => return Err("a link to outside the repository, not followed".into()),
        Some(Content::NotRead) | None => return Err("not read".into()),
    };
    let format = format.or_else(|| {
        let ext = path.rsplit('.').next()?.to_ascii_lowercase();
        match ext.as_str() {
            "yaml" | "yml" => Some(Format::Yaml),
            "json" => Some(Format::Json),
            "toml" => Some(Format::Toml),
            _ => None,
        }
    });
    match format {
        Some(Format::Yaml) => crate::yaml::parse_documents(text)
            .map(|nodes| nodes.iter().map(crate::yaml::Node::to_json).collect())
            .map_err(|e| match e.kind {
                SyntaxKind::TooComplex => format!("{} (at line {}, column {})", e.message, e.pos.line, e.pos.col),
                SyntaxKind::Invalid => {
                    format!("cannot parse as YAML at line {}, column {}: {}", e.pos.line, e.pos.col, e.message)
                }
            }),
        Some(Format::Json) => {
            serde_json::from_str(text).map(|v| vec![v]).map_err(|e| format!("cannot parse as JSON: {e}"))
        }
        Some(Format::Toml) => {
            toml::from_str(text).map(|v| vec![v]).map_err(|e| format!("cannot parse as TOML: {}", e.message()))
        }
        None => Err("unknown format: set `format: yaml|json|toml` on the check".to_string()),
    }
}
