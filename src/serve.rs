//! `shipshape serve`: wires the webhook edge, the durable queue, the workers and the App together.

use crate::app::persist::StoreCache;
use crate::app::sweep::{JOB_EVENT, Job, JobQueue};
use crate::app::{App, AppConfig, AppError, acts_on};
use crate::clock::Clock;
use crate::config::{LogFormat, ServeConfig};
use crate::github::client::{GhError, GitHubApp, RequestObserver};
use crate::github::events;
use crate::github::throttle::WriteThrottle;
use crate::server::metrics::Metrics;
use crate::server::{self, DeliveryMeta, EventParser, ServerState};
use crate::store::ns;
use crate::store::{Claimed, Store};
use crate::worker::instance::{BEAT_EVERY, Instance};
use crate::worker::{HandleError, HandleFuture, Handler, WorkerConfig, WorkerPool};
use anyhow::Context;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Notify, oneshot};

impl RequestObserver for Metrics {
    fn github_request(&self, endpoint: &str, status: u16, rate_limit_remaining: Option<u64>) {
        Metrics::github_request(self, endpoint, status);
        if let Some(remaining) = rate_limit_remaining {
            self.set_github_rate_limit_remaining(remaining);
        }
    }
}

impl crate::providers::ToolObserver for Metrics {
    fn linked_tool_request(&self, tool: &'static str, outcome: &'static str) {
        Metrics::linked_tool_request(self, tool, outcome);
    }
}

/// What the webhook edge stores about a delivery, from our own event types.
pub fn delivery_meta(event: &str, body: &[u8], app_id: u64, catalog_repo: &str) -> Result<DeliveryMeta, String> {
    let Some(parsed) = events::parse(event, body).map_err(|e| e.to_string())? else {
        return Ok(DeliveryMeta { handled: false, ..DeliveryMeta::default() });
    };
    Ok(DeliveryMeta {
        action: parsed.action(),
        installation_id: parsed.installation().map(|i| i.0),
        repository: parsed.repository().map(|r| r.full_name()),
        serial_key: parsed.serial_key(),
        head_sha: parsed.head_sha().map(str::to_string),
        handled: acts_on(&parsed, app_id, catalog_repo),
    })
}

/// Runs a stored delivery through the App.
struct AppHandler {
    app: Arc<App>,
}

fn handle_error(e: AppError) -> HandleError {
    match e {
        AppError::Transient { reason, retry_after } => HandleError::Transient { reason, retry_after },
        AppError::Permanent(reason) => HandleError::Permanent(reason),
    }
}

impl Handler for AppHandler {
    fn handle(&self, delivery: Claimed) -> HandleFuture {
        let app = self.app.clone();
        Box::pin(async move {
            if delivery.event == JOB_EVENT {
                let job: Job = serde_json::from_slice(&delivery.payload)
                    .map_err(|e| HandleError::permanent(format!("malformed job: {e}")))?;
                return app.handle_job(&delivery.delivery_id, job).await.map_err(handle_error);
            }
            let event =
                events::parse(&delivery.event, &delivery.payload).map_err(|e| HandleError::permanent(e.to_string()))?;
            let Some(event) = event else { return Ok(()) };
            app.handle_event(event).await.map_err(handle_error)
        })
    }
}

/// A running server: its address and how to stop it.
pub struct Running {
    pub addr: SocketAddr,
    pub store: Store,
    pub metrics: Arc<Metrics>,
    stop: oneshot::Sender<()>,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
    workers: Option<WorkerPool>,
    scheduler: tokio::task::JoinHandle<()>,
    jobs: Arc<StoreCache>,
    clock: Arc<dyn Clock>,
    draining: Arc<std::sync::atomic::AtomicBool>,
    instance: Instance,
}

impl Running {
    /// Drains (SPEC 4): `/readyz` answers 503 at once; the workers take no new delivery and finish theirs for up to
    /// `grace` (the rest go back to the queue); meanwhile webhooks are still stored and answered 202, so nothing sent
    /// in that time is lost; then the server stops.
    pub async fn stop(self, grace: Duration) {
        self.draining.store(true, std::sync::atomic::Ordering::SeqCst);
        self.scheduler.abort();
        if let Some(workers) = self.workers {
            workers.shutdown(grace).await;
        }
        self.instance.stop().await;
        let _ = self.stop.send(());
        let _ = self.server.await;
    }

