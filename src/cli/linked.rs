//! Linked-tool facts for `evaluate`: GitHub (with `SHIPSHAPE_GITHUB_TOKEN`, for a clone whose `origin` is on
//! GitHub), PagerDuty, Prometheus and `http` checks (from their variables), asked through the same code as the App.

use crate::catalog::Service;
use crate::config::{DEFAULT_GITHUB_API_URL, GITHUB_API_URL, GITHUB_TOKEN, parse_http_url};
use crate::facts::{Fact, LinkedFacts, RepoFacts};
use crate::github::client::{GhError, Installation, NoCache};
use crate::github::path::repo_api;
use crate::policy::Policy;
use crate::providers::{Providers, ProvidersConfig};

pub struct CliLinked {
    runtime: tokio::runtime::Runtime,
    providers: Providers,
    github: Option<Installation>,
}

impl CliLinked {
    /// From the environment; a malformed URL is an error naming its variable.
    pub fn from_env() -> anyhow::Result<Self> {
        let get = |name: &str| std::env::var(name).ok();
        let mut config = ProvidersConfig::from_vars(get, std::iter::empty())
            .map_err(|(name, problem)| anyhow::anyhow!("{name}: {problem}"))?;
        config.secrets = crate::providers::http_rule::Secrets::from_env();
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        let providers = {
            let _guard = runtime.enter();
            Providers::new(&config, Default::default())?
        };
        let github = match get(GITHUB_TOKEN).map(|t| t.trim().to_string()).filter(|t| !t.is_empty()) {
            Some(token) => {
                let url = match get(GITHUB_API_URL).filter(|u| !u.trim().is_empty()) {
                    Some(url) => parse_http_url(url.trim()).map_err(|p| anyhow::anyhow!("{GITHUB_API_URL}: {p}"))?,
                    None => DEFAULT_GITHUB_API_URL.to_string(),
                };
                let _guard = runtime.enter();
                Some(Installation::with_token(&url, &token).map_err(|e| anyhow::anyhow!("{e}"))?)
            }
            None => None,
        };
        Ok(Self { runtime, providers, github })
    }

    /// Everything the policy needs to know from linked tools about one repository.
    pub fn collect(
        &self,
        policy: &Policy,
        facts: &RepoFacts,
        service: Option<&Service>,
        repository: &str,
    ) -> LinkedFacts {
        self.runtime.block_on(async {
            let mut linked = match (&self.github, &facts.origin_slug) {
                (Some(github), Some(slug)) => {
                    let wanted = crate::github::facts::Wanted { releases: policy.reads_releases(), own_app: None };
                    let has_codeowners = crate::codeowners::locate(|p| facts.files.contains_key(p)).is_some();
                    let codeowners_at = facts.commit.as_deref().filter(|_| has_codeowners);
                    github_facts(github, slug, codeowners_at, wanted).await
                }
                (Some(_), None) => {
                    let mut linked = LinkedFacts::none_configured();
                    let why = "the repository has no `origin` remote on GitHub, so GitHub facts cannot be read";
                    set_github(&mut linked, false, why);
                    linked
                }
                (None, _) => LinkedFacts::none_configured(),
            };
            let name = crate::engine::service_name(service, repository);
            self.providers.collect(policy, service, name, chrono::Utc::now(), &mut linked).await;
            linked
        })
    }
}

/// Sets every GitHub fact to "not configured" or "unavailable" with `why`.
fn set_github(linked: &mut LinkedFacts, unavailable: bool, why: &str) {
    fn fact<T>(unavailable: bool, why: &str) -> Fact<T> {
        if unavailable { Fact::Unavailable(why.to_string()) } else { Fact::NotConfigured(why.to_string()) }
    }
    linked.branch_protection = fact(unavailable, why);
    linked.vulnerability_alerts = fact(unavailable, why);
    linked.code_scanning_alerts = fact(unavailable, why);
    linked.secret_scanning_alerts = fact(unavailable, why);
    linked.ci = fact(unavailable, why);
    linked.codeowners_errors = fact(unavailable, why);
    linked.last_release = fact(unavailable, why);
}

async fn github_facts(
    github: &Installation,
    slug: &str,
    codeowners_at: Option<&str>,
    wanted: crate::github::facts::Wanted,
) -> LinkedFacts {
    #[derive(serde::Deserialize)]
    struct Repository {
        default_branch: String,
    }
    let read = async {
        let repository: Repository = github.get(&repo_api(slug), "GET /repos/{owner}/{repo}").await?;
        crate::github::facts::collect(github, slug, &repository.default_branch, codeowners_at, wanted, &NoCache).await
    };
    match read.await {
        Ok(linked) => linked,
        Err(e) => {
            let why = match e {
                GhError::NotFound { .. } => {
                    format!("GitHub has no repository `{slug}` that SHIPSHAPE_GITHUB_TOKEN can read")
                }
                GhError::Unauthorized { .. } => "GitHub refused SHIPSHAPE_GITHUB_TOKEN (401)".to_string(),
                other => format!("cannot read GitHub facts: {other}"),
            };
            let mut linked = LinkedFacts::none_configured();
            set_github(&mut linked, true, &why);
            linked
        }
    }
}
