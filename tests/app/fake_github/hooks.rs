//! The App itself (`GET /app`) and its webhook deliveries as GitHub keeps them: `GET /app/hook/deliveries` (newest first, cursor pages) and
//! `POST /app/hook/deliveries/{delivery_id}/attempts`, which sends the delivery again to the App's webhook URL, signed,
//! with the same GUID, as a new delivery marked as a redelivery.

use super::handlers::{Handled, require_app, with_link};
use super::*;
use hmac::{Hmac, KeyInit, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

/// One delivery GitHub made (or tried to make) to the App.
#[derive(Clone, Debug)]
pub(crate) struct HookDelivery {
    pub id: u64,
    pub guid: String,
    pub delivered_at: DateTime<Utc>,
    pub status_code: u16,
    pub event: String,
    pub action: Option<String>,
    pub installation: Option<u64>,
    pub payload: Vec<u8>,
    pub redelivery: bool,
}

/// The deliveries, where redeliveries go, and which were asked for.
#[derive(Default)]
pub(crate) struct Hooks {
    deliveries: Vec<HookDelivery>,
    /// The App's webhook URL and secret.
    target: Option<(String, String)>,
    /// Delivery ids whose redelivery was asked for, in order.
    pub attempts: Vec<u64>,
}

pub(crate) fn route(w: &mut World, ctx: &Ctx<'_>) -> Option<Reply> {
    let handled = match (ctx.method, ctx.template) {
        ("GET", "/app") => get_app(w, ctx),
        ("GET", "/app/hook/deliveries") => list(w, ctx),
        ("POST", "/app/hook/deliveries/{delivery_id}/attempts") => redeliver(w, ctx),
        _ => return None,
    };
    Some(handled.unwrap_or_else(|reply| reply))
}

/// `GET /app`: the App the token belongs to.
fn get_app(w: &mut World, ctx: &Ctx<'_>) -> Handled {
    require_app(ctx)?;
    let mut app = Spec::global().example("integration");
    app["id"] = w.app_id.into();
    app["slug"] = "shipshape".into();
    app["name"] = "shipshape".into();
    Ok(Reply::json(200, app))
}

fn item(d: &HookDelivery) -> Value {
    json!({
        "id": d.id, "guid": d.guid, "delivered_at": d.delivered_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "redelivery": d.redelivery, "duration": 0.03,
        "status": if d.status_code < 300 { "OK".to_string() } else { format!("Invalid HTTP Response: {}", d.status_code) },
        "status_code": d.status_code, "event": d.event, "action": d.action,
        "installation_id": d.installation, "repository_id": null,
    })
}

/// Newest first; `cursor` is the id the previous page ended with.
fn list(w: &mut World, ctx: &Ctx<'_>) -> Handled {
    require_app(ctx)?;
    let per_page = ctx.query("per_page").and_then(|v| v.parse::<usize>().ok()).filter(|n| *n > 0).unwrap_or(30);
    let per_page = per_page.min(100);
    let cursor = ctx.query("cursor").and_then(|c| c.strip_prefix("v1_")).and_then(|c| c.parse::<u64>().ok());
    let mut all: Vec<&HookDelivery> = w.hooks.deliveries.iter().filter(|d| cursor.is_none_or(|c| d.id < c)).collect();
    all.sort_by_key(|d| std::cmp::Reverse(d.id));
    let more = all.len() > per_page;
    let page: Vec<Value> = all.iter().take(per_page).map(|d| item(d)).collect();
    let link = more.then(|| {
        let last = all[per_page - 1].id;
        format!("<{}{}?per_page={per_page}&cursor=v1_{last}>; rel=\"next\"", ctx.base, ctx.path)
    });
    Ok(with_link(Reply::json(200, Value::Array(page)), link))
}

fn redeliver(w: &mut World, ctx: &Ctx<'_>) -> Handled {
    require_app(ctx)?;
    let id = super::handlers::id_param(ctx, "delivery_id")?;
    let Some(original) = w.hooks.deliveries.iter().find(|d| d.id == id).cloned() else {
        return Err(Reply::error(404, "Not Found"));
    };
    w.hooks.attempts.push(id);
    let again = HookDelivery { id: w.id(), delivered_at: now(), redelivery: true, status_code: 202, ..original };
    w.hooks.deliveries.push(again.clone());
    if let Some((url, secret)) = w.hooks.target.clone() {
        tokio::spawn(async move {
            let signature = signature(&secret, &again.payload);
            let sent = reqwest::Client::new()
                .post(url)
                .header("X-GitHub-Event", &again.event)
                .header("X-GitHub-Delivery", &again.guid)
                .header("X-Hub-Signature-256", signature)
                .header("Content-Type", "application/json")
                .body(again.payload.clone())
                .send()
                .await;
            assert!(
                sent.is_ok_and(|r| r.status().as_u16() == 202),
                "the redelivery of {} was not accepted",
                again.guid
            );
        });
    }
    Ok(Reply::json(202, json!({})))
}

/// GitHub's `X-Hub-Signature-256` of `body` with `secret`: `sha256=` and the HMAC-SHA256 in hex.
pub(crate) fn signature(secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(body);
    let hex: String = mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256={hex}")
}

impl FakeGitHub {
    /// Records a delivery GitHub made to the App with the answer `status_code` (a failure when not 2xx); returns its
    /// GUID.
    pub fn add_hook_delivery(&self, guid: &str, event: &str, payload: &[u8], status_code: u16) {
        let mut w = self.world();
        let parsed: Value = serde_json::from_slice(payload).unwrap_or(Value::Null);
        let id = w.id();
        let delivery = HookDelivery {
            id,
            guid: guid.to_string(),
            delivered_at: now(),
            status_code,
            event: event.to_string(),
            action: parsed["action"].as_str().map(str::to_string),
            installation: parsed["installation"]["id"].as_u64(),
            payload: payload.to_vec(),
            redelivery: false,
        };
        w.hooks.deliveries.push(delivery);
    }

    /// Where redeliveries are sent: the App's webhook URL, signed with `secret`.
    pub fn set_hook_target(&self, url: &str, secret: &str) {
        self.world().hooks.target = Some((url.to_string(), secret.to_string()));
    }

    /// The GUIDs of the deliveries whose redelivery the App asked for, in order.
    pub fn redelivery_requests(&self) -> Vec<String> {
        let w = self.world();
        w.hooks
            .attempts
            .iter()
            .filter_map(|id| w.hooks.deliveries.iter().find(|d| d.id == *id))
            .map(|d| d.guid.clone())
            .collect()
    }
}
