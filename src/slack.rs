//! Slack: one message to an incoming webhook when a tier-1 service drops below its required level.
//!
//! The message is Block Kit JSON. Text from users, policies and the catalog is escaped for Slack's `mrkdwn` (`&`,
//! `<`, `>`), so no `<!channel>`, `<@user>` or link can be smuggled in. The webhook URL is a credential: it never
//! appears in logs or errors.

use crate::engine::{Scorecard, Status};
use crate::http::{HttpClient, HttpError, retry_after};
use serde_json::{Value, json};
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum SlackError {
    #[error("Slack did not take the message: {0}")]
    Http(#[from] HttpError),
    #[error("Slack answered {status}: {body}")]
    Refused { status: u16, body: String },
    #[error("Slack is rate limiting; retry after {0:?}")]
    RateLimited(Duration),
}

/// Escapes text for Slack's `mrkdwn`.
pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

fn cut(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// The Block Kit message for a service that fell from `previous_level` to below its required level.
/// `links`: `(label, url)` pairs (the tracking issue, the repository).
pub fn degradation_message(card: &Scorecard, previous_level: Option<&str>, links: &[(String, String)]) -> Value {
    let service = card.service.clone().unwrap_or_else(|| card.repository.clone());
    let level = |l: Option<&str>| l.map(escape).unwrap_or_else(|| "no level".into());
    let failing: Vec<String> = card
        .rules
        .iter()
        .filter(|r| r.required && r.status == Status::Fail)
        .map(|r| format!("• *{}* (`{}`): {}", escape(&r.title), escape(&r.id), escape(&cut(&r.message, 200))))
        .collect();
    let summary = format!(
        "*{}* (tier {}) dropped from *{}* to *{}*; tier {} requires *{}*.",
        escape(&service),
        card.tier,
        level(previous_level),
        level(card.level.as_deref()),
        card.tier,
        escape(&card.required_level),
    );
    let mut fields = vec![json!({"type": "mrkdwn", "text": format!("*Repository*\n{}", escape(&card.repository))})];
    if let Some(owner) = &card.owner {
        fields.push(json!({"type": "mrkdwn", "text": format!("*Owner*\n{}", escape(owner))}));
    }
    let mut blocks = vec![
        json!({"type": "header", "text": {"type": "plain_text", "text": cut(&format!("Production readiness: {service} degraded"), 150)}}),
        json!({"type": "section", "text": {"type": "mrkdwn", "text": summary}, "fields": fields}),
    ];
    if !failing.is_empty() {
        let mut text = String::from("*Failing required rules*\n");
        for line in &failing {
            if text.len() + line.len() + 1 > 2900 {
                text.push_str("• …");
                break;
            }
            text.push_str(line);
            text.push('\n');
        }
        blocks.push(json!({"type": "section", "text": {"type": "mrkdwn", "text": text.trim_end()}}));
    }
    let links: Vec<String> = links
        .iter()
        .filter(|(_, url)| url.starts_with("https://") || url.starts_with("http://"))
        .map(|(label, url)| format!("<{}|{}>", url.replace(['<', '>', '|'], ""), escape(label)))
        .collect();
    if !links.is_empty() {
        blocks.push(json!({"type": "context", "elements": [{"type": "mrkdwn", "text": links.join(" · ")}]}));
    }
    json!({"text": format!("Production readiness: {} dropped below {}", service, card.required_level), "blocks": blocks})
}

/// Posts messages to one incoming webhook.
#[derive(Clone)]
pub struct Slack {
    url: String,
    http: HttpClient,
}

impl std::fmt::Debug for Slack {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Slack { url: <redacted> }")
    }
}

impl Slack {
    pub fn new(webhook_url: &str) -> anyhow::Result<Self> {
        Ok(Self { url: webhook_url.to_string(), http: HttpClient::new(Duration::from_secs(10))? })
    }

    /// Sends one message; Slack answers `ok` when it took it.
    pub async fn post(&self, message: &Value) -> Result<(), SlackError> {
        let response = self.http.send_json(http::Method::POST, &self.url, message).await?;
        if response.status.is_success() {
            return Ok(());
        }
        if response.status.as_u16() == 429 {
            return Err(SlackError::RateLimited(retry_after(&response.headers).unwrap_or(Duration::from_secs(30))));
        }
        Err(SlackError::Refused {
            status: response.status.as_u16(),
            body: String::from_utf8_lossy(&response.body[..response.body.len().min(200)]).into_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::testing;

    #[test]
    fn the_message_escapes_user_text_and_lists_failing_required_rules() {
        let rule = |id: &str, status, required| {
            let mut rule = testing::rule(id, "gold", status, required);
            rule.title = format!("<!channel> {id}");
            rule.message = "missing <@U123>".into();
            rule
        };
        let mut card = testing::card(vec![
            rule("slo", Status::Fail, true),
            rule("extra", Status::Fail, false),
            rule("ok", Status::Pass, true),
        ]);
        (card.tier, card.required_level, card.level) = (1, "gold".into(), Some("silver".into()));
        card.owner = Some("group:payments".into());
        let message = degradation_message(
            &card,
            Some("gold"),
            &[("Tracking issue".into(), "https://github.com/acme/payments/issues/3".into())],
        );
        let text = message.to_string();
        assert!(!text.contains("<!channel>") && !text.contains("<@U123>"), "{text}");
        assert!(text.contains("dropped from *gold* to *silver*"), "{text}");
        let blocks = message["blocks"].as_array().unwrap();
        assert_eq!(blocks[0]["type"], "header");
        let rules = blocks[2]["text"]["text"].as_str().unwrap();
        assert!(rules.contains("`slo`") && !rules.contains("`extra`") && !rules.contains("`ok`"), "{rules}");
        assert!(text.contains("<https://github.com/acme/payments/issues/3|Tracking issue>"));
    }
}
