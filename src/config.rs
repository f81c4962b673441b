//! Configuration of `shipshape serve` (SPEC 4), read from the environment or from flags of the same names.
//!
//! Every setting is validated here, once, at start-up: a missing or bad one is a [`ConfigError`] whose `Display` is a
//! single line naming the variable and the problem. Secrets (the private key, the webhook secret, the Slack webhook
//! URL, database credentials) never appear in errors or in `Debug` output.

mod urls;

pub use urls::UrlCredentials;
pub(crate) use urls::{parse_http_url, parse_tool_url};

use octocrab::jsonwebtoken;
use std::fmt;
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

pub const APP_ID: &str = "SHIPSHAPE_APP_ID";
pub const PRIVATE_KEY_PATH: &str = "SHIPSHAPE_PRIVATE_KEY_PATH";
pub const PRIVATE_KEY: &str = "SHIPSHAPE_PRIVATE_KEY";
pub const WEBHOOK_SECRET: &str = "SHIPSHAPE_WEBHOOK_SECRET";
pub const CATALOG_REPO: &str = "SHIPSHAPE_CATALOG_REPO";
pub const GITHUB_API_URL: &str = "SHIPSHAPE_GITHUB_API_URL";
pub const DATABASE_URL: &str = "SHIPSHAPE_DATABASE_URL";
pub const LISTEN: &str = "SHIPSHAPE_LISTEN";
pub const SWEEP_INTERVAL: &str = "SHIPSHAPE_SWEEP_INTERVAL";
pub const PUBLIC_URL: &str = "SHIPSHAPE_PUBLIC_URL";
pub const SLACK_WEBHOOK_URL: &str = "SHIPSHAPE_SLACK_WEBHOOK_URL";
pub const API_TOKEN: &str = "SHIPSHAPE_API_TOKEN";
pub const PUBLIC_BADGES: &str = "SHIPSHAPE_PUBLIC_BADGES";
pub const GITHUB_CLIENT_ID: &str = "SHIPSHAPE_GITHUB_CLIENT_ID";
pub const GITHUB_CLIENT_SECRET: &str = "SHIPSHAPE_GITHUB_CLIENT_SECRET";
pub const GITHUB_WEB_URL: &str = "SHIPSHAPE_GITHUB_WEB_URL";
pub const SESSION_KEY: &str = "SHIPSHAPE_SESSION_KEY";
pub const DEFAULT_GITHUB_WEB_URL: &str = "https://github.com";
/// The shortest `SHIPSHAPE_API_TOKEN` accepted.
pub const MIN_API_TOKEN_LEN: usize = 32;
pub const PAGERDUTY_TOKEN: &str = "SHIPSHAPE_PAGERDUTY_TOKEN";
pub const PAGERDUTY_API_URL: &str = "SHIPSHAPE_PAGERDUTY_API_URL";
pub const PROMETHEUS_URL: &str = "SHIPSHAPE_PROMETHEUS_URL";
pub const PROMETHEUS_TOKEN: &str = "SHIPSHAPE_PROMETHEUS_TOKEN";
/// `SHIPSHAPE_SECRET_<NAME>` supplies the secret `<NAME>` to `http` checks.
pub const SECRET_PREFIX: &str = "SHIPSHAPE_SECRET_";
/// `evaluate` reads GitHub facts with this token.
pub const GITHUB_TOKEN: &str = "SHIPSHAPE_GITHUB_TOKEN";
pub const WRITE_LIMIT: &str = "SHIPSHAPE_WRITE_LIMIT";
pub const LOG: &str = "SHIPSHAPE_LOG";
pub const LOG_FORMAT: &str = "SHIPSHAPE_LOG_FORMAT";

pub const DEFAULT_GITHUB_API_URL: &str = "https://api.github.com";
pub const DEFAULT_DATABASE_URL: &str = "sqlite://shipshape.db";
pub const DEFAULT_LISTEN: &str = "0.0.0.0:3000";
pub const DEFAULT_SWEEP_INTERVAL: Duration = Duration::from_secs(6 * 60 * 60);
pub const DEFAULT_LOG: &str = "info";
/// GitHub's secondary limit for content-creating requests.
pub const DEFAULT_WRITE_LIMIT: (usize, Duration) = (80, Duration::from_secs(60));

