//! A check's own `message`: what a failure means, in the policy author's words.

use super::Outcome;
use crate::diag::shown_path as shown;
use crate::engine::Status;

impl Outcome {
    /// A failure says `message` instead of the generated text, followed by the files in its evidence (at most three
    /// named); other outcomes are unchanged.
    pub(super) fn explained(self, message: Option<&str>) -> Outcome {
        let Some(message) = message.filter(|_| self.status == Status::Fail) else { return self };
        let named: Vec<String> = self
            .evidence
            .iter()
            .take(3)
            .map(|e| match e.line {
                Some(line) => format!("`{}` line {line}", shown(&e.path)),
                None => format!("`{}`", shown(&e.path)),
            })
            .collect();
        let more = match self.evidence.len() {
            n if n > 3 => format!(" and {} more", n - 3),
            _ => String::new(),
        };
        let message =
            if named.is_empty() { message.to_string() } else { format!("{message}: {}{more}", named.join(", ")) };
        Outcome { message, ..self }
    }
}
