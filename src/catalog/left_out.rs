//! Catalog files with errors are left out of scoring, not a reason to stop it: one typo in one service's entry must
//! not stop every other service from being scored. What was left out is said in every scorecard's notes.

use super::{Catalog, Service};
use crate::diag::Diagnostics;

/// Files named in one note; the rest are counted.
pub const NOTE_FILES: usize = 5;

/// A catalog file (service entry or exception) left out because it has errors.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LeftOut {
    /// Relative to the catalog root.
    pub file: String,
    /// Its first error, `line:col: message`.
    pub problem: String,
    /// For `services/<name>.yaml`: `<name>`, the service whose entry it is.
    pub service: Option<String>,
    /// The repository its `github.com/project-slug` names, when that could be read.
    pub repository: Option<String>,
}

impl Catalog {
    /// Leaves out of `services` and `exceptions` every file that `diags` (the catalog's own problems and those
    /// found against the policy) has an error in, and records them in `left_out`. Problems with the catalog as a
    /// whole (no such directory) are not about one file: the caller decides what they mean.
    pub fn leave_out(&mut self, diags: &Diagnostics) {
        let prefix = self.shown("");
        let mut bad: std::collections::BTreeMap<String, String> = std::collections::BTreeMap::new();
        for d in diags.clone().sorted().into_iter().filter(|d| d.is_error()) {
            let Some(rel) = d.file.strip_prefix(&prefix) else { continue };
            if rel.starts_with("services/") || rel.starts_with("exceptions/") {
                bad.entry(rel.to_string())
                    .or_insert_with(|| format!("{}:{}: {}", d.pos.line, d.pos.col, shorten(&d.message)));
            }
        }
        self.services.retain(|_, s| !bad.contains_key(&s.file));
        self.exceptions.retain(|e| !bad.contains_key(&e.file));
        for (file, problem) in bad {
            let service = file
                .strip_prefix("services/")
                .map(|name| name.rsplit_once('.').map_or(name, |(stem, _)| stem).to_string());
            let repository = self.entry_repositories.get(&file).cloned();
            if !self.left_out.iter().any(|l| l.file == file) {
                self.left_out.push(LeftOut { file, problem, service, repository });
            }
        }
    }

    /// Whether `shown` (a file as diagnostics name it) is a catalog file that was left out.
    pub fn is_left_out(&self, shown: &str) -> bool {
        self.left_out.iter().any(|l| self.shown(&l.file) == shown)
    }

    /// The left-out entry of the service called `name` or claiming repository `slug`.
    pub fn left_out_entry(&self, name: Option<&str>, slug: Option<&str>) -> Option<&LeftOut> {
        self.left_out.iter().find(|l| {
            l.service.is_some()
                && (name.is_some_and(|n| l.service.as_deref() == Some(n))
                    || slug.is_some_and(|s| l.repository.as_deref().is_some_and(|r| r.eq_ignore_ascii_case(s))))
        })
    }

    /// The notes for a scorecard scored with this catalog: its own entry, when that was left out (`scored` is the
    /// entry it was scored with, `name` and `slug` how it was looked for), and the other files left out (the first
    /// [`NOTE_FILES`], then a count). `place` names the catalog (its directory or repository).
    pub fn left_out_notes(
        &self,
        place: &str,
        scored: Option<&Service>,
        name: Option<&str>,
        slug: Option<&str>,
    ) -> Vec<String> {
        let own = scored.is_none().then(|| self.left_out_entry(name, slug)).flatten();
        let mut notes = Vec::new();
        if let Some(own) = own {
            notes.push(format!(
                "the catalog entry {} has errors and was left out ({}): scored as if the service had no entry",
                own.file, own.problem
            ));
        }
        let others: Vec<&LeftOut> = self.left_out.iter().filter(|l| Some(*l) != own).collect();
        if !others.is_empty() {
            let named: Vec<String> =
                others.iter().take(NOTE_FILES).map(|l| format!("{} ({})", l.file, l.problem)).collect();
            let more = match others.len().saturating_sub(NOTE_FILES) {
                0 => String::new(),
                n => format!(" and {n} more"),
            };
            notes.push(format!(
                "catalog files in {place} with errors were left out (`shipshape validate` lists every problem): {}{more}",
                named.join(", ")
            ));
        }
        notes
    }
}

/// Longest problem quoted in a note (a message can quote a long value).
const PROBLEM_CHARS: usize = 120;

fn shorten(message: &str) -> String {
    match message.char_indices().nth(PROBLEM_CHARS) {
        Some((end, _)) => format!("{}…", &message[..end]),
        None => message.to_string(),
    }
}

#[cfg(test)]
#[path = "left_out_tests.rs"]
mod tests;