/// A bad or missing setting. `Display` is one line: `VARIABLE: problem`. It never contains a secret value.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{variable}: {problem}")]
pub struct ConfigError {
    /// The environment variable at fault (for the key, whichever of the two was used).
    pub variable: &'static str,
    pub problem: String,
}

impl ConfigError {
    fn new(variable: &'static str, problem: impl Into<String>) -> Self {
        // One line, whatever the underlying error said.
        let problem = problem.into().replace(['\r', '\n'], " ");
        ConfigError { variable, problem }
    }

    fn missing(variable: &'static str) -> Self {
        ConfigError::new(variable, "required but not set")
    }
}

pub use crate::secret::Secret;

/// The App's RSA private key, validated: a PEM PKCS#1 (`BEGIN RSA PRIVATE KEY`, as GitHub issues it) or PKCS#8
/// (`BEGIN PRIVATE KEY`) RSA key that can sign a JWT.
#[derive(Clone)]
pub struct PrivateKey {
    pem: String,
    key: jsonwebtoken::EncodingKey,
}

impl PrivateKey {
    /// Parses and checks a PEM key. The error is the problem only (no variable, never the key).
    pub fn from_pem(pem: &str) -> Result<PrivateKey, String> {
        let pem = normalise_pem(pem);
        const NOT_RSA: &str = "not a PEM-encoded RSA private key";
        let Some(label) = pem_label(&pem) else {
            return Err(NOT_RSA.to_owned());
        };
        match label {
            "RSA PRIVATE KEY" | "PRIVATE KEY" => {}
            "ENCRYPTED PRIVATE KEY" => {
                return Err(format!("{NOT_RSA} (found an encrypted key; decrypt it first)"));
            }
            other => return Err(format!("{NOT_RSA} (found a {other} block)")),
        }
        let key = jsonwebtoken::EncodingKey::from_rsa_pem(pem.as_bytes()).map_err(|_| NOT_RSA.to_owned())?;
        // Parsing the PEM envelope does not parse the key itself: sign once so a corrupt key fails now, not at the
        // first webhook.
        let header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
        jsonwebtoken::encode(&header, &serde_json::json!({"iss": "shipshape"}), &key)
            .map_err(|_| format!("{NOT_RSA} (the key data is invalid)"))?;
        Ok(PrivateKey { pem, key })
    }

    /// The PEM text.
    pub fn pem(&self) -> &str {
        &self.pem
    }

    /// The key, ready for `octocrab` (`OctocrabBuilder::app(app_id, key)`).
    pub fn encoding_key(&self) -> jsonwebtoken::EncodingKey {
        self.key.clone()
    }
}

impl fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PrivateKey([redacted])")
    }
}

/// Keys set inline in an environment variable often have their newlines written as `\n`.
fn normalise_pem(pem: &str) -> String {
    let pem = pem.trim();
    if !pem.contains('\n') && pem.contains("\\n") { pem.replace("\\n", "\n") } else { pem.to_owned() }
}

/// The label of the first PEM block (`RSA PRIVATE KEY` for `-----BEGIN RSA PRIVATE KEY-----`).
fn pem_label(pem: &str) -> Option<&str> {
    let start = pem.find("-----BEGIN ")? + "-----BEGIN ".len();
    let rest = &pem[start..];
    let end = rest.find("-----")?;
    let label = &rest[..end];
    (!label.is_empty() && label.len() < 64 && label.bytes().all(|b| b.is_ascii_uppercase() || b == b' '))
        .then_some(label)
}

/// `owner/name` of a GitHub repository.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct RepoSlug {
    pub owner: String,
    pub name: String,
}

impl RepoSlug {
    pub fn parse(s: &str) -> Option<RepoSlug> {
        let (owner, name) = s.split_once('/')?;
        let owner_ok = !owner.is_empty()
            && owner.len() <= 39
            && owner.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && !owner.starts_with('-');
        let name_ok = !name.is_empty()
            && name.len() <= 100
            && name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
            && name != "."
            && name != "..";
        (owner_ok && name_ok).then(|| RepoSlug { owner: owner.to_owned(), name: name.to_owned() })
    }
}

impl fmt::Display for RepoSlug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.owner, self.name)
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum LogFormat {
    #[default]
    Pretty,
    Json,
}

