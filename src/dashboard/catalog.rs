//! What the web shows of the catalog repository and its policy: services with their entry files, exceptions,
//! initiatives, rule titles and levels. The App publishes it each time it reads a new catalog commit (the web has no
//! GitHub client of its own, and every replica reads the same record).

use crate::catalog::Catalog;
use crate::policy::Policy;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// The key the App publishes the view under, in the store's `web` namespace.
pub const KV_KEY: &str = "catalog_view";

/// What a path in a web address may hold as it is (`/` separates its parts).
const PATH_PART: &percent_encoding::AsciiSet =
    &percent_encoding::NON_ALPHANUMERIC.remove(b'/').remove(b'.').remove(b'-').remove(b'_').remove(b'~');

/// The catalog and policy at one commit.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CatalogView {
    /// `owner/name` of the catalog repository.
    pub repository: String,
    /// The catalog repository's web address (GitHub's `html_url`).
    pub html_url: Option<String>,
    pub branch: String,
    pub sha: String,
    pub services: BTreeMap<String, CatalogEntry>,
    pub exceptions: Vec<ExceptionEntry>,
    pub initiatives: Vec<InitiativeEntry>,
    /// The policy's rules by id.
    pub rules: BTreeMap<String, RuleEntry>,
    /// Lowest first.
    pub levels: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CatalogEntry {
    /// The entry's file, relative to the catalog root.
    pub file: String,
    /// `owner/name` of the service's repository.
    pub repository: Option<String>,
    pub owner: Option<String>,
    pub tier: Option<u32>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExceptionEntry {
    pub service: String,
    pub rule: String,
    pub reason: String,
    /// The last day it applies.
    pub expires: NaiveDate,
    pub requested_by: Option<String>,
    /// The comment it was requested in.
    pub requested_in: Option<String>,
    pub file: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InitiativeEntry {
    pub id: String,
    pub title: String,
    pub deadline: NaiveDate,
    pub rules: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleEntry {
    pub title: String,
    pub level: String,
    pub description: String,
}

impl RuleEntry {
    /// The policy's rules by id.
    pub fn of(policy: &Policy) -> BTreeMap<String, RuleEntry> {
        let entry = |r: &crate::policy::Rule| RuleEntry {
            title: r.title.clone(),
            level: r.level.clone(),
            description: r.description.clone(),
        };
        policy.rules.iter().map(|r| (r.id.clone(), entry(r))).collect()
    }
}

impl CatalogView {
    /// The view of `catalog` and `policy` at `sha` of `repository` (default branch `branch`).
    pub fn new(
        repository: &str,
        html_url: Option<String>,
        branch: &str,
        sha: &str,
        catalog: &Catalog,
        policy: &Policy,
    ) -> Self {
        let services = catalog
            .services
            .values()
            .map(|s| {
                let entry = CatalogEntry {
                    file: s.file.clone(),
                    repository: s.repository.clone(),
                    owner: s.owner.clone(),
                    tier: s.tier,
                };
                (s.name.clone(), entry)
            })
            .collect();
        let exceptions = catalog
            .exceptions
            .iter()
            .map(|e| ExceptionEntry {
                service: e.service.clone(),
                rule: e.rule.clone(),
                reason: e.reason.clone(),
                expires: e.expires,
                requested_by: e.requested_by.clone(),
                requested_in: e.requested_in.clone(),
                file: e.file.clone(),
            })
            .collect();
        let initiatives = policy
            .initiatives
            .iter()
            .map(|i| InitiativeEntry {
                id: i.id.clone(),
                title: i.title.clone(),
                deadline: i.deadline,
                rules: i.rules.clone(),
            })
            .collect();
        CatalogView {
            repository: repository.to_string(),
            html_url,
            branch: branch.to_string(),
            sha: sha.to_string(),
            services,
            exceptions,
            initiatives,
            rules: RuleEntry::of(policy),
            levels: policy.levels.clone(),
        }
    }

    /// The names of the services in the catalog.
    pub fn names(&self) -> BTreeSet<String> {
        self.services.keys().cloned().collect()
    }

    /// The web address of `file` of the catalog at its default branch.
    pub fn file_url(&self, file: &str) -> Option<String> {
        let base = self.html_url.as_deref()?.trim_end_matches('/');
        let encode = |s: &str| percent_encoding::utf8_percent_encode(s, PATH_PART).to_string();
        Some(format!("{base}/blob/{}/{}", encode(&self.branch), encode(file)))
    }
}

/// An exception pull request the App opened for a `/request-exception` (kept so a service's page can link to it
/// while it is under review), under [`requests_key`] in the store's `web` namespace.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExceptionRequest {
    pub rule: String,
    /// The pull request's web address (GitHub's `html_url`) and number.
    pub url: String,
    pub number: u64,
    pub expires: NaiveDate,
    pub requested_by: String,
    pub opened_at: chrono::DateTime<chrono::Utc>,
}

/// How many exception requests are kept per repository (the newest).
pub const MAX_REQUESTS: usize = 20;

/// The key of a repository's exception requests.
pub fn requests_key(repository: &str) -> String {
    format!("exception_requests/{repository}")
}

/// `requests` with `new` added (replacing one for the same pull request), newest first, at most [`MAX_REQUESTS`].
pub fn add_request(mut requests: Vec<ExceptionRequest>, new: ExceptionRequest) -> Vec<ExceptionRequest> {
    requests.retain(|r| r.number != new.number);
    requests.insert(0, new);
    requests.truncate(MAX_REQUESTS);
    requests
}
