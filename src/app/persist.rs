//! The App's caches kept in the [`Store`]: blobs by SHA, and small key-value entries.

use super::remote_facts::BlobCache;
use super::sweep::{JOB_EVENT, Job, JobQueue};
use super::{HistoryStore, KvStore};
use crate::clock::Clock;
use crate::engine::Scorecard;
use crate::github::client::{CachedResponse, ResponseCache};
use crate::store::{Disposition, NewDelivery, Store, ns};
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

/// The store, with a clock for `updated_at`. A cache that cannot be read is a miss; one that cannot be written is
/// logged: neither fails an evaluation.
pub struct StoreCache {
    pub store: Store,
    pub clock: Arc<dyn Clock>,
    /// Wakes the workers when a job is queued.
    pub notify: Option<Arc<tokio::sync::Notify>>,
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

    fn get_tree(&self, repo: &str, sha: &str) -> Pin<Box<dyn Future<Output = Option<String>> + Send + '_>> {
        let (repo, sha) = (repo.to_string(), sha.to_string());
        Box::pin(async move {
            let kept: KeptTree = serde_json::from_str(&KvStore::kv_get(self, ns::TREE, &repo).await?).ok()?;
            (kept.sha == sha).then_some(kept.tree)
        })
    }

    fn put_tree(&self, repo: &str, sha: &str, json: String) -> Pin<Box<dyn Future<Output = ()> + Send + '_>> {
        let (repo, sha) = (repo.to_string(), sha.to_string());
        Box::pin(async move {
            if let Ok(value) = serde_json::to_string(&KeptTree { sha, tree: json }) {
                KvStore::kv_put(self, ns::TREE, &repo, value).await;
            }
        })
    }
}

#[derive(serde::Serialize, serde::Deserialize)]
struct KeptTree {
    sha: String,
    tree: String,
}

impl JobQueue for StoreCache {
    fn enqueue(&self, id: String, job: Job) -> Pin<Box<dyn Future<Output = Result<(), String>> + Send + '_>> {
        Box::pin(async move {
            let payload = serde_json::to_vec(&job).map_err(|e| e.to_string())?;
            let repository = match &job {
                Job::Repository { repository, .. } => Some(repository.full_name.clone()),
                Job::Sweep { .. } | Job::Cleanup { .. } | Job::Recover { .. } => None,
            };
            let installation_id = match &job {
                Job::Repository { installation, .. } => Some(*installation),
                Job::Sweep { installation, .. } => *installation,
                Job::Cleanup { .. } | Job::Recover { .. } => None,
            };
            let delivery = NewDelivery {
                delivery_id: id,
                event: JOB_EVENT.into(),
                action: Some(job.kind().into()),
                installation_id,
                repository,
                serial_key: Some(job.serial_key()),
                head_sha: None,
                payload,
                received_at: self.clock.now(),
                disposition: Disposition::Queue,
            };
            self.store.insert_delivery(&delivery).await.map_err(|e| e.to_string())?;
            if let Some(notify) = &self.notify {
                notify.notify_one();
            }
            Ok(())
        })
    }
}

impl super::DeliveryLedger for StoreCache {
    fn delivery_known(&self, guid: &str) -> Pin<Box<dyn Future<Output = Result<bool, String>> + Send + '_>> {
        let guid = guid.to_string();
        Box::pin(async move { self.store.delivery(&guid).await.map(|d| d.is_some()).map_err(|e| e.to_string()) })
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

    fn record_day(&self, card: &Scorecard) -> Pin<Box<dyn Future<Output = ()> + Send + '_>> {
        let record = crate::store::ServiceDay::from_card(card, self.clock.now());
        Box::pin(async move {
            let Some(record) = record else { return };
            if let Err(e) = self.store.record_service_day(&record).await {
                tracing::warn!(error = %e, "service history write failed");
            }
        })
    }

    fn failing_since(
        &self,
        repository: &str,
        git_ref: &str,
    ) -> Pin<Box<dyn Future<Output = BTreeMap<String, DateTime<Utc>>> + Send + '_>> {
        let (repository, git_ref) = (repository.to_string(), git_ref.to_string());
        Box::pin(async move {
            self.store.failing_since(&repository, &git_ref).await.unwrap_or_else(|e| {
                tracing::warn!(error = %e, "evaluation history read failed");
                BTreeMap::new()
            })
        })
    }
}

impl ResponseCache for StoreCache {
    fn load(&self, path: &str) -> Pin<Box<dyn Future<Output = Option<CachedResponse>> + Send + '_>> {
        let path = path.to_string();
        Box::pin(async move {
            let value = KvStore::kv_get(self, ns::GITHUB_ETAG, &path).await?;
            serde_json::from_str(&value).ok()
        })
    }

    fn store(&self, path: &str, response: CachedResponse) -> Pin<Box<dyn Future<Output = ()> + Send + '_>> {
        let path = path.to_string();
        Box::pin(async move {
            if let Ok(json) = serde_json::to_string(&response) {
                KvStore::kv_put(self, ns::GITHUB_ETAG, &path, json).await;
            }
        })
    }
}
