//! Scorecard policies: the file format ([`model`]) and its compiled, validated form ([`compiled`]).

pub mod compiled;
pub mod ignore;
pub mod model;
pub mod requests;
pub mod template;

pub use compiled::{CompiledCheck, EMBEDDED, EMBEDDED_NAME, GlobId, Initiative, KeysSpec, Policy, Rule, Tier};

use crate::diag::{Diagnostic, Diagnostics, Pos};
use std::path::Path;

/// Loads a policy from a file, or from a directory holding exactly one `*.yaml`/`*.yml` scorecard.
pub fn load_path(path: &Path, diags: &mut Diagnostics) -> Option<Policy> {
    let file = if path.is_dir() {
        let files = crate::catalog::yaml_files(path);
        match files.as_slice() {
            [one] => one.clone(),
            [] => {
                diags.push(Diagnostic::error(
                    path.display().to_string(),
                    Pos::new(1, 1),
                    "no policy file (*.yaml) here",
                ));
                return None;
            }
            many => {
                let names: Vec<_> = many.iter().filter_map(|p| p.file_name()?.to_str()).collect();
                diags.push(Diagnostic::error(
                    path.display().to_string(),
                    Pos::new(1, 1),
                    format!("expected one policy file, found {}: {}", names.len(), names.join(", ")),
                ));
                return None;
            }
        }
    } else {
        path.to_path_buf()
    };
    let text = crate::catalog::read(&file, diags)?;
    Policy::parse(&file.display().to_string(), &text, diags)
}
