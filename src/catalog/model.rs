//! Catalog file formats: services (Backstage `Component` entities) and exceptions.

use crate::yaml::Located;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub const PROJECT_SLUG: &str = "github.com/project-slug";
pub const PAGERDUTY_SERVICE: &str = "pagerduty.com/service-id";

/// `services/<name>.yaml`: a Backstage Component entity, so a Backstage instance can ingest the same repository.
/// Keys shipshape does not use are allowed (Backstage has many); catalog checks see them all.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(rename = "open:ServiceFile")]
#[schemars(rename = "ServiceFile", title = "shipshape catalog service (Backstage Component)")]
pub struct ServiceFile {
    /// `backstage.io/v1alpha1`.
    #[serde(rename = "apiVersion")]
    pub api_version: Located<String>,
    /// `Component`.
    pub kind: Located<String>,
    pub metadata: ServiceMetadata,
    pub spec: ServiceSpec,
}

#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(rename = "open:ServiceMetadata")]
#[schemars(rename = "ServiceMetadata")]
pub struct ServiceMetadata {
    /// The service name; the file is `services/<name>.yaml`.
    pub name: Located<String>,
    /// `github.com/project-slug` (`owner/name`) links the service to its repository; `pagerduty.com/service-id`
    /// to its PagerDuty service.
    #[serde(default)]
    pub annotations: BTreeMap<String, String>,
}

#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(rename = "open:ServiceSpec")]
#[schemars(rename = "ServiceSpec")]
pub struct ServiceSpec {
    /// The owning team (`group:platform`, `team-payments`).
    #[serde(default)]
    pub owner: Option<String>,
    /// `service`, `website`, `library`, …
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    /// Criticality: 1 is the most critical. Changing it is a reviewed catalog pull request.
    #[serde(default)]
    pub tier: Option<Located<u32>>,
}

/// `exceptions/<service>/<rule-id>.yaml`: an approved exception, active until `expires` (inclusive).
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "shipshape exception")]
pub struct ExceptionFile {
    /// `shipshape.dev/v1`.
    #[serde(rename = "apiVersion")]
    pub api_version: Located<String>,
    /// `Exception`.
    pub kind: Located<String>,
    pub service: Located<String>,
    pub rule: Located<String>,
    pub reason: String,
    /// `YYYY-MM-DD`, the last day the exception applies.
    pub expires: Located<String>,
    /// Who asked (a GitHub login).
    #[serde(default)]
    pub requested_by: Option<String>,
    /// Where it was asked (the pull request comment URL).
    #[serde(default)]
    pub requested_in: Option<String>,
}
