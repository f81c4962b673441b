//! Configuration of `shipshape serve` (SPEC 4), read from the environment or from flags of the same names.
//!
//! Every setting is validated here, once, at start-up: a missing or bad one is a [`ConfigError`] whose `Display` is a
//! single line naming the variable and the problem. Secrets (the private key, the webhook secret, the Slack webhook
//! URL, database credentials) never appear in errors or in `Debug` output.

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

/// A secret string: `Debug` prints `[redacted]`, there is no `Display`; read it with [`Secret::expose`].
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

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
            .field("database_url", &format_args!("{}", redact_url(&self.database_url)))
            .field("listen", &self.listen)
            .field("sweep_interval", &self.sweep_interval)
            .field("public_url", &self.public_url)
            .field("slack_webhook_url", &self.slack_webhook_url)
            .field("providers", &self.providers)
            .field("log_filter", &self.log_filter)
            .field("log_format", &self.log_format)
            .field("http_limits", &self.http_limits)
            .finish()
    }
}

/// The scheme and what follows it, with any `user:password@` removed.
fn redact_url(url: &str) -> String {
    match url.split_once("://") {
        Some((scheme, rest)) => match rest.split_once('@') {
            Some((_, host)) => format!("{scheme}://[redacted]@{host}"),
            None => url.to_owned(),
        },
        None => url.to_owned(),
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
        let slack_webhook_url = match get(SLACK_WEBHOOK_URL) {
            // The URL is a credential: say what is wrong without repeating it.
            Some(url) => match parse_http_url(&url) {
                Ok(url) if url.starts_with("https://") || url.starts_with("http://") => Some(Secret::new(url)),
                _ => return Err(ConfigError::new(SLACK_WEBHOOK_URL, "expected an http(s) URL")),
            },
            None => None,
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
            providers,
            write_limit,
            log_filter,
            log_format,
            http_limits: crate::server::Limits::default(),
        })
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

fn read_private_key(path: &Path) -> Result<PrivateKey, ConfigError> {
    let text = std::fs::read(path).map_err(|e| {
        ConfigError::new(PRIVATE_KEY_PATH, format!("cannot read {}: {}", path.display(), io_reason(&e)))
    })?;
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

/// An absolute `http` or `https` URL with a host, returned without trailing slashes. The error is the problem only.
pub(crate) fn parse_http_url(value: &str) -> Result<String, String> {
    let value = value.trim();
    let bad = || format!("expected an http(s) URL, found {value:?}");
    let uri: axum::http::Uri = value.parse().map_err(|_| bad())?;
    match uri.scheme_str() {
        Some("http" | "https") => {}
        _ => return Err(bad()),
    }
    match uri.host() {
        Some(host) if !host.is_empty() => {}
        _ => return Err(bad()),
    }
    Ok(value.trim_end_matches('/').to_owned())
}

/// Only SQLite is implemented. The URL itself is never echoed (other schemes carry passwords).
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
        Some("postgres" | "postgresql") => {
            Err(ConfigError::new(DATABASE_URL, "PostgreSQL is not supported yet; use sqlite://PATH"))
        }
        Some(other) if value[other.len()..].starts_with("://") => {
            Err(ConfigError::new(DATABASE_URL, format!("unsupported database {other:?}; use sqlite://PATH")))
        }
        _ => Err(ConfigError::new(DATABASE_URL, "expected a URL like sqlite://PATH")),
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
    #[arg(long, env = GITHUB_API_URL, value_name = "URL")]
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
    #[arg(long, env = PUBLIC_URL, value_name = "URL")]
    pub public_url: Option<String>,
    /// Slack incoming webhook for tier-1 degradations.
    #[arg(long, env = SLACK_WEBHOOK_URL, value_name = "URL", hide_env_values = true)]
    pub slack_webhook_url: Option<String>,
    /// PagerDuty REST API token (the `oncall` rule).
    #[arg(long, env = PAGERDUTY_TOKEN, value_name = "TOKEN", hide_env_values = true)]
    pub pagerduty_token: Option<String>,
    /// PagerDuty REST base URL [default: https://api.pagerduty.com].
    #[arg(long, env = PAGERDUTY_API_URL, value_name = "URL")]
    pub pagerduty_api_url: Option<String>,
    /// Prometheus base URL (the `alerts` and `slo` rules, `promql` checks).
    #[arg(long, env = PROMETHEUS_URL, value_name = "URL")]
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
            .field("database_url", &self.database_url.as_deref().map(redact_url))
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
mod tests {
    use super::*;
    use std::collections::HashMap;

    /// A 2048-bit RSA key in PKCS#1 form (`openssl genrsa -traditional 2048`), generated for these tests only.
    const PKCS1_KEY: &str = "-----BEGIN RSA PRIVATE KEY-----
MIIEogIBAAKCAQEA7SK1SleoaGE6Z80vtajqwssDMq/tM5yMy+W9OnVncjAmmDPr
xDNZ0BN4z1KX0N5ePT1Gh545P0B2iUNQhPH5TZmxIjNMlOtv5y3RFjGkmhqrVUrV
e3QBP1qjwRV+7pRRgD55opuGQmDXgwDmoCkI2bhM/J7zfcKAlgWknys9jUUQK8JX
dLS2eMTX0ik6gwkhrKnTxtAPr7tIccYbcCamjpe9kRW2umNIU31SsVlAjYBhOHXn
OXcM5pVhzQOpFJizADsFTZpl1QSTmBYNhWytv8rl0UQ3ck0wkjZAb2TuK9hvOsdd
co9n4W8ahLMVdgW/rgCvOBiz+8nZG5/TW0rNMwIDAQABAoIBAHPcBV9xPKLi/jpB
EhJbmXfa4JEfS3FwB4qHkNDDE+vCgtjSZVrTDAqRuPDylaJDQyAAlDkmoSm6QTAH
Z4vM/dVgRh9DmSMZdO8qf4Gsd5OjfBqMGYnbv9BIZMGt0vqWFMvnul4sRoif8Cvd
gNC3u89EMLksoCLNqS2jTC9IXSZrqxt0vLPwlSanfuOz3Ai+bSA9F4nyOiJT2wpr
QyTOUTYKZK5iAgNjxJy/Y3NzjKM15/vmv2We+1yeXKXH5N10/woJR9RU2SoYyOgI
aFqGMDfH0uHfTSOhcfrCyRo+GX/L7TMhlP6pI0Y53Ut27EKG56HGrwSSAvd2vC36
C3hlB8ECgYEA9vuDioSZFZA40e6a4xSKEJJ1KYo99kdwrdm7TGPqRaYOlvbClGcq
8xLpXm2QSbrzlV8JimoGDf7gzcvK4oQA8MisxEYDDMeXxeWlUdAL1xhjwVA4/EJV
Wl/N1zUASOqYNLZiGFItiIZo7293Mu9ekkPR/oCau6rjhcXMwauw0rkCgYEA9cso
YZuK4NewNkfzh0TWtYW0bUpXCBHdkrVp10QgD2NwJxOKGsRBUcMm/yWzJy+nyzos
R7uH4rOxLZqHldEEhMqIg8JRK/gUKbJuCzgn/PNCWCNjkWHN5eW+4tcBchJbVvR2
mijO2EsGZV8zsz944pN7Z2yuvkKv3c2SZNixGUsCgYA/Jn4yy8asqcyteNnnmBfZ
Nul4Lp27O/cGrLZkSOPc3SG73epQsbRcpIhBGbib8Y5Ysg0pdASKTZJDbIk6s8/d
wSHTqacb/GjFM/u6WHy+icDv68g2T+utCPQDw8yH2FwElmGsoE5+KwfnuNN8lZHT
yj2GWnG17HLygGnjVzgGGQKBgEW9XfjL7Ey9hibwpV11H8KjbD0yQZ1tjEPLK3vD
vaEAIttDhQTxOGNdjtwIM1vj/qUAHX5A7F5bg+MfnGbaxoBzAub3pJZoLjhigyy1
w0rXLrTZXa/rY0Neu5mbTbKzGK2EcX5uI7plFyx+JaovUTpghDwlLzOWslWptWbd
wOofAoGAeq7zgn8q2lqQBnTyiKAvEZRjfXo/MUePNFY1U3RvgPd9Ctrq+ZkYY+KG
7bWksnR4n9S5t/BvjMqAWiUX3qFT7fJbQNoKHyOY5c/ir8Ie5uF/OPg/XP7WS4BH
P4wRSC5HpEZwS4gqfBoO6a817GXzoA8xOzxoOgqWmmjGC922LjU=
-----END RSA PRIVATE KEY-----
";
    /// The same key in PKCS#8 form (`openssl pkcs8 -topk8 -nocrypt`).
    const PKCS8_KEY: &str = "-----BEGIN PRIVATE KEY-----
MIIEvAIBADANBgkqhkiG9w0BAQEFAASCBKYwggSiAgEAAoIBAQDtIrVKV6hoYTpn
zS+1qOrCywMyr+0znIzL5b06dWdyMCaYM+vEM1nQE3jPUpfQ3l49PUaHnjk/QHaJ
Q1CE8flNmbEiM0yU62/nLdEWMaSaGqtVStV7dAE/WqPBFX7ulFGAPnmim4ZCYNeD
AOagKQjZuEz8nvN9woCWBaSfKz2NRRArwld0tLZ4xNfSKTqDCSGsqdPG0A+vu0hx
xhtwJqaOl72RFba6Y0hTfVKxWUCNgGE4dec5dwzmlWHNA6kUmLMAOwVNmmXVBJOY
Fg2FbK2/yuXRRDdyTTCSNkBvZO4r2G86x11yj2fhbxqEsxV2Bb+uAK84GLP7ydkb
n9NbSs0zAgMBAAECggEAc9wFX3E8ouL+OkESEluZd9rgkR9LcXAHioeQ0MMT68KC
2NJlWtMMCpG48PKVokNDIACUOSahKbpBMAdni8z91WBGH0OZIxl07yp/gax3k6N8
GowZidu/0Ehkwa3S+pYUy+e6XixGiJ/wK92A0Le7z0QwuSygIs2pLaNML0hdJmur
G3S8s/CVJqd+47PcCL5tID0XifI6IlPbCmtDJM5RNgpkrmICA2PEnL9jc3OMozXn
++a/ZZ77XJ5cpcfk3XT/CglH1FTZKhjI6AhoWoYwN8fS4d9NI6Fx+sLJGj4Zf8vt
MyGU/qkjRjndS3bsQobnocavBJIC93a8LfoLeGUHwQKBgQD2+4OKhJkVkDjR7prj
FIoQknUpij32R3Ct2btMY+pFpg6W9sKUZyrzEulebZBJuvOVXwmKagYN/uDNy8ri
hADwyKzERgMMx5fF5aVR0AvXGGPBUDj8QlVaX83XNQBI6pg0tmIYUi2Ihmjvb3cy
716SQ9H+gJq7quOFxczBq7DSuQKBgQD1yyhhm4rg17A2R/OHRNa1hbRtSlcIEd2S
tWnXRCAPY3AnE4oaxEFRwyb/JbMnL6fLOixHu4fis7EtmoeV0QSEyoiDwlEr+BQp
sm4LOCf880JYI2ORYc3l5b7i1wFyEltW9HaaKM7YSwZlXzOzP3jik3tnbK6+Qq/d
zZJk2LEZSwKBgD8mfjLLxqypzK142eeYF9k26Xgunbs79wastmRI49zdIbvd6lCx
tFykiEEZuJvxjliyDSl0BIpNkkNsiTqzz93BIdOppxv8aMUz+7pYfL6JwO/ryDZP
660I9APDzIfYXASWYaygTn4rB+e403yVkdPKPYZacbXscvKAaeNXOAYZAoGARb1d
+MvsTL2GJvClXXUfwqNsPTJBnW2MQ8sre8O9oQAi20OFBPE4Y12O3AgzW+P+pQAd
fkDsXluD4x+cZtrGgHMC5veklmguOGKDLLXDStcutNldr+tjQ167mZtNsrMYrYRx
fm4jumUXLH4lqi9ROmCEPCUvM5ayVam1Zt3A6h8CgYB6rvOCfyraWpAGdPKIoC8R
lGN9ej8xR480VjVTdG+A930K2ur5mRhj4obttaSydHif1Lm38G+MyoBaJRfeoVPt
8ltA2gofI5jlz+Kvwh7m4X84+D9c/tZLgEc/jBFILkekRnBLiCp8Gg7przXsZfOg
DzE7PGg6CpaaaMYL3bYuNQ==
-----END PRIVATE KEY-----
";
    /// A P-256 key in PKCS#8 form: a private key, but not RSA.
    const EC_PKCS8_KEY: &str = "-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgDpzka8adHzewmeKl
pN+O1GYUhy2w8+buuOSXGgza9G2hRANCAARNhMVi88PubBItY9vlnZ57OMe9ZFUX
M9vCk4fk/f/U/YsbswV8Z1uoVziPib47g4zWu7nVrU1kymRxM/HTX/RV
-----END PRIVATE KEY-----
";
    /// The public half of the RSA key.
    const RSA_PUBLIC_KEY: &str = "-----BEGIN PUBLIC KEY-----
MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA7SK1SleoaGE6Z80vtajq
wssDMq/tM5yMy+W9OnVncjAmmDPrxDNZ0BN4z1KX0N5ePT1Gh545P0B2iUNQhPH5
TZmxIjNMlOtv5y3RFjGkmhqrVUrVe3QBP1qjwRV+7pRRgD55opuGQmDXgwDmoCkI
2bhM/J7zfcKAlgWknys9jUUQK8JXdLS2eMTX0ik6gwkhrKnTxtAPr7tIccYbcCam
jpe9kRW2umNIU31SsVlAjYBhOHXnOXcM5pVhzQOpFJizADsFTZpl1QSTmBYNhWyt
v8rl0UQ3ck0wkjZAb2TuK9hvOsddco9n4W8ahLMVdgW/rgCvOBiz+8nZG5/TW0rN
MwIDAQAB
-----END PUBLIC KEY-----
";

    fn base() -> HashMap<&'static str, String> {
        HashMap::from([
            (APP_ID, "12345".to_owned()),
            (PRIVATE_KEY, PKCS1_KEY.to_owned()),
            (WEBHOOK_SECRET, "s3cr3t-webhook".to_owned()),
            (CATALOG_REPO, "acme/catalog".to_owned()),
        ])
    }

    fn load(vars: &HashMap<&'static str, String>) -> Result<ServeConfig, ConfigError> {
        ServeConfig::from_lookup(|name| vars.get(name).cloned())
    }

    /// The error line for `base()` with `name` set to `value` (or removed, for `None`).
    fn error_with(name: &'static str, value: Option<&str>) -> String {
        let mut vars = base();
        match value {
            Some(v) => vars.insert(name, v.to_owned()),
            None => vars.remove(name),
        };
        let err = load(&vars).expect_err("configuration should be refused");
        let line = err.to_string();
        assert!(!line.contains('\n'), "one line: {line}");
        assert!(!line.contains("s3cr3t-webhook"), "no secret: {line}");
        line
    }

    #[test]
    fn defaults_apply_when_only_required_settings_are_given() {
        let config = load(&base()).unwrap();
        assert_eq!(config.app_id, 12345);
        assert_eq!(config.private_key.pem(), PKCS1_KEY.trim());
        assert_eq!(config.webhook_secret.expose(), "s3cr3t-webhook");
        assert_eq!(config.catalog_repo, RepoSlug { owner: "acme".into(), name: "catalog".into() });
        assert_eq!(config.github_api_url, "https://api.github.com");
        assert_eq!(config.database_url, "sqlite://shipshape.db");
        assert_eq!(config.listen, "0.0.0.0:3000".parse().unwrap());
        assert_eq!(config.sweep_interval, Duration::from_secs(6 * 3600));
        assert_eq!(config.public_url, None);
        assert!(config.slack_webhook_url.is_none());
        assert_eq!(config.log_filter, "info");
        assert_eq!(config.log_format, LogFormat::Pretty);
    }

    #[test]
    fn every_setting_can_be_given() {
        let mut vars = base();
        vars.insert(GITHUB_API_URL, "https://ghe.example.com/api/v3/".into());
        vars.insert(DATABASE_URL, "sqlite:///var/lib/shipshape/state.db".into());
        vars.insert(LISTEN, "127.0.0.1:8080".into());
        vars.insert(SWEEP_INTERVAL, "1h30m".into());
        vars.insert(PUBLIC_URL, "https://shipshape.example.com/".into());
        vars.insert(SLACK_WEBHOOK_URL, "https://hooks.slack.com/services/T0/B0/XXXX".into());
        vars.insert(LOG, "shipshape=debug,info".into());
        vars.insert(LOG_FORMAT, "json".into());
        let config = load(&vars).unwrap();
        assert_eq!(config.github_api_url, "https://ghe.example.com/api/v3");
        assert_eq!(config.database_url, "sqlite:///var/lib/shipshape/state.db");
        assert_eq!(config.listen, "127.0.0.1:8080".parse().unwrap());
        assert_eq!(config.sweep_interval, Duration::from_secs(5400));
        assert_eq!(config.public_url.as_deref(), Some("https://shipshape.example.com"));
        assert_eq!(config.slack_webhook_url.unwrap().expose(), "https://hooks.slack.com/services/T0/B0/XXXX");
        assert_eq!(config.log_filter, "shipshape=debug,info");
        assert_eq!(config.log_format, LogFormat::Json);
    }

    #[test]
    fn empty_values_count_as_unset() {
        let mut vars = base();
        vars.insert(PUBLIC_URL, String::new());
        vars.insert(LISTEN, "  ".into());
        let config = load(&vars).unwrap();
        assert_eq!(config.public_url, None);
        assert_eq!(config.listen, "0.0.0.0:3000".parse().unwrap());
        assert_eq!(error_with(WEBHOOK_SECRET, Some("")), "SHIPSHAPE_WEBHOOK_SECRET: required but not set");
    }

    #[test]
    fn private_key_forms() {
        let mut vars = base();
        vars.insert(PRIVATE_KEY, PKCS8_KEY.into());
        assert_eq!(load(&vars).unwrap().private_key.pem(), PKCS8_KEY.trim());

        // Newlines written as `\n`, as in many env files.
        vars.insert(PRIVATE_KEY, PKCS1_KEY.trim().replace('\n', "\\n"));
        assert_eq!(load(&vars).unwrap().private_key.pem(), PKCS1_KEY.trim());

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("key.pem");
        std::fs::write(&path, PKCS1_KEY).unwrap();
        vars.remove(PRIVATE_KEY);
        vars.insert(PRIVATE_KEY_PATH, path.display().to_string());
        let config = load(&vars).unwrap();
        assert_eq!(config.private_key.pem(), PKCS1_KEY.trim());
        // Usable for a JWT.
        let header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
        jsonwebtoken::encode(&header, &serde_json::json!({"iss": "1"}), &config.private_key.encoding_key()).unwrap();
    }

    #[test]
    fn private_key_errors() {
        assert_eq!(
            error_with(PRIVATE_KEY, None),
            "SHIPSHAPE_PRIVATE_KEY_PATH: required but not set (nor SHIPSHAPE_PRIVATE_KEY)"
        );
        assert_eq!(
            error_with(PRIVATE_KEY, Some("hunter2-not-a-key")),
            "SHIPSHAPE_PRIVATE_KEY: not a PEM-encoded RSA private key"
        );
        assert_eq!(
            error_with(PRIVATE_KEY, Some(EC_PKCS8_KEY)),
            "SHIPSHAPE_PRIVATE_KEY: not a PEM-encoded RSA private key"
        );
        assert_eq!(
            error_with(PRIVATE_KEY, Some(RSA_PUBLIC_KEY)),
            "SHIPSHAPE_PRIVATE_KEY: not a PEM-encoded RSA private key (found a PUBLIC KEY block)"
        );
        assert_eq!(
            error_with(
                PRIVATE_KEY,
                Some("-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----")
            ),
            "SHIPSHAPE_PRIVATE_KEY: not a PEM-encoded RSA private key (found an encrypted key; decrypt it first)"
        );
        // Well-formed PEM and DER (SEQUENCE { INTEGER 1 }), but not an RSA key.
        assert_eq!(
            error_with(PRIVATE_KEY, Some("-----BEGIN RSA PRIVATE KEY-----\nMAMCAQE=\n-----END RSA PRIVATE KEY-----")),
            "SHIPSHAPE_PRIVATE_KEY: not a PEM-encoded RSA private key (the key data is invalid)"
        );
        // Base64 damaged in the middle of the key.
        let damaged = PKCS1_KEY.replacen("MII", "M!I", 1);
        assert_eq!(error_with(PRIVATE_KEY, Some(&damaged)), "SHIPSHAPE_PRIVATE_KEY: not a PEM-encoded RSA private key");

        let mut vars = base();
        vars.insert(PRIVATE_KEY_PATH, "/x/key.pem".into());
        assert_eq!(
            load(&vars).unwrap_err().to_string(),
            "SHIPSHAPE_PRIVATE_KEY_PATH: set together with SHIPSHAPE_PRIVATE_KEY; set only one of them"
        );
        vars.remove(PRIVATE_KEY);
        assert_eq!(
            load(&vars).unwrap_err().to_string(),
            "SHIPSHAPE_PRIVATE_KEY_PATH: cannot read /x/key.pem: No such file or directory"
        );
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("key.pem");
        std::fs::write(&path, "not a key").unwrap();
        vars.insert(PRIVATE_KEY_PATH, path.display().to_string());
        assert_eq!(
            load(&vars).unwrap_err().to_string(),
            format!("SHIPSHAPE_PRIVATE_KEY_PATH: {}: not a PEM-encoded RSA private key", path.display())
        );
        vars.insert(PRIVATE_KEY_PATH, dir.path().display().to_string());
        let line = load(&vars).unwrap_err().to_string();
        assert!(
            line.starts_with(&format!("SHIPSHAPE_PRIVATE_KEY_PATH: cannot read {}: ", dir.path().display())),
            "{line}"
        );
    }

    #[test]
    fn required_settings() {
        assert_eq!(error_with(APP_ID, None), "SHIPSHAPE_APP_ID: required but not set");
        assert_eq!(error_with(WEBHOOK_SECRET, None), "SHIPSHAPE_WEBHOOK_SECRET: required but not set");
        assert_eq!(error_with(CATALOG_REPO, None), "SHIPSHAPE_CATALOG_REPO: required but not set");
    }

    #[test]
    fn app_id_errors() {
        assert_eq!(error_with(APP_ID, Some("abc")), r#"SHIPSHAPE_APP_ID: expected a positive integer, found "abc""#);
        assert_eq!(error_with(APP_ID, Some("0")), r#"SHIPSHAPE_APP_ID: expected a positive integer, found "0""#);
        assert_eq!(error_with(APP_ID, Some("-3")), r#"SHIPSHAPE_APP_ID: expected a positive integer, found "-3""#);
    }

    #[test]
    fn catalog_repo_errors() {
        for bad in ["foo", "a/b/c", "/name", "owner/", "own er/name", "owner/..", "-owner/name"] {
            assert_eq!(
                error_with(CATALOG_REPO, Some(bad)),
                format!("SHIPSHAPE_CATALOG_REPO: expected owner/name, found {bad:?}")
            );
        }
        for good in ["acme/catalog", "a-b/c.d_e-f", "A1/.github"] {
            assert!(RepoSlug::parse(good).is_some(), "{good}");
        }
    }

    #[test]
    fn url_errors() {
        assert_eq!(
            error_with(GITHUB_API_URL, Some("ftp://example.com")),
            r#"SHIPSHAPE_GITHUB_API_URL: expected an http(s) URL, found "ftp://example.com""#
        );
        assert_eq!(
            error_with(GITHUB_API_URL, Some("api.github.com")),
            r#"SHIPSHAPE_GITHUB_API_URL: expected an http(s) URL, found "api.github.com""#
        );
        assert_eq!(
            error_with(PUBLIC_URL, Some("not a url")),
            r#"SHIPSHAPE_PUBLIC_URL: expected an http(s) URL, found "not a url""#
        );
        // The Slack URL is a credential: not repeated.
        assert_eq!(
            error_with(SLACK_WEBHOOK_URL, Some("hooks.slack.com/services/T0/B0/SECRETPART")),
            "SHIPSHAPE_SLACK_WEBHOOK_URL: expected an http(s) URL"
        );
        let mut vars = base();
        vars.insert(GITHUB_API_URL, "http://127.0.0.1:9000".into());
        assert_eq!(load(&vars).unwrap().github_api_url, "http://127.0.0.1:9000");
    }

    #[test]
    fn database_url_errors() {
        let line = error_with(DATABASE_URL, Some("postgres://shipshape:pa55word@db.internal/shipshape"));
        assert_eq!(line, "SHIPSHAPE_DATABASE_URL: PostgreSQL is not supported yet; use sqlite://PATH");
        assert_eq!(
            error_with(DATABASE_URL, Some("postgresql://localhost/x")),
            "SHIPSHAPE_DATABASE_URL: PostgreSQL is not supported yet; use sqlite://PATH"
        );
        assert_eq!(
            error_with(DATABASE_URL, Some("mysql://root:pa55word@localhost/x")),
            r#"SHIPSHAPE_DATABASE_URL: unsupported database "mysql"; use sqlite://PATH"#
        );
        assert_eq!(
            error_with(DATABASE_URL, Some("sqlite://")),
            "SHIPSHAPE_DATABASE_URL: expected sqlite://PATH, the path is missing"
        );
        assert_eq!(
            error_with(DATABASE_URL, Some("shipshape.db")),
            "SHIPSHAPE_DATABASE_URL: expected a URL like sqlite://PATH"
        );
        for good in ["sqlite://x.db", "sqlite:x.db", "sqlite::memory:", "sqlite:///tmp/a.db?mode=rwc"] {
            let mut vars = base();
            vars.insert(DATABASE_URL, good.into());
            assert_eq!(load(&vars).unwrap().database_url, good);
        }
    }

    #[test]
    fn listen_errors() {
        assert_eq!(
            error_with(LISTEN, Some("localhost")),
            r#"SHIPSHAPE_LISTEN: expected an address like 0.0.0.0:3000 or [::]:3000, found "localhost""#
        );
    }

    #[test]
    fn sweep_interval_parsing() {
        for (text, secs) in
            [("6h", 21600), ("30m", 1800), ("90s", 90), ("1d", 86400), ("1h30m", 5400), ("1d12h", 129600)]
        {
            assert_eq!(parse_duration(text), Ok(Duration::from_secs(secs)), "{text}");
        }
        for bad in ["6 hours", "6", "h", "6x", "1.5h", "-1h", "99999999999999999999d"] {
            assert_eq!(
                error_with(SWEEP_INTERVAL, Some(bad)),
                format!("SHIPSHAPE_SWEEP_INTERVAL: expected a duration like 6h, 30m, 90s or 1d, found {bad:?}")
            );
        }
        assert_eq!(
            error_with(SWEEP_INTERVAL, Some("0s")),
            r#"SHIPSHAPE_SWEEP_INTERVAL: must be longer than zero, found "0s""#
        );
    }

    #[test]
    fn write_limit_parsing() {
        assert_eq!(load(&base()).unwrap().write_limit, (80, Duration::from_secs(60)));
        let mut vars = base();
        vars.insert(WRITE_LIMIT, " 60/1m ".into());
        assert_eq!(load(&vars).unwrap().write_limit, (60, Duration::from_secs(60)));
        assert_eq!(parse_rate("5/90s"), Ok((5, Duration::from_secs(90))));
        for bad in ["80", "0/1m", "80/", "/1m", "80/fortnight", "-1/1m", "80/0s"] {
            assert_eq!(
                error_with(WRITE_LIMIT, Some(bad)),
                format!(
                    "SHIPSHAPE_WRITE_LIMIT: expected a rate like 80/1m (at least 1, a slash, a duration like 1m or \
                     90s), found {bad:?}"
                )
            );
        }
    }

    #[test]
    fn linked_tool_urls_are_checked_and_named() {
        assert_eq!(
            error_with(PROMETHEUS_URL, Some("prometheus:9090")),
            "SHIPSHAPE_PROMETHEUS_URL: expected an http(s) URL, found \"prometheus:9090\""
        );
        assert!(error_with(PAGERDUTY_API_URL, Some("ftp://pd")).starts_with("SHIPSHAPE_PAGERDUTY_API_URL: "));
        let mut vars = base();
        vars.insert(PROMETHEUS_URL, "http://prometheus:9090/".into());
        let config = load(&vars).unwrap();
        assert_eq!(config.providers.prometheus, Some(("http://prometheus:9090".to_string(), None)));
        assert_eq!(config.providers.pagerduty, None, "no token, no PagerDuty");
    }

    #[test]
    fn log_errors() {
        assert_eq!(
            error_with(LOG_FORMAT, Some("xml")),
            r#"SHIPSHAPE_LOG_FORMAT: expected pretty or json, found "xml""#
        );
        let line = error_with(LOG, Some("shipshape=loud"));
        assert!(line.starts_with(r#"SHIPSHAPE_LOG: invalid filter "shipshape=loud": "#), "{line}");
    }

    #[test]
    fn debug_output_hides_secrets() {
        let mut vars = base();
        vars.insert(SLACK_WEBHOOK_URL, "https://hooks.slack.com/services/T0/B0/SLACKSECRET".into());
        vars.insert(PAGERDUTY_TOKEN, "PDSECRET-u+123".into());
        vars.insert(PROMETHEUS_URL, "https://promuser:PROMPASS@prom.example.com".into());
        vars.insert(PROMETHEUS_TOKEN, "PROMSECRET-9".into());
        let config = load(&vars).unwrap().with_secrets([("SHIPSHAPE_SECRET_SONAR".into(), "SONARSECRET-1".into())]);
        let (pd_url, pd_token) = config.providers.pagerduty.clone().unwrap();
        assert_eq!((pd_url.as_str(), pd_token.as_str()), ("https://api.pagerduty.com", "PDSECRET-u+123"));
        assert_eq!(config.providers.secrets.get("SONAR").as_deref(), Some("SONARSECRET-1"));
        let text = format!("{config:?}");
        assert!(text.contains("12345") && text.contains("acme/catalog") && text.contains("SONAR"), "{text}");
        for secret in ["s3cr3t-webhook", "SLACKSECRET", "PDSECRET", "PROMSECRET", "SONARSECRET", "MIIE", "PRIVATE KEY"]
        {
            assert!(!text.contains(secret), "{secret} leaked: {text}");
        }
        assert_eq!(redact_url("postgres://u:pw@host/db"), "postgres://[redacted]@host/db");
    }

    #[derive(Debug, clap::Parser)]
    struct TestCli {
        #[command(flatten)]
        serve: ServeArgs,
    }

    #[test]
    fn flags_go_through_the_same_validation() {
        use clap::Parser;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("key.pem");
        std::fs::write(&path, PKCS8_KEY).unwrap();
        let path = path.display().to_string();
        let args = [
            "test",
            "--app-id",
            "7",
            "--private-key-path",
            &path,
            "--webhook-secret",
            "s3cr3t-webhook",
            "--catalog-repo",
            "acme/catalog",
            "--sweep-interval",
            "30m",
            "--log-format",
            "json",
        ];
        let cli = TestCli::try_parse_from(args).unwrap();
        let debug = format!("{cli:?}");
        assert!(!debug.contains("s3cr3t-webhook"), "{debug}");
        let config = ServeConfig::try_from(cli.serve.clone()).unwrap();
        assert_eq!(config.app_id, 7);
        assert_eq!(config.sweep_interval, Duration::from_secs(1800));
        assert_eq!(config.log_format, LogFormat::Json);

        let mut serve = cli.serve;
        serve.catalog_repo = Some("foo".into());
        assert_eq!(
            serve.into_config().unwrap_err().to_string(),
            r#"SHIPSHAPE_CATALOG_REPO: expected owner/name, found "foo""#
        );
    }
}
