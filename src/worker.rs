//! Processing stored deliveries: a pool of workers that claim deliveries from the [`Store`] under a lease, run a
//! [`Handler`] on each and record the outcome.
//!
//! Delivery is at least once: a worker that dies mid-delivery leaves a lease that expires, and the delivery is then
//! claimed again (its attempt count tells). Handlers must therefore be idempotent (update the check run for a head
//! SHA, edit the sticky comment, ...). Deliveries sharing a serial key (one pull request) never run concurrently;
//! the store guarantees it.
//!
//! Retries: a [`HandleError::Transient`] error puts the delivery back with an exponential backoff from its attempt
//! number (10 s, 30 s, 2 min, 10 min, then hourly), or later when the handler asks (`retry_after`, e.g. a rate
//! limit reset). After `max_attempts` it fails for good with the last error. A [`HandleError::Permanent`] error
//! fails it at once. A handler that panics counts as a transient error.
//!
//! Outcomes: a write that records an outcome and fails (the database busy or briefly unavailable) is retried with
//! backoff while the lease lasts, so a finished delivery is not left `processing` to be redone after its lease.

pub mod instance;

use crate::clock::Clock;
use crate::server::metrics::{Metrics, Outcome};
use crate::store::{Claimed, LeaseToken, Store, StoreError};
use chrono::{DateTime, TimeDelta, Utc};
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{Notify, watch};
use tokio::task::{JoinHandle, JoinSet};
use tracing::{Instrument, debug, error, info, info_span, warn};

#[cfg(test)]
mod outcome_tests;
#[cfg(test)]
mod tests;

/// `t + d`, saturating.
fn after(t: DateTime<Utc>, d: Duration) -> DateTime<Utc> {
    TimeDelta::from_std(d).ok().and_then(|d| t.checked_add_signed(d)).unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// Why a handler did not finish a delivery.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum HandleError {
    /// Worth retrying (network, 5xx, rate limit): retried with backoff, and not before `retry_after` when given.
    #[error("{reason}")]
    Transient { reason: String, retry_after: Option<Duration> },
    /// Retrying cannot help (malformed payload, repository gone): the delivery fails now.
    #[error("{0}")]
    Permanent(String),
}

impl HandleError {
    pub fn transient(reason: impl Into<String>) -> HandleError {
        HandleError::Transient { reason: reason.into(), retry_after: None }
    }

    pub fn transient_after(reason: impl Into<String>, retry_after: Duration) -> HandleError {
        HandleError::Transient { reason: reason.into(), retry_after: Some(retry_after) }
    }

    pub fn permanent(reason: impl Into<String>) -> HandleError {
        HandleError::Permanent(reason.into())
    }
}

pub type HandleFuture = Pin<Box<dyn Future<Output = Result<(), HandleError>> + Send>>;

/// Processes one claimed delivery. The future owns what it needs (clone `Arc`s into it): it runs as its own task,
/// so a panic cannot take the worker down and a lost lease can cancel it.
pub trait Handler: Send + Sync + 'static {
    fn handle(&self, delivery: Claimed) -> HandleFuture;
}

/// A [`Handler`] from a closure returning a future.
pub struct FnHandler<F>(pub F);

impl<F, Fut> Handler for FnHandler<F>
where
    F: Fn(Claimed) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), HandleError>> + Send + 'static,
{
    fn handle(&self, delivery: Claimed) -> HandleFuture {
        Box::pin((self.0)(delivery))
    }
}

/// The default retry schedule, by attempt number (the last step repeats).
pub const DEFAULT_BACKOFF: [Duration; 5] = [
    Duration::from_secs(10),
    Duration::from_secs(30),
    Duration::from_secs(2 * 60),
    Duration::from_secs(10 * 60),
    Duration::from_secs(60 * 60),
];

