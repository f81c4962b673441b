//! `GET /badge/{service}.svg`: a readiness badge in the familiar flat style, label "readiness", the level as the
//! value, green when the service meets its tier's required level and red when not, grey for an unknown service.
//! Cacheable: an `ETag` of the image, `304` for `If-None-Match`.

use super::WebState;
use super::access::Visible;
use super::api::OrgQuery;
use super::templates;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use sha2::{Digest, Sha256};

const LABEL: &str = "readiness";
/// Longest value shown (a longer level name is cut).
const MAX_VALUE: usize = 32;
const MET: &str = "#4c1";
const NOT_MET: &str = "#e05d44";
const UNKNOWN: &str = "#9f9f9f";

#[derive(Serialize)]
struct Badge<'a> {
    label: &'a str,
    value: String,
    color: &'a str,
    width: usize,
    label_width: usize,
    value_width: usize,
    label_x: f64,
    value_x: f64,
}

/// Approximate width in pixels of `text` in 11 px Verdana: narrow letters count less than wide ones.
fn text_width(text: &str) -> usize {
    text.chars()
        .map(|c| match c {
            'i' | 'l' | 'j' | '.' | ',' | ':' | ';' | '!' | '|' | '\'' => 4,
            'f' | 't' | 'r' | 'I' | ' ' | '(' | ')' | '-' => 5,
            'm' | 'w' | 'M' | 'W' => 11,
            c if c.is_ascii_uppercase() => 8,
            _ => 7,
        })
        .sum()
}

/// The SVG of a badge saying `value` in `color`.
pub fn svg(value: &str, color: &str) -> String {
    let value: String = value.chars().take(MAX_VALUE).collect();
    let (label_width, value_width) = (text_width(LABEL) + 10, text_width(&value) + 10);
    let badge = Badge {
        label: LABEL,
        color,
        width: label_width + value_width,
        label_width,
        value_width,
        label_x: label_width as f64 / 2.0,
        value_x: label_width as f64 + value_width as f64 / 2.0,
        value,
    };
    templates::render("badge.svg", &badge).unwrap_or_default()
}

fn answer(status: StatusCode, body: String, headers: &HeaderMap, public: bool) -> Response {
    let etag = format!("\"{}\"", hex(&Sha256::digest(body.as_bytes())[..16]));
    let cache = if public { "public, max-age=300" } else { "private, max-age=300" };
    let not_modified = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"));
    let mut response = if not_modified && status == StatusCode::OK {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        (status, [(header::CONTENT_TYPE, "image/svg+xml; charset=utf-8")], body).into_response()
    };
    let h = response.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    if let Ok(value) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, value);
    }
    response
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `GET /badge/{service}.svg[?org=ORG]`. Public with `SHIPSHAPE_PUBLIC_BADGES=true`; otherwise for callers who
/// may see the service's organisation (401 for others).
pub async fn badge(
    State(state): State<WebState>,
    headers: HeaderMap,
    Path(file): Path<String>,
    Query(q): Query<OrgQuery>,
) -> Response {
    let Some(name) = file.strip_suffix(".svg") else {
        return super::api::error(StatusCode::NOT_FOUND, "badges are `/badge/{service}.svg`");
    };
    let visible = if state.public_badges {
        Visible::All
    } else {
        match state.viewers.visible(&headers).await {
            Ok(v) => v,
            Err(r) => return super::api::refused(r),
        }
    };
    match super::api::find(&state, &visible, name, q.org.as_deref()).await {
        Ok(record) => {
            let value = record.level.as_deref().unwrap_or(crate::dashboard::NO_LEVEL);
            let color = if record.meets_required { MET } else { NOT_MET };
            answer(StatusCode::OK, svg(value, color), &headers, state.public_badges)
        }
        Err(response) if response.status() == StatusCode::NOT_FOUND => {
            answer(StatusCode::NOT_FOUND, svg("unknown", UNKNOWN), &headers, state.public_badges)
        }
        Err(response) => response,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hostile_level_name_is_escaped_and_cut() {
        let svg = svg("\"><script>alert(1)</script><x a=\"", NOT_MET);
        assert!(!svg.contains("<script>"), "{svg}");
        assert!(svg.contains("&lt;script&gt;"), "{svg}");
        let long = super::svg(&"g".repeat(200), MET);
        assert!(long.contains(&format!(">{}<", "g".repeat(MAX_VALUE))) && !long.contains(&"g".repeat(MAX_VALUE + 1)));
    }

    #[test]
    fn the_value_box_grows_with_the_text() {
        let narrow = svg("none", MET);
        let wide = svg("platinum-plus", MET);
        let width = |s: &str| s.split("width=\"").nth(1).unwrap().split('"').next().unwrap().parse::<usize>().unwrap();
        assert!(width(&wide) > width(&narrow), "{narrow}\n{wide}");
        assert!(narrow.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
    }
}