/// The validated configuration of `shipshape serve`.
#[derive(Clone)]
pub struct ServeConfig {
    pub app_id: u64,
    pub private_key: PrivateKey,
    pub webhook_secret: Secret,
    pub catalog_repo: RepoSlug,
    /// REST base URL, without a trailing slash.
    pub github_api_url: String,
    /// `sqlite://PATH` or `sqlite::memory:`. May hold credentials in future back-ends: not printed by `Debug`.
    pub database_url: String,
    pub listen: SocketAddr,
    pub sweep_interval: Duration,
    /// Base URL for links in check runs and comments, without a trailing slash.
    pub public_url: Option<String>,
    /// Slack incoming webhook: the URL is itself a credential.
    pub slack_webhook_url: Option<Secret>,
    /// The operator's token for the web API (`SHIPSHAPE_API_TOKEN`): sees every organisation.
    pub api_token: Option<Secret>,
    /// `SHIPSHAPE_PUBLIC_BADGES=true`: badges are served to anyone.
    pub public_badges: bool,
    /// Sign-in with GitHub for the web pages (`None` without the App's client id and secret).
    pub sign_in: Option<SignInConfig>,
    /// PagerDuty, Prometheus and the secrets of `http` checks (`Debug` shows no credential).
    pub providers: crate::providers::ProvidersConfig,
    /// At most this many content-creating GitHub requests in this period (`SHIPSHAPE_WRITE_LIMIT`, e.g. `80/1m`).
    pub write_limit: (usize, Duration),
    /// A `tracing_subscriber::EnvFilter` directive string, already checked.
    pub log_filter: String,
    pub log_format: LogFormat,
    /// Timeouts and caps of the HTTP edge: not configurable from the environment, [`crate::server::Limits`]'s
    /// defaults unless a caller (a test) sets others.
    pub http_limits: crate::server::Limits,
}

impl fmt::Debug for ServeConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServeConfig")
            .field("app_id", &self.app_id)
            .field("private_key", &self.private_key)
            .field("webhook_secret", &self.webhook_secret)
            .field("catalog_repo", &format_args!("{}", self.catalog_repo))
            .field("github_api_url", &self.github_api_url)
            .field("database_url", &format_args!("{}", crate::http::redact_userinfo(&self.database_url)))
            .field("listen", &self.listen)
            .field("sweep_interval", &self.sweep_interval)
            .field("public_url", &self.public_url)
            .field("slack_webhook_url", &self.slack_webhook_url)
            .field("api_token", &self.api_token)
            .field("public_badges", &self.public_badges)
            .field("sign_in", &self.sign_in)
            .field("providers", &self.providers)
            .field("log_filter", &self.log_filter)
            .field("log_format", &self.log_format)
            .field("http_limits", &self.http_limits)
            .finish()
    }
}

impl ServeConfig {
    /// Reads the configuration from the process environment.
    pub fn from_env() -> Result<ServeConfig, ConfigError> {
        let mut config = ServeConfig::from_lookup(|name| std::env::var(name).ok())?;
        config.providers.secrets = crate::providers::http_rule::Secrets::from_env();
        Ok(config)
    }

    /// Takes the `http` checks' secrets (`SHIPSHAPE_SECRET_<NAME>`) from the process environment.
    pub fn with_secrets_from_env(mut self) -> Self {
        self.providers.secrets = crate::providers::http_rule::Secrets::from_env();
        self
    }

    /// Takes the `http` checks' secrets (`SHIPSHAPE_SECRET_<NAME>`) from `vars`.
    pub fn with_secrets(mut self, vars: impl IntoIterator<Item = (String, String)>) -> Self {
        self.providers.secrets = crate::providers::http_rule::Secrets::from_vars(vars);
        self
    }

    /// Reads the configuration through `lookup` (a variable name to its value). An empty value counts as unset.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<ServeConfig, ConfigError> {
        let get = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        let required = |name: &'static str| get(name).ok_or_else(|| ConfigError::missing(name));

