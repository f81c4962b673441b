//! The caches: content-addressed blobs and key/value entries by namespace.

use super::{Result, Store, StoreError, from_millis, millis};
use chrono::{DateTime, Utc};
use sqlx::Row;

/// A key/value cache entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KvEntry {
    pub value: Vec<u8>,
    pub updated_at: DateTime<Utc>,
}

impl Store {
    pub async fn get_blob(&self, sha: &str) -> Result<Option<Vec<u8>>> {
        Ok(sqlx::query_scalar("SELECT content FROM blobs WHERE sha = $1").bind(sha).fetch_optional(&self.pool).await?)
    }

    /// Stores a blob by its SHA. Content-addressed: an existing entry is left as it is.
    pub async fn put_blob(&self, sha: &str, content: &[u8]) -> Result<()> {
        sqlx::query("INSERT INTO blobs (sha, content) VALUES ($1, $2) ON CONFLICT (sha) DO NOTHING")
            .bind(sha)
            .bind(content)
            .execute(&self.writes)
            .await?;
        Ok(())
    }

    pub async fn kv_get(&self, namespace: &str, key: &str) -> Result<Option<KvEntry>> {
        let row = sqlx::query("SELECT value, updated_at FROM kv WHERE namespace = $1 AND key = $2")
            .bind(namespace)
            .bind(key)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|row| {
            Ok(KvEntry { value: row.try_get("value")?, updated_at: from_millis(row.try_get("updated_at")?)? })
        })
        .transpose()
    }

    /// Sets (inserts or replaces) an entry.
    pub async fn kv_put(&self, namespace: &str, key: &str, value: &[u8], now: DateTime<Utc>) -> Result<()> {
        sqlx::query(
            "INSERT INTO kv (namespace, key, value, updated_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT (namespace, key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
        )
        .bind(namespace)
        .bind(key)
        .bind(value)
        .bind(millis(now))
        .execute(&self.writes)
        .await?;
        Ok(())
    }

    /// The entry's value, after setting it to `value` if it had none: of two processes that race, both get the
    /// value of the one that wrote first.
    pub async fn kv_get_or_put(&self, namespace: &str, key: &str, value: &[u8], now: DateTime<Utc>) -> Result<Vec<u8>> {
        sqlx::query(
            "INSERT INTO kv (namespace, key, value, updated_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT (namespace, key) DO NOTHING",
        )
        .bind(namespace)
        .bind(key)
        .bind(value)
        .bind(millis(now))
        .execute(&self.writes)
        .await?;
        let stored: Vec<u8> = sqlx::query_scalar("SELECT value FROM kv WHERE namespace = $1 AND key = $2")
            .bind(namespace)
            .bind(key)
            .fetch_one(&self.writes)
            .await?;
        Ok(stored)
    }

    /// Deletes the entries of `namespace` last written before `before`; returns how many.
    pub async fn prune_kv(&self, namespace: &str, before: DateTime<Utc>) -> Result<u64> {
        let result = sqlx::query("DELETE FROM kv WHERE namespace = $1 AND updated_at < $2")
            .bind(namespace)
            .bind(millis(before))
            .execute(&self.writes)
            .await?;
        Ok(result.rows_affected())
    }

    /// Deletes an entry; returns whether there was one.
    pub async fn kv_delete(&self, namespace: &str, key: &str) -> Result<bool> {
        let result = sqlx::query("DELETE FROM kv WHERE namespace = $1 AND key = $2")
            .bind(namespace)
            .bind(key)
            .execute(&self.writes)
            .await?;
        Ok(result.rows_affected() > 0)
    }

    /// [`Store::kv_get`] decoding JSON; returns the value and when it was stored.
    pub async fn kv_get_json<T: serde::de::DeserializeOwned>(
        &self,
        namespace: &str,
        key: &str,
    ) -> Result<Option<(T, DateTime<Utc>)>> {
        let Some(entry) = self.kv_get(namespace, key).await? else { return Ok(None) };
        let value = serde_json::from_slice(&entry.value)
            .map_err(|e| StoreError::Decode { what: format!("{namespace}/{key}"), reason: e.to_string() })?;
        Ok(Some((value, entry.updated_at)))
    }

    /// [`Store::kv_put`] encoding JSON.
    pub async fn kv_put_json<T: serde::Serialize + ?Sized>(
        &self,
        namespace: &str,
        key: &str,
        value: &T,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let bytes = serde_json::to_vec(value)
            .map_err(|e| StoreError::Decode { what: format!("{namespace}/{key}"), reason: e.to_string() })?;
        self.kv_put(namespace, key, &bytes, now).await
    }
}
