//! SARIF 2.1.0 for GitHub code scanning (`github/codeql-action/upload-sarif`).
//!
//! One run per scorecard. The run's `tool.driver.rules` lists every rule of the card (so `ruleIndex` is the rule's
//! position in the card); `results` has one result per failing rule (`status == fail`): excepted, skipped and passing
//! rules are not problems to show. A result's level is `error` when the tier requires the rule, else `warning`.
//! With several cards, each run gets `automationDetails.id` = `shipshape/<repository>/` so code scanning can tell the
//! runs apart; a single card gets none, leaving the category to the uploader.
//!
//! GitHub rejects results without a location, and many readiness findings have no file ("no runbook"): those point at
//! the repository's root ([`NO_FILE_URI`], `.` relative to `%SRCROOT%`, a valid URI reference) at line 1, with a
//! description saying the finding is about the repository as a whole.

use std::collections::HashMap;
use std::fmt::Write as _;

use anyhow::Context;
use serde_json::{Map, Value, json};

use crate::engine::{Evidence, RuleResult, Scorecard, Status};

use super::neutralise::neutralise;

pub const SARIF_SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";
/// Location of a result that has no file evidence: the repository's root.
pub const NO_FILE_URI: &str = ".";
const INFORMATION_URI: &str = env!("CARGO_PKG_REPOSITORY");
/// GitHub shows at most this many locations per result.
const MAX_LOCATIONS: usize = 10;

pub(super) fn render(cards: &[Scorecard]) -> anyhow::Result<String> {
    let several = cards.len() > 1;
    let log = json!({
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": cards.iter().map(|card| run(card, several)).collect::<Vec<_>>(),
    });
    let mut out = serde_json::to_string_pretty(&log).context("serialising SARIF")?;
    out.push('\n');
    Ok(out)
}

fn run(card: &Scorecard, several: bool) -> Value {
    // Rule ids should be unique in a card; if not, the first one is the descriptor every result points at.
    let mut index: HashMap<&str, usize> = HashMap::new();
    let mut rules = Vec::new();
    for rule in &card.rules {
        if !index.contains_key(rule.id.as_str()) {
            index.insert(&rule.id, rules.len());
            rules.push(descriptor(rule));
        }
    }
    let results: Vec<Value> =
        card.rules.iter().filter(|r| r.status == Status::Fail).map(|r| result(card, r, index[r.id.as_str()])).collect();

    let mut run = json!({
        "tool": {
            "driver": {
                "name": "shipshape",
                "informationUri": INFORMATION_URI,
                "version": env!("CARGO_PKG_VERSION"),
                "semanticVersion": env!("CARGO_PKG_VERSION"),
                "rules": rules,
            }
        },
        "results": results,
        "properties": {
            "repository": card.repository,
            "service": card.service,
            "tier": card.tier,
            "requiredLevel": card.required_level,
            "level": card.level,
            "meetsRequired": card.meets_required,
            "unverified": card.unverified,
            "headline": format!("{}{}", card.level.as_deref().unwrap_or("no level"), card.unverified_suffix()),
        },
    });
    if several {
        run["automationDetails"] = json!({ "id": format!("shipshape/{}/", card.repository) });
    }
    if let Some(commit) = &card.commit {
        run["properties"]["commit"] = json!(commit);
    }
    run
}

fn sarif_level(rule: &RuleResult) -> &'static str {
    if rule.required { "error" } else { "warning" }
}

fn descriptor(rule: &RuleResult) -> Value {
    let help = if rule.remediation.trim().is_empty() { &rule.title } else { &rule.remediation };
    json!({
        "id": rule.id,
        "name": pascal_case(&rule.id),
        "shortDescription": { "text": rule.title },
        "fullDescription": { "text": format!("{} ({} level)", rule.title, rule.level) },
        "help": { "text": help, "markdown": neutralise(help) },
        "defaultConfiguration": { "level": sarif_level(rule) },
        "properties": {
            "level": rule.level,
            "required": rule.required,
            "tags": tags(rule),
        },
    })
}

/// `production-readiness` and the rule's level, without duplicates (SARIF tags are unique).
fn tags(rule: &RuleResult) -> Vec<&str> {
    let mut tags = vec!["production-readiness"];
    if !tags.contains(&rule.level.as_str()) {
        tags.push(&rule.level);
    }
    tags
}

