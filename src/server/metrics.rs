//! A small Prometheus registry: the handful of series shipshape exports, rendered in the text exposition format
//! (version 0.0.4). Every method is thread-safe and cheap (atomics, or a short-held mutex around a small map), so
//! any module can record through a shared `Arc<Metrics>`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::time::Duration;

/// `Content-Type` of [`Metrics::render`]'s output.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Upper bounds (seconds) of the processing-time histogram: from a cached re-render to a large repository scan
/// against a slow API.
pub const PROCESSING_BUCKETS: [f64; 12] = [0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0];

/// How a delivery ended (or was set aside) in a worker.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Outcome {
    Done,
    Failed,
    Retried,
    Superseded,
    Ignored,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Done => "done",
            Outcome::Failed => "failed",
            Outcome::Retried => "retried",
            Outcome::Superseded => "superseded",
            Outcome::Ignored => "ignored",
        }
    }
}

/// Why `POST /webhook` refused a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RejectReason {
    /// Over the size limit (413).
    TooLarge,
    /// Missing, malformed or wrong `X-Hub-Signature-256` (401).
    Signature,
    /// Missing `X-GitHub-Event` / `X-GitHub-Delivery`, or an unreadable body (400).
    BadRequest,
    /// The body is not JSON (400).
    MalformedJson,
    /// JSON, but not a payload the event parser understands (400).
    UnparseablePayload,
    /// The delivery could not be stored (503).
    StoreUnavailable,
    /// Too many webhook bodies being read, or too many bytes of them held, at once (503).
    Busy,
    /// The body did not arrive in time (408).
    BodyTimeout,
}

impl RejectReason {
    pub fn as_str(self) -> &'static str {
        match self {
            RejectReason::TooLarge => "too_large",
            RejectReason::Signature => "signature",
            RejectReason::BadRequest => "bad_request",
            RejectReason::MalformedJson => "malformed_json",
            RejectReason::UnparseablePayload => "unparseable_payload",
            RejectReason::StoreUnavailable => "store_unavailable",
            RejectReason::Busy => "busy",
            RejectReason::BodyTimeout => "body_timeout",
        }
    }
}

#[derive(Debug, Default)]
struct Histogram {
    /// Per bucket (not cumulative); the last slot is `+Inf`.
    counts: [u64; PROCESSING_BUCKETS.len() + 1],
    sum: f64,
    count: u64,
}

/// The registry.
#[derive(Debug, Default)]
pub struct Metrics {
    received: Mutex<BTreeMap<String, u64>>,
    processed: Mutex<BTreeMap<(String, Outcome), u64>>,
    rejected: Mutex<BTreeMap<RejectReason, u64>>,
    processing: Mutex<Histogram>,
    queue_depth: AtomicI64,
    github_requests: Mutex<BTreeMap<(String, u16), u64>>,
    linked_requests: Mutex<BTreeMap<(&'static str, &'static str), u64>>,
    rate_limit_remaining: AtomicU64,
    rate_limit_known: AtomicBool,
    connections_open: AtomicI64,
    bodies_reading: AtomicI64,
    connections_refused: AtomicU64,
}

fn bump<K: Ord>(map: &Mutex<BTreeMap<K, u64>>, key: K) {
    let mut map = map.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    *map.entry(key).or_insert(0) += 1;
}

fn snapshot<K: Ord + Clone>(map: &Mutex<BTreeMap<K, u64>>) -> Vec<(K, u64)> {
    let map = map.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    map.iter().map(|(k, v)| (k.clone(), *v)).collect()
}

impl Metrics {
    pub fn new() -> Metrics {
        Metrics::default()
    }

    /// A verified delivery was stored (duplicates are not counted again).
    pub fn delivery_received(&self, event: &str) {
        bump(&self.received, event.to_owned());
    }

    pub fn delivery_processed(&self, event: &str, outcome: Outcome) {
        bump(&self.processed, (event.to_owned(), outcome));
    }

    pub fn webhook_rejected(&self, reason: RejectReason) {
        bump(&self.rejected, reason);
    }