    /// Stops everything at once, as a crash would: nothing is finished or cleaned up.
    pub fn kill(self) {
        self.instance.kill();
        self.scheduler.abort();
        self.server.abort();
        drop(self.workers);
    }
}

impl Running {
    /// Queues a sweep of every repository of every installation now, as the schedule would; returns its job id.
    pub async fn sweep_now(&self) -> anyhow::Result<String> {
        queue_periodic(&self.jobs, self.clock.as_ref(), &SWEEPS, "requested").await
    }

    /// Queues the removal of expired exceptions from the catalog now, as the weekly schedule would.
    pub async fn cleanup_now(&self) -> anyhow::Result<String> {
        queue_periodic(&self.jobs, self.clock.as_ref(), &CLEANUPS, "requested").await
    }

    /// Queues a look for missed deliveries now, as start-up and the 10-minute schedule do.
    pub async fn recover_now(&self) -> anyhow::Result<String> {
        queue_periodic(&self.jobs, self.clock.as_ref(), &RECOVERIES, "requested").await
    }
}

/// A job the App queues for itself on a schedule.
struct Periodic {
    /// What it is, for logs; also the job id prefix.
    what: &'static str,
    /// Where the last time it was queued is kept (key `last`).
    namespace: &'static str,
    job: fn(String) -> Job,
}

const SWEEPS: Periodic = Periodic {
    what: "sweep",
    namespace: ns::SWEEP,
    job: |reason| Job::Sweep { reason, installation: None, repositories: None },
};

const CLEANUPS: Periodic = Periodic { what: "cleanup", namespace: ns::CLEANUP, job: |reason| Job::Cleanup { reason } };

const RECOVERIES: Periodic =
    Periodic { what: "recovery", namespace: ns::RECOVERY, job: |reason| Job::Recover { reason } };

/// How often the App looks for deliveries it missed (SPEC 4); also once at start-up.
const RECOVERY_INTERVAL: Duration = Duration::from_secs(10 * 60);

/// How often expired exception files are proposed for removal.
const CLEANUP_INTERVAL: Duration = Duration::from_secs(7 * 24 * 3600);

async fn queue_periodic(jobs: &StoreCache, clock: &dyn Clock, what: &Periodic, reason: &str) -> anyhow::Result<String> {
    let now = clock.now();
    let id = format!("{}-{}", what.what, now.format("%Y%m%dT%H%M%S%.3fZ"));
    jobs.enqueue(id.clone(), (what.job)(reason.into()))
        .await
        .map_err(|e| anyhow::anyhow!("cannot queue the {}: {e}", what.what))?;
    // The entry's time is when the last one was queued.
    jobs.store.kv_put_json(what.namespace, "last", &id, now).await?;
    Ok(id)
}

/// Finished deliveries and cache entries are kept this long, then deleted. GitHub lets anyone redeliver a delivery
/// for 3 days: a redelivery of a pruned id would be processed again.
const KEEP: chrono::TimeDelta = chrono::TimeDelta::days(30);
/// How often the store is pruned.
const PRUNE_EVERY: chrono::TimeDelta = chrono::TimeDelta::days(1);
/// Namespaces that only cache what GitHub or a linked tool can tell again. The others hold state: tracking issues,
/// answered commands, default-branch heads, handled merges.
const CACHES: [&str; 5] = [ns::BASE_SCORECARD, ns::LINKED_FACTS, ns::GITHUB_ETAG, ns::CHECK_RUN, ns::SCORECARD];