        let app_id = parse_app_id(&required(APP_ID)?)?;
        let private_key = match (get(PRIVATE_KEY_PATH), get(PRIVATE_KEY)) {
            (Some(_), Some(_)) => {
                return Err(ConfigError::new(
                    PRIVATE_KEY_PATH,
                    format!("set together with {PRIVATE_KEY}; set only one of them"),
                ));
            }
            (Some(path), None) => read_private_key(Path::new(path.trim()))?,
            (None, Some(pem)) => PrivateKey::from_pem(&pem).map_err(|p| ConfigError::new(PRIVATE_KEY, p))?,
            (None, None) => {
                return Err(ConfigError::new(PRIVATE_KEY_PATH, format!("required but not set (nor {PRIVATE_KEY})")));
            }
        };
        let webhook_secret = Secret::new(required(WEBHOOK_SECRET)?);
        let catalog_repo = {
            let value = required(CATALOG_REPO)?;
            RepoSlug::parse(value.trim()).ok_or_else(|| {
                ConfigError::new(CATALOG_REPO, format!("expected owner/name, found {:?}", value.trim()))
            })?
        };
        let github_api_url = match get(GITHUB_API_URL) {
            Some(url) => parse_http_url(&url).map_err(|p| ConfigError::new(GITHUB_API_URL, p))?,
            None => DEFAULT_GITHUB_API_URL.to_owned(),
        };
        let database_url = parse_database_url(get(DATABASE_URL).as_deref().unwrap_or(DEFAULT_DATABASE_URL))?;
        let listen = {
            let value = get(LISTEN).unwrap_or_else(|| DEFAULT_LISTEN.to_owned());
            value.trim().parse::<SocketAddr>().map_err(|_| {
                ConfigError::new(LISTEN, format!("expected an address like 0.0.0.0:3000 or [::]:3000, found {value:?}"))
            })?
        };
        let sweep_interval = match get(SWEEP_INTERVAL) {
            Some(value) => parse_duration(value.trim()).map_err(|p| ConfigError::new(SWEEP_INTERVAL, p))?,
            None => DEFAULT_SWEEP_INTERVAL,
        };
        let public_url = match get(PUBLIC_URL) {
            Some(url) => Some(parse_http_url(&url).map_err(|p| ConfigError::new(PUBLIC_URL, p))?),
            None => None,
        };
        let slack_webhook_url = get(SLACK_WEBHOOK_URL).map(|url| parse_slack_url(&url)).transpose()?;
        let api_token = match get(API_TOKEN).map(|t| t.trim().to_string()) {
            Some(token) if token.chars().count() < MIN_API_TOKEN_LEN || token.chars().any(char::is_whitespace) => {
                return Err(ConfigError::new(
                    API_TOKEN,
                    format!(
                        "must be at least {MIN_API_TOKEN_LEN} characters without spaces (e.g. `openssl rand -hex 32`)"
                    ),
                ));
            }
            token => token.map(Secret::new),
        };
        let sign_in = SignInConfig::from_vars(&get, public_url.as_deref())?;
        let public_badges = match get(PUBLIC_BADGES).as_deref().map(str::trim) {
            None | Some("false") => false,
            Some("true") => true,
            Some(other) => {
                return Err(ConfigError::new(PUBLIC_BADGES, format!("expected true or false, found {other:?}")));
            }
        };
        // Secrets are named by their variables, which a lookup cannot list: see [`ServeConfig::with_secrets`].
        let providers = crate::providers::ProvidersConfig::from_vars(get, std::iter::empty())
            .map_err(|(name, problem)| ConfigError::new(name, problem))?;
        let write_limit = match get(WRITE_LIMIT) {
            Some(value) => parse_rate(value.trim()).map_err(|p| ConfigError::new(WRITE_LIMIT, p))?,
            None => DEFAULT_WRITE_LIMIT,
        };
        let log_filter = get(LOG).map(|v| v.trim().to_owned()).unwrap_or_else(|| DEFAULT_LOG.to_owned());
        if let Err(e) = tracing_subscriber::EnvFilter::builder().parse(&log_filter) {
            return Err(ConfigError::new(LOG, format!("invalid filter {log_filter:?}: {e}")));
        }
        let log_format = match get(LOG_FORMAT).as_deref().map(str::trim) {
            None | Some("pretty") => LogFormat::Pretty,
            Some("json") => LogFormat::Json,
            Some(other) => {
                return Err(ConfigError::new(LOG_FORMAT, format!("expected pretty or json, found {other:?}")));
            }
        };

        Ok(ServeConfig {
            app_id,
            private_key,
            webhook_secret,
            catalog_repo,
            github_api_url,
            database_url,
            listen,
            sweep_interval,
            public_url,
            slack_webhook_url,
            api_token,
            public_badges,
            sign_in,
            providers,
            write_limit,
            log_filter,
            log_format,
            http_limits: crate::server::Limits::default(),
        })
    }
}