    /// Time a worker spent on one delivery attempt.
    pub fn observe_processing(&self, elapsed: Duration) {
        let seconds = elapsed.as_secs_f64();
        let slot = PROCESSING_BUCKETS.iter().position(|&le| seconds <= le).unwrap_or(PROCESSING_BUCKETS.len());
        let mut h = self.processing.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        h.counts[slot] += 1;
        h.sum += seconds;
        h.count += 1;
    }

    pub fn set_queue_depth(&self, depth: i64) {
        self.queue_depth.store(depth, Ordering::Relaxed);
    }

    /// One GitHub REST request. `endpoint` is the route template, never the concrete path (bounded label values):
    /// `metrics.github_request("GET /repos/{owner}/{repo}/git/trees/{sha}", 200)`.
    pub fn linked_tool_request(&self, tool: &'static str, outcome: &'static str) {
        bump(&self.linked_requests, (tool, outcome));
    }

    pub fn github_request(&self, endpoint: &str, status: u16) {
        bump(&self.github_requests, (endpoint.to_owned(), status));
    }

    /// From GitHub's `x-ratelimit-remaining` header.
    pub fn set_github_rate_limit_remaining(&self, remaining: u64) {
        self.rate_limit_remaining.store(remaining, Ordering::Relaxed);
        self.rate_limit_known.store(true, Ordering::Relaxed);
    }

    /// Webhook bodies being read now (of [`crate::server::Limits::max_body_reads`]).
    pub fn set_bodies_reading(&self, n: usize) {
        self.bodies_reading.store(i64::try_from(n).unwrap_or(i64::MAX), Ordering::Relaxed);
    }

    /// An HTTP connection was accepted.
    pub fn connection_opened(&self) {
        self.connections_open.fetch_add(1, Ordering::Relaxed);
    }

    pub fn connection_closed(&self) {
        self.connections_open.fetch_sub(1, Ordering::Relaxed);
    }

    /// An HTTP connection was closed at once: too many were open.
    pub fn connection_refused(&self) {
        self.connections_refused.fetch_add(1, Ordering::Relaxed);
    }