/// Deletes finished deliveries and cache entries older than [`KEEP`], and service history records and evaluations
/// older than [`crate::store::KEEP_DAYS`], once per [`PRUNE_EVERY`] by the injected clock.
async fn prune_if_due(store: &crate::store::Store, clock: &dyn Clock) -> anyhow::Result<()> {
    let now = clock.now();
    if let Some((_, last)) = store.kv_get_json::<String>(ns::PRUNE, "last").await?
        && now - last < PRUNE_EVERY
    {
        return Ok(());
    }
    let before = now - KEEP;
    let deliveries = store.prune_finished(before).await?;
    let mut entries = 0;
    for namespace in CACHES.into_iter().chain([ns::RECOVERY]) {
        entries += store.prune_kv(namespace, before).await?;
    }
    let days = store.prune_service_days(now.date_naive() - chrono::TimeDelta::days(crate::store::KEEP_DAYS)).await?;
    let evaluations = store.prune_evaluations(now - chrono::TimeDelta::days(crate::store::KEEP_DAYS)).await?;
    store.kv_put_json(ns::PRUNE, "last", "done", now).await?;
    tracing::info!(deliveries, cache_entries = entries, service_days = days, evaluations, before = %before, "store pruned");
    Ok(())
}

/// Queues each periodic job whenever its interval has passed since it was last queued (by the injected clock),
/// checking every `tick`, and prunes the store daily. The first job comes one interval after the first start: a new
/// installation is scored by its `installation` event, not by a sweep at boot. Only while this replica leads (one
/// replica at a time schedules them).
async fn schedule(
    jobs: Arc<StoreCache>,
    clock: Arc<dyn Clock>,
    plans: Vec<(Periodic, Duration)>,
    tick: Duration,
    leading: Arc<std::sync::atomic::AtomicBool>,
) {
    let mut announced = vec![false; plans.len()];
    loop {
        if !leading.load(std::sync::atomic::Ordering::Relaxed) {
            tokio::time::sleep(tick.min(BEAT_EVERY)).await;
            continue;
        }
        if let Err(e) = prune_if_due(&jobs.store, clock.as_ref()).await {
            tracing::warn!(error = %e, "store not pruned");
        }
        for ((what, interval), announced) in plans.iter().zip(announced.iter_mut()) {
            let last = match jobs.store.kv_get_json::<String>(what.namespace, "last").await {
                Ok(Some((_, queued_at))) => queued_at,
                Ok(None) => {
                    // First start: count the interval from now.
                    let now = clock.now();
                    let _ = jobs.store.kv_put_json(what.namespace, "last", "none yet", now).await;
                    now
                }
                Err(e) => {
                    tracing::warn!(error = %e, what = what.what, "cannot read the schedule");
                    continue;
                }
            };
            let next = crate::app::sweep::next_sweep(last, *interval);
            if !*announced {
                tracing::info!(what = what.what, every = ?interval, next = %next, "periodic job scheduled");
                *announced = true;
            }
            if clock.now() >= next {
                match queue_periodic(&jobs, clock.as_ref(), what, "schedule").await {
                    Ok(id) => tracing::info!(job = %id, what = what.what, "periodic job queued"),
                    Err(e) => tracing::warn!(error = %e, what = what.what, "periodic job not queued"),
                }
            }
        }
        tokio::time::sleep(tick).await;
    }
}

