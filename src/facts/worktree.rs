use super::{FactsError, ReadPlan, RepoFacts};
use std::path::Path;

pub fn collect_worktree(_root: &Path, _plan: &ReadPlan) -> Result<RepoFacts, FactsError> {
    Ok(RepoFacts::default())
}
