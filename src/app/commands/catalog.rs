//! The comment commands that open catalog pull requests: `/request-exception` and `/change-tier`.

use super::{Refusal, Thread};
use crate::app::Reviewed;
use crate::app::catalog_pr::{CatalogChange, CatalogRequest, PullLink, RequestKind, branch_name};
use crate::app::{App, AppError, CatalogSnapshot};
use crate::catalog::edit::{self, ExceptionRequest};
use crate::commands::ExceptionLength;
use crate::engine::Status;
use crate::github::client::Installation;
use crate::report::render_template;
use chrono::NaiveDate;
use serde::Serialize;

/// The exception length when a request gives none (capped by the tier's `exception_max_days`).
pub const DEFAULT_EXCEPTION_DAYS: u32 = 30;

impl App {
    /// The catalog as it stands, refusing the command when the App cannot read it.
    async fn readable_catalog(&self, github: &Installation) -> Result<CatalogSnapshot, Refusal> {
        let snapshot = self.catalog_snapshot(github).await?;
        if snapshot.sha == "none" {
            return Err(Refusal::User(format!(
                "the catalog repository {} cannot be read by this App; ask its administrators to install the App there",
                self.config.catalog_repo
            )));
        }
        Ok(snapshot)
    }

    /// The catalog service of the thread's repository.
    fn service_of<'s>(
        &self,
        snapshot: &'s CatalogSnapshot,
        repo: &str,
    ) -> Result<&'s crate::catalog::Service, Refusal> {
        snapshot.catalog.service_for_repository(repo).ok_or_else(|| {
            Refusal::User(format!(
                "{repo} has no entry in the catalog {}: add `services/<name>.yaml` with the annotation \
                 `github.com/project-slug: {repo}` first",
                self.config.catalog_repo
            ))
        })
    }

    /// The client for catalog writes, refusing the command when the App is not installed there.
    async fn writable_catalog(&self) -> Result<Installation, Refusal> {
        match self.catalog_installation().await {
            Ok(installation) => Ok(installation),
            Err(AppError::Permanent(_)) => Err(Refusal::User(format!(
                "the App is not installed on the catalog repository {}, so it cannot open pull requests there",
                self.config.catalog_repo
            ))),
            Err(e) => Err(Refusal::App(e)),
        }
    }

    /// `/request-exception`: a catalog pull request adding `exceptions/<service>/<rule>.yaml`. Returns the pull
    /// request, whether it is new (or this comment's own from an earlier attempt), and the expiry.
    pub(super) async fn command_request_exception(
        &self,
        github: &Installation,
        thread: &Thread<'_>,
        rule_id: &str,
        length: Option<ExceptionLength>,
        reason: &str,
    ) -> Result<(PullLink, bool, NaiveDate), Refusal> {
        let repo = thread.repo();
        let snapshot = self.readable_catalog(github).await?;
        let service = self.service_of(&snapshot, &repo)?;
        let Some(rule) = snapshot.policy.rule(rule_id) else {
            let hint = crate::diag::suggestion(rule_id, snapshot.policy.rules.iter().map(|r| r.id.as_str()));
            return Err(Refusal::User(format!("the scorecard has no rule `{rule_id}`{hint}")));
        };
        let card = self.default_branch_card(github, thread.repository, false).await?;
        let result = card.rule(rule_id);
        if let Some(result) = result.filter(|r| r.does_not_apply()) {
            return Err(Refusal::User(format!("`{rule_id}` {}: no exception is needed", result.message)));
        }
        let tier = &snapshot.policy.tiers[&card.tier];
        let max = tier.exception_max_days;
        let today = self.clock.today();
        let latest = today + chrono::Days::new(u64::from(max));
        let expires = match length {
            None => today + chrono::Days::new(u64::from(DEFAULT_EXCEPTION_DAYS.min(max))),
            Some(ExceptionLength::Days(days)) => today + chrono::Days::new(u64::from(days)),
            Some(ExceptionLength::Until(date)) => date,
        };
        if expires <= today {
            return Err(Refusal::User(format!("the exception must end after today ({today})")));
        }
        if expires > latest {
            return Err(Refusal::User(format!(
                "tier {} allows exceptions of at most {max} days (until {latest} at the latest); ask for less",
                card.tier
            )));
        }
        let request = CatalogRequest {
            rule: Some(rule_id.to_string()),
            expires: Some(expires),
            ..thread.request(RequestKind::Exception, &service.name)
        };
        let catalog = self.writable_catalog().await?;
        if let Some(found) = self.open_request(&catalog, &request).await? {
            return Ok((found.0, found.1, expires));
        }
        let file = edit::exception_file(&ExceptionRequest {
            service: service.name.clone(),
            rule: rule_id.to_string(),
            reason: reason.to_string(),
            expires,
            requested_by: thread.author.to_string(),
            requested_in: thread.comment_url.to_string(),
        })
        .map_err(|e| Refusal::App(AppError::Permanent(e.to_string())))?;
        let replaces = snapshot.catalog.exceptions_for(&service.name).find(|e| e.rule == rule_id).map(|e| e.expires);
        #[derive(Serialize)]
        struct View<'a> {
            rule: &'a str,
            title: &'a str,
            level: &'a str,
            service: &'a str,
            repository: &'a str,
            tier: u32,
            requested_by: &'a str,
            requested_in: &'a str,
            expires: String,
            days: i64,
            max_days: u32,
            status: &'a str,
            message: Option<&'a str>,
            replaces: Option<String>,
            reason: &'a str,
            remediation: &'a str,
        }
        let body = render_template(
            "exception_pr.md",
            &View {
                rule: rule_id,
                title: &rule.title,
                level: &rule.level,
                service: &service.name,
                repository: &repo,
                tier: card.tier,
                requested_by: thread.author,
                requested_in: thread.comment_url,
                expires: expires.to_string(),
                days: (expires - today).num_days(),
                max_days: max,
                status: result.map_or("not scored", |r| r.status.as_str()),
                message: result.map(|r| r.message.as_str()).filter(|m| !m.is_empty()),
                replaces: replaces.map(|d| d.to_string()),
                reason,
                remediation: &rule.remediation,
            },
        )
        .map_err(|e| Refusal::App(AppError::Permanent(format!("cannot render the pull request: {e:#}"))))?;
        let change = CatalogChange {
            branch: branch_name(&["exception", &service.name, rule_id, &thread.comment_id.to_string()]),
            message: format!(
                "Exception for {rule_id} in {} until {expires}\n\nRequested by {} in {}",
                service.name, thread.author, thread.comment_url
            ),
            files: vec![(edit::exception_path(&service.name, rule_id), Some(file))],
            title: format!("Exception: {} / {rule_id} until {expires}", service.name),
            body,
            request,
        };
        let pull = self.open_catalog_pr(&catalog, &snapshot, change).await?;
        tracing::info!(pull = pull.number, expires = %expires, "exception requested");
        Ok((pull, true, expires))
    }

    /// The open catalog pull request asking for the same thing, and whether it is this comment's own.
    async fn open_request(
        &self,
        catalog: &Installation,
        request: &CatalogRequest,
    ) -> Result<Option<(PullLink, bool)>, AppError> {
        let open = self.open_catalog_requests(catalog).await?;
        Ok(open.into_iter().find(|(_, r)| r.same_subject(request)).map(|(pull, r)| {
            let own = r.comment == request.comment && r.repository == request.repository;
            tracing::info!(pull = pull.number, own, "an open catalog pull request already asks for this");
            (pull, own)
        }))
    }

    /// `/change-tier`: a catalog pull request changing only `spec.tier` of the service's file.
    pub(super) async fn command_change_tier(
        &self,
        github: &Installation,
        thread: &Thread<'_>,
        to: u32,
        reason: &str,
    ) -> Result<(PullLink, bool), Refusal> {
        let repo = thread.repo();
        let head = crate::app::branch_head(github, &repo, &thread.repository.default_branch).await?;
        let (snapshot, facts, linked) = self.default_branch_inputs(github, thread.repository, &head, false).await?;
        let service = self.service_of(&snapshot, &repo)?;
        let policy = &snapshot.policy;
        let Some(to_tier) = policy.tiers.get(&to) else {
            let known: Vec<String> = policy.tiers.keys().map(u32::to_string).collect();
            return Err(Refusal::User(format!("the scorecard has no tier {to} (tiers: {})", known.join(", "))));
        };
        let now = self.score_in(&repo, &facts, &linked, &snapshot.catalog, Reviewed::yes(policy), None);
        if now.tier == to {
            return Err(Refusal::User(format!("{} is already tier {to}", service.name)));
        }
        let from_tier = &policy.tiers[&now.tier];
        let Some(text) = snapshot.files.get(&service.file) else {
            return Err(Refusal::App(AppError::Permanent(format!("{} was not read from the catalog", service.file))));
        };
        let edited = edit::set_tier(&service.file, text, to).map_err(|e| match e {
            edit::EditError::NotEditable { .. } | edit::EditError::Unreadable { .. } => Refusal::User(e.to_string()),
            edit::EditError::Verification { .. } => Refusal::App(AppError::Permanent(e.to_string())),
        })?;
        let request = CatalogRequest { tier: Some(to), ..thread.request(RequestKind::Tier, &service.name) };
        let catalog = self.writable_catalog().await?;
        if let Some(found) = self.open_request(&catalog, &request).await? {
            return Ok(found);
        }
        let after = self.score_in(&repo, &facts, &linked, &snapshot.catalog, Reviewed::yes(policy), Some(to));
        let today = self.clock.today();
        let due = today + chrono::Days::new(u64::from(to_tier.deadline_days));
        #[derive(Serialize)]
        struct Added<'a> {
            id: &'a str,
            title: &'a str,
            level: &'a str,
            status: &'a str,
            due: Option<String>,
        }
        let added: Vec<Added> = after
            .rules
            .iter()
            .filter(|r| r.required && !r.does_not_apply() && now.rule(&r.id).is_none_or(|b| !b.required))
            .map(|r| Added {
                id: &r.id,
                title: &r.title,
                level: &r.level,
                status: r.status.as_str(),
                due: (r.status == Status::Fail).then(|| due.to_string()),
            })
            .collect();
        let removed: Vec<&str> = now
            .rules
            .iter()
            .filter(|r| r.required && after.rule(&r.id).is_some_and(|a| !a.required))
            .map(|r| r.id.as_str())
            .collect();
        #[derive(Serialize)]
        struct View<'a> {
            service: &'a str,
            file: &'a str,
            from: u32,
            to: u32,
            requested_by: &'a str,
            requested_in: &'a str,
            reason: &'a str,
            from_level: &'a str,
            to_level: &'a str,
            from_deadline: u32,
            to_deadline: u32,
            from_max: u32,
            to_max: u32,
            level: Option<&'a str>,
            meets_after: bool,
            added: Vec<Added<'a>>,
            removed: Vec<&'a str>,
        }
        let body = render_template(
            "tier_pr.md",
            &View {
                service: &service.name,
                file: &service.file,
                from: now.tier,
                to,
                requested_by: thread.author,
                requested_in: thread.comment_url,
                reason,
                from_level: &from_tier.requires,
                to_level: &to_tier.requires,
                from_deadline: from_tier.deadline_days,
                to_deadline: to_tier.deadline_days,
                from_max: from_tier.exception_max_days,
                to_max: to_tier.exception_max_days,
                level: now.level.as_deref(),
                meets_after: after.meets_required,
                added,
                removed,
            },
        )
        .map_err(|e| Refusal::App(AppError::Permanent(format!("cannot render the pull request: {e:#}"))))?;
        let change = CatalogChange {
            branch: branch_name(&["tier", &service.name, &thread.comment_id.to_string()]),
            message: format!(
                "Tier of {} from {} to {to}\n\nRequested by {} in {}",
                service.name, now.tier, thread.author, thread.comment_url
            ),
            files: vec![(service.file.clone(), Some(edited))],
            title: format!("Tier change: {} from tier {} to tier {to}", service.name, now.tier),
            body,
            request,
        };
        let pull = self.open_catalog_pr(&catalog, &snapshot, change).await?;
        tracing::info!(pull = pull.number, from = now.tier, to, "tier change requested");
        Ok((pull, true))
    }
}