/// The URL is a credential: what is wrong is said without repeating it.
fn parse_slack_url(value: &str) -> Result<Secret, ConfigError> {
    match parse_http_url(value) {
        Ok(url) if url.starts_with("https://") || url.starts_with("http://") => Ok(Secret::new(url)),
        _ => Err(ConfigError::new(SLACK_WEBHOOK_URL, "expected an http(s) URL without a user name or password")),
    }
}

fn parse_app_id(value: &str) -> Result<u64, ConfigError> {
    match value.trim().parse::<u64>() {
        Ok(0) | Err(_) => {
            Err(ConfigError::new(APP_ID, format!("expected a positive integer, found {:?}", value.trim())))
        }
        Ok(id) => Ok(id),
    }
}

/// A PEM RSA private key is a few KiB (a 4096-bit one is about 3.3 KiB): a larger file is not one.
pub const MAX_PRIVATE_KEY_BYTES: u64 = 64 * 1024;

/// Reads the key file: a regular file (not `/dev/zero`, a pipe or a directory) of at most
/// [`MAX_PRIVATE_KEY_BYTES`], of which no more is ever read.
fn read_private_key(path: &Path) -> Result<PrivateKey, ConfigError> {
    use std::io::Read;
    let cannot =
        |problem: String| ConfigError::new(PRIVATE_KEY_PATH, format!("cannot read {}: {problem}", path.display()));
    let too_large = || cannot(format!("larger than {MAX_PRIVATE_KEY_BYTES} bytes, so not a PEM private key"));
    // `stat` first: opening a pipe would wait for a writer.
    let metadata = std::fs::metadata(path).map_err(|e| cannot(io_reason(&e)))?;
    if metadata.is_dir() {
        return Err(cannot("it is a directory".into()));
    }
    if !metadata.is_file() {
        return Err(cannot("not a regular file (a device, pipe or socket)".into()));
    }
    if metadata.len() > MAX_PRIVATE_KEY_BYTES {
        return Err(too_large());
    }
    let file = std::fs::File::open(path).map_err(|e| cannot(io_reason(&e)))?;
    let mut text = Vec::new();
    file.take(MAX_PRIVATE_KEY_BYTES + 1).read_to_end(&mut text).map_err(|e| cannot(io_reason(&e)))?;
    if text.len() as u64 > MAX_PRIVATE_KEY_BYTES {
        return Err(too_large());
    }
    let text = String::from_utf8(text).map_err(|_| {
        ConfigError::new(PRIVATE_KEY_PATH, format!("{}: not a PEM-encoded RSA private key", path.display()))
    })?;
    PrivateKey::from_pem(&text).map_err(|p| ConfigError::new(PRIVATE_KEY_PATH, format!("{}: {p}", path.display())))
}

/// `No such file or directory`, without the `(os error 2)` suffix.
fn io_reason(e: &std::io::Error) -> String {
    let text = e.to_string();
    match text.rfind(" (os error ") {
        Some(i) if text.ends_with(')') => text[..i].to_owned(),
        _ => text,
    }
}

/// SQLite (one process) or PostgreSQL (any number of replicas). The URL itself is never echoed (it may carry a
/// password).
fn parse_database_url(value: &str) -> Result<String, ConfigError> {
    let value = value.trim();
    let scheme = value.split_once(':').map(|(s, _)| s.to_ascii_lowercase());
    match scheme.as_deref() {
        Some("sqlite") => {
            let rest = &value["sqlite:".len()..];
            let path = rest.strip_prefix("//").unwrap_or(rest);
            let path = path.split('?').next().unwrap_or("");
            if path.is_empty() {
                Err(ConfigError::new(DATABASE_URL, "expected sqlite://PATH, the path is missing"))
            } else {
                Ok(value.to_owned())
            }
        }
        Some(scheme @ ("postgres" | "postgresql")) => {
            let rest = value[scheme.len()..].strip_prefix("://").unwrap_or("");
            if rest.is_empty() || rest.starts_with('?') {
                Err(ConfigError::new(DATABASE_URL, "expected postgres://USER:PASSWORD@HOST:PORT/DATABASE"))
            } else {
                Ok(value.to_owned())
            }
        }
        Some(other) if value[other.len()..].starts_with("://") => Err(ConfigError::new(
            DATABASE_URL,
            format!("unsupported database {other:?}; use sqlite://PATH or postgres://HOST/DATABASE"),
        )),
        _ => Err(ConfigError::new(DATABASE_URL, "expected a URL like sqlite://PATH or postgres://HOST/DATABASE")),
    }
}

