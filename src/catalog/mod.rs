//! The catalog: the GitOps system of record for services (tier, owner, links) and approved exceptions.
//!
//! Layout of the catalog repository (SPEC 3):
//! - `services/<name>.yaml`: a Backstage Component entity;
//! - `exceptions/<service>/<rule-id>.yaml`: one approved exception each;
//! - `policies/` (optional): the organisation's scorecard, replacing the embedded one.

pub mod edit;
mod files;
pub mod model;

pub use files::{MAX_FILE_BYTES, ReadError, read_limited};
pub(crate) use files::{read, yaml_files};

use crate::diag::{Diagnostic, Diagnostics, Pos};
use crate::yaml;
use chrono::NaiveDate;
use model::{ExceptionFile, PAGERDUTY_SERVICE, PROJECT_SLUG, ServiceFile};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// A service of the catalog.
#[derive(Clone, Debug)]
pub struct Service {
    pub name: String,
    /// Where it was defined (for messages), relative to the catalog root.
    pub file: String,
    pub owner: Option<String>,
    pub kind: Option<String>,
    pub tier: Option<u32>,
    pub tier_pos: Pos,
    /// A `spec.tier` that was read but not used (a repository's own `catalog-info.yaml` cannot set its tier).
    pub ignored_tier: Option<u32>,
    /// `owner/name` from the `github.com/project-slug` annotation.
    pub repository: Option<String>,
    pub pagerduty_service: Option<String>,
    /// The whole entity as JSON, for `catalog` checks.
    pub entity: serde_json::Value,
}

impl Service {
    /// A service read from a repository's own `catalog-info.yaml` (no catalog given). Its tier is ignored: tiers are
    /// approval-gated and come only from the catalog.
    pub fn from_entity(file: &str, text: &str, diags: &mut Diagnostics) -> Option<Service> {
        let (parsed, node) = yaml::load::<ServiceFile>(file, text, diags)?;
        let mut service = Service::from_file(file, parsed, &node);
        service.ignored_tier = service.tier.take();
        Some(service)
    }

    fn from_file(file: &str, parsed: ServiceFile, node: &yaml::Node) -> Service {
        let annotations = &parsed.metadata.annotations;
        Service {
            name: parsed.metadata.name.value.clone(),
            file: file.to_string(),
            owner: parsed.spec.owner.clone(),
            kind: parsed.spec.kind.clone(),
            tier: parsed.spec.tier.as_ref().map(|t| t.value),
            tier_pos: parsed.spec.tier.as_ref().map(|t| t.pos).unwrap_or_default(),
            ignored_tier: None,
            repository: annotations.get(PROJECT_SLUG).cloned(),
            pagerduty_service: annotations.get(PAGERDUTY_SERVICE).cloned(),
            entity: node.to_json(),
        }
    }
}

/// An exception from the catalog.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Exception {
    pub service: String,
    pub rule: String,
    pub reason: String,
    /// The last day it applies.
    pub expires: NaiveDate,
    pub requested_by: Option<String>,
    pub requested_in: Option<String>,
    /// The file that holds it, relative to the catalog root.
    pub file: String,
    pub rule_pos: Pos,
    pub service_pos: Pos,
    pub expires_pos: Pos,
}

impl Exception {
    /// Active through its expiry date, inclusive.
    pub fn is_active(&self, today: NaiveDate) -> bool {
        today <= self.expires
    }
}

/// A loaded catalog.
#[derive(Clone, Debug, Default)]
pub struct Catalog {
    pub root: PathBuf,
    pub services: BTreeMap<String, Service>,
    pub exceptions: Vec<Exception>,
    /// The organisation's scorecard, when the catalog checkout has a `policies/` directory.
    pub policy_dir: Option<PathBuf>,
    /// The files of `policies/` (relative path to text).
    pub policy_files: BTreeMap<String, String>,
}

