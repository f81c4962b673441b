//! Templates for linked-tool requests (`http` URLs and headers, `promql` queries): literal text with `{{ … }}`
//! placeholders. A placeholder is either a jq expression over the service's catalog entry (`{{ .metadata.name }}`,
//! `{{ .metadata.annotations["sonarqube.org/project-key"] }}`) or, where allowed, a named secret
//! (`{{ secret.SONAR_TOKEN }}`, read from `SHIPSHAPE_SECRET_SONAR_TOKEN`).
//!
//! Rendering is pure: the engine renders to find the fact it needs, the collectors render to fetch it.

use crate::jq::{self, Jq};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC};
use serde_json::Value;

/// What a URL may hold literally: RFC 3986's unreserved characters. Everything else in a value is encoded.
const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');

/// The environment variable that holds secret `name`.
pub fn secret_variable(name: &str) -> String {
    format!("SHIPSHAPE_SECRET_{name}")
}

#[derive(Debug)]
enum Part {
    Text(String),
    Field(Jq),
    Secret(String),
}

#[derive(Debug)]
pub struct Template {
    source: String,
    parts: Vec<Part>,
}

/// How values are written into the text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    /// Percent-encoded (URLs).
    Url,
    /// As is (PromQL label values, headers); control characters are refused.
    Plain,
}

/// A template that does not parse: the byte offset in the source and why.
#[derive(Debug, PartialEq, Eq)]
pub struct TemplateError {
    pub offset: usize,
    pub message: String,
}

impl Template {
    /// Parses `source`. `secrets_allowed` is false where a secret would end up in messages (URLs, queries).
    pub fn parse(source: &str, secrets_allowed: bool) -> Result<Template, TemplateError> {
        let mut parts = Vec::new();
        let mut rest = source;
        let mut offset = 0;
        while let Some(open) = rest.find("{{") {
            if open > 0 {
                parts.push(Part::Text(rest[..open].to_string()));
            }
            let inner_start = open + 2;
            let Some(close) = rest[inner_start..].find("}}") else {
                return Err(TemplateError { offset: offset + open, message: "`{{` without a closing `}}`".into() });
            };
            let inner = &rest[inner_start..inner_start + close];
            let trimmed = inner.trim();
            let at = offset + inner_start + (inner.len() - inner.trim_start().len());
            if trimmed.is_empty() {
                return Err(TemplateError { offset: offset + open, message: "empty `{{ }}`".into() });
            }
            if let Some(name) = trimmed.strip_prefix("secret.") {
                if !secrets_allowed {
                    return Err(TemplateError {
                        offset: at,
                        message: "secrets are only allowed in headers (a URL or query shows up in messages)".into(),
                    });
                }
                if name.is_empty() || !name.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_') {
                    return Err(TemplateError {
                        offset: at,
                        message: format!("secret names are upper case letters, digits and `_`, not `{name}`"),
                    });
                }
                parts.push(Part::Secret(name.to_string()));
            } else {
                let jq =
                    Jq::compile(trimmed).map_err(|e| TemplateError { offset: at + e.offset, message: e.message })?;
                parts.push(Part::Field(jq));
            }
            let consumed = inner_start + close + 2;
            rest = &rest[consumed..];
            offset += consumed;
        }
        if !rest.is_empty() {
            parts.push(Part::Text(rest.to_string()));
        }
        Ok(Template { source: source.to_string(), parts })
    }

    pub fn source(&self) -> &str {
        &self.source
    }

    /// Names of the secrets it uses.
    pub fn secrets(&self) -> impl Iterator<Item = &str> {
        self.parts.iter().filter_map(|p| match p {
            Part::Secret(name) => Some(name.as_str()),
            _ => None,
        })
    }

    /// Whether it reads the catalog entry.
    pub fn reads_catalog(&self) -> bool {
        self.parts.iter().any(|p| matches!(p, Part::Field(_)))
    }

    /// The text with every placeholder filled. Catalog values must be strings, numbers or booleans; a secret that
    /// `secret` does not know is an error naming its variable (never its value).
    pub fn render(
        &self,
        entity: Option<&Value>,
        secret: &dyn Fn(&str) -> Option<String>,
        encoding: Encoding,
    ) -> Result<String, RenderError> {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                Part::Text(text) => out.push_str(text),
                Part::Secret(name) => {
                    out.push_str(&secret(name).ok_or_else(|| RenderError::SecretNotSet(name.clone()))?);
                }
                Part::Field(jq) => {
                    let entity = entity.ok_or(RenderError::NoCatalogEntry)?;
                    // A field is a path into the catalog entry: the tight limits are plenty, whoever wrote it.
                    let value = jq
                        .first(entity, &jq::Limits::UNREVIEWED)
                        .map_err(|e| RenderError::Field { expr: jq.source().to_string(), why: e.to_string() })?;
                    let text = match value {
                        Some(Value::String(s)) => s,
                        Some(v @ (Value::Number(_) | Value::Bool(_))) => v.to_string(),
                        Some(Value::Null) | None => {
                            return Err(RenderError::Field {
                                expr: jq.source().to_string(),
                                why: "has no value in the catalog entry".into(),
                            });
                        }
                        Some(_) => {
                            return Err(RenderError::Field {
                                expr: jq.source().to_string(),
                                why: "is a list or an object, not a single value".into(),
                            });
                        }
                    };
                    match encoding {
                        Encoding::Url => {
                            out.extend(percent_encoding::utf8_percent_encode(&text, COMPONENT));
                        }
                        Encoding::Plain if text.chars().any(char::is_control) => {
                            return Err(RenderError::Field {
                                expr: jq.source().to_string(),
                                why: "holds a control character".into(),
                            });
                        }
                        Encoding::Plain => out.push_str(&text),
                    }
                }
            }
        }
        Ok(out)
    }
}