    /// The exposition text.
    pub fn render(&self) -> String {
        let mut out = String::new();

        header(&mut out, "shipshape_deliveries_received_total", "counter", "Webhook deliveries verified and stored.");
        for (event, n) in snapshot(&self.received) {
            sample(&mut out, "shipshape_deliveries_received_total", &[("event", &event)], n);
        }

        header(
            &mut out,
            "shipshape_deliveries_processed_total",
            "counter",
            "Deliveries finished or set aside, by outcome (done, failed, retried, superseded, ignored).",
        );
        for ((event, outcome), n) in snapshot(&self.processed) {
            sample(
                &mut out,
                "shipshape_deliveries_processed_total",
                &[("event", &event), ("outcome", outcome.as_str())],
                n,
            );
        }

        header(&mut out, "shipshape_webhook_rejected_total", "counter", "Webhook requests refused, by reason.");
        for (reason, n) in snapshot(&self.rejected) {
            sample(&mut out, "shipshape_webhook_rejected_total", &[("reason", reason.as_str())], n);
        }

        header(
            &mut out,
            "shipshape_delivery_processing_seconds",
            "histogram",
            "Time spent processing one delivery attempt.",
        );
        {
            let h = self.processing.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            let mut cumulative = 0;
            for (i, le) in PROCESSING_BUCKETS.iter().enumerate() {
                cumulative += h.counts[i];
                sample(
                    &mut out,
                    "shipshape_delivery_processing_seconds_bucket",
                    &[("le", &le.to_string())],
                    cumulative,
                );
            }
            cumulative += h.counts[PROCESSING_BUCKETS.len()];
            sample(&mut out, "shipshape_delivery_processing_seconds_bucket", &[("le", "+Inf")], cumulative);
            let _ = writeln!(out, "shipshape_delivery_processing_seconds_sum {}", float(h.sum));
            let _ = writeln!(out, "shipshape_delivery_processing_seconds_count {}", h.count);
        }

        header(&mut out, "shipshape_queue_depth", "gauge", "Deliveries queued or being processed.");
        let _ = writeln!(out, "shipshape_queue_depth {}", self.queue_depth.load(Ordering::Relaxed));

        header(&mut out, "shipshape_webhook_bodies_reading", "gauge", "Webhook bodies being received.");
        let _ = writeln!(out, "shipshape_webhook_bodies_reading {}", self.bodies_reading.load(Ordering::Relaxed));
        header(&mut out, "shipshape_http_connections_open", "gauge", "HTTP connections open.");
        let _ = writeln!(out, "shipshape_http_connections_open {}", self.connections_open.load(Ordering::Relaxed));
        header(
            &mut out,
            "shipshape_http_connections_refused_total",
            "counter",
            "HTTP connections closed on arrival because too many were open.",
        );
        let _ = writeln!(
            out,
            "shipshape_http_connections_refused_total {}",
            self.connections_refused.load(Ordering::Relaxed)
        );

        header(&mut out, "shipshape_github_requests_total", "counter", "GitHub REST requests, by endpoint and status.");
        for ((endpoint, status), n) in snapshot(&self.github_requests) {
            sample(
                &mut out,
                "shipshape_github_requests_total",
                &[("endpoint", &endpoint), ("status", &status.to_string())],
                n,
            );
        }

        header(
            &mut out,
            "shipshape_linked_tool_requests_total",
            "counter",
            "Requests to linked tools (PagerDuty, Prometheus, http checks), by tool and outcome.",
        );
        for ((tool, outcome), n) in snapshot(&self.linked_requests) {
            sample(&mut out, "shipshape_linked_tool_requests_total", &[("tool", tool), ("outcome", outcome)], n);
        }

        header(
            &mut out,
            "shipshape_github_rate_limit_remaining",
            "gauge",
            "Requests left in GitHub's current rate-limit window, as last reported.",
        );
        if self.rate_limit_known.load(Ordering::Relaxed) {
            let _ = writeln!(
                out,
                "shipshape_github_rate_limit_remaining {}",
                self.rate_limit_remaining.load(Ordering::Relaxed)
            );
        }
        out
    }
}

fn header(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {}", escape_help(help));
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

fn sample(out: &mut String, name: &str, labels: &[(&str, &str)], value: u64) {
    out.push_str(name);
    if !labels.is_empty() {
        out.push('{');
        for (i, (key, value)) in labels.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            let _ = write!(out, "{key}=\"{}\"", escape_label(value));
        }
        out.push('}');
    }
    let _ = writeln!(out, " {value}");
}

fn float(v: f64) -> String {
    if v.is_finite() { format!("{v}") } else { "NaN".to_owned() }
}

