//! This process as one replica among others: registered in the store, beating every [`BEAT_EVERY`], and holding the
//! leader lease of the periodic jobs when no other replica does.
//!
//! The leases of an instance that stopped beating for [`crate::store::INSTANCE_DEAD_AFTER`] are dead: its
//! deliveries are taken over by another replica (PostgreSQL) or at once by the restarted process (SQLite, where
//! one process is all there is, so a new instance forgets every earlier one).

use crate::clock::Clock;
use crate::store::{Dialect, PERIODIC, Store, StoreError};
use std::hash::{BuildHasher, Hasher};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::task::JoinHandle;
use tracing::{info, warn};

/// How often an instance beats and renews its leadership.
pub const BEAT_EVERY: Duration = Duration::from_secs(5);
/// How long a leadership lasts without renewal: another replica leads this long after the leader stopped.
pub const LEAD_FOR: Duration = Duration::from_secs(30);

/// A random id for this process (containers all run as pid 1), so leases and logs tell processes apart.
pub fn instance_id() -> String {
    let random = std::collections::hash_map::RandomState::new().build_hasher().finish();
    format!("{:x}-{:08x}", std::process::id(), random as u32)
}

fn host_name() -> String {
    std::env::var("HOSTNAME")
        .ok()
        .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "unknown".to_owned())
}

/// The registered instance and its heartbeat.
pub struct Instance {
    id: String,
    store: Store,
    leading: Arc<AtomicBool>,
    beating: JoinHandle<()>,
}

impl Instance {
    /// Registers a new instance (on SQLite, forgetting the earlier ones), tries to lead, and starts beating.
    pub async fn start(store: Store, clock: Arc<dyn Clock>) -> Result<Instance, StoreError> {
        let id = instance_id();
        let (host, pid) = (host_name(), std::process::id());
        store.register_instance(&id, &host, pid, clock.now()).await?;
        if store.dialect() == Dialect::Sqlite {
            let forgotten = store.forget_other_instances(&id).await?;
            if forgotten > 0 {
                info!(instance = %id, forgotten, "earlier processes' deliveries are taken over at once");
            }
        }
        let leading = Arc::new(AtomicBool::new(store.try_lead(PERIODIC, &id, clock.now(), LEAD_FOR).await?));
        info!(instance = %id, host = %host, leader = leading.load(Ordering::Relaxed), "instance registered");
        let beating = tokio::spawn(beat(store.clone(), clock, id.clone(), host, leading.clone()));
        Ok(Instance { id, store, leading, beating })
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    /// Whether this instance leads the periodic jobs now.
    pub fn is_leader(&self) -> bool {
        self.leading.load(Ordering::Relaxed)
    }

    /// A handle on the leadership flag, for the scheduler.
    pub fn leadership(&self) -> Arc<AtomicBool> {
        self.leading.clone()
    }

    /// Stops beating without retiring, as a crash would (tests of takeover).
    pub fn kill(self) {
        self.beating.abort();
    }

    /// Stops beating and retires the instance (its leadership is free at once). After the workers stopped.
    pub async fn stop(self) {
        self.beating.abort();
        if let Err(e) = self.store.retire_instance(&self.id).await {
            warn!(instance = %self.id, error = %e, "cannot retire the instance; its leases die when it stops beating");
        }
    }
}

async fn beat(store: Store, clock: Arc<dyn Clock>, id: String, host: String, leading: Arc<AtomicBool>) {
    let mut every = tokio::time::interval(BEAT_EVERY);
    every.tick().await;
    loop {
        every.tick().await;
        let now = clock.now();
        match store.beat(&id, now).await {
            Ok(true) => {}
            Ok(false) => {
                warn!(instance = %id, "this instance was forgotten (it did not beat for long): registering again");
                if let Err(e) = store.register_instance(&id, &host, std::process::id(), now).await {
                    warn!(instance = %id, error = %e, "cannot register again");
                }
            }
            Err(e) => warn!(instance = %id, error = %e, "cannot beat; other replicas take over after 30 s"),
        }
        let lead = store.try_lead(PERIODIC, &id, now, LEAD_FOR).await.unwrap_or_else(|e| {
            warn!(instance = %id, error = %e, "cannot renew the leadership");
            false
        });
        if leading.swap(lead, Ordering::Relaxed) != lead {
            info!(instance = %id, leader = lead, "leadership of the periodic jobs changed");
        }
    }
}