#[derive(Clone, Debug)]
pub struct WorkerConfig {
    /// Concurrent workers.
    pub workers: usize,
    /// How long a claim lasts without renewal: how soon a crashed worker's delivery is picked up again.
    pub lease: Duration,
    /// How often a running delivery's lease is renewed (well under `lease`).
    pub renew_every: Duration,
    /// How often an idle worker looks for due work without being notified (retries come due this way).
    pub poll_interval: Duration,
    /// Attempts before a delivery fails for good.
    pub max_attempts: u32,
    /// Delay before attempt `n + 1` after attempt `n` failed transiently: `backoff[n - 1]`, the last repeating.
    pub backoff: Vec<Duration>,
    /// The registered [`instance::Instance`] the workers belong to: their leases then also end when it stops
    /// beating. `None`: leases end only when they expire.
    pub instance: Option<String>,
}

impl Default for WorkerConfig {
    fn default() -> Self {
        WorkerConfig {
            workers: 4,
            lease: Duration::from_secs(5 * 60),
            renew_every: Duration::from_secs(60),
            poll_interval: Duration::from_secs(5),
            max_attempts: 8,
            backoff: DEFAULT_BACKOFF.to_vec(),
            instance: None,
        }
    }
}

/// The delay after transient failure of attempt `attempt` (1-based).
pub fn backoff_delay(schedule: &[Duration], attempt: u32) -> Duration {
    let index = usize::try_from(attempt.saturating_sub(1)).unwrap_or(usize::MAX);
    schedule.get(index).or(schedule.last()).copied().unwrap_or(Duration::from_secs(60))
}

struct Shared {
    store: Store,
    handler: Arc<dyn Handler>,
    notify: Arc<Notify>,
    metrics: Arc<Metrics>,
    clock: Arc<dyn Clock>,
    config: WorkerConfig,
    /// Leases held by running deliveries, by worker index: released when shutdown has to abort them.
    in_flight: Mutex<HashMap<usize, LeaseToken>>,
}

impl Shared {
    fn in_flight(&self) -> std::sync::MutexGuard<'_, HashMap<usize, LeaseToken>> {
        self.in_flight.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Running workers. Dropping the pool aborts them abruptly (like a crash: their leases expire); prefer
/// [`WorkerPool::shutdown`].
pub struct WorkerPool {
    shared: Arc<Shared>,
    shutdown: watch::Sender<bool>,
    tasks: JoinSet<()>,
}

impl WorkerPool {
    /// Starts `config.workers` workers. `notify` is the one the webhook handler nudges when it stores a delivery.
    pub fn spawn(
        store: Store,
        handler: Arc<dyn Handler>,
        notify: Arc<Notify>,
        metrics: Arc<Metrics>,
        clock: Arc<dyn Clock>,
        mut config: WorkerConfig,
    ) -> WorkerPool {
        let workers = config.workers.max(1);
        // Zero would panic (intervals) or spin (polling).
        config.renew_every = config.renew_every.max(Duration::from_millis(1));
        config.poll_interval = config.poll_interval.max(Duration::from_millis(1));
        let shared =
            Arc::new(Shared { store, handler, notify, metrics, clock, config, in_flight: Mutex::new(HashMap::new()) });
        let (shutdown, _) = watch::channel(false);
        let instance = shared.config.instance.clone().unwrap_or_else(instance::instance_id);
        let mut tasks = JoinSet::new();
        for index in 0..workers {
            let worker_id = format!("{instance}-{index}");
            tasks.spawn(run_worker(shared.clone(), index, worker_id, shutdown.subscribe()));
        }
        info!(workers, instance = %instance, "delivery workers started");
        WorkerPool { shared, shutdown, tasks }
    }