/// Humane durations: `90s`, `30m`, `6h`, `1d`, and sums of them (`1h30m`). Zero is refused.
/// `N/DURATION`: at most N in any DURATION (`80/1m`).
pub fn parse_rate(value: &str) -> Result<(usize, Duration), String> {
    let bad =
        || format!("expected a rate like 80/1m (at least 1, a slash, a duration like 1m or 90s), found {value:?}");
    let (count, period) = value.split_once('/').ok_or_else(bad)?;
    let count: usize = count.trim().parse().map_err(|_| bad())?;
    if count == 0 {
        return Err(bad());
    }
    Ok((count, parse_duration(period.trim()).map_err(|_| bad())?))
}

pub fn parse_duration(value: &str) -> Result<Duration, String> {
    let bad = || format!("expected a duration like 6h, 30m, 90s or 1d, found {value:?}");
    if value.is_empty() {
        return Err(bad());
    }
    let mut total: u64 = 0;
    let mut rest = value;
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return Err(bad());
        }
        let number: u64 = rest[..digits].parse().map_err(|_| bad())?;
        rest = &rest[digits..];
        let unit = match rest.bytes().next() {
            Some(b's') => 1,
            Some(b'm') => 60,
            Some(b'h') => 60 * 60,
            Some(b'd') => 24 * 60 * 60,
            _ => return Err(bad()),
        };
        rest = &rest[1..];
        total = number.checked_mul(unit).and_then(|s| total.checked_add(s)).ok_or_else(bad)?;
    }
    if total == 0 {
        return Err(format!("must be longer than zero, found {value:?}"));
    }
    Ok(Duration::from_secs(total))
}

/// The `serve` flags. Each reads its environment variable when the flag is absent, and all of them go through
/// [`ServeConfig::from_lookup`], so flags and variables are validated alike.
#[derive(Clone, Default, clap::Args)]
pub struct ServeArgs {
    /// GitHub App id.
    #[arg(long, env = APP_ID, value_name = "ID")]
    pub app_id: Option<String>,
    /// File holding the App's PEM private key.
    #[arg(long, env = PRIVATE_KEY_PATH, value_name = "FILE")]
    pub private_key_path: Option<String>,
    /// The App's PEM private key itself (instead of --private-key-path).
    #[arg(long, env = PRIVATE_KEY, value_name = "PEM", hide_env_values = true)]
    pub private_key: Option<String>,
    /// Webhook HMAC secret.
    #[arg(long, env = WEBHOOK_SECRET, value_name = "SECRET", hide_env_values = true)]
    pub webhook_secret: Option<String>,
    /// `owner/name` of the catalog repository.
    #[arg(long, env = CATALOG_REPO, value_name = "OWNER/NAME")]
    pub catalog_repo: Option<String>,
    /// GitHub REST base URL [default: https://api.github.com].
    #[arg(long, env = GITHUB_API_URL, value_name = "URL", hide_env_values = true)]
    pub github_api_url: Option<String>,
    /// Database URL [default: sqlite://shipshape.db].
    #[arg(long, env = DATABASE_URL, value_name = "URL", hide_env_values = true)]
    pub database_url: Option<String>,
    /// Listen address [default: 0.0.0.0:3000].
    #[arg(long, env = LISTEN, value_name = "ADDR")]
    pub listen: Option<String>,
    /// Period of the full re-evaluation of every installed repository [default: 6h].
    #[arg(long, env = SWEEP_INTERVAL, value_name = "DURATION")]
    pub sweep_interval: Option<String>,
    /// Base URL for links in check runs and comments.
    #[arg(long, env = PUBLIC_URL, value_name = "URL", hide_env_values = true)]
    pub public_url: Option<String>,
    /// Slack incoming webhook for tier-1 degradations.
    #[arg(long, env = SLACK_WEBHOOK_URL, value_name = "URL", hide_env_values = true)]
    pub slack_webhook_url: Option<String>,
    /// PagerDuty REST API token (the `oncall` rule).
    #[arg(long, env = PAGERDUTY_TOKEN, value_name = "TOKEN", hide_env_values = true)]
    pub pagerduty_token: Option<String>,
    /// PagerDuty REST base URL [default: https://api.pagerduty.com].
    #[arg(long, env = PAGERDUTY_API_URL, value_name = "URL", hide_env_values = true)]
    pub pagerduty_api_url: Option<String>,
    /// Prometheus base URL (the `alerts` and `slo` rules, `promql` checks).
    #[arg(long, env = PROMETHEUS_URL, value_name = "URL", hide_env_values = true)]
    pub prometheus_url: Option<String>,
    /// Prometheus bearer token, when it needs one.
    #[arg(long, env = PROMETHEUS_TOKEN, value_name = "TOKEN", hide_env_values = true)]
    pub prometheus_token: Option<String>,
    /// Content-creating GitHub requests allowed per period [default: 80/1m].
    #[arg(long, env = WRITE_LIMIT, value_name = "N/DURATION")]
    pub write_limit: Option<String>,
    /// Log filter (tracing directives) [default: info].
    #[arg(long, env = LOG, value_name = "FILTER")]
    pub log: Option<String>,
    /// Log format: pretty or json [default: pretty].
    #[arg(long, env = LOG_FORMAT, value_name = "FORMAT")]
    pub log_format: Option<String>,
    /// The operator's token for the web API (sees every organisation; 32 characters or more).
    #[arg(long, env = API_TOKEN, value_name = "TOKEN", hide_env_values = true)]
    pub api_token: Option<String>,
    /// `true`: readiness badges for anyone, without a token [default: false].
    #[arg(long, env = PUBLIC_BADGES, value_name = "BOOL")]
    pub public_badges: Option<String>,
    /// The App's OAuth client id, for signing in to the web pages.
    #[arg(long, env = GITHUB_CLIENT_ID, value_name = "ID")]
    pub github_client_id: Option<String>,
    /// The App's OAuth client secret.
    #[arg(long, env = GITHUB_CLIENT_SECRET, value_name = "SECRET", hide_env_values = true)]
    pub github_client_secret: Option<String>,
    /// GitHub's web address [default: https://github.com].
    #[arg(long, env = GITHUB_WEB_URL, value_name = "URL")]
    pub github_web_url: Option<String>,
    /// The key sessions are signed with, the same on every replica [default: a random key kept in the database].
    #[arg(long, env = SESSION_KEY, value_name = "KEY", hide_env_values = true)]
    pub session_key: Option<String>,
}

