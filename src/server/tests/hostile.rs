//! Hostile clients against a real listening server: the real router and accept loop ([`crate::server::serve`], as
//! `shipshape serve` runs it) on 127.0.0.1, spoken to over raw sockets, with short timeouts.

use super::*;
use std::net::SocketAddr;
use std::time::Instant;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::oneshot;

const MIB: usize = 1024 * 1024;

/// A server on 127.0.0.1 until dropped or stopped.
struct Live {
    addr: SocketAddr,
    state: ServerState,
    dir: crate::store::test_database::TestDatabase,
    stop: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Drop for Live {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Timeouts short enough for tests, every other limit as `shipshape serve` has it.
fn fast() -> Limits {
    Limits {
        header_read_timeout: Duration::from_millis(400),
        body_read_timeout: Duration::from_millis(800),
        ..Limits::default()
    }
}

async fn live(limits: Limits) -> Live {
    let h = harness().await;
    let state = h.state.with_limits(limits);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(serve(listener, state.clone(), Router::new(), async move {
        let _ = stopped.await;
    }));
    Live { addr, state, dir: h._dir, stop: Some(stop), task }
}

/// Reads until the end of the response head (or EOF, or `within`); the head's text.
async fn read_head(stream: &mut (impl AsyncReadExt + Unpin), within: Duration) -> Option<String> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    let read = async {
        while !head.ends_with(b"\r\n\r\n") {
            match stream.read(&mut byte).await {
                Ok(1) => head.push(byte[0]),
                _ => break,
            }
        }
    };
    tokio::time::timeout(within, read).await.ok()?;
    (!head.is_empty()).then(|| String::from_utf8_lossy(&head).into_owned())
}

fn status(head: &str) -> u16 {
    head.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0)
}

/// Sends `raw` on a new connection and reads the whole answer (the server closes the connection after it).
async fn exchange(addr: SocketAddr, raw: &[u8]) -> (u16, String) {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(raw).await.unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut answer))
        .await
        .expect("answered within 5 s")
        .unwrap();
    let answer = String::from_utf8_lossy(&answer).into_owned();
    (status(&answer), answer)
}

async fn get(addr: SocketAddr, path: &str) -> (u16, String) {
    exchange(addr, format!("GET {path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n").as_bytes()).await
}

async fn healthz(addr: SocketAddr) -> u16 {
    get(addr, "/healthz").await.0
}