    /// Stops claiming, lets running deliveries finish for up to `grace`, then aborts the rest and puts their
    /// deliveries back in the queue (due now, so the next process picks them up without waiting for the lease).
    pub async fn shutdown(mut self, grace: Duration) {
        let _ = self.shutdown.send(true);
        let tasks = &mut self.tasks;
        let drained = tokio::time::timeout(grace, async { while tasks.join_next().await.is_some() {} }).await;
        if drained.is_ok() {
            info!("delivery workers stopped");
            return;
        }
        self.tasks.abort_all();
        while self.tasks.join_next().await.is_some() {}
        // Aborted workers never reached the end of their delivery: their leases are still in the map.
        let leases: Vec<LeaseToken> = self.shared.in_flight().drain().map(|(_, lease)| lease).collect();
        let now = self.shared.clock.now();
        for lease in &leases {
            match self.shared.store.retry_later(lease, now, now, "interrupted by shutdown").await {
                Ok(()) => info!(delivery_id = %lease.delivery_id, "delivery put back in the queue at shutdown"),
                Err(e) => warn!(delivery_id = %lease.delivery_id, error = %e, "cannot put delivery back at shutdown"),
            }
        }
        warn!(interrupted = leases.len(), "delivery workers stopped after the grace period");
    }
}

/// Aborts the task when dropped (the worker was aborted or gave up on the delivery).
struct AbortOnDrop<T>(JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

async fn run_worker(shared: Arc<Shared>, index: usize, worker_id: String, mut shutdown: watch::Receiver<bool>) {
    loop {
        if *shutdown.borrow() {
            break;
        }
        // Registered before claiming, so a nudge that arrives during the claim is not lost.
        let notified = shared.notify.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();

        let instance = shared.config.instance.as_deref();
        match shared.store.claim_for(instance, &worker_id, shared.clock.now(), shared.config.lease).await {
            Ok(outcome) => {
                for s in &outcome.superseded {
                    shared.metrics.delivery_processed(&s.event, Outcome::Superseded);
                    info!(delivery_id = %s.delivery_id, event = %s.event, serial_key = %s.serial_key,
                        head_sha = %s.head_sha, "delivery superseded by a newer head");
                }
                if let Some(claimed) = outcome.claimed {
                    // There may be more due work: wake another idle worker.
                    shared.notify.notify_one();
                    process(&shared, index, claimed).await;
                    continue;
                }
                if !outcome.superseded.is_empty() {
                    // The claim stopped after setting many stale deliveries aside: there may be more.
                    continue;
                }
            }
            Err(e) => error!(worker = %worker_id, error = %e, "cannot claim a delivery"),
        }

        tokio::select! {
            _ = &mut notified => {}
            _ = tokio::time::sleep(shared.config.poll_interval) => {}
            changed = shutdown.changed() => if changed.is_err() { break },
        }
    }
    debug!(worker = %worker_id, "worker stopped");
}

fn panic_message(panic: Box<dyn std::any::Any + Send>) -> String {
    if let Some(s) = panic.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = panic.downcast_ref::<String>() {
        s.clone()
    } else {
        "(no message)".to_owned()
    }
}

async fn process(shared: &Arc<Shared>, index: usize, claimed: Claimed) {
    let span = info_span!(
        "delivery",
        delivery_id = %claimed.delivery_id,
        event = %claimed.event,
        action = claimed.action.as_deref(),
        repo = claimed.repository.as_deref(),
        attempt = claimed.attempt,
        worker = %claimed.lease_owner,
    );
    run_delivery(shared, index, claimed).instrument(span).await
}

async fn run_delivery(shared: &Arc<Shared>, index: usize, claimed: Claimed) {
    let config = &shared.config;
    let lease = claimed.lease();
    let event = claimed.event.clone();

    // A delivery that keeps killing its worker (or kept losing its lease) comes back with an ever higher count.
    if claimed.attempt > config.max_attempts {
        let last = claimed.last_error.as_deref().unwrap_or("none recorded (the worker stopped mid-attempt)");
        let reason = format!("gave up after {} attempts; last error: {last}", config.max_attempts);
        let now = shared.clock.now();
        let recorded = record(shared, claimed.lease_until, || shared.store.fail(&lease, now, &reason)).await;
        finish(shared, &event, Outcome::Failed, recorded);
        warn!(%reason, "delivery failed");
        return;
    }

    shared.in_flight().insert(index, lease.clone());
    let started = tokio::time::Instant::now();
    debug!("processing delivery");
    let mut lease_until = claimed.lease_until;
    let mut task = AbortOnDrop(tokio::spawn(shared.handler.handle(claimed)));
    let mut renew = tokio::time::interval_at(started + config.renew_every, config.renew_every);
    renew.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let result = loop {
        tokio::select! {
            joined = &mut task.0 => break match joined {
                Ok(result) => Some(result),
                Err(e) if e.is_panic() => {
                    Some(Err(HandleError::transient(format!("handler panicked: {}", panic_message(e.into_panic())))))
                }
                Err(_) => None,
            },
            _ = renew.tick() => {
                let until = after(shared.clock.now(), config.lease);
                match shared.store.extend_lease(&lease, until).await {
                    Ok(()) => {
                        lease_until = until;
                        debug!("lease extended");
                    }
                    Err(StoreError::LeaseLost { .. }) => {
                        warn!("lease lost (expired and claimed elsewhere, or finished): abandoning this attempt");
                        task.0.abort();
                        break None;
                    }
                    // The lease may still run out; the next tick tries again.
                    Err(e) => warn!(error = %e, "cannot extend the lease"),
                }
            }
        }
    };
    drop(task);
    shared.in_flight().remove(&index);
    shared.metrics.observe_processing(started.elapsed());
    let Some(result) = result else { return };

    let now = shared.clock.now();
    match result {
        Ok(()) => {
            let recorded = record(shared, lease_until, || shared.store.complete(&lease, now)).await;
            finish(shared, &event, Outcome::Done, recorded);
            info!(elapsed_ms = started.elapsed().as_millis() as u64, "delivery done");
        }
        Err(HandleError::Permanent(reason)) => {
            let recorded = record(shared, lease_until, || shared.store.fail(&lease, now, &reason)).await;
            finish(shared, &event, Outcome::Failed, recorded);
            warn!(%reason, "delivery failed permanently");
        }
        Err(HandleError::Transient { reason, .. }) if lease.attempt >= config.max_attempts => {
            let reason = format!("gave up after {} attempts; last error: {reason}", lease.attempt);
            let recorded = record(shared, lease_until, || shared.store.fail(&lease, now, &reason)).await;
            finish(shared, &event, Outcome::Failed, recorded);
            warn!(%reason, "delivery failed");
        }
        Err(HandleError::Transient { reason, retry_after }) => {
            let delay = backoff_delay(&config.backoff, lease.attempt).max(retry_after.unwrap_or_default());
            let at = after(now, delay);
            let recorded = record(shared, lease_until, || shared.store.retry_later(&lease, now, at, &reason)).await;
            finish(shared, &event, Outcome::Retried, recorded);
            warn!(%reason, retry_in_s = delay.as_secs(), "delivery will be retried");
        }
    }
}

/// First and longest pause between attempts to record an outcome.
const RECORD_RETRY_FIRST: Duration = Duration::from_millis(50);
const RECORD_RETRY_MAX: Duration = Duration::from_secs(5);

/// Records an outcome, retrying until the store takes it, the lease is lost, or the lease has run out (the delivery
/// is then another attempt's): a failed write must not leave a finished delivery `processing` until its lease
/// expires, to be processed again.
async fn record<F, Fut>(shared: &Shared, lease_until: DateTime<Utc>, mut write: F) -> Result<(), StoreError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<(), StoreError>>,
{
    let mut pause = RECORD_RETRY_FIRST;
    loop {
        match write().await {
            Err(e) if !matches!(e, StoreError::LeaseLost { .. }) && shared.clock.now() < lease_until => {
                warn!(error = %e, retry_in_ms = pause.as_millis() as u64, "cannot record the delivery's outcome yet");
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(RECORD_RETRY_MAX);
            }
            recorded => return recorded,
        }
    }
}

/// Counts the outcome once the store has recorded it.
fn finish(shared: &Shared, event: &str, outcome: Outcome, recorded: Result<(), StoreError>) {
    match recorded {
        Ok(()) => shared.metrics.delivery_processed(event, outcome),
        Err(StoreError::LeaseLost { .. }) => {
            warn!(outcome = outcome.as_str(), "lease lost before the outcome was recorded; another attempt owns it")
        }
        // The lease ran out while retrying: the delivery will be claimed again.
        Err(e) => error!(outcome = outcome.as_str(), error = %e, "cannot record the delivery's outcome"),
    }
}