impl Catalog {
    /// Reads every service and exception file from a checkout; problems go to `diags` and the file is left out.
    pub fn load(root: &Path, diags: &mut Diagnostics) -> Catalog {
        if !root.is_dir() {
            let show = root.display().to_string();
            diags.push(Diagnostic::error(show, Pos::new(1, 1), "catalog directory not found"));
            return Catalog { root: root.to_path_buf(), ..Catalog::default() };
        }
        let mut files = BTreeMap::new();
        let mut dirs = vec![root.join("services"), root.join("policies")];
        let mut service_dirs: Vec<PathBuf> = std::fs::read_dir(root.join("exceptions"))
            .map(|rd| rd.filter_map(|e| e.ok()).map(|e| e.path()).filter(|p| p.is_dir()).collect())
            .unwrap_or_default();
        service_dirs.sort();
        dirs.extend(service_dirs);
        for dir in dirs {
            for path in yaml_files(&dir) {
                if let Some(text) = read(&path, diags) {
                    let rel = path.strip_prefix(root).unwrap_or(&path);
                    let rel = rel.components().map(|c| c.as_os_str().to_string_lossy()).collect::<Vec<_>>().join("/");
                    files.insert(rel, text);
                }
            }
        }
        let mut catalog = Catalog::from_files(&root.display().to_string(), &files, diags);
        catalog.root = root.to_path_buf();
        let policies = root.join("policies");
        if policies.is_dir() {
            catalog.policy_dir = Some(policies);
        }
        catalog
    }

    /// Builds the catalog from its files (paths relative to the catalog root, `/`-separated), as read from a
    /// checkout or from GitHub. `root_label` prefixes file names in diagnostics (empty for none).
    pub fn from_files(root_label: &str, files: &BTreeMap<String, String>, diags: &mut Diagnostics) -> Catalog {
        let mut catalog = Catalog { root: PathBuf::from(root_label), ..Catalog::default() };
        let show = |rel: &str| if root_label.is_empty() { rel.to_string() } else { format!("{root_label}/{rel}") };
        // Repository → the services that claim it (name, file, position of the annotation).
        let mut claims: BTreeMap<String, Vec<(String, String, Pos)>> = BTreeMap::new();
        for (rel, text) in files {
            let parts: Vec<&str> = rel.split('/').collect();
            let stem = |name: &str| name.rsplit_once('.').map_or(name, |(s, _)| s).to_string();
            match parts.as_slice() {
                ["services", name] if is_yaml(name) => {
                    let file = show(rel);
                    let Some((parsed, node)) = yaml::load::<ServiceFile>(&file, text, diags) else { continue };
                    check_header(&file, &parsed.api_version, "backstage.io/v1alpha1", &parsed.kind, "Component", diags);
                    let stem = stem(name);
                    if *parsed.metadata.name != stem {
                        diags.push(Diagnostic::error(
                            &file,
                            parsed.metadata.name.pos,
                            format!("metadata.name `{}` must match the file name `{stem}`", *parsed.metadata.name),
                        ));
                        continue;
                    }
                    let service = Service::from_file(rel, parsed, &node);
                    if let Some(repo) = &service.repository {
                        let slug_pos = node
                            .get("metadata")
                            .and_then(|m| m.get("annotations"))
                            .and_then(|a| a.get(PROJECT_SLUG))
                            .map(|a| a.pos);
                        let pos = slug_pos.unwrap_or(node.pos);
                        if !is_slug(repo) {
                            diags.push(Diagnostic::error(
                                &file,
                                pos,
                                format!("annotation `{PROJECT_SLUG}` must be `owner/name`, found `{repo}`"),
                            ));
                        } else {
                            claims.entry(repo.to_lowercase()).or_default().push((service.name.clone(), file, pos));
                        }
                    }
                    catalog.services.insert(service.name.clone(), service);
                }
                ["exceptions", service, name] if is_yaml(name) => {
                    let file = show(rel);
                    let Some((parsed, _)) = yaml::load::<ExceptionFile>(&file, text, diags) else { continue };
                    if let Some(exception) = exception_from_file(&file, rel, service, &stem(name), parsed, diags) {
                        catalog.exceptions.push(exception);
                    }
                }
                ["policies", name] if is_yaml(name) => {
                    catalog.policy_files.insert(rel.clone(), text.clone());
                }
                _ => {}
            }
        }
        // A repository claimed twice is reported at every claim, so a new claim is flagged on the file that adds it.
        for (repo, claimants) in claims.iter().filter(|(_, c)| c.len() > 1) {
            for (name, file, pos) in claimants {
                let others: Vec<String> =
                    claimants.iter().filter(|(n, ..)| n != name).map(|(n, ..)| format!("`{n}`")).collect();
                diags.push(Diagnostic::error(
                    file,
                    *pos,
                    format!("repository `{repo}` is also claimed by service {}", others.join(", ")),
                ));
            }
        }
        catalog
    }