impl ServeArgs {
    /// Validates the flags (and the variables clap read for absent flags) into a configuration.
    pub fn into_config(self) -> Result<ServeConfig, ConfigError> {
        let values = [
            (APP_ID, self.app_id),
            (PRIVATE_KEY_PATH, self.private_key_path),
            (PRIVATE_KEY, self.private_key),
            (WEBHOOK_SECRET, self.webhook_secret),
            (CATALOG_REPO, self.catalog_repo),
            (GITHUB_API_URL, self.github_api_url),
            (DATABASE_URL, self.database_url),
            (LISTEN, self.listen),
            (SWEEP_INTERVAL, self.sweep_interval),
            (PUBLIC_URL, self.public_url),
            (SLACK_WEBHOOK_URL, self.slack_webhook_url),
            (PAGERDUTY_TOKEN, self.pagerduty_token),
            (PAGERDUTY_API_URL, self.pagerduty_api_url),
            (PROMETHEUS_URL, self.prometheus_url),
            (PROMETHEUS_TOKEN, self.prometheus_token),
            (WRITE_LIMIT, self.write_limit),
            (LOG, self.log),
            (LOG_FORMAT, self.log_format),
            (API_TOKEN, self.api_token),
            (PUBLIC_BADGES, self.public_badges),
            (GITHUB_CLIENT_ID, self.github_client_id),
            (GITHUB_CLIENT_SECRET, self.github_client_secret),
            (GITHUB_WEB_URL, self.github_web_url),
            (SESSION_KEY, self.session_key),
        ];
        Ok(ServeConfig::from_lookup(|name| values.iter().find(|(n, _)| *n == name).and_then(|(_, v)| v.clone()))?
            .with_secrets_from_env())
    }
}

impl TryFrom<ServeArgs> for ServeConfig {
    type Error = ConfigError;

    fn try_from(args: ServeArgs) -> Result<ServeConfig, ConfigError> {
        args.into_config()
    }
}

