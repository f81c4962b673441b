//! The pages' query parameters: the dashboard's filters (`tier`, `owner`, `level`) and what narrows a list
//! (`meets`, `rule` with `status`, `initiative` with `standing`), and the links that carry them.

use crate::dashboard::Filter;
use serde::Deserialize;

/// Longest value of a query parameter that is read.
const MAX_VALUE: usize = 200;

/// Every parameter a page reads; empty values count as absent (an HTML form sends them).
#[derive(Clone, Debug, Default, Deserialize)]
pub struct PageQuery {
    pub tier: Option<String>,
    pub owner: Option<String>,
    pub level: Option<String>,
    pub meets: Option<String>,
    pub rule: Option<String>,
    pub status: Option<String>,
    pub initiative: Option<String>,
    pub standing: Option<String>,
}

fn given(value: &Option<String>) -> Option<String> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty()).map(|v| v.chars().take(MAX_VALUE).collect())
}

impl PageQuery {
    /// The dashboard's filter, or what is wrong with the query.
    pub fn filter(&self) -> Result<Filter, String> {
        let tier = match given(&self.tier) {
            Some(t) => Some(t.parse::<u32>().map_err(|_| format!("`tier` must be a tier number, not `{t}`"))?),
            None => None,
        };
        Ok(Filter { tier, owner: given(&self.owner), level: given(&self.level) })
    }

    /// `meets=true|false`.
    pub fn meets(&self) -> Result<Option<bool>, String> {
        match given(&self.meets).as_deref() {
            None => Ok(None),
            Some("true") => Ok(Some(true)),
            Some("false") => Ok(Some(false)),
            Some(other) => Err(format!("`meets` must be true or false, not `{other}`")),
        }
    }

    pub fn rule(&self) -> Option<String> {
        given(&self.rule)
    }
    pub fn status(&self) -> Option<String> {
        given(&self.status)
    }
    pub fn initiative(&self) -> Option<String> {
        given(&self.initiative)
    }
    pub fn standing(&self) -> Option<String> {
        given(&self.standing)
    }
}

/// `path` with the query parameters that have a value, percent-encoded.
pub fn href(path: &str, params: &[(&str, Option<String>)]) -> String {
    let encode = |s: &str| percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string();
    let query: Vec<String> =
        params.iter().filter_map(|(k, v)| v.as_ref().map(|v| format!("{k}={}", encode(v)))).collect();
    if query.is_empty() { path.to_string() } else { format!("{path}?{}", query.join("&")) }
}

/// A path segment (a service, rule or team name), percent-encoded.
pub fn segment(name: &str) -> String {
    percent_encoding::utf8_percent_encode(name, percent_encoding::NON_ALPHANUMERIC).to_string()
}

/// The filter's parameters, for links that keep it.
pub fn filter_params(filter: &Filter) -> Vec<(&'static str, Option<String>)> {
    vec![("tier", filter.tier.map(|t| t.to_string())), ("owner", filter.owner.clone()), ("level", filter.level.clone())]
}