/// Whether the server closed `stream` within `within` (bytes it sends first are skipped).
async fn closed_within(stream: &mut TcpStream, within: Duration) -> bool {
    let mut sink = [0u8; 1024];
    let eof = async {
        loop {
            match stream.read(&mut sink).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    };
    tokio::time::timeout(within, eof).await.is_ok()
}

/// The head of a webhook request announcing `length` bytes (none: chunked) signed with `signature`.
fn webhook_head(length: Option<usize>, signature: &str, delivery: &str) -> String {
    let length = match length {
        Some(n) => format!("Content-Length: {n}\r\n"),
        None => "Transfer-Encoding: chunked\r\n".to_owned(),
    };
    format!(
        "POST /webhook HTTP/1.1\r\nHost: t\r\nX-GitHub-Event: ping\r\nX-GitHub-Delivery: {delivery}\r\n\
         X-Hub-Signature-256: {signature}\r\nContent-Type: application/json\r\n{length}\r\n"
    )
}

fn metric(state: &ServerState, line: &str) -> bool {
    state.metrics.render().lines().any(|l| l == line)
}

async fn eventually(what: &str, mut check: impl AsyncFnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while !check().await {
        assert!(Instant::now() < deadline, "{what}: not within 5 s");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Resident memory of this process, in bytes.
fn rss() -> usize {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse::<usize>().unwrap() * 1024
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stalled_and_idle_connections_are_closed_after_the_header_timeout_while_healthz_answers() {
    let server = live(fast()).await;
    let timeout = server.state.limits().header_read_timeout;
    let started = Instant::now();
    let mut stalled = Vec::new();
    for i in 0..200 {
        let mut stream = TcpStream::connect(server.addr).await.unwrap();
        // Half a request head; every tenth sends nothing at all.
        if i % 10 != 0 {
            stream.write_all(b"POST /webhook HTTP/1.1\r\nHost: t\r\nX-GitHub-Ev").await.unwrap();
        }
        stalled.push(stream);
    }
    // A keep-alive connection that finished a request and then says nothing.
    let mut idle = TcpStream::connect(server.addr).await.unwrap();
    // The server's idle timer starts once it has answered, so no earlier than the request was sent.
    let idle_since = Instant::now();
    idle.write_all(b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n").await.unwrap();
    let head = read_head(&mut idle, Duration::from_secs(2)).await.expect("answered");
    assert_eq!(status(&head), 200);

    assert_eq!(healthz(server.addr).await, 200, "healthz answers beside 200 stalled connections");
    assert!(started.elapsed() < timeout, "the test was too slow to check anything before the timeout");
    tokio::time::sleep(timeout / 2).await;
    assert_eq!(healthz(server.addr).await, 200);

    for (i, stream) in stalled.iter_mut().enumerate() {
        assert!(closed_within(stream, timeout + Duration::from_secs(3)).await, "stalled connection {i} still open");
    }
    assert!(closed_within(&mut idle, timeout + Duration::from_secs(3)).await, "idle keep-alive still open");
    assert!(started.elapsed() >= timeout && idle_since.elapsed() >= timeout, "closed only once the timeout passed");
    assert_eq!(healthz(server.addr).await, 200);
    eventually("every connection counted as closed", async || {
        metric(&server.state, "shipshape_http_connections_open 0")
    })
    .await;
}

#[tokio::test]
async fn connections_beyond_the_cap_are_refused_at_once_and_served_again_once_others_close() {
    let server = live(Limits { max_connections: 8, ..fast() }).await;
    let mut held = Vec::new();
    for _ in 0..8 {
        held.push(TcpStream::connect(server.addr).await.unwrap());
    }
    eventually("8 connections open", async || metric(&server.state, "shipshape_http_connections_open 8")).await;
    let mut extra = TcpStream::connect(server.addr).await.unwrap();
    let head = read_head(&mut extra, Duration::from_secs(2)).await.unwrap_or_default();
    assert!(head.is_empty() || status(&head) == 503, "{head}");
    assert!(closed_within(&mut extra, Duration::from_secs(1)).await, "the ninth connection is closed at once");
    assert!(metric(&server.state, "shipshape_http_connections_refused_total 1"));

    // The held ones time out, and there is room again.
    for stream in &mut held {
        assert!(closed_within(stream, Duration::from_secs(3)).await);
    }
    eventually("connections closed", async || metric(&server.state, "shipshape_http_connections_open 0")).await;
    assert_eq!(healthz(server.addr).await, 200);
}

/// Opens a webhook upload of `declared` bytes that sends `send` bytes of its body, then holds the connection open
/// without sending more; the answer's head, if one comes within `within`.
struct Upload {
    answer: tokio::task::JoinHandle<Option<String>>,
    writer: tokio::task::JoinHandle<()>,
    sent: oneshot::Receiver<bool>,
}

fn upload(addr: SocketAddr, declared: usize, send: usize, signature: String, within: Duration) -> Upload {
    let (sent_tx, sent) = oneshot::channel();
    let (read_half_tx, read_half) = oneshot::channel();
    let writer = tokio::spawn(async move {
        let stream = TcpStream::connect(addr).await.unwrap();
        let (read, mut write) = stream.into_split();
        let _ = read_half_tx.send(read);
        let head = webhook_head(Some(declared), &signature, "d-upload");
        let mut ok = write.write_all(head.as_bytes()).await.is_ok();
        let chunk = vec![b' '; 64 * 1024];
        let mut left = send;
        while ok && left > 0 {
            let n = left.min(chunk.len());
            ok = write.write_all(&chunk[..n]).await.is_ok();
            left -= n;
        }
        let _ = sent_tx.send(ok);
        // Stalled: the write half stays open until the task is aborted.
        std::future::pending::<()>().await;
        drop(write);
    });
    let answer = tokio::spawn(async move {
        let mut read = read_half.await.ok()?;
        read_head(&mut read, within).await
    });
    Upload { answer, writer, sent }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_uploads_with_a_wrong_signature_beyond_the_caps_get_503_and_memory_stays_bounded() {
    const UPLOADS: usize = 40;
    const SENT: usize = 16 * MIB;
    let limits = Limits { body_memory: 2 * MAX_BODY_BYTES, body_read_timeout: Duration::from_secs(2), ..fast() };
    let server = live(limits.clone()).await;
    let baseline = rss();

    // Each announces the maximum and sends 16 MiB: only two fit in the 50 MiB budget.
    let wrong = sign(b"some other body");
    let uploads: Vec<Upload> = (0..UPLOADS)
        .map(|_| upload(server.addr, MAX_BODY_BYTES, SENT, wrong.clone(), limits.body_read_timeout * 3))
        .collect();
    let mut refused = 0;
    let mut admitted = Vec::new();
    for upload in uploads {
        let Upload { answer, writer, sent } = upload;
        let early = tokio::time::timeout(Duration::from_millis(1500), sent).await;
        if matches!(early, Ok(Ok(true))) {
            admitted.push((answer, writer));
            continue;
        }
        let head = answer.await.unwrap().expect("refused uploads are answered");
        assert_eq!(status(&head), 503, "{head}");
        assert!(head.to_ascii_lowercase().contains("retry-after: 5\r\n"), "{head}");
        writer.abort();
        refused += 1;
    }
    assert_eq!((admitted.len(), refused), (2, UPLOADS - 2), "two uploads fit in the byte budget");
    assert_eq!(healthz(server.addr).await, 200, "healthz answers while the budget is full");
    tokio::time::sleep(Duration::from_millis(200)).await;

    // Held: the two bodies read so far (32 MiB) and at most 64 KiB of hyper's buffer per connection. Allowed: the
    // budget, plus 150 MiB for the allocator and the tests running beside this one. Without the budget, the 40
    // uploads would hold 640 MiB.
    let grown = rss().saturating_sub(baseline);
    let bound = limits.body_memory + UPLOADS * limits.max_header_bytes + 150 * MIB;
    eprintln!("RSS grew by {} MiB while {UPLOADS} uploads were held (bound {} MiB)", grown / MIB, bound / MIB);
    assert!(grown < bound, "RSS grew by {grown} bytes, over {bound}");

    // The admitted ones are cut at the body timeout; then there is room again.
    for (answer, writer) in admitted {
        let head = answer.await.unwrap().expect("answered at the body timeout");
        assert_eq!(status(&head), 408, "{head}");
        writer.abort();
    }
    let body = br#"{"zen":"x"}"#;
    let request = [webhook_head(Some(body.len()), &sign(body), "d-after").as_bytes(), body].concat();
    assert_eq!(exchange(server.addr, &request).await.0, 202);
    assert_eq!(stored(&server.state).await, 1);
    assert!(metric(&server.state, &format!("shipshape_webhook_rejected_total{{reason=\"busy\"}} {}", UPLOADS - 2)));
}

#[tokio::test]
async fn bodies_beyond_the_read_cap_get_503_with_retry_after_and_healthz_answers() {
    let limits = Limits { max_body_reads: 2, ..fast() };
    let server = live(limits.clone()).await;
    let wrong = sign(b"other");
    let first = upload(server.addr, 1000, 10, wrong.clone(), Duration::from_secs(3));
    let second = upload(server.addr, 1000, 10, wrong.clone(), Duration::from_secs(3));
    eventually("two bodies being read", async || {
        get(server.addr, "/metrics").await.1.lines().any(|l| l == "shipshape_webhook_bodies_reading 2")
    })
    .await;

    let (code, answer) = exchange(server.addr, webhook_head(Some(1000), &wrong, "d-3").as_bytes()).await;
    assert_eq!(code, 503, "{answer}");
    assert!(answer.to_ascii_lowercase().contains("\r\nretry-after: 5\r\n"), "{answer}");
    assert!(answer.ends_with("too many deliveries being received\n"), "{answer}");
    assert_eq!(healthz(server.addr).await, 200);

    for upload in [first, second] {
        let head = upload.answer.await.unwrap().expect("answered at the body timeout");
        assert_eq!(status(&head), 408, "{head}");
        upload.writer.abort();
    }
    let body = br#"{"zen":"x"}"#;
    let request = [webhook_head(Some(body.len()), &sign(body), "d-after").as_bytes(), body].concat();
    assert_eq!(exchange(server.addr, &request).await.0, 202, "the slots were given back");
}

#[tokio::test]
async fn a_content_length_over_25_mib_gets_413_without_a_byte_of_body() {
    let server = live(fast()).await;
    let head = webhook_head(Some(MAX_BODY_BYTES + 1), &sign(b"x"), "d-big");
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    stream.write_all(head.as_bytes()).await.unwrap();
    // No body is sent: the answer comes from the headers alone, well before the body timeout.
    let started = Instant::now();
    let answer = read_head(&mut stream, Duration::from_secs(5)).await.expect("answered");
    assert_eq!(status(&answer), 413, "{answer}");
    assert!(started.elapsed() < server.state.limits().body_read_timeout);
    assert!(closed_within(&mut stream, Duration::from_secs(2)).await, "and the connection is closed");
    assert_eq!(stored(&server.state).await, 0);
}

#[tokio::test]
async fn a_request_head_over_the_limit_gets_431() {
    let server = live(fast()).await;
    let limit = server.state.limits().max_header_bytes;
    let raw = format!("GET /healthz HTTP/1.1\r\nHost: t\r\nX-Padding: {}\r\n\r\n", "a".repeat(limit));
    assert_eq!(exchange(server.addr, raw.as_bytes()).await.0, 431);
    let raw = format!(
        "GET /healthz HTTP/1.1\r\nHost: t\r\nConnection: close\r\nX-Padding: {}\r\n\r\n",
        "a".repeat(limit / 2)
    );
    assert_eq!(exchange(server.addr, raw.as_bytes()).await.0, 200, "half the limit is fine");
}

#[tokio::test]
async fn a_body_that_stalls_or_trickles_is_cut_at_the_body_timeout() {
    let server = live(fast()).await;
    let timeout = server.state.limits().body_read_timeout;
    for trickle in [false, true] {
        let body = br#"{"zen":"x"}"#;
        let mut stream = TcpStream::connect(server.addr).await.unwrap();
        stream.write_all(webhook_head(Some(1000), &sign(body), "d-slow").as_bytes()).await.unwrap();
        stream.write_all(&body[..5]).await.unwrap();
        let started = Instant::now();
        let (mut read, mut write) = stream.into_split();
        // One byte every 50 ms would take 50 s: the timeout is for the whole body, not between bytes.
        let writer = tokio::spawn(async move {
            while trickle && write.write_all(b" ").await.is_ok() {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            std::future::pending::<()>().await;
            drop(write);
        });
        let head = read_head(&mut read, timeout + Duration::from_secs(3)).await.expect("answered");
        assert_eq!(status(&head), 408, "{head}");
        let elapsed = started.elapsed();
        assert!(elapsed >= timeout && elapsed < timeout + Duration::from_secs(2), "{elapsed:?}");
        writer.abort();
    }
    assert_eq!(stored(&server.state).await, 0);
    assert!(metric(&server.state, "shipshape_webhook_rejected_total{reason=\"body_timeout\"} 2"));
}

#[tokio::test]
async fn readyz_is_503_when_the_deliveries_table_is_missing() {
    let server = live(fast()).await;
    assert_eq!(get(server.addr, "/readyz").await.0, 200);
    let pool = sqlx::AnyPool::connect(&server.dir.url).await.unwrap();
    sqlx::query("DROP TABLE deliveries").execute(&pool).await.unwrap();
    pool.close().await;

    let (code, answer) = get(server.addr, "/readyz").await;
    assert_eq!(code, 503, "{answer}");
    assert!(answer.ends_with("\r\n\r\nnot ready: cannot read the deliveries table\n"), "{answer}");
    assert_eq!(healthz(server.addr).await, 200, "liveness does not depend on the database");
}

#[tokio::test]
async fn shutdown_stops_accepting_and_returns_once_connections_are_closed() {
    let mut server = live(fast()).await;
    let mut stalled = TcpStream::connect(server.addr).await.unwrap();
    stalled.write_all(b"GET /healthz HTTP/1.1\r\nHo").await.unwrap();
    let mut idle = TcpStream::connect(server.addr).await.unwrap();
    eventually("connections open", async || metric(&server.state, "shipshape_http_connections_open 2")).await;

    let _ = server.stop.take().unwrap().send(());
    let task = &mut server.task;
    let result = tokio::time::timeout(server.state.limits().header_read_timeout + Duration::from_secs(3), task).await;
    assert!(matches!(result, Ok(Ok(Ok(())))), "serve returned: {result:?}");
    assert!(closed_within(&mut idle, Duration::from_secs(1)).await);
    assert!(closed_within(&mut stalled, Duration::from_secs(1)).await);
    assert!(TcpStream::connect(server.addr).await.is_err(), "no longer listening");
}
