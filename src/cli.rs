//! The command line (SPEC 2): `evaluate`, `validate`, `initiatives`, `schema`.

mod linked;

use crate::catalog::{Catalog, Service};
use crate::clock::{Clock, FixedClock, SystemClock};
use crate::diag::Diagnostics;
use crate::engine::{self, Scorecard, Subject};
use crate::facts::{self, ReadPlan};
use crate::initiatives;
use crate::policy::{self, Policy};
use crate::report::{self, Format, RenderOptions};
use crate::validate;
use anyhow::Context;
use chrono::NaiveDate;
use clap::{Parser, Subcommand};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Exit status: every repository meets its tier's required level / all files valid.
pub const EXIT_OK: u8 = 0;
/// Exit status: one or more repositories are below their required level.
pub const EXIT_BELOW: u8 = 1;
/// Exit status: usage, configuration or input error.
pub const EXIT_INPUT: u8 = 2;

#[derive(Debug, Parser)]
#[command(
    name = "shipshape",
    version = concat!(env!("CARGO_PKG_VERSION"), " (commit ", env!("SHIPSHAPE_COMMIT"), ")"),
    about = "Production readiness scorecards for GitHub repositories"
)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Score one or more local git repositories (default `.`).
    Evaluate(EvaluateArgs),
    /// Check policy and catalog files; print every problem as `file:line:col: message`.
    Validate(ValidateArgs),
    /// Score repositories like `evaluate` and report the policy's initiatives: progress by rule and by team.
    Initiatives(InitiativesArgs),
    /// Run the GitHub App: receive webhooks, evaluate pull requests, report check runs.
    Serve(Box<crate::config::ServeArgs>),
    /// Print the JSON Schema of a file format (policy, service or exception).
    Schema {
        #[arg(value_enum)]
        kind: crate::schema::SchemaKind,
    },
    /// Print shell completions, e.g. `shipshape completions bash > /etc/bash_completion.d/shipshape`.
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

/// Where the policy and catalog come from, and the date to judge them by (`evaluate`, `initiatives`, `validate`).
#[derive(Debug, clap::Args)]
struct Sources {
    /// Scorecard policy file, or a directory holding one (default: the embedded scorecard, or the catalog's
    /// `policies/` when --catalog has one).
    #[arg(long, value_name = "FILE|DIR")]
    policy: Option<PathBuf>,
    /// A local checkout of the catalog repository (tiers, owners, exceptions).
    #[arg(long, value_name = "DIR")]
    catalog: Option<PathBuf>,
    /// Evaluate as of this date (YYYY-MM-DD): which exceptions are active, how far deadlines are. Default: today
    /// (UTC).
    #[arg(long, value_name = "DATE", value_parser = parse_date)]
    as_of: Option<NaiveDate>,
}

/// What `evaluate` and `initiatives` score: repositories, with a policy and a catalog, as of a date.
#[derive(Debug, clap::Args)]
struct ScoreInputs {
    /// Repositories to score.
    #[arg(default_value = ".")]
    paths: Vec<PathBuf>,
    #[command(flatten)]
    sources: Sources,
}

impl ScoreInputs {
    /// Today (or `--as-of`), the policy and the catalog; `None` (exit 2) when they have errors, already printed.
    fn load(&self) -> Option<(NaiveDate, Policy, Option<Catalog>)> {
        let today = clock(self.sources.as_of).today();
        let (policy, catalog) = load_checked(self.sources.policy.as_deref(), self.sources.catalog.as_deref(), today)?;
        Some((today, policy, catalog))
    }
}

#[derive(Debug, clap::Args)]
struct EvaluateArgs {
    #[command(flatten)]
    inputs: ScoreInputs,
    /// The catalog service to score the repository as (default: the service whose `github.com/project-slug`
    /// matches the repository's `origin`).
    #[arg(long, value_name = "NAME")]
    service: Option<String>,
    /// Score as this tier, whatever the catalog says.
    #[arg(long, value_name = "N")]
    tier: Option<u32>,
    /// Score this commit (read through git, no checkout) instead of the working tree.
    #[arg(long, value_name = "REV")]
    rev: Option<String>,
    /// Output format: text (for a terminal), json (SPEC's public interface), markdown, sarif (GitHub code scanning).
    #[arg(long, value_name = "FORMAT", default_value = "text", value_parser = format_parser())]
    format: Format,
    /// Write the report to this file instead of standard output.
    #[arg(long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Report only the rules that fail or could not be evaluated (error), and in text and Markdown only the
    /// repositories that have any: for long runs over many repositories. The exit status is unchanged.
    #[arg(long)]
    failing: bool,
}

