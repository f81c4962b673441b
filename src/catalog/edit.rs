//! Catalog changes the App proposes in pull requests: an exception file written from data (never built as a
//! string: user text is data, not YAML), and a service's tier changed by a minimal text edit that keeps the file's
//! comments and layout, verified by parsing the result again.

use super::model::{ExceptionFile, ServiceFile};
use crate::diag::Diagnostics;
use crate::yaml::{self, Node, Value};
use chrono::NaiveDate;
use serde::Serialize;

/// Why a proposed catalog change could not be written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EditError {
    /// The current file does not parse (a catalog PR should fix it first).
    #[error("{file} does not parse: {message}")]
    Unreadable { file: String, message: String },
    /// The file's shape does not allow a minimal edit (a flow mapping, `spec` missing).
    #[error("{file}: {message}; change the tier by hand")]
    NotEditable { file: String, message: String },
    /// The edited file would not say exactly what was asked (a defect: nothing is proposed).
    #[error("{file}: the edited file does not parse back to the requested change: {message}")]
    Verification { file: String, message: String },
}

/// An exception as the App writes it for `/request-exception`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExceptionRequest {
    pub service: String,
    pub rule: String,
    pub reason: String,
    /// The last day it applies.
    pub expires: NaiveDate,
    pub requested_by: String,
    pub requested_in: String,
}

/// `exceptions/<service>/<rule-id>.yaml`.
pub fn exception_path(service: &str, rule: &str) -> String {
    format!("exceptions/{service}/{rule}.yaml")
}

/// `services/<name>.yaml`.
pub fn service_path(service: &str) -> String {
    format!("services/{service}.yaml")
}

/// The exception file's text, serialised, then read back and compared with the request.
pub fn exception_file(request: &ExceptionRequest) -> Result<String, EditError> {
    #[derive(Serialize)]
    struct File<'a> {
        #[serde(rename = "apiVersion")]
        api_version: &'a str,
        kind: &'a str,
        service: &'a str,
        rule: &'a str,
        reason: &'a str,
        expires: String,
        requested_by: &'a str,
        requested_in: &'a str,
    }
    let path = exception_path(&request.service, &request.rule);
    let file = File {
        api_version: crate::policy::model::API_VERSION,
        kind: "Exception",
        service: &request.service,
        rule: &request.rule,
        reason: &request.reason,
        expires: request.expires.format("%Y-%m-%d").to_string(),
        requested_by: &request.requested_by,
        requested_in: &request.requested_in,
    };
    let text = serde_saphyr::to_string(&file)
        .map_err(|e| EditError::Verification { file: path.clone(), message: e.to_string() })?;
    let mut diags = Diagnostics::default();
    let verify = |message: String| EditError::Verification { file: path.clone(), message };
    let (parsed, _) = yaml::load::<ExceptionFile>(&path, &text, &mut diags).ok_or_else(|| verify(diags.to_string()))?;
    let same = *parsed.service == request.service
        && *parsed.rule == request.rule
        && parsed.reason == request.reason
        && *parsed.expires == file.expires
        && parsed.requested_by.as_deref() == Some(request.requested_by.as_str())
        && parsed.requested_in.as_deref() == Some(request.requested_in.as_str());
    if !same {
        return Err(verify("a field reads back differently".into()));
    }
    Ok(text)
}

/// `text` (the service file `file`) with `spec.tier` set to `tier`, everything else byte for byte as it was. An
/// existing value is replaced in place; a missing one is added as the first key of `spec`.
pub fn set_tier(file: &str, text: &str, tier: u32) -> Result<String, EditError> {
    let root = yaml::parse(text).map_err(|e| EditError::Unreadable { file: file.into(), message: e.to_string() })?;
    let not_editable = |message: &str| EditError::NotEditable { file: file.into(), message: message.into() };
    let spec = root.get("spec").ok_or_else(|| not_editable("there is no `spec` mapping"))?;
    let Value::Map(entries) = &spec.value else {
        return Err(not_editable("`spec` is not a mapping"));
    };
    let spec_at = offset(text, spec.pos.line, spec.pos.col).ok_or_else(|| not_editable("`spec` is out of range"))?;
    if text[spec_at..].starts_with('{') || entries.is_empty() {
        return Err(not_editable("`spec` is written as a flow mapping (`{…}`)"));
    }
    let edited = match spec.get("tier") {
        Some(value) => {
            let start = offset(text, value.pos.line, value.pos.col)
                .ok_or_else(|| not_editable("`spec.tier` is out of range"))?;
            let end = start + scalar_len(&text[start..]);
            if matches!(value.value, Value::Map(_) | Value::Seq(_)) || end == start {
                return Err(not_editable("`spec.tier` is not a plain value"));
            }
            format!("{}{tier}{}", &text[..start], &text[end..])
        }
        None => {
            // The first key of `spec` gives the indentation; the new key goes on a line of its own before it.
            let (first_key, _) = &entries[0];
            let line_start = offset(text, first_key.pos.line, 1).ok_or_else(|| not_editable("`spec` is empty"))?;
            let indent: String = text[line_start..].chars().take_while(|c| *c == ' ').collect();
            if indent.chars().count() + 1 != first_key.pos.col {
                return Err(not_editable("`spec` starts on the line of another value"));
            }
            let newline = if text.contains("\r\n") { "\r\n" } else { "\n" };
            format!("{}{indent}tier: {tier}{newline}{}", &text[..line_start], &text[line_start..])
        }
    };
    verify_tier(file, &root, &edited, tier)?;
    Ok(edited)
}

/// The edited file must parse as a service file equal to the original with only `spec.tier` changed.
fn verify_tier(file: &str, before: &Node, edited: &str, tier: u32) -> Result<(), EditError> {
    let fail = |message: String| EditError::Verification { file: file.into(), message };
    let mut diags = Diagnostics::default();
    let Some((_, after)) = yaml::load::<ServiceFile>(file, edited, &mut diags) else {
        return Err(fail(diags.to_string()));
    };
    let mut expected = before.to_json();
    match expected.get_mut("spec").and_then(|s| s.as_object_mut()) {
        Some(spec) => {
            spec.insert("tier".into(), tier.into());
        }
        None => return Err(fail("`spec` is not a mapping".into())),
    }
    let actual = after.to_json();
    if actual != expected {
        return Err(fail("something besides `spec.tier` changed".into()));
    }
    Ok(())
}

/// The byte offset of a 1-based line and column (columns count characters).
fn offset(text: &str, line: usize, col: usize) -> Option<usize> {
    let mut start = 0;
    for _ in 1..line {
        start += text[start..].find('\n')? + 1;
    }
    let rest = &text[start..];
    let line_end = rest.find('\n').unwrap_or(rest.len());
    let mut chars = rest[..line_end].char_indices().map(|(i, _)| i).chain(std::iter::once(line_end));
    chars.nth(col.checked_sub(1)?).map(|i| start + i)
}

/// The length in bytes of the scalar at the start of `text`: a quoted string up to its closing quote, or a plain
/// scalar up to a comment, the end of the line or trailing spaces.
fn scalar_len(text: &str) -> usize {
    let line = &text[..text.find(['\n', '\r']).unwrap_or(text.len())];
    match line.chars().next() {
        Some(quote @ ('"' | '\'')) => line[1..].find(quote).map(|i| i + 2).unwrap_or(0),
        Some(_) => {
            let end = line.find(" #").or_else(|| line.find("\t#")).unwrap_or(line.len());
            line[..end].trim_end().len()
        }
        None => 0,
    }
}

#[cfg(test)]
mod tests;
