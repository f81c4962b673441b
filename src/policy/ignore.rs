//! The policy's `ignore`: what no rule looks at unless it says `include_ignored: true`.

use super::model::IgnoreSpec;
use crate::diag::{Diagnostic, Diagnostics};
use globset::{GlobBuilder, GlobSet, GlobSetBuilder};

/// A compiled `ignore`.
#[derive(Debug)]
pub struct Ignore {
    pub set: GlobSet,
    /// The patterns of `set`, by index.
    pub patterns: Vec<String>,
    /// Whether `.gitattributes` files are read for `linguist-vendored` / `linguist-generated`.
    pub gitattributes: bool,
}

impl Ignore {
    /// Why `path` is left out by its name: the first pattern of `paths` it matches.
    pub fn pattern_of(&self, path: &str) -> Option<&str> {
        self.set.matches(path).first().map(|&i| self.patterns[i].as_str())
    }
}

/// Compiles `ignore`; bad globs are reported in `diags` with their position.
pub fn compile(file: &str, spec: &IgnoreSpec, diags: &mut Diagnostics) -> Ignore {
    let mut builder = GlobSetBuilder::new();
    let mut patterns = Vec::new();
    for pattern in &spec.paths {
        let text = pattern.value.strip_prefix('/').unwrap_or(&pattern.value);
        match GlobBuilder::new(text).literal_separator(true).build() {
            Ok(glob) => {
                builder.add(glob);
                patterns.push(pattern.value.clone());
            }
            Err(e) => diags.push(Diagnostic::error(
                file,
                pattern.pos,
                format!("ignore: invalid glob `{}`: {}", pattern.value, e.kind()),
            )),
        }
    }
    let set = builder.build().unwrap_or_else(|_| GlobSet::empty());
    Ignore { set, patterns, gitattributes: spec.gitattributes }
}