/// Starts the server on `listener` with `workers` (none when `workers.workers == 0`).
pub async fn start(
    config: &ServeConfig,
    listener: tokio::net::TcpListener,
    clock: Arc<dyn Clock>,
    workers: WorkerConfig,
) -> anyhow::Result<Running> {
    let store = Store::open(&config.database_url)
        .await
        .map_err(|e| SettingError(format!("SHIPSHAPE_DATABASE_URL: cannot open the database: {e}")))?;
    let metrics = Arc::new(Metrics::new());
    let github = GitHubApp::new(
        &config.github_api_url,
        config.app_id,
        config.private_key.pem(),
        clock.clone(),
        metrics.clone() as Arc<dyn RequestObserver>,
    )?
    .with_write_throttle(WriteThrottle::new(config.write_limit.0, config.write_limit.1));
    let slack = match &config.slack_webhook_url {
        Some(url) => Some(crate::slack::Slack::new(url.expose()).context("cannot set up the Slack client")?),
        None => None,
    };
    // One breaker for every linked-tool client, shared with the Ops view.
    let breaker = Arc::new(crate::providers::Breaker::new(clock.clone()));
    let limits = crate::providers::Limits {
        breaker: Some(breaker.clone()),
        observer: Some(metrics.clone() as Arc<dyn crate::providers::ToolObserver>),
        ..Default::default()
    };
    let providers =
        crate::providers::Providers::new(&config.providers, limits).context("cannot set up the linked-tool clients")?;
    let notify = Arc::new(Notify::new());
    let cache = Arc::new(StoreCache { store: store.clone(), clock: clock.clone(), notify: Some(notify.clone()) });
    let app = Arc::new(
        App::new(
            AppConfig {
                app_id: config.app_id,
                catalog_repo: format!("{}/{}", config.catalog_repo.owner, config.catalog_repo.name),
                public_url: config.public_url.clone(),
                slack,
                providers,
            },
            Arc::new(github),
            cache.clone(),
            clock.clone(),
        )
        .with_jobs(cache.clone()),
    );
    let app_id = config.app_id;
    let catalog_repo = format!("{}/{}", config.catalog_repo.owner, config.catalog_repo.name);
    let parser: EventParser = Arc::new(move |event, body| delivery_meta(event, body, app_id, &catalog_repo));
    let state = ServerState::new(
        store.clone(),
        config.webhook_secret.clone(),
        parser,
        notify.clone(),
        metrics.clone(),
        clock.clone(),
    )
    .with_limits(config.http_limits.clone());
    let draining = state.draining();
    let instance = Instance::start(store.clone(), clock.clone())
        .await
        .map_err(|e| SettingError(format!("SHIPSHAPE_DATABASE_URL: cannot register this instance: {e}")))?;
    let workers = WorkerConfig { instance: Some(instance.id().to_owned()), ..workers };
    let pool = (workers.workers > 0).then(|| {
        WorkerPool::spawn(store.clone(), Arc::new(AppHandler { app }), notify, metrics.clone(), clock.clone(), workers)
    });
    let tick = (config.sweep_interval / 10).clamp(Duration::from_millis(100), Duration::from_secs(60));
    let plans = vec![(SWEEPS, config.sweep_interval), (CLEANUPS, CLEANUP_INTERVAL), (RECOVERIES, RECOVERY_INTERVAL)];
    // One replica looks for missed deliveries at start-up: the leader (a replica joining a running one does not).
    if instance.is_leader()
        && let Err(e) = queue_periodic(&cache, clock.as_ref(), &RECOVERIES, "start-up").await
    {
        tracing::warn!(error = %e, "the look for missed deliveries was not queued");
    }
    let scheduler = tokio::spawn(schedule(cache.clone(), clock.clone(), plans, tick, instance.leadership()));
    let addr = listener.local_addr()?;
    let (stop, stopped) = oneshot::channel::<()>();
    let sign_in = match &config.sign_in {
        Some(c) => {
            let key = crate::web::signin::session_key(c, &store).await?;
            Some(Arc::new(crate::web::signin::SignIn::new(c.clone(), key, &config.github_api_url)?))
        }
        None => None,
    };
    let viewers = crate::web::access::Viewers::new(
        config.api_token.as_ref(),
        &config.github_api_url,
        sign_in.as_ref().map(|s| s.key.clone()),
        clock.clone(),
    );
    let web = crate::web::routes(crate::web::WebState {
        store: store.clone(),
        viewers: Arc::new(viewers),
        clock: clock.clone(),
        public_badges: config.public_badges,
        sign_in,
        history: Arc::new(crate::web::read_model::ReadModel::new(store.clone())),
        breaker,
    });
    let scorecards = readiness_routes(store.clone()).merge(web);
    let server = tokio::spawn(server::serve(listener, state, scorecards, async move {
        let _ = stopped.await;
    }));
    Ok(Running { addr, store, metrics, stop, server, workers: pool, scheduler, jobs: cache, clock, draining, instance })
}

