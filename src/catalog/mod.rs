//! The catalog: the GitOps system of record for services (tier, owner, links) and approved exceptions.
//!
//! Layout of the catalog repository (SPEC 3):
//! - `services/<name>.yaml`: a Backstage Component entity;
//! - `exceptions/<service>/<rule-id>.yaml`: one approved exception each;
//! - `policies/` (optional): the organisation's scorecard, replacing the embedded one.

mod check;
pub mod edit;
mod files;
mod left_out;
pub mod model;

pub use files::{MAX_FILE_BYTES, ReadError, read_limited};
pub(crate) use files::{read, yaml_files};
pub use left_out::{LeftOut, NOTE_FILES};

use crate::diag::{Diagnostic, Diagnostics, Pos};
use crate::yaml;
use chrono::NaiveDate;
use model::{ExceptionFile, PAGERDUTY_SERVICE, PROJECT_SLUG, ServiceFile};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use yaml::Node;

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
    /// Files with errors, left out of `services` and `exceptions` by [`Catalog::leave_out`].
    pub left_out: Vec<LeftOut>,
    /// Service file (relative path) → the repository its YAML names, read even when the file does not
    /// deserialize, so that a left-out entry can still be matched to its repository.
    entry_repositories: BTreeMap<String, String>,
}

impl Catalog {
    /// Reads every service and exception file from a checkout; problems go to `diags` and the file is left out.
    pub fn load(root: &Path, diags: &mut Diagnostics) -> Catalog {
        if !root.is_dir() {
            let show = root.display().to_string();
            diags.push(Diagnostic::error(show, Pos::new(1, 1), "catalog directory not found"));
            return Catalog { root: root.to_path_buf(), ..Catalog::default() };
        }
        let parts = ["services", "exceptions", "policies"];
        if !parts.iter().any(|part| root.join(part).is_dir()) {
            diags.push(Diagnostic::error(
                root.display().to_string(),
                Pos::new(1, 1),
                "not a catalog: it has none of the directories services/, exceptions/, policies/",
            ));
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
        let show = |rel: &str| Path::new(root_label).join(rel).display().to_string();
        // Repository → the services that claim it (name, file, position of the annotation).
        let mut claims: BTreeMap<String, Vec<(String, String, Pos)>> = BTreeMap::new();
        for (rel, text) in files {
            let parts: Vec<&str> = rel.split('/').collect();
            let stem = |name: &str| name.rsplit_once('.').map_or(name, |(s, _)| s).to_string();
            match parts.as_slice() {
                ["services", name] if is_yaml(name) => {
                    let file = show(rel);
                    let (parsed, node) = check::load::<ServiceFile>(&file, text, check::Format::Service, diags);
                    let Some(node) = node else { continue };
                    let Some(service) = catalog.service_entry(&file, rel, &stem(name), parsed, &node, diags) else {
                        continue;
                    };
                    if let Some(repo) = service.repository.as_ref().filter(|r| is_slug(r)) {
                        let pos = slug_node(&node).map_or(node.pos, |n| n.pos);
                        claims.entry(repo.to_lowercase()).or_default().push((service.name.clone(), file, pos));
                    }
                    catalog.services.insert(service.name.clone(), service);
                }
                ["exceptions", service, name] if is_yaml(name) => {
                    let file = show(rel);
                    let (parsed, node) = check::load::<ExceptionFile>(&file, text, check::Format::Exception, diags);
                    let Some(node) = node else { continue };
                    let Some(exception) = exception_from_file(&file, rel, service, &stem(name), parsed, &node, diags)
                    else {
                        continue;
                    };
                    let twin =
                        catalog.exceptions.iter().find(|e| e.service == exception.service && e.rule == exception.rule);
                    if let Some(twin) = twin {
                        for (at, pos, other) in [
                            (&file, exception.rule_pos, &twin.file),
                            (&show(&twin.file), twin.rule_pos, &exception.file),
                        ] {
                            diags.push(Diagnostic::error(
                                at,
                                pos,
                                format!("a second exception for the same service and rule: {other} is the other"),
                            ));
                        }
                    }
                    catalog.exceptions.push(exception);
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

    /// A file name as diagnostics show it: `rel` under the root label.
    pub fn shown(&self, rel: &str) -> String {
        self.root.join(rel).display().to_string()
    }

    /// The service of `services/<stem>.yaml` (`rel`, shown as `file`), after the checks of its values: `None` when
    /// it did not deserialize or names another service. Every problem goes to `diags`.
    fn service_entry(
        &mut self,
        file: &str,
        rel: &str,
        stem: &str,
        parsed: Option<ServiceFile>,
        node: &Node,
        diags: &mut Diagnostics,
    ) -> Option<Service> {
        check::header(file, node, "backstage.io/v1alpha1", "Component", diags);
        check::entity_typos(file, node, diags);
        let slug = slug_node(node).and_then(|n| n.as_str().map(|s| (n.pos, s)));
        if let Some((pos, repo)) = slug {
            self.entry_repositories.insert(rel.to_string(), repo.to_string());
            if !is_slug(repo) {
                diags.push(Diagnostic::error(
                    file,
                    pos,
                    format!("annotation `{PROJECT_SLUG}` must be `owner/name`, found `{repo}`"),
                ));
            }
        }
        let name = node.get("metadata").and_then(|m| check::string_at(m, "name"));
        if let Some((pos, name)) = name
            && name != stem
        {
            diags.push(Diagnostic::error(
                file,
                pos,
                format!("metadata.name `{name}` must match the file name `{stem}`"),
            ));
            return None;
        }
        let service = Service::from_file(rel, parsed?, node);
        if let Some(twin) = self.services.get(&service.name) {
            let twin_file = self.shown(&twin.file);
            for (at, other) in [(file, &twin.file), (twin_file.as_str(), &service.file)] {
                diags.push(Diagnostic::error(
                    at,
                    Pos::new(1, 1),
                    format!("service `{}` is defined twice: {other} is the other file", service.name),
                ));
            }
        }
        Some(service)
    }

    /// The service whose `github.com/project-slug` names `slug` (case-insensitive, as GitHub is).
    pub fn service_for_repository(&self, slug: &str) -> Option<&Service> {
        self.services.values().find(|s| s.repository.as_deref().is_some_and(|r| r.eq_ignore_ascii_case(slug)))
    }

    pub fn exceptions_for<'a>(&'a self, service: &'a str) -> impl Iterator<Item = &'a Exception> + 'a {
        self.exceptions.iter().filter(move |e| e.service == service)
    }
}

/// The exception of `exceptions/<dir_service>/<stem>.yaml` after the checks of its values (read from the node tree,
/// so that they run when the file does not deserialize too); `None` when it has errors.
fn exception_from_file(
    file: &str,
    label: &str,
    dir_service: &str,
    stem: &str,
    parsed: Option<ExceptionFile>,
    node: &Node,
    diags: &mut Diagnostics,
) -> Option<Exception> {
    check::header(file, node, crate::policy::model::API_VERSION, "Exception", diags);
    let mut ok = parsed.is_some();
    if let Some((pos, service)) = check::string_at(node, "service")
        && service != dir_service
    {
        diags.push(Diagnostic::error(
            file,
            pos,
            format!("service `{service}` must match the directory `exceptions/{dir_service}/`"),
        ));
        ok = false;
    }
    if let Some((pos, rule)) = check::string_at(node, "rule")
        && rule != stem
    {
        diags.push(Diagnostic::error(file, pos, format!("rule `{rule}` must match the file name `{stem}`")));
        ok = false;
    }
    if let Some((_, reason)) = check::string_at(node, "reason")
        && reason.trim().is_empty()
    {
        let pos = check::string_at(node, "rule").map_or(node.pos, |(pos, _)| pos);
        diags.push(Diagnostic::error(file, pos, "reason must not be empty"));
        ok = false;
    }
    let expires = check::string_at(node, "expires").and_then(|(pos, text)| {
        let date = NaiveDate::parse_from_str(text, "%Y-%m-%d").ok();
        if date.is_none() {
            diags.push(Diagnostic::error(
                file,
                pos,
                format!("expires must be a date written YYYY-MM-DD, found `{text}`"),
            ));
        }
        date
    });
    let parsed = parsed.filter(|_| ok)?;
    Some(Exception {
        service: parsed.service.value.clone(),
        rule: parsed.rule.value.clone(),
        reason: parsed.reason,
        expires: expires?,
        requested_by: parsed.requested_by,
        requested_in: parsed.requested_in,
        file: label.to_string(),
        rule_pos: parsed.rule.pos,
        service_pos: parsed.service.pos,
        expires_pos: parsed.expires.pos,
    })
}

/// The `github.com/project-slug` annotation's node.
fn slug_node(node: &Node) -> Option<&Node> {
    node.get("metadata")?.get("annotations")?.get(PROJECT_SLUG)
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
