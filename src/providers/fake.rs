//! Shared pieces of the linked-tool fakes that the provider tests run against: serving a fake, the faults a test
//! makes it answer with, and reading an unavailable fact's reason (checked free of the credential).

use crate::facts::Fact;
use axum::response::{IntoResponse, Response};
use std::time::Duration;

/// What a fake does to one request instead of answering it normally.
#[derive(Clone)]
pub(crate) enum Fault {
    /// This status, with the tool's error body and a `Retry-After` of so many seconds.
    Status(u16, Option<u64>),
    /// 200 with this body as `application/json` (broken JSON, HTML, an oversized answer).
    Body(String),
    /// Answers normally, after this long.
    Slow(Duration),
}

/// Serves `app` on a free local port; returns its base URL.
pub(crate) async fn serve(app: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    url
}

/// The answer `fault` replaces the real one with (`error` is the tool's error response for a status), or `None` to
/// answer normally.
pub(crate) async fn answer(fault: Option<Fault>, error: impl Fn(u16) -> Response) -> Option<Response> {
    match fault? {
        Fault::Status(status, retry) => {
            let mut response = error(status);
            if let Some(secs) = retry {
                response.headers_mut().insert("retry-after", secs.to_string().parse().unwrap());
            }
            Some(response)
        }
        Fault::Body(body) => Some(([("content-type", "application/json")], body).into_response()),
        Fault::Slow(wait) => {
            tokio::time::sleep(wait).await;
            None
        }
    }
}

/// The reason of an unavailable fact, which must not hold `secret`.
pub(crate) fn unavailable<'a, T: std::fmt::Debug>(fact: &'a Fact<T>, secret: &str) -> &'a str {
    match fact {
        Fact::Unavailable(why) => {
            assert!(!why.contains(secret), "the credential leaked: {why}");
            why
        }
        other => panic!("expected unavailable, got {other:?}"),
    }
}
