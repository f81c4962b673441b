//! What an unauthenticated client can make the App hold: connections, time and memory.
//!
//! Anyone can open a connection and announce a webhook; only the last byte of its body tells whether the signature
//! matches. So every connection must send its headers within [`Limits::header_read_timeout`] (also the time an idle
//! keep-alive connection is kept), and its whole body within [`Limits::body_read_timeout`]; at most
//! [`Limits::max_connections`] are open at once. Webhook bodies are read by at most [`Limits::max_body_reads`]
//! requests at once, holding together at most [`Limits::body_memory`] bytes (each reserves its `Content-Length`, or
//! the 25 MiB maximum when it has none); a request beyond either is answered 503 with `Retry-After` before a byte of
//! its body is read. Bodies stream into the HMAC as they arrive: nothing is buffered past 25 MiB.

use super::MAX_BODY_BYTES;
use axum::body::Body;
use bytes::{Bytes, BytesMut};
use hmac::{Hmac, KeyInit, Mac};
use http_body_util::BodyExt;
use sha2::Sha256;
use std::time::Duration;
use tokio::sync::{Semaphore, SemaphorePermit};

/// The bounds of the HTTP edge. [`Limits::default`] is what `shipshape serve` uses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    /// A connection that has not sent a complete request head this long after it opened, or after its previous
    /// response, is closed: slow headers and idle keep-alive connections alike.
    pub header_read_timeout: Duration,
    /// A webhook body not received in full this long after its headers is answered 408 and its connection closed.
    pub body_read_timeout: Duration,
    /// Connections open at once; one more is answered 503 and closed at once.
    pub max_connections: usize,
    /// Largest request head (request line and headers), in bytes: over it, 431.
    pub max_header_bytes: usize,
    /// Webhook bodies being read at once; one more is answered 503 with `Retry-After`.
    pub max_body_reads: usize,
    /// Bytes of webhook bodies held at once (at least [`MAX_BODY_BYTES`]); over it, 503 with `Retry-After`.
    pub body_memory: usize,
    /// The `Retry-After` of those 503 answers.
    pub retry_after: Duration,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            header_read_timeout: Duration::from_secs(10),
            body_read_timeout: Duration::from_secs(30),
            max_connections: 1024,
            max_header_bytes: 64 * 1024,
            max_body_reads: 64,
            body_memory: 128 * 1024 * 1024,
            retry_after: Duration::from_secs(5),
        }
    }
}

/// Admission to read a webhook body: counts the bodies being read and the bytes they may hold.
#[derive(Debug)]
pub(super) struct Intake {
    reads: Semaphore,
    max_reads: usize,
    bytes: Semaphore,
    /// Permits of `bytes` are KiB, so a budget of any size fits a semaphore's `u32` requests.
    budget_kib: u32,
}

/// Held while a body is read and handled; gives its slot and bytes back when dropped.
#[derive(Debug)]
pub(super) struct Admission<'a> {
    _read: SemaphorePermit<'a>,
    _bytes: SemaphorePermit<'a>,
}

impl Intake {
    pub(super) fn new(limits: &Limits) -> Intake {
        let budget_kib = u32::try_from(limits.body_memory.max(MAX_BODY_BYTES).div_ceil(1024)).unwrap_or(u32::MAX);
        let max_reads = limits.max_body_reads.max(1);
        Intake { reads: Semaphore::new(max_reads), max_reads, bytes: Semaphore::new(budget_kib as usize), budget_kib }
    }

    /// Bodies being read now.
    pub(super) fn reading(&self) -> usize {
        self.max_reads - self.reads.available_permits()
    }

    /// A slot for a body of `declared` bytes (the maximum when unknown), if one is free now.
    pub(super) fn admit(&self, declared: Option<u64>) -> Option<Admission<'_>> {
        let bytes = declared.unwrap_or(MAX_BODY_BYTES as u64).min(MAX_BODY_BYTES as u64);
        let kib = u32::try_from(bytes.div_ceil(1024)).unwrap_or(u32::MAX).clamp(1, self.budget_kib);
        let read = self.reads.try_acquire().ok()?;
        let bytes = self.bytes.try_acquire_many(kib).ok()?;
        Some(Admission { _read: read, _bytes: bytes })
    }
}

/// Why a webhook body could not be read.
#[derive(Debug, thiserror::Error)]
pub(super) enum ReadError {
    #[error("payload larger than 25 MiB")]
    TooLarge,
    #[error("body not received within {0:?}")]
    TimedOut(Duration),
    #[error("cannot read body: {0}")]
    Broken(String),
}

/// Reads `body` (at most [`MAX_BODY_BYTES`], within `timeout`) into memory, feeding the HMAC-SHA256 keyed with
/// `secret` as it arrives; returns the body and whether its MAC is `signature`.
pub(super) async fn read_signed(
    body: Body,
    declared: Option<u64>,
    secret: &[u8],
    signature: &[u8; 32],
    timeout: Duration,
) -> Result<(Bytes, bool), ReadError> {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret).map_err(|e| ReadError::Broken(e.to_string()))?;
    // Reserved by the admission already; memory is only touched as bytes arrive.
    let capacity = declared.map_or(64 * 1024, |n| n.min(MAX_BODY_BYTES as u64) as usize);
    let mut buffer = BytesMut::with_capacity(capacity);
    let read = async {
        let mut body = body;
        while let Some(frame) = body.frame().await {
            let frame = frame.map_err(|e| ReadError::Broken(e.to_string()))?;
            let Ok(chunk) = frame.into_data() else { continue };
            if buffer.len() + chunk.len() > MAX_BODY_BYTES {
                return Err(ReadError::TooLarge);
            }
            mac.update(&chunk);
            buffer.extend_from_slice(&chunk);
        }
        Ok(())
    };
    tokio::time::timeout(timeout, read).await.map_err(|_| ReadError::TimedOut(timeout))??;
    Ok((buffer.freeze(), mac.verify_slice(signature).is_ok()))
}
