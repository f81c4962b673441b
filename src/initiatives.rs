//! Initiatives: time-boxed campaigns of a scorecard ("every service passes `owner` and `codeowners` by 2027-03-31",
//! whatever its tier). Pure: scorecards, the policy's initiatives and today's date in, a [`Progress`] report out
//! (`shipshape initiatives` renders it as text or JSON; its JSON form is a public interface: add, never rename).
//!
//! For one initiative a service is
//! - **done** when each of the initiative's rules passes, is excepted, or does not apply to it (`skipped` with a
//!   message starting `does not apply`);
//! - **failing** when one of them fails;
//! - **unknown** otherwise: a rule was `skipped` (a linked tool is not configured) or is in `error`, so nobody can
//!   tell yet.
//!
//! An initiative is **overdue** when its deadline has passed and a service is failing it: that is the work the
//! command exits 1 for. Unknown services are reported, never counted as failing (as for levels).

use crate::engine::{Scorecard, Status};
use crate::policy::Initiative;
use chrono::NaiveDate;
use serde::Serialize;
use std::fmt::Write as _;

/// How the engine's message starts for a rule whose `when` says it does not apply.
pub const DOES_NOT_APPLY: &str = "does not apply";

/// Progress of every initiative over a set of scorecards, as of a date.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Progress {
    /// The date days are counted from (`--as-of`, else today).
    pub as_of: NaiveDate,
    /// In policy order.
    pub initiatives: Vec<InitiativeProgress>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct InitiativeProgress {
    pub id: String,
    pub title: String,
    /// The last day to get done (inclusive).
    pub deadline: NaiveDate,
    /// Days from `as_of` to the deadline: 0 on the deadline day, negative once it has passed.
    pub days_left: i64,
    /// The deadline has passed and at least one service is failing the initiative.
    pub overdue: bool,
    pub services: Counts,
    /// The initiative's rules, in its order.
    pub rules: Vec<RuleProgress>,
    /// One entry per owning team, by name; services without an owner last (`team: null`).
    pub teams: Vec<TeamProgress>,
}

/// Services, by where they stand with one initiative: `total = done + failing + unknown`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub total: usize,
    pub done: usize,
    pub failing: usize,
    pub unknown: usize,
}

/// One rule of an initiative.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RuleProgress {
    pub id: String,
    /// The rule's title (its id when no scorecard has it).
    pub title: String,
    /// Services where the rule fails.
    pub failing: usize,
    /// Services where the rule was skipped (for a reason other than not applying) or in error.
    pub unknown: usize,
}

/// One team's share of an initiative.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TeamProgress {
    /// The catalog `spec.owner`; `null` for services with no owner.
    pub team: Option<String>,
    pub total: usize,
    pub done: usize,
    /// Services failing the initiative, with the rules that fail.
    pub failing: Vec<ServiceRules>,
    /// Services nobody can tell about yet, with the rules skipped or in error.
    pub unknown: Vec<ServiceRules>,
}

/// A service and some of the initiative's rules.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ServiceRules {
    /// The catalog service name; `null` for a repository with no catalog entry.
    pub service: Option<String>,
    /// `owner/name`, or the path scored.
    pub repository: String,
    /// Rule ids, in the initiative's order.
    pub rules: Vec<String>,
}

impl ServiceRules {
    /// The service name, else the repository.
    pub fn name(&self) -> &str {
        self.service.as_deref().unwrap_or(&self.repository)
    }
}

/// Where one service stands with one initiative.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Standing {
    Done,
    /// The failing rules.
    Failing(Vec<String>),
    /// The rules skipped or in error (none fails).
    Unknown(Vec<String>),
}

/// Where `card` stands with the initiative's `rules`. A rule the scorecard does not have counts as unknown.
pub fn standing(card: &Scorecard, rules: &[String]) -> Standing {
    standing_by(rules, |id| card.rule(id).map(|r| (r.status, not_applicable(r.status, &r.message))))
}

/// Where a service stands with `rules`, given each rule's status and whether it does not apply (`None`: the rule
/// was not evaluated, which counts as unknown). The dashboard asks this of day records.
pub fn standing_by(rules: &[String], judged: impl Fn(&str) -> Option<(Status, bool)>) -> Standing {
    let mut failing = Vec::new();
    let mut unknown = Vec::new();
    for id in rules {
        match judged(id) {
            Some((status, not_applicable)) if status.is_ok() || (status == Status::Skipped && not_applicable) => {}
            Some((Status::Fail, _)) => failing.push(id.clone()),
            _ => unknown.push(id.clone()),
        }
    }
    if !failing.is_empty() {
        Standing::Failing(failing)
    } else if !unknown.is_empty() {
        Standing::Unknown(unknown)
    } else {
        Standing::Done
    }
}

