//! Fact providers for linked tools outside GitHub. Each is configured by a base URL and credentials, has a timeout
//! and bounded retries, and answers with a [`crate::facts::linked::Fact`] that tells "not configured" (rules
//! `skipped`), "unavailable" (rules `error`, with the reason) and a real answer apart, never a silent pass or fail.
//! Credentials never appear in a fact's reason, an error or a log line.

pub mod pagerduty;

use std::time::Duration;

/// How a provider talks to its tool.
#[derive(Clone, Debug)]
pub struct Limits {
    /// Per request.
    pub timeout: Duration,
    /// Attempts of one request (rate limits and 5xx are retried).
    pub attempts: u32,
    /// The longest `Retry-After` waited out; a longer one makes the fact unavailable.
    pub max_wait: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self { timeout: Duration::from_secs(10), attempts: 3, max_wait: Duration::from_secs(5) }
    }
}
