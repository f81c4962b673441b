//! Checks that span files: the catalog against the policy (exceptions naming unknown rules or services, expired
//! exceptions, tiers the policy does not define).

use crate::catalog::Catalog;
use crate::diag::{Diagnostic, Diagnostics, suggestion};
use crate::policy::Policy;
use chrono::NaiveDate;

/// Problems between a loaded catalog and policy. Past expiry dates are warnings: the exception simply no longer
/// applies.
pub fn cross_check(policy: Option<&Policy>, catalog: &Catalog, today: NaiveDate) -> Diagnostics {
    let mut diags = Diagnostics::default();
    let show = |file: &str| catalog.root.join(file).display().to_string();
    for exception in &catalog.exceptions {
        let file = show(&exception.file);
        if !catalog.services.contains_key(&exception.service) {
            let hint = suggestion(&exception.service, catalog.services.keys().map(String::as_str));
            diags.push(Diagnostic::error(
                &file,
                exception.service_pos,
                format!("exception for unknown service `{}`{hint}", exception.service),
            ));
        }
        if let Some(policy) = policy
            && policy.rule(&exception.rule).is_none()
        {
            let hint = suggestion(&exception.rule, policy.rules.iter().map(|r| r.id.as_str()));
            diags.push(Diagnostic::error(
                &file,
                exception.rule_pos,
                format!("exception for unknown rule `{}`{hint}", exception.rule),
            ));
        }
        if !exception.is_active(today) {
            diags.push(Diagnostic::warning(
                &file,
                exception.expires_pos,
                format!("expired on {}: it no longer applies and the file can be removed", exception.expires),
            ));
        }
    }
    let Some(policy) = policy else {
        if !catalog.services.is_empty() || !catalog.exceptions.is_empty() {
            diags.push(Diagnostic::warning(
                catalog.root.display().to_string(),
                crate::diag::Pos::new(1, 1),
                "not checked against the policy, which has errors: the rules exceptions name, the tiers of \
                 services and how long exceptions may run",
            ));
        }
        return diags;
    };
    for service in catalog.services.values() {
        if let Some(tier) = service.tier
            && !policy.tiers.contains_key(&tier)
        {
            let known: Vec<String> = policy.tiers.keys().map(u32::to_string).collect();
            diags.push(Diagnostic::error(
                show(&service.file),
                service.tier_pos,
                format!("tier {tier} is not defined by the policy (tiers: {})", known.join(", ")),
            ));
        }
    }
    diags
}

/// Exceptions that run longer than their service's tier allows (`exception_max_days` from `today`). Errors for
/// `shipshape validate` and catalog pull requests, where exceptions are approved; scoring still honours them (such a
/// file is not left out).
pub fn exception_lengths(policy: &Policy, catalog: &Catalog, today: NaiveDate) -> Diagnostics {
    let mut diags = Diagnostics::default();
    for exception in &catalog.exceptions {
        let Some(service) = catalog.services.get(&exception.service) else { continue };
        let tier = service.tier.unwrap_or(policy.default_tier);
        let Some(max) = policy.tiers.get(&tier).map(|t| t.exception_max_days) else { continue };
        let latest = today + chrono::Days::new(u64::from(max));
        if exception.expires > latest {
            diags.push(Diagnostic::error(
                catalog.root.join(&exception.file).display().to_string(),
                exception.expires_pos,
                format!(
                    "expires {} is further away than tier {tier} allows ({max} days: {latest} at the latest)",
                    exception.expires
                ),
            ));
        }
    }
    diags
}