/// Whether a rule's result says it does not apply to the service (its `when` left it out).
pub fn not_applicable(status: Status, message: &str) -> bool {
    status == Status::Skipped && message.starts_with(DOES_NOT_APPLY)
}

/// The progress of every initiative over `cards`, as of `today`.
pub fn progress(cards: &[Scorecard], initiatives: &[Initiative], today: NaiveDate) -> Progress {
    Progress { as_of: today, initiatives: initiatives.iter().map(|i| initiative(cards, i, today)).collect() }
}

fn initiative(cards: &[Scorecard], initiative: &Initiative, today: NaiveDate) -> InitiativeProgress {
    let mut rules: Vec<RuleProgress> = initiative
        .rules
        .iter()
        .map(|id| RuleProgress {
            id: id.clone(),
            title: cards.iter().find_map(|c| c.rule(id)).map_or_else(|| id.clone(), |r| r.title.clone()),
            failing: 0,
            unknown: 0,
        })
        .collect();
    let mut services = Counts::default();
    let mut teams: Vec<TeamProgress> = Vec::new();
    for card in cards {
        let team = match teams.iter().position(|t| t.team == card.owner) {
            Some(at) => &mut teams[at],
            None => {
                let empty =
                    TeamProgress { team: card.owner.clone(), total: 0, done: 0, failing: vec![], unknown: vec![] };
                teams.push(empty);
                teams.last_mut().expect("just pushed")
            }
        };
        services.total += 1;
        team.total += 1;
        let entry = |rules: Vec<String>| ServiceRules {
            service: card.service.clone(),
            repository: card.repository.clone(),
            rules,
        };
        match standing(card, &initiative.rules) {
            Standing::Done => {
                services.done += 1;
                team.done += 1;
            }
            Standing::Failing(failing) => {
                services.failing += 1;
                team.failing.push(entry(failing));
            }
            Standing::Unknown(unknown) => {
                services.unknown += 1;
                team.unknown.push(entry(unknown));
            }
        }
        for rule in &mut rules {
            match card.rule(&rule.id) {
                Some(r) if r.status == Status::Fail => rule.failing += 1,
                Some(r) if r.status.is_ok() || not_applicable(r.status, &r.message) => {}
                _ => rule.unknown += 1,
            }
        }
    }
    // Named teams by name, then the services nobody owns; services by name within a team.
    teams.sort_by(|a, b| (a.team.is_none(), &a.team).cmp(&(b.team.is_none(), &b.team)));
    for team in &mut teams {
        team.failing.sort_by(|a, b| (a.name(), &a.repository).cmp(&(b.name(), &b.repository)));
        team.unknown.sort_by(|a, b| (a.name(), &a.repository).cmp(&(b.name(), &b.repository)));
    }
    let days_left = (initiative.deadline - today).num_days();
    InitiativeProgress {
        id: initiative.id.clone(),
        title: initiative.title.clone(),
        deadline: initiative.deadline,
        days_left,
        overdue: days_left < 0 && services.failing > 0,
        services,
        rules,
        teams,
    }
}

impl Progress {
    /// Some initiative is overdue: its deadline has passed and a service still fails it (exit status 1).
    pub fn has_overdue_work(&self) -> bool {
        self.initiatives.iter().any(|i| i.overdue)
    }
}

/// "12 days left", "due today", "overdue by 3 days", or "deadline passed 3 days ago" when nothing fails.
pub fn due_phrase(i: &InitiativeProgress) -> String {
    let days = |n: i64| if n == 1 { "1 day".to_string() } else { format!("{n} days") };
    match i.days_left {
        0 => "due today".to_string(),
        n if n > 0 => format!("{} left", days(n)),
        n if i.overdue => format!("overdue by {}", days(-n)),
        n => format!("deadline passed {} ago", days(-n)),
    }
}

const RESET: &str = "\x1b[0m";
const BOLD: &str = "\x1b[1m";
const RED: &str = "\x1b[31m";
const GREEN: &str = "\x1b[32m";
const YELLOW: &str = "\x1b[33m";

/// What a team table calls the services with no owner.
pub const NO_OWNER: &str = "(no owner)";

