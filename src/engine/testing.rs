//! Scorecards for unit tests elsewhere in the crate (tracking, history, Slack): one rule and one service's card
//! with plausible defaults, to be adjusted field by field.

use super::{RuleResult, Scorecard, Status, Summary};

/// Rule `id` titled `Has {id}`, failing with `{id} is missing`, remediation `Add {id}.`.
pub fn rule(id: &str, level: &str, status: Status, required: bool) -> RuleResult {
    RuleResult {
        id: id.into(),
        title: format!("Has {id}"),
        level: level.into(),
        status,
        message: format!("{id} is missing"),
        evidence: vec![],
        exception: None,
        remediation: format!("Add {id}."),
        required,
    }
}

/// Service `payments` (`acme/payments`, tier 2, requires silver, at bronze) with `rules`; it meets its level when no
/// required rule fails.
pub fn card(rules: Vec<RuleResult>) -> Scorecard {
    Scorecard {
        service: Some("payments".into()),
        repository: "acme/payments".into(),
        tier: 2,
        required_level: "silver".into(),
        level: Some("bronze".into()),
        meets_required: rules.iter().filter(|r| r.required).all(|r| r.status != Status::Fail),
        rules,
        summary: Summary::default(),
        owner: Some("group:default/payments-team".into()),
        commit: Some("0123456789abcdef0123456789abcdef01234567".into()),
        levels: vec!["bronze".into(), "silver".into(), "gold".into()],
        notes: vec![],
        unverified: vec![],
    }
}