    /// The service whose `github.com/project-slug` names `slug` (case-insensitive, as GitHub is).
    pub fn service_for_repository(&self, slug: &str) -> Option<&Service> {
        self.services.values().find(|s| s.repository.as_deref().is_some_and(|r| r.eq_ignore_ascii_case(slug)))
    }

    pub fn exceptions_for<'a>(&'a self, service: &'a str) -> impl Iterator<Item = &'a Exception> + 'a {
        self.exceptions.iter().filter(move |e| e.service == service)
    }
}

fn exception_from_file(
    file: &str,
    label: &str,
    dir_service: &str,
    stem: &str,
    parsed: ExceptionFile,
    diags: &mut Diagnostics,
) -> Option<Exception> {
    check_header(file, &parsed.api_version, crate::policy::model::API_VERSION, &parsed.kind, "Exception", diags);
    let mut ok = true;
    if *parsed.service != dir_service {
        diags.push(Diagnostic::error(
            file,
            parsed.service.pos,
            format!("service `{}` must match the directory `exceptions/{dir_service}/`", *parsed.service),
        ));
        ok = false;
    }
    if *parsed.rule != stem {
        diags.push(Diagnostic::error(
            file,
            parsed.rule.pos,
            format!("rule `{}` must match the file name `{stem}`", *parsed.rule),
        ));
        ok = false;
    }
    if parsed.reason.trim().is_empty() {
        diags.push(Diagnostic::error(file, parsed.rule.pos, "reason must not be empty"));
        ok = false;
    }
    let expires = match NaiveDate::parse_from_str(&parsed.expires, "%Y-%m-%d") {
        Ok(date) => Some(date),
        Err(_) => {
            diags.push(Diagnostic::error(
                file,
                parsed.expires.pos,
                format!("expires must be a date written YYYY-MM-DD, found `{}`", *parsed.expires),
            ));
            None
        }
    };
    let expires = expires.filter(|_| ok)?;
    Some(Exception {
        service: parsed.service.value.clone(),
        rule: parsed.rule.value.clone(),
        reason: parsed.reason,
        expires,
        requested_by: parsed.requested_by,
        requested_in: parsed.requested_in,
        file: label.to_string(),
        rule_pos: parsed.rule.pos,
        service_pos: parsed.service.pos,
        expires_pos: parsed.expires.pos,
    })
}

/// `apiVersion` and `kind` must be the expected ones.
pub(crate) fn check_header(
    file: &str,
    api_version: &yaml::Located<String>,
    want_version: &str,
    kind: &yaml::Located<String>,
    want_kind: &str,
    diags: &mut Diagnostics,
) {
    if **api_version != want_version {
        diags.push(Diagnostic::error(
            file,
            api_version.pos,
            format!("apiVersion must be `{want_version}`, found `{}`", **api_version),
        ));
    }
    if **kind != want_kind {
        diags.push(Diagnostic::error(file, kind.pos, format!("kind must be `{want_kind}`, found `{}`", **kind)));
    }
}

fn is_slug(s: &str) -> bool {
    let mut parts = s.split('/');
    let valid = |p: Option<&str>| {
        p.is_some_and(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c)))
    };
    valid(parts.next()) && valid(parts.next()) && parts.next().is_none()
}

fn is_yaml(name: &str) -> bool {
    name.ends_with(".yaml") || name.ends_with(".yml")
}