/// Why a template could not be filled for a service.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RenderError {
    #[error("no catalog entry for this repository to fill it from (add services/<name>.yaml to the catalog)")]
    NoCatalogEntry,
    #[error("`{{{{ {expr} }}}}` {why}")]
    Field { expr: String, why: String },
    #[error("the secret `{0}` is not set (SHIPSHAPE_SECRET_{0})")]
    SecretNotSet(String),
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn none(_: &str) -> Option<String> {
        None
    }

    #[test]
    fn fields_are_url_encoded_and_text_kept() {
        let t = Template::parse("https://sonar/api?key={{ .metadata.annotations[\"sonar/key\"] }}&x=1", false).unwrap();
        let entity = json!({"metadata": {"annotations": {"sonar/key": "pay ments&a=b/ü"}}});
        assert_eq!(
            t.render(Some(&entity), &none, Encoding::Url).unwrap(),
            "https://sonar/api?key=pay%20ments%26a%3Db%2F%C3%BC&x=1"
        );
        let t = Template::parse("up{job=\"{{.metadata.name}}\"} {{ .spec.tier }}", false).unwrap();
        let entity = json!({"metadata": {"name": "payments"}, "spec": {"tier": 1}});
        assert_eq!(t.render(Some(&entity), &none, Encoding::Plain).unwrap(), "up{job=\"payments\"} 1");
    }

    #[test]
    fn missing_values_and_entries_are_errors_that_say_which() {
        let t = Template::parse("x/{{ .metadata.annotations.nope }}", false).unwrap();
        let err = t.render(Some(&json!({"metadata": {}})), &none, Encoding::Url).unwrap_err();
        assert_eq!(err.to_string(), "`{{ .metadata.annotations.nope }}` has no value in the catalog entry");
        assert_eq!(t.render(None, &none, Encoding::Url).unwrap_err(), RenderError::NoCatalogEntry);
        let t = Template::parse("{{ .metadata }}", false).unwrap();
        assert!(t.render(Some(&json!({"metadata": {"a": 1}})), &none, Encoding::Url).is_err());
    }

    #[test]
    fn secrets_only_where_allowed_and_never_in_errors() {
        let err = Template::parse("https://x/?t={{ secret.TOKEN }}", false).unwrap_err();
        assert_eq!(err.offset, 16);
        let t = Template::parse("Bearer {{ secret.TOKEN }}", true).unwrap();
        assert_eq!(t.secrets().collect::<Vec<_>>(), ["TOKEN"]);
        let secret = |name: &str| (name == "TOKEN").then(|| "s3cr3t".to_string());
        assert_eq!(t.render(None, &secret, Encoding::Plain).unwrap(), "Bearer s3cr3t");
        let err = t.render(None, &none, Encoding::Plain).unwrap_err();
        assert_eq!(err.to_string(), "the secret `TOKEN` is not set (SHIPSHAPE_SECRET_TOKEN)");
        assert!(Template::parse("{{ secret.lower }}", true).is_err());
    }

    #[test]
    fn syntax_errors_have_offsets() {
        assert_eq!(Template::parse("a {{ .x", false).unwrap_err().offset, 2);
        assert_eq!(Template::parse("ab {{ .x | ] }}", false).unwrap_err().offset, 11);
        assert!(Template::parse("{{}}", false).is_err());
    }
}
