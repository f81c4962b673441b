//! Storing webhook deliveries: one writer task commits whatever is waiting in one transaction (group commit), and
//! places each queued delivery in its key's line (see [`super::queue`]).

use super::deliveries::{Disposition, Inserted, NewDelivery};
use super::{Dialect, Result, Store, StoreError, begin_write, millis, to_i64};
use sqlx::Row;
use sqlx::{AnyConnection, AnyPool};

/// A delivery waiting for the writer, and where to send its outcome.
pub(super) type PendingInsert = (NewDelivery, tokio::sync::oneshot::Sender<Result<Inserted>>);

/// Most deliveries committed in one transaction.
pub(super) const MAX_BATCH: usize = 256;

impl Store {
    /// Stores a delivery, unless one with the same id is already stored. Durable when it returns.
    pub async fn insert_delivery(&self, d: &NewDelivery) -> Result<Inserted> {
        let (done, outcome) = tokio::sync::oneshot::channel();
        self.writer.send((d.clone(), done)).await.map_err(|_| StoreError::Write("the writer stopped".into()))?;
        outcome.await.map_err(|_| StoreError::Write("the writer stopped".into()))?
    }
}

/// The delivery writer: takes whatever is waiting (up to [`MAX_BATCH`]), inserts it in one transaction, commits,
/// then answers each caller. When a batch fails, its deliveries are retried one transaction each, so that one
/// delivery the database refuses fails alone.
pub(super) async fn write_deliveries(
    pool: AnyPool,
    dialect: Dialect,
    mut queue: tokio::sync::mpsc::Receiver<PendingInsert>,
) {
    while let Some(first) = queue.recv().await {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match queue.try_recv() {
                Ok(next) => batch.push(next),
                Err(_) => break,
            }
        }
        let deliveries: Vec<&NewDelivery> = batch.iter().map(|(d, _)| d).collect();
        let outcomes = match insert_batch(&pool, dialect, &deliveries).await {
            Ok(outcomes) => outcomes.into_iter().map(Ok).collect(),
            Err(e) if batch.len() == 1 => vec![Err(e)],
            Err(e) => {
                tracing::warn!(error = %e, deliveries = batch.len(), "cannot store a batch of deliveries: one at a time");
                let mut outcomes = Vec::with_capacity(batch.len());
                for d in &deliveries {
                    outcomes.push(insert_batch(&pool, dialect, &[d]).await.map(|mut o| o.remove(0)));
                }
                outcomes
            }
        };
        for ((_, done), outcome) in batch.into_iter().zip(outcomes) {
            let _ = done.send(outcome.map_err(|e| StoreError::Write(e.to_string())));
        }
    }
}

async fn insert_batch(pool: &AnyPool, dialect: Dialect, batch: &[&NewDelivery]) -> Result<Vec<Inserted>> {
    // The inserts read the key's line before writing; no other process may write in between.
    let mut tx = begin_write(pool, dialect).await?;
    let mut outcomes = Vec::with_capacity(batch.len());
    for d in batch {
        outcomes.push(insert_one(&mut tx, d).await?);
    }
    tx.commit().await?;
    Ok(outcomes)
}