/// `--format`: the names listed in `--help` and in the error for a wrong one.
fn format_parser() -> impl clap::builder::TypedValueParser<Value = Format> {
    use clap::builder::TypedValueParser;
    let names = Format::ALL.map(Format::as_str);
    clap::builder::PossibleValuesParser::new(names).map(|name| name.parse::<Format>().expect("one of the names"))
}

#[derive(Debug, clap::Args)]
struct ValidateArgs {
    #[command(flatten)]
    sources: Sources,
}

#[derive(Debug, clap::Args)]
struct InitiativesArgs {
    #[command(flatten)]
    inputs: ScoreInputs,
    /// Output format.
    #[arg(long, value_name = "FORMAT", value_enum, default_value = "text")]
    format: InitiativesFormat,
}

#[derive(Clone, Copy, Debug, clap::ValueEnum)]
enum InitiativesFormat {
    Text,
    Json,
}

fn parse_date(s: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| format!("`{s}` is not a date written YYYY-MM-DD"))
}

/// Runs the command line; the exit code follows SPEC 2.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { EXIT_INPUT } else { EXIT_OK });
        }
    };
    let result = match cli.command {
        Command::Evaluate(args) => evaluate(args),
        Command::Validate(args) => validate_command(args),
        Command::Initiatives(args) => initiatives_command(args),
        Command::Serve(args) => return serve(*args),
        Command::Schema { kind } => {
            print!("{}", crate::schema::render(kind));
            Ok(EXIT_OK)
        }
        Command::Completions { shell } => {
            use clap::CommandFactory;
            clap_complete::generate(shell, &mut Cli::command(), "shipshape", &mut std::io::stdout());
            Ok(EXIT_OK)
        }
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("shipshape: {e:#}");
            ExitCode::from(EXIT_INPUT)
        }
    }
}

