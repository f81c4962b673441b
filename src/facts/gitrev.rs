use super::{FactsError, ReadPlan, RepoFacts};
use std::path::Path;

pub fn collect_rev(_root: &Path, _rev: &str, _plan: &ReadPlan) -> Result<RepoFacts, FactsError> {
    Ok(RepoFacts::default())
}