async fn insert_one(tx: &mut AnyConnection, d: &NewDelivery) -> Result<Inserted> {
    let received = millis(d.received_at);
    let (status, finished_at, last_error) = match &d.disposition {
        Disposition::Queue => ("queued", None, None),
        Disposition::Ignore(reason) => ("ignored", Some(received), Some(reason.as_str())),
    };
    let generation = match (&d.serial_key, &d.head_sha) {
        (Some(key), Some(sha)) => Some(head_generation(tx, key, sha, received).await?),
        _ => None,
    };
    // A queued delivery with a key joins its key's line: behind when an older never-attempted one waits (the
    // usual case in a burst for one pull request), else at the front, where `elect_next` puts any younger front
    // (this one was stored out of order) behind it.
    let in_line = status == "queued" && d.serial_key.is_some();
    let behind: Option<i64> = sqlx::query_scalar(
        "INSERT INTO deliveries (delivery_id, event, action, installation_id, repository, serial_key, head_sha,
             payload, received_at, status, attempts, next_attempt_at, last_error, finished_at, behind,
             head_generation)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 0, $9, $11, $12,
             CASE WHEN $13 = 1 AND EXISTS (
                 SELECT 1 FROM deliveries
                 WHERE serial_key = $6 AND status = 'queued' AND attempts = 0 AND received_at <= $9) THEN 1 ELSE 0 END,
             $14)
         ON CONFLICT (delivery_id) DO NOTHING
         RETURNING behind",
    )
    .bind(&d.delivery_id)
    .bind(&d.event)
    .bind(&d.action)
    .bind(to_i64(d.installation_id, "installation id")?)
    .bind(&d.repository)
    .bind(&d.serial_key)
    .bind(&d.head_sha)
    .bind(&d.payload)
    .bind(received)
    .bind(status)
    .bind(last_error)
    .bind(finished_at)
    .bind(i64::from(in_line))
    .bind(generation.as_ref().map(|g| g.number))
    .fetch_optional(&mut *tx)
    .await?;
    let Some(behind) = behind.map(|b| b != 0) else { return Ok(Inserted::Duplicate) };
    if let (Some(key), Some(generation)) = (&d.serial_key, generation) {
        renumber_later(tx, key, generation).await?;
    }
    if in_line
        && !behind
        && let Some(key) = &d.serial_key
    {
        super::queue::elect_next(tx, key).await?;
    }
    Ok(Inserted::New)
}

/// A new delivery's head generation, and the key's deliveries received after it (normally none: deliveries are
/// stored in arrival order, except for those whose handlers raced by a millisecond).
struct Generation {
    number: i64,
    head_sha: String,
    later: Vec<(i64, String, i64)>,
}

/// Head generations number the head changes of a key's deliveries in arrival order: a delivery gets its
/// predecessor's number, plus one when its head SHA differs. A queued delivery is stale when a newer one of its key
/// has a higher number (see [`super::queue`]).
async fn head_generation(tx: &mut AnyConnection, key: &str, sha: &str, received: i64) -> Result<Generation> {
    let mut later = Vec::new();
    let mut number = 0;
    // Newest first, down to the predecessor: the newest itself unless this one was stored out of order, so one
    // row first, then pages.
    let (mut offset, mut limit) = (0, 1);
    'pages: loop {
        let rows = sqlx::query(
            "SELECT rowid, received_at, head_sha, head_generation FROM deliveries
             WHERE serial_key = $1 AND head_generation IS NOT NULL
             ORDER BY head_generation DESC, received_at DESC, rowid DESC LIMIT $2 OFFSET $3",
        )
        .bind(key)
        .bind(limit)
        .bind(offset)
        .fetch_all(&mut *tx)
        .await?;
        for row in &rows {
            let (rowid, at, head, generation): (i64, i64, String, i64) =
                (row.try_get(0)?, row.try_get(1)?, row.try_get(2)?, row.try_get(3)?);
            if at <= received {
                number = generation + i64::from(head != sha);
                break 'pages;
            }
            later.push((rowid, head, generation));
        }
        if (rows.len() as i64) < limit {
            break;
        }
        (offset, limit) = (offset + limit, 16);
    }
    later.reverse();
    Ok(Generation { number, head_sha: sha.to_owned(), later })
}

/// Renumbers the deliveries received after one stored out of order.
async fn renumber_later(tx: &mut AnyConnection, key: &str, generation: Generation) -> Result<()> {
    let (mut number, mut head) = (generation.number, generation.head_sha);
    for (rowid, their_head, theirs) in generation.later {
        number += i64::from(their_head != head);
        if number != theirs {
            sqlx::query("UPDATE deliveries SET head_generation = $1 WHERE rowid = $2 AND serial_key = $3")
                .bind(number)
                .bind(rowid)
                .bind(key)
                .execute(&mut *tx)
                .await?;
        }
        head = their_head;
    }
    Ok(())
}