/// The text report: one block per initiative (deadline, counts, rules), then one table of teams, then a verdict
/// line. ANSI colours only when `color`.
pub fn render_text(progress: &Progress, color: bool) -> String {
    let paint = |code: &'static str, text: &str| if color { format!("{code}{text}{RESET}") } else { text.to_string() };
    let mut out = String::new();
    let services = progress.initiatives.first().map_or(0, |i| i.services.total);
    let _ = writeln!(out, "{} as of {} ({})", paint(BOLD, "Initiatives"), progress.as_of, plural(services, "service"));
    for i in &progress.initiatives {
        out.push('\n');
        let _ = writeln!(out, "{} ({})", paint(BOLD, &clean(&i.title)), clean(&i.id));
        let due = format!("deadline {}: {}", i.deadline, due_phrase(i));
        let due_color = if i.overdue {
            RED
        } else if i.services.done == i.services.total {
            GREEN
        } else {
            ""
        };
        let _ = writeln!(out, "  {}", if due_color.is_empty() { due } else { paint(due_color, &due) });
        let s = &i.services;
        let _ = writeln!(
            out,
            "  {} of {} done, {} failing, {} unknown",
            s.done,
            plural(s.total, "service"),
            s.failing,
            s.unknown
        );
        let mut table = vec![["RULE", "FAILING", "UNKNOWN", "TITLE"].map(Cell::plain).into()];
        for r in &i.rules {
            table.push(vec![
                Cell::plain(&clean(&r.id)),
                Cell::new(&r.failing.to_string(), if r.failing > 0 { RED } else { "" }),
                Cell::new(&r.unknown.to_string(), if r.unknown > 0 { YELLOW } else { "" }),
                Cell::plain(&clean(&r.title)),
            ]);
        }
        out.push_str(&render_table(&table, "  ", color));
    }

    out.push('\n');
    let _ = writeln!(out, "{}", paint(BOLD, "Teams"));
    let mut table = vec![["TEAM", "INITIATIVE", "DONE", "NOT DONE", "RULES"].map(Cell::plain).into()];
    let mut teams: Vec<Option<&str>> = Vec::new();
    for t in progress.initiatives.iter().flat_map(|i| &i.teams) {
        if !teams.contains(&t.team.as_deref()) {
            teams.push(t.team.as_deref());
        }
    }
    teams.sort_by_key(|t| (t.is_none(), *t));
    for team in teams {
        let team_name = team.map_or_else(|| NO_OWNER.to_string(), clean);
        for i in &progress.initiatives {
            let Some(t) = i.teams.iter().find(|t| t.team.as_deref() == team) else { continue };
            let done = format!("{}/{}", t.done, t.total);
            let mut first = vec![
                Cell::plain(&team_name),
                Cell::plain(&clean(&i.id)),
                Cell::new(&done, if t.done == t.total { GREEN } else { "" }),
            ];
            let gaps = t.failing.iter().map(|s| (s, "✗", RED)).chain(t.unknown.iter().map(|s| (s, "?", YELLOW)));
            let mut any = false;
            for (service, mark, mark_color) in gaps {
                let lead = if any {
                    vec![Cell::plain(""), Cell::plain(""), Cell::plain("")]
                } else {
                    std::mem::take(&mut first)
                };
                any = true;
                let mut row = lead;
                row.push(Cell::new(&format!("{mark} {}", clean(service.name())), mark_color));
                row.push(Cell::plain(&service.rules.iter().map(|r| clean(r)).collect::<Vec<_>>().join(", ")));
                table.push(row);
            }
            if !any {
                table.push(first);
            }
        }
    }
    out.push_str(&render_table(&table, "  ", color));

    out.push('\n');
    let overdue: Vec<String> = progress
        .initiatives
        .iter()
        .filter(|i| i.overdue)
        .map(|i| format!("{} ({} failing)", clean(&i.id), plural(i.services.failing, "service")))
        .collect();
    if overdue.is_empty() {
        let _ = writeln!(out, "no overdue work");
    } else {
        let _ = writeln!(out, "{}", paint(RED, &format!("overdue: {}", overdue.join(", "))));
    }
    out
}

/// A table cell: plain text and the colour to show it in ("" for none).
struct Cell {
    text: String,
    color: &'static str,
}

impl Cell {
    fn new(text: &str, color: &'static str) -> Self {
        Self { text: text.to_string(), color }
    }

    fn plain(text: &str) -> Self {
        Self::new(text, "")
    }
}

/// Rows with columns aligned by their plain width (two spaces apart), each line indented; no trailing spaces.
fn render_table(rows: &[Vec<Cell>], indent: &str, color: bool) -> String {
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let mut widths = vec![0usize; columns];
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.text.chars().count());
        }
    }
    let mut out = String::new();
    for row in rows {
        let mut line = String::from(indent);
        for (i, cell) in row.iter().enumerate() {
            if i > 0 {
                line.push_str("  ");
            }
            if color && !cell.color.is_empty() && !cell.text.is_empty() {
                let _ = write!(line, "{}{}{RESET}", cell.color, cell.text);
            } else {
                line.push_str(&cell.text);
            }
            if i + 1 < row.len() {
                line.extend(std::iter::repeat_n(' ', widths[i] - cell.text.chars().count()));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// "1 service", "2 services".
fn plural(n: usize, noun: &str) -> String {
    if n == 1 { format!("1 {noun}") } else { format!("{n} {noun}s") }
}

/// Text from repositories, the catalog and policy files, made harmless for a terminal: control characters dropped.
fn clean(s: &str) -> String {
    s.chars().filter(|c| !c.is_control()).collect()
}

#[cfg(test)]
mod tests;
