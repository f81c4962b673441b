//! The scoring engine: pure. Facts, a policy, the service's catalog entry and exceptions, and today's date in; a
//! [`Scorecard`] out. No I/O, no clock: the CLI, pull-request checks and sweeps get the same answer for the same
//! inputs.

mod checks;
pub mod diff;
pub mod scorecard;

pub use diff::{ScorecardDiff, diff};
pub use scorecard::*;

use crate::catalog::{Exception, Service};
use crate::facts::{LinkedFacts, RepoFacts};
use crate::policy::{Policy, Rule};
use checks::{Ctx, Outcome};
use chrono::NaiveDate;

/// What is being scored.
#[derive(Clone, Debug)]
pub struct Subject<'a> {
    /// `owner/name`, or the path scored when the repository is not on GitHub.
    pub repository: String,
    pub facts: &'a RepoFacts,
    pub linked: &'a LinkedFacts,
    /// The catalog entry (or the repository's own `catalog-info.yaml`).
    pub service: Option<&'a Service>,
    /// Whether a catalog was given at all: without one, rules that read the catalog entry are `skipped` rather
    /// than failed for a missing entry (SPEC 2).
    pub catalog_given: bool,
    /// Exceptions filed for this service (active or not: the engine decides by `today`).
    pub exceptions: Vec<&'a Exception>,
    /// `--tier`: score as this tier whatever the catalog says.
    pub tier_override: Option<u32>,
    pub today: NaiveDate,
    /// What each jq evaluation may use: [`crate::jq::Limits::UNREVIEWED`] for a policy nobody approved yet.
    pub jq_limits: crate::jq::Limits,
}

/// The name Prometheus labels carry for a service: its catalog name, else the repository's name (`owner/name` or a
/// path: the last segment).
pub fn service_name<'a>(service: Option<&'a Service>, repository: &'a str) -> &'a str {
    match service {
        Some(service) => &service.name,
        None => repository.rsplit(['/', '\\']).find(|s| !s.is_empty()).unwrap_or(repository),
    }
}

/// Scores one subject against a policy.
pub fn evaluate(policy: &Policy, subject: &Subject<'_>) -> Scorecard {
    let mut notes = Vec::new();
    let tier = resolve_tier(policy, subject, &mut notes);
    let tier_spec = &policy.tiers[&tier];
    let ctx = Ctx::new(policy, subject);

    let rules: Vec<RuleResult> = policy
        .rules
        .iter()
        .map(|rule| {
            ctx.include_ignored.set(rule.include_ignored);
            let outcome = applicability(&ctx, rule, tier).unwrap_or_else(|| ctx.check(&rule.check));
            let mut result = RuleResult {
                id: rule.id.clone(),
                title: rule.title.clone(),
                level: rule.level.clone(),
                status: outcome.status,
                message: outcome.message,
                evidence: outcome.evidence,
                exception: None,
                remediation: rule.remediation.clone(),
                required: rule.level_index <= tier_spec.requires_index,
            };
            apply_exception(&mut result, subject, rule);
            result
        })
        .collect();

    let reached = level_reached(policy, &rules);
    let unverified = unverified(policy, &rules, reached);
    if let Some(note) = unjudged_level_note(policy, &rules, reached) {
        notes.push(note);
    }
    let mut summary = Summary::default();
    for r in &rules {
        match r.status {
            Status::Pass => summary.pass += 1,
            Status::Fail => summary.fail += 1,
            Status::Excepted => summary.excepted += 1,
            Status::Skipped => summary.skipped += 1,
            Status::Error => summary.error += 1,
        }
    }
    notes.extend(subject.facts.notes.iter().cloned());
    notes.extend(ctx.scope_notes().iter().cloned());
    Scorecard {
        service: subject.service.map(|s| s.name.clone()),
        repository: subject.repository.clone(),
        tier,
        required_level: tier_spec.requires.clone(),
        level: reached.map(|i| policy.levels[i].clone()),
        meets_required: reached.is_some_and(|i| i >= tier_spec.requires_index),
        rules,
        summary,
        owner: subject.service.and_then(|s| s.owner.clone()),
        commit: subject.facts.commit.clone(),
        levels: policy.levels.clone(),
        notes,
        unverified,
    }
}

fn resolve_tier(policy: &Policy, subject: &Subject<'_>, notes: &mut Vec<String>) -> u32 {
    let (tier, source) = match (subject.tier_override, subject.service.and_then(|s| s.tier)) {
        (Some(tier), _) => (tier, "--tier".to_string()),
        (None, Some(tier)) => {
            (tier, format!("the catalog ({})", subject.service.map(|s| s.file.as_str()).unwrap_or("")))
        }
        (None, None) => {
            let why = match subject.service {
                Some(Service { ignored_tier: Some(tier), file, .. }) => {
                    format!("`spec.tier: {tier}` in {file} is ignored (tiers come only from the catalog)")
                }
                Some(_) => "the catalog entry has no spec.tier".to_string(),
                None if subject.catalog_given => "no catalog entry".to_string(),
                None => "no catalog given".to_string(),
            };
            notes.push(format!("{why}: scored at the policy's default tier {}", policy.default_tier));
            return policy.default_tier;
        }
    };
    if policy.tiers.contains_key(&tier) {
        tier
    } else {
        notes.push(format!(
            "tier {tier} from {source} is not defined by the policy: scored at the default tier {}",
            policy.default_tier
        ));
        policy.default_tier
    }
}