/// `GET /readiness/{owner}/{repo}/{sha}`: the scorecard of a commit the App evaluated, as JSON (the check run's
/// `details_url` when `SHIPSHAPE_PUBLIC_URL` is set). Whoever knows the full commit SHA can read it.
fn readiness_routes(store: Store) -> axum::Router {
    use axum::extract::{Path, State};
    use axum::http::{StatusCode, header};
    use axum::response::IntoResponse;
    async fn scorecard(
        State(store): State<Store>,
        Path((owner, repo, sha)): Path<(String, String, String)>,
    ) -> axum::response::Response {
        let valid_sha = sha.len() == 40 && sha.bytes().all(|b| b.is_ascii_hexdigit());
        if !valid_sha {
            return (StatusCode::NOT_FOUND, "no such commit\n").into_response();
        }
        match store.kv_get(crate::store::ns::SCORECARD, &format!("{owner}/{repo}@{sha}")).await {
            Ok(Some(entry)) => ([(header::CONTENT_TYPE, "application/json")], entry.value).into_response(),
            Ok(None) => (StatusCode::NOT_FOUND, "this commit has not been evaluated (or not in the last 30 days)\n")
                .into_response(),
            Err(_) => (StatusCode::SERVICE_UNAVAILABLE, "database unavailable\n").into_response(),
        }
    }
    axum::Router::new().route("/readiness/{owner}/{repo}/{sha}", axum::routing::get(scorecard)).with_state(store)
}

/// A setting that stops start-up: the message names it (`shipshape serve` exits 2).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct SettingError(pub String);

/// Asks GitHub who the App is with its token, so that a wrong id or key stops start-up with the setting to fix.
async fn check_app(config: &ServeConfig) -> anyhow::Result<()> {
    let clock: Arc<dyn Clock> = Arc::new(crate::clock::SystemClock);
    let observer = Arc::new(crate::github::client::NoObserver) as Arc<dyn RequestObserver>;
    let github = GitHubApp::new(&config.github_api_url, config.app_id, config.private_key.pem(), clock, observer)
        .map_err(|e| SettingError(format!("SHIPSHAPE_PRIVATE_KEY: {e}")))?;
    match github.identity().await {
        Ok(app) => {
            tracing::info!(app = %app.name, id = app.id, "GitHub knows the App");
            Ok(())
        }
        Err(e @ (GhError::Unauthorized { .. } | GhError::NotFound { .. } | GhError::Forbidden { .. })) => {
            Err(SettingError(format!(
                "SHIPSHAPE_APP_ID, SHIPSHAPE_PRIVATE_KEY: GitHub refused the App's token for App {}: {e} (is the key \
                 the one of that App, and not revoked?)",
                config.app_id
            ))
            .into())
        }
        Err(e) => Err(SettingError(format!(
            "SHIPSHAPE_GITHUB_API_URL: cannot ask GitHub at {} who the App is: {e}",
            config.github_api_url
        ))
        .into()),
    }
}

/// Runs until SIGINT or SIGTERM.
pub async fn run(config: ServeConfig) -> anyhow::Result<()> {
    init_tracing(&config);
    check_app(&config).await?;
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|e| SettingError(format!("SHIPSHAPE_LISTEN: cannot listen on {}: {e}", config.listen)))?;
    let running = start(&config, listener, Arc::new(crate::clock::SystemClock), WorkerConfig::default()).await?;
    tracing::info!(addr = %running.addr, "shipshape is listening");
    shutdown_signal().await;
    tracing::info!("shutting down");
    running.stop(Duration::from_secs(30)).await;
    Ok(())
}

fn init_tracing(config: &ServeConfig) {
    // octocrab logs every failed request as an error of its own; ours say which request and what happens next, so
    // its lines are left out unless the filter asks for them.
    let filter = match config.log_filter.contains("octocrab") {
        true => config.log_filter.clone(),
        false => format!("{},octocrab=off", config.log_filter),
    };
    let filter =
        tracing_subscriber::EnvFilter::try_new(&filter).unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    // Colour only on a terminal: logs redirected to a file or collector stay plain text.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_ansi(ansi);
    let _ = match config.log_format {
        LogFormat::Json => builder.json().try_init(),
        LogFormat::Pretty => builder.try_init(),
    };
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = terminate => {}
    }
}
