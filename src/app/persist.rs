//! The App's caches kept in the [`Store`]: blobs by SHA, and small key-value entries.

use super::remote_facts::BlobCache;
use super::{HistoryStore, KvStore};
use crate::clock::Clock;
use crate::engine::Scorecard;
use crate::store::Store;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

/// The store, with a clock for `updated_at`. A cache that cannot be read is a miss; one that cannot be written is
/// logged: neither fails an evaluation.
pub struct StoreCache {
    pub store: Store,
    pub clock: Arc<dyn Clock>,
}

impl BlobCache for StoreCache {
    fn get(&self, sha: &str) -> Pin<Box<dyn Future<Output = Option<Vec<u8>>> + Send + '_>> {
        let sha = sha.to_string();
        Box::pin(async move {
            self.store.get_blob(&sha).await.unwrap_or_else(|e| {
                tracing::warn!(error = %e, "blob cache read failed");
                None
            })
        })
    }

    fn put(&self, sha: &str, content: Vec<u8>) -> Pin<Box<dyn Future<Output = ()> + Send + '_>> {
        let sha = sha.to_string();
        Box::pin(async move {
            if let Err(e) = self.store.put_blob(&sha, &content).await {
                tracing::warn!(error = %e, "blob cache write failed");
            }
        })
    }
}

impl KvStore for StoreCache {
    fn kv_get(&self, namespace: &str, key: &str) -> Pin<Box<dyn Future<Output = Option<String>> + Send + '_>> {
        let (namespace, key) = (namespace.to_string(), key.to_string());
        Box::pin(async move {
            match self.store.kv_get(&namespace, &key).await {
                Ok(entry) => entry.and_then(|e| String::from_utf8(e.value).ok()),
                Err(e) => {
                    tracing::warn!(error = %e, namespace, "cache read failed");
                    None
                }
            }
        })
    }

    fn kv_put(&self, namespace: &str, key: &str, value: String) -> Pin<Box<dyn Future<Output = ()> + Send + '_>> {
        let (namespace, key) = (namespace.to_string(), key.to_string());
        Box::pin(async move {
            if let Err(e) = self.store.kv_put(&namespace, &key, value.as_bytes(), self.clock.now()).await {
                tracing::warn!(error = %e, namespace, "cache write failed");
            }
        })
    }
}

impl HistoryStore for StoreCache {
    fn record(&self, card: &Scorecard, git_ref: &str) -> Pin<Box<dyn Future<Output = ()> + Send + '_>> {
        let (card, git_ref) = (card.clone(), git_ref.to_string());
        Box::pin(async move {
            if let Err(e) = self.store.record_evaluation(&card, &git_ref, self.clock.now()).await {
                tracing::warn!(error = %e, "evaluation history write failed");
            }
        })
    }
}
