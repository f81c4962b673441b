//! The accept loop of `shipshape serve`: HTTP/1.1 connections served by hyper under [`Limits`], counted against
//! [`Limits::max_connections`], and shut down gracefully (in-flight requests finish, idle connections close).

use super::limits::Limits;
use super::metrics::Metrics;
use axum::Router;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use std::future::Future;
use std::io;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tracing::{debug, error};

/// Written, best effort, to a connection beyond [`Limits::max_connections`] before it is closed.
const TOO_MANY_CONNECTIONS: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\nretry-after: 5\r\ncontent-type: text/plain; \
charset=utf-8\r\ncontent-length: 21\r\nconnection: close\r\n\r\ntoo many connections\n";

/// Serves `app` on `listener` until `shutdown` resolves, then stops accepting, lets in-flight requests finish and
/// closes idle connections; returns once every connection is closed.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: &Limits,
    metrics: Arc<Metrics>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .max_header_size(limits.max_header_bytes)
        .max_buf_size(limits.max_header_bytes.max(8 * 1024))
        .keep_alive(true);
    let service = TowerToHyperService::new(app);
    let connections = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let graceful = GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _peer)) => stream,
                Err(e) => {
                    accept_failed(e).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let Ok(permit) = connections.clone().try_acquire_owned() else {
            refuse(stream, &metrics);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let connection = graceful.watch(builder.serve_connection(TokioIo::new(stream), service.clone()));
        let metrics = metrics.clone();
        metrics.connection_opened();
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                debug!(error = %e, "connection closed on an error");
            }
            metrics.connection_closed();
            drop(permit);
        });
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}

/// Beyond the cap: one 503 if the socket takes it at once, then closed.
fn refuse(stream: TcpStream, metrics: &Metrics) {
    metrics.connection_refused();
    debug!("connection refused: too many open connections");
    let _ = stream.try_write(TOO_MANY_CONNECTIONS);
}

/// Errors of `accept` concern one connection, except running out of file descriptors or memory: then wait a little
/// for connections to close rather than spin.
async fn accept_failed(e: io::Error) {
    match e.kind() {
        io::ErrorKind::ConnectionAborted | io::ErrorKind::ConnectionReset | io::ErrorKind::Interrupted => {
            debug!(error = %e, "accept failed");
        }
        _ => {
            error!(error = %e, "accept failed; pausing for 100 ms");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}