fn result(card: &Scorecard, rule: &RuleResult, rule_index: usize) -> Value {
    let mut text = rule.title.clone();
    if !rule.message.trim().is_empty() {
        let _ = write!(text, ": {}", rule.message.trim_end());
    }
    if !rule.remediation.trim().is_empty() {
        let _ = write!(text, "\nHow to fix: {}", rule.remediation.trim_end());
    }
    let mut locations: Vec<Value> =
        rule.evidence.iter().filter(|e| !e.path.trim().is_empty()).take(MAX_LOCATIONS).map(location).collect();
    if locations.is_empty() {
        locations.push(json!({
            "physicalLocation": {
                "artifactLocation": {
                    "uri": NO_FILE_URI,
                    "uriBaseId": "%SRCROOT%",
                    "description": { "text": "the repository as a whole (no single file)" },
                },
                "region": { "startLine": 1 },
            }
        }));
    }
    let subject = card.service.as_deref().unwrap_or(&card.repository);
    json!({
        "ruleId": rule.id,
        "ruleIndex": rule_index,
        "kind": "fail",
        "level": sarif_level(rule),
        "message": { "text": text },
        "locations": locations,
        // One alert per rule and service, however its evidence moves.
        "partialFingerprints": { "shipshapeRule/v1": format!("{subject}:{}", rule.id) },
        "properties": { "level": rule.level, "required": rule.required },
    })
}

fn location(evidence: &Evidence) -> Value {
    let mut artifact = Map::new();
    let path = evidence.path.trim().replace('\\', "/");
    let path = path.strip_prefix("./").unwrap_or(&path);
    artifact.insert("uri".into(), json!(uri_encode(path)));
    if !path.starts_with('/') && !path.contains("://") {
        artifact.insert("uriBaseId".into(), json!("%SRCROOT%"));
    }
    let mut physical = Map::new();
    physical.insert("artifactLocation".into(), Value::Object(artifact));
    if let Some(line) = evidence.line.filter(|&l| l >= 1) {
        physical.insert("region".into(), json!({ "startLine": line }));
    }
    json!({ "physicalLocation": physical })
}

/// Percent-encode what may not appear in a URI reference (spaces, `%`, `#`, `?`, non-ASCII); keep `/`.
fn uri_encode(path: &str) -> String {
    if path.contains("://") {
        return path.to_owned();
    }
    let mut out = String::with_capacity(path.len());
    for byte in path.bytes() {
        match byte {
            b'A'..=b'Z'
            | b'a'..=b'z'
            | b'0'..=b'9'
            | b'-'
            | b'.'
            | b'_'
            | b'~'
            | b'/'
            | b'!'
            | b'$'
            | b'&'
            | b'\''
            | b'('
            | b')'
            | b'*'
            | b'+'
            | b','
            | b';'
            | b'='
            | b':'
            | b'@' => out.push(byte as char),
            _ => {
                let _ = write!(out, "%{byte:02X}");
            }
        }
    }
    out
}

/// `branch-protection` → `BranchProtection`; the rule's `name` in SARIF.
fn pascal_case(id: &str) -> String {
    let name: String = id
        .split(|c: char| !c.is_alphanumeric())
        .filter(|part| !part.is_empty())
        .map(|part| {
            let mut chars = part.chars();
            chars.next().map(|first| first.to_uppercase().chain(chars).collect::<String>()).unwrap_or_default()
        })
        .collect();
    if name.is_empty() { id.to_owned() } else { name }
}

#[cfg(test)]
mod unit {
    use super::*;

    #[test]
    fn names_and_uris() {
        assert_eq!(pascal_case("branch-protection"), "BranchProtection");
        assert_eq!(pascal_case("api_spec.v2"), "ApiSpecV2");
        assert_eq!(pascal_case("--"), "--");
        assert_eq!(uri_encode("docs/my runbook #1.md"), "docs/my%20runbook%20%231.md");
        assert_eq!(uri_encode("docs/café.md"), "docs/caf%C3%A9.md");
        assert_eq!(uri_encode("src/lib.rs"), "src/lib.rs");
    }
}