/// `serve`: a bad setting or a failure to start is one line on standard error and a non-zero exit.
fn serve(args: crate::config::ServeArgs) -> ExitCode {
    let config = match args.into_config() {
        Ok(config) => config,
        Err(e) => {
            eprintln!("shipshape: {e}");
            return ExitCode::from(EXIT_INPUT);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("shipshape: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(crate::serve::run(config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.downcast_ref::<crate::serve::SettingError>().is_some() => {
            eprintln!("shipshape: {e:#}");
            ExitCode::from(EXIT_INPUT)
        }
        Err(e) => {
            eprintln!("shipshape: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn clock(as_of: Option<NaiveDate>) -> Box<dyn Clock> {
    match as_of {
        Some(date) => Box::new(FixedClock(date)),
        None => Box::new(SystemClock),
    }
}

/// Loads the catalog (when given) and the policy, and checks them against each other; every problem goes to `diags`.
/// The catalog's files with errors (their own, or against the policy) are left out of it (`Catalog::left_out`).
/// `lengths`: also report exceptions longer than their tier allows (errors for `validate`; scoring honours them, so
/// they do not leave the file out).
fn load_inputs(
    policy_path: Option<&Path>,
    catalog_dir: Option<&Path>,
    today: NaiveDate,
    lengths: bool,
    diags: &mut Diagnostics,
) -> (Option<Policy>, Option<Catalog>) {
    let mut catalog = catalog_dir.map(|dir| Catalog::load(dir, diags));
    let policy_path = policy_path.map(Path::to_path_buf).or_else(|| catalog.as_ref()?.policy_dir.clone());
    let policy = match policy_path {
        Some(path) => policy::load_path(&path, diags),
        None => {
            let mut embedded = Diagnostics::default();
            let policy = Policy::parse(policy::EMBEDDED_NAME, policy::EMBEDDED, &mut embedded);
            diags.extend(embedded.iter().cloned());
            policy
        }
    };
    if let Some(catalog) = &mut catalog {
        diags.extend(validate::cross_check(policy.as_ref(), catalog, today).iter().cloned());
        let too_long = policy.as_ref().filter(|_| lengths).map(|p| validate::exception_lengths(p, catalog, today));
        catalog.leave_out(diags);
        diags.extend(too_long.iter().flat_map(Diagnostics::iter).cloned());
    }
    (policy, catalog)
}

/// [`load_inputs`], with every diagnostic printed to standard error; `None` (exit status 2) when the policy has
/// errors or the catalog cannot be read as a whole. Catalog files with errors are left out with a warning: the
/// rest of the catalog is used.
fn load_checked(
    policy_path: Option<&Path>,
    catalog_dir: Option<&Path>,
    today: NaiveDate,
) -> Option<(Policy, Option<Catalog>)> {
    let mut diags = Diagnostics::default();
    let (policy, catalog) = load_inputs(policy_path, catalog_dir, today, false, &mut diags);
    let mut stderr = std::io::stderr().lock();
    let mut fatal = false;
    for d in diags.sorted() {
        let _ = writeln!(stderr, "{d}");
        fatal |= d.is_error() && !catalog.as_ref().is_some_and(|c| c.is_left_out(&d.file));
    }
    if fatal {
        return None;
    }
    if let Some(left_out) = catalog.as_ref().map(|c| c.left_out.len()).filter(|n| *n > 0) {
        let _ = writeln!(
            stderr,
            "shipshape: warning: {} with errors left out of the catalog; scoring with the rest \
             (`shipshape validate` lists every problem)",
            count(left_out, "file")
        );
    }
    Some((policy?, catalog))
}

/// How [`score_paths`] scores each repository.
struct Scoring<'a> {
    policy: &'a Policy,
    catalog: Option<&'a Catalog>,
    /// `--service`: score every path as this catalog service.
    service: Option<&'a str>,
    /// `--tier`.
    tier: Option<u32>,
    /// `--rev`: read this commit through git instead of the working tree.
    rev: Option<&'a str>,
    today: NaiveDate,
}

/// Scores each repository path (matched to its catalog service, with its exceptions), with a progress bar on a
/// terminal for several. Shared by `evaluate` and `initiatives`.
fn score_paths(paths: &[PathBuf], scoring: &Scoring<'_>) -> anyhow::Result<Vec<Scorecard>> {
    let Scoring { policy, catalog, service: service_name, tier, rev, today } = *scoring;
    let stderr = std::io::stderr();
    let plan = ReadPlan::new(policy.read_globs.clone());
    let linked_tools = linked::CliLinked::from_env()?;
    let progress = (paths.len() > 1 && std::io::stderr().is_terminal()).then(|| {
        let bar = indicatif::ProgressBar::new(paths.len() as u64);
        bar.set_style(
            indicatif::ProgressStyle::with_template("{bar:30} {pos}/{len} {msg}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        bar
    });

    let mut cards = Vec::with_capacity(paths.len());
    for path in paths {
        if let Some(bar) = &progress {
            bar.set_message(path.display().to_string());
        }
        // A directory inside a repository scores the whole repository, as every git tool does (SPEC 2); the facts
        // layer could list a plain directory or a subdirectory, but `evaluate` scores repositories.
        let top = facts::repository_root(path)?;
        let mut facts = match rev {
            Some(rev) => facts::collect_rev(&top, rev, &plan),
            None => facts::collect_worktree(&top, &plan),
        }?;
        if std::fs::canonicalize(path).ok() != std::fs::canonicalize(&top).ok() {
            facts.notes.push(format!(
                "{} is inside the repository at {}: the whole repository was scored",
                path.display(),
                top.display()
            ));
        }

        let mut local_diags = Diagnostics::default();
        let local_entity;
        let service: Option<&Service> = match (catalog, service_name, &facts.origin_slug) {
            (Some(catalog), Some(name), _) => catalog.services.get(name),
            (Some(catalog), None, Some(slug)) => catalog.service_for_repository(slug),
            (Some(_), None, None) => None,
            (None, _, _) => {
                local_entity = facts
                    .text("catalog-info.yaml")
                    .and_then(|text| Service::from_entity("catalog-info.yaml", text, &mut local_diags));
                local_entity.as_ref()
            }
        };
        for d in local_diags.sorted() {
            let _ = writeln!(stderr.lock(), "{}: {d}", path.display());
        }
        let exceptions = match (catalog, service) {
            (Some(catalog), Some(service)) => catalog.exceptions_for(&service.name).collect(),
            _ => Vec::new(),
        };
        let repository = facts.origin_slug.clone().unwrap_or_else(|| display_name(&top));
        let linked = linked_tools.collect(policy, &facts, service, &repository);
        let subject = Subject {
            repository,
            facts: &facts,
            linked: &linked,
            service,
            catalog_given: catalog.is_some(),
            exceptions,
            tier_override: tier,
            today,
            jq_limits: crate::jq::Limits::REVIEWED,
        };
        let mut card = engine::evaluate(policy, &subject);
        if let Some(catalog) = catalog {
            let place = catalog.root.display().to_string();
            card.notes.extend(catalog.left_out_notes(&place, service, service_name, facts.origin_slug.as_deref()));
        }
        cards.push(card);
        if let Some(bar) = &progress {
            bar.inc(1);
        }
    }
    if let Some(bar) = progress {
        bar.finish_and_clear();
    }
    Ok(cards)
}

/// Colour only on a terminal, and never with `NO_COLOR`.
fn use_color(to_terminal: bool) -> bool {
    to_terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

fn evaluate(args: EvaluateArgs) -> anyhow::Result<u8> {
    let Some((today, policy, catalog)) = args.inputs.load() else {
        return Ok(EXIT_INPUT);
    };
    if let Some(tier) = args.tier
        && !policy.tiers.contains_key(&tier)
    {
        let known: Vec<String> = policy.tiers.keys().map(u32::to_string).collect();
        anyhow::bail!("--tier {tier}: the policy defines tiers {}", known.join(", "));
    }
    if args.service.is_some() && catalog.is_none() {
        anyhow::bail!("--service names a catalog service: give the catalog with --catalog DIR");
    }
    if let (Some(name), Some(catalog)) = (&args.service, &catalog)
        && !catalog.services.contains_key(name)
        && catalog.left_out_entry(Some(name), None).is_none()
    {
        let hint = crate::diag::suggestion(name, catalog.services.keys().map(String::as_str));
        anyhow::bail!("--service {name}: no such service in the catalog{hint}");
    }

    let scoring = Scoring {
        policy: &policy,
        catalog: catalog.as_ref(),
        service: args.service.as_deref(),
        tier: args.tier,
        rev: args.rev.as_deref(),
        today,
    };
    let cards = score_paths(&args.inputs.paths, &scoring)?;

    let color = use_color(args.output.is_none() && std::io::stdout().is_terminal());
    let exit = if cards.iter().all(|c| c.meets_required) { EXIT_OK } else { EXIT_BELOW };
    let shown = if args.failing { report::only_failing(&cards, args.format) } else { cards.clone() };
    let rendered = if shown.is_empty() {
        format!(
            "nothing fails: {} scored, every rule passes, is excepted or was skipped\n",
            if cards.len() == 1 { "1 repository".to_string() } else { format!("{} repositories", cards.len()) }
        )
    } else {
        report::render(args.format, &shown, &RenderOptions { color })?
    };
    match &args.output {
        Some(file) => std::fs::write(file, rendered).with_context(|| format!("cannot write {}", file.display()))?,
        None => {
            let mut out = std::io::stdout().lock();
            out.write_all(rendered.as_bytes()).context("cannot write to standard output")?;
        }
    }
    Ok(exit)
}

/// `initiatives`: score like `evaluate`, then report each initiative's progress; exit 1 when one is overdue.
fn initiatives_command(args: InitiativesArgs) -> anyhow::Result<u8> {
    let Some((today, policy, catalog)) = args.inputs.load() else {
        return Ok(EXIT_INPUT);
    };
    let mut out = std::io::stdout().lock();
    if policy.initiatives.is_empty() {
        let note =
            format!("{} defines no initiatives: nothing to track (add `initiatives:` to the policy)", policy.file);
        match args.format {
            InitiativesFormat::Text => writeln!(out, "{note}")?,
            InitiativesFormat::Json => {
                eprintln!("{note}");
                writeln!(out, "{}", serde_json::json!({"as_of": today, "initiatives": []}))?;
            }
        }
        return Ok(EXIT_OK);
    }
    let scoring = Scoring { policy: &policy, catalog: catalog.as_ref(), service: None, tier: None, rev: None, today };
    let cards = score_paths(&args.inputs.paths, &scoring)?;
    let progress = initiatives::progress(&cards, &policy.initiatives, today);
    let rendered = match args.format {
        InitiativesFormat::Text => initiatives::render_text(&progress, use_color(std::io::stdout().is_terminal())),
        InitiativesFormat::Json => serde_json::to_string_pretty(&progress).context("serialising the progress")? + "\n",
    };
    out.write_all(rendered.as_bytes()).context("cannot write to standard output")?;
    Ok(if progress.has_overdue_work() { EXIT_BELOW } else { EXIT_OK })
}

fn display_name(path: &Path) -> String {
    let absolute = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    absolute.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| path.display().to_string())
}

fn validate_command(args: ValidateArgs) -> anyhow::Result<u8> {
    let today = clock(args.sources.as_of).today();
    let mut diags = Diagnostics::default();
    let (policy, catalog) =
        load_inputs(args.sources.policy.as_deref(), args.sources.catalog.as_deref(), today, true, &mut diags);
    let failed = diags.has_errors();
    let mut out = std::io::stdout().lock();
    for d in diags.sorted() {
        writeln!(out, "{d}")?;
    }
    if failed {
        return Ok(EXIT_INPUT);
    }
    let policy = policy.expect("no errors means the policy loaded");
    let mut summary = format!(
        "ok: {} ({}, {}, {})",
        policy.file,
        count(policy.rules.len(), "rule"),
        count(policy.levels.len(), "level"),
        count(policy.tiers.len(), "tier")
    );
    if let Some(catalog) = &catalog {
        summary += &format!(
            "; catalog {} ({}, {})",
            catalog.root.display(),
            count(catalog.services.len(), "service"),
            count(catalog.exceptions.len(), "exception")
        );
    }
    writeln!(out, "{summary}")?;
    Ok(EXIT_OK)
}

/// "1 rule", "2 rules".
fn count(n: usize, noun: &str) -> String {
    if n == 1 { format!("1 {noun}") } else { format!("{n} {noun}s") }
}