/// `Some` (a skipped outcome) when the rule's `when` says it does not apply to this service.
fn applicability(ctx: &Ctx<'_>, rule: &Rule, tier: u32) -> Option<Outcome> {
    let when = rule.when.as_ref()?;
    if let Some(tiers) = &when.tiers
        && !tiers.contains(&tier)
    {
        let list: Vec<_> = tiers.iter().map(u32::to_string).collect();
        return Some(Outcome::skipped(format!("{NOT_APPLICABLE}: only for tiers {}", list.join(", "))));
    }
    if let Some(types) = &when.types {
        if ctx.subject.service.is_none() && !ctx.subject.catalog_given {
            let wanted: Vec<String> = types.iter().map(|t| format!("`{t}`")).collect();
            return Some(Outcome::skipped(format!(
                "{NO_CATALOG}: the rule applies only to catalog entries of type {}",
                wanted.join(", ")
            )));
        }
        let kind = ctx.subject.service.and_then(|s| s.kind.as_deref());
        if !kind.is_some_and(|k| types.iter().any(|t| t == k)) {
            let found = kind.map(|k| format!("is `{k}`")).unwrap_or_else(|| "has no catalog `spec.type`".into());
            let wanted: Vec<String> = types.iter().map(|t| format!("`{t}`")).collect();
            return Some(Outcome::skipped(format!(
                "{NOT_APPLICABLE}: only for catalog entries of type {} (this one {found})",
                wanted.join(", ")
            )));
        }
    }
    if let Some(check) = &when.check {
        let outcome = ctx.check(check);
        return match outcome.status {
            Status::Pass => None,
            Status::Fail => Some(Outcome::skipped(format!("{NOT_APPLICABLE}: {}", outcome.message))),
            _ => Some(outcome),
        };
    }
    None
}

fn apply_exception(result: &mut RuleResult, subject: &Subject<'_>, rule: &Rule) {
    let Some(exception) = subject.exceptions.iter().find(|e| e.rule == rule.id) else { return };
    if result.status != Status::Fail {
        return;
    }
    if exception.is_active(subject.today) {
        result.status = Status::Excepted;
        result.exception = Some(ExceptionInfo {
            reason: exception.reason.clone(),
            expires: exception.expires.to_string(),
            approved_in: exception.requested_in.clone().unwrap_or_else(|| exception.file.clone()),
        });
    } else {
        result.message = format!("{} (exception expired on {})", result.message, exception.expires);
    }
}

/// The highest level reached: the lowest levels in turn, each reached when none of its rules fails and at least one
/// was judged (pass, fail or excepted). A level whose rules were all skipped or in error (or that has none) is not
/// reached: nothing shows it is met (SPEC 2). `None` below the lowest level.
pub fn level_reached(policy: &Policy, rules: &[RuleResult]) -> Option<usize> {
    let mut reached = None;
    for (index, level) in policy.levels.iter().enumerate() {
        let mut own = rules.iter().filter(|r| &r.level == level);
        let blocked = own.clone().any(|r| r.status == Status::Fail);
        if blocked || !own.any(|r| is_judged(r.status)) {
            break;
        }
        reached = Some(index);
    }
    reached
}

/// Pass, fail or excepted: the rule was checked.
fn is_judged(status: Status) -> bool {
    matches!(status, Status::Pass | Status::Fail | Status::Excepted)
}

/// A rule that could not be judged (skipped for a missing tool or catalog, or in error), as opposed to one whose
/// `when` leaves the service out.
pub fn is_unverified(rule: &RuleResult) -> bool {
    !is_judged(rule.status) && !rule.does_not_apply()
}

/// Ids of the rules at or below the level reached that were not judged: the level stands without them.
fn unverified(policy: &Policy, rules: &[RuleResult], reached: Option<usize>) -> Vec<String> {
    let Some(reached) = reached else { return Vec::new() };
    let levels = &policy.levels[..=reached];
    rules.iter().filter(|r| levels.contains(&r.level) && is_unverified(r)).map(|r| r.id.clone()).collect()
}

/// Why the level above the one reached was not reached, when the reason is that none of its rules was judged.
fn unjudged_level_note(policy: &Policy, rules: &[RuleResult], reached: Option<usize>) -> Option<String> {
    let next = reached.map_or(0, |i| i + 1);
    let level = policy.levels.get(next)?;
    let own: Vec<&RuleResult> = rules.iter().filter(|r| &r.level == level).collect();
    if own.iter().any(|r| is_judged(r.status)) {
        return None;
    }
    if own.is_empty() {
        return Some(format!("level {level} is not reached: the policy has no rule of that level"));
    }
    let ids: Vec<String> = own.iter().map(|r| format!("`{}`", r.id)).collect();
    let why = if own.iter().all(|r| r.does_not_apply()) {
        "none of its rules applies to this service"
    } else {
        "none of its rules could be judged"
    };
    Some(format!("level {level} is not reached: {why} ({})", ids.join(", ")))
}

#[cfg(test)]
pub(crate) mod testing;
#[cfg(test)]
mod tests;