impl fmt::Debug for ServeArgs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let redacted = |v: &Option<String>| v.as_ref().map(|_| "[redacted]");
        f.debug_struct("ServeArgs")
            .field("app_id", &self.app_id)
            .field("private_key_path", &self.private_key_path)
            .field("private_key", &redacted(&self.private_key))
            .field("webhook_secret", &redacted(&self.webhook_secret))
            .field("catalog_repo", &self.catalog_repo)
            .field("github_api_url", &self.github_api_url)
            .field("database_url", &self.database_url.as_deref().map(crate::http::redact_userinfo))
            .field("listen", &self.listen)
            .field("sweep_interval", &self.sweep_interval)
            .field("public_url", &self.public_url)
            .field("slack_webhook_url", &redacted(&self.slack_webhook_url))
            .field("pagerduty_token", &redacted(&self.pagerduty_token))
            .field("pagerduty_api_url", &self.pagerduty_api_url)
            .field("prometheus_url", &self.prometheus_url)
            .field("prometheus_token", &redacted(&self.prometheus_token))
            .field("log", &self.log)
            .field("log_format", &self.log_format)
            .finish()
    }
}

#[cfg(test)]
mod tests;

/// GitHub's OAuth web flow with the App's own client (`SHIPSHAPE_GITHUB_CLIENT_ID`, `SHIPSHAPE_GITHUB_CLIENT_SECRET`).
#[derive(Clone)]
pub struct SignInConfig {
    pub client_id: String,
    pub client_secret: Secret,
    /// `SHIPSHAPE_GITHUB_WEB_URL`, without a trailing slash.
    pub web_url: String,
    /// `{SHIPSHAPE_PUBLIC_URL}/auth/callback`.
    pub callback_url: String,
    /// Cookies are `Secure`: the public URL is https.
    pub secure: bool,
    /// `SHIPSHAPE_SESSION_KEY`; without it a random key is kept in the database (so replicas agree).
    pub session_key: Option<Secret>,
}

impl fmt::Debug for SignInConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SignInConfig")
            .field("client_id", &self.client_id)
            .field("client_secret", &self.client_secret)
            .field("web_url", &self.web_url)
            .field("callback_url", &self.callback_url)
            .field("session_key", &self.session_key)
            .finish()
    }
}

impl SignInConfig {
    fn from_vars(
        get: &impl Fn(&str) -> Option<String>,
        public_url: Option<&str>,
    ) -> Result<Option<SignInConfig>, ConfigError> {
        let (id, secret) = (get(GITHUB_CLIENT_ID), get(GITHUB_CLIENT_SECRET));
        let session_key = match get(SESSION_KEY).map(|k| k.trim().to_string()) {
            Some(k) if k.chars().count() < MIN_API_TOKEN_LEN => {
                return Err(ConfigError::new(
                    SESSION_KEY,
                    format!("must be at least {MIN_API_TOKEN_LEN} characters (e.g. `openssl rand -hex 32`)"),
                ));
            }
            k => k.map(Secret::new),
        };
        let (client_id, client_secret) = match (id, secret) {
            (None, None) => return Ok(None),
            (Some(_), None) => {
                return Err(ConfigError::new(GITHUB_CLIENT_SECRET, "needed with SHIPSHAPE_GITHUB_CLIENT_ID"));
            }
            (None, Some(_)) => {
                return Err(ConfigError::new(GITHUB_CLIENT_ID, "needed with SHIPSHAPE_GITHUB_CLIENT_SECRET"));
            }
            (Some(id), Some(secret)) => (id.trim().to_string(), Secret::new(secret.trim())),
        };
        let Some(public_url) = public_url else {
            return Err(ConfigError::new(
                PUBLIC_URL,
                "needed for sign-in: GitHub sends users back to `<SHIPSHAPE_PUBLIC_URL>/auth/callback`",
            ));
        };
        let web_url = match get(GITHUB_WEB_URL) {
            Some(url) => parse_http_url(&url).map_err(|p| ConfigError::new(GITHUB_WEB_URL, p))?,
            None => DEFAULT_GITHUB_WEB_URL.to_string(),
        };
        Ok(Some(SignInConfig {
            client_id,
            client_secret,
            web_url,
            callback_url: format!("{public_url}/auth/callback"),
            secure: public_url.starts_with("https://"),
            session_key,
        }))
    }
}