/// Label values: backslash, double quote and line feed are escaped.
pub fn escape_label(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

/// HELP text: backslash and line feed are escaped.
fn escape_help(text: &str) -> String {
    text.replace('\\', "\\\\").replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_every_family_with_help_and_type() {
        let m = Metrics::new();
        let text = m.render();
        for name in [
            "shipshape_deliveries_received_total",
            "shipshape_deliveries_processed_total",
            "shipshape_webhook_rejected_total",
            "shipshape_delivery_processing_seconds",
            "shipshape_queue_depth",
            "shipshape_github_requests_total",
            "shipshape_linked_tool_requests_total",
            "shipshape_github_rate_limit_remaining",
            "shipshape_http_connections_open",
            "shipshape_http_connections_refused_total",
            "shipshape_webhook_bodies_reading",
        ] {
            assert!(text.contains(&format!("# HELP {name} ")), "{name}\n{text}");
            assert!(text.contains(&format!("# TYPE {name} ")), "{name}\n{text}");
        }
        assert!(text.contains("shipshape_queue_depth 0\n"));
        assert!(
            !text.lines().any(|l| l.starts_with("shipshape_github_rate_limit_remaining")),
            "unknown until GitHub reports it"
        );
        assert!(text.ends_with('\n'));
    }

    #[test]
    fn counters_gauges_and_labels() {
        let m = Metrics::new();
        m.delivery_received("pull_request");
        m.delivery_received("pull_request");
        m.delivery_received("push");
        m.delivery_processed("pull_request", Outcome::Done);
        m.delivery_processed("pull_request", Outcome::Retried);
        m.webhook_rejected(RejectReason::Signature);
        m.set_queue_depth(7);
        m.github_request("GET /repos/{owner}/{repo}/git/trees/{sha}", 200);
        m.github_request("GET /repos/{owner}/{repo}/git/trees/{sha}", 200);
        m.set_github_rate_limit_remaining(4990);
        m.linked_tool_request("prometheus", "ok");
        m.linked_tool_request("prometheus", "ok");
        m.linked_tool_request("http", "down");
        m.connection_opened();
        m.connection_opened();
        m.connection_closed();
        m.connection_refused();
        m.set_bodies_reading(3);
        let text = m.render();
        for line in [
            "shipshape_deliveries_received_total{event=\"pull_request\"} 2",
            "shipshape_deliveries_received_total{event=\"push\"} 1",
            "shipshape_deliveries_processed_total{event=\"pull_request\",outcome=\"done\"} 1",
            "shipshape_deliveries_processed_total{event=\"pull_request\",outcome=\"retried\"} 1",
            "shipshape_webhook_rejected_total{reason=\"signature\"} 1",
            "shipshape_queue_depth 7",
            "shipshape_github_requests_total{endpoint=\"GET /repos/{owner}/{repo}/git/trees/{sha}\",status=\"200\"} 2",
            "shipshape_github_rate_limit_remaining 4990",
            "shipshape_linked_tool_requests_total{tool=\"prometheus\",outcome=\"ok\"} 2",
            "shipshape_linked_tool_requests_total{tool=\"http\",outcome=\"down\"} 1",
            "shipshape_http_connections_open 1",
            "shipshape_http_connections_refused_total 1",
            "shipshape_webhook_bodies_reading 3",
        ] {
            assert!(text.lines().any(|l| l == line), "missing {line}\n{text}");
        }
    }

    #[test]
    fn histogram_buckets_are_cumulative() {
        let m = Metrics::new();
        m.observe_processing(Duration::from_millis(30));
        m.observe_processing(Duration::from_millis(700));
        m.observe_processing(Duration::from_secs(1000));
        let text = m.render();
        for line in [
            "shipshape_delivery_processing_seconds_bucket{le=\"0.05\"} 1",
            "shipshape_delivery_processing_seconds_bucket{le=\"0.5\"} 1",
            "shipshape_delivery_processing_seconds_bucket{le=\"1\"} 2",
            "shipshape_delivery_processing_seconds_bucket{le=\"300\"} 2",
            "shipshape_delivery_processing_seconds_bucket{le=\"+Inf\"} 3",
            "shipshape_delivery_processing_seconds_count 3",
        ] {
            assert!(text.lines().any(|l| l == line), "missing {line}\n{text}");
        }
        let sum = text.lines().find_map(|l| l.strip_prefix("shipshape_delivery_processing_seconds_sum ")).unwrap();
        assert!((sum.parse::<f64>().unwrap() - 1000.73).abs() < 1e-9, "{sum}");
    }

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(escape_label(r#"a"b\c"#.to_owned().as_str()), r#"a\"b\\c"#);
        assert_eq!(escape_label("line\nbreak"), "line\\nbreak");
        let m = Metrics::new();
        m.delivery_received("we\"ird\n");
        assert!(m.render().contains("shipshape_deliveries_received_total{event=\"we\\\"ird\\n\"} 1\n"));
    }

    #[test]
    fn safe_to_share_between_threads() {
        let m = std::sync::Arc::new(Metrics::new());
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let m = m.clone();
                std::thread::spawn(move || {
                    for _ in 0..1000 {
                        m.delivery_processed("push", Outcome::Done);
                        m.observe_processing(Duration::from_millis(1));
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        let text = m.render();
        assert!(text.contains("shipshape_deliveries_processed_total{event=\"push\",outcome=\"done\"} 4000\n"));
        assert!(text.contains("shipshape_delivery_processing_seconds_count 4000\n"));
    }
}
