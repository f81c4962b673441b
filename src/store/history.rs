//! Evaluation history: every scorecard the App computes, with each rule's status.

use super::{Result, Store, from_millis, millis};
use crate::engine::{Scorecard, Status};
use chrono::{DateTime, Utc};
use sqlx::Row;

/// One stored evaluation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EvaluationRecord {
    pub id: i64,
    pub repository: String,
    pub service: Option<String>,
    pub git_ref: String,
    pub commit_sha: String,
    pub tier: u32,
    pub level: Option<String>,
    pub meets_required: bool,
    pub evaluated_at: DateTime<Utc>,
}

const EVALUATION_COLUMNS: &str =
    "id, repository, service, git_ref, commit_sha, tier, level, meets_required, evaluated_at";

fn evaluation(row: &sqlx::any::AnyRow) -> Result<EvaluationRecord> {
    Ok(EvaluationRecord {
        id: row.get("id"),
        repository: row.get("repository"),
        service: row.get("service"),
        git_ref: row.get("git_ref"),
        commit_sha: row.get("commit_sha"),
        tier: u32::try_from(row.get::<i64, _>("tier")).unwrap_or(0),
        level: row.get("level"),
        meets_required: row.get::<i64, _>("meets_required") == 1,
        evaluated_at: from_millis(row.get("evaluated_at"))?,
    })
}

impl Store {
    /// Records `card` as evaluated for `git_ref` at `now`; returns its id.
    pub async fn record_evaluation(&self, card: &Scorecard, git_ref: &str, now: DateTime<Utc>) -> Result<i64> {
        let mut tx = self.begin_write().await?;
        let id: i64 = sqlx::query(
            "INSERT INTO evaluations (repository, service, git_ref, commit_sha, tier, level, required_level,
                 meets_required, evaluated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
        )
        .bind(&card.repository)
        .bind(&card.service)
        .bind(git_ref)
        .bind(card.commit.as_deref().unwrap_or(""))
        .bind(i64::from(card.tier))
        .bind(&card.level)
        .bind(&card.required_level)
        .bind(i64::from(card.meets_required))
        .bind(millis(now))
        .fetch_one(&mut *tx)
        .await?
        .get(0);
        for rule in &card.rules {
            sqlx::query("INSERT INTO evaluation_rules (evaluation_id, rule_id, status) VALUES ($1, $2, $3)")
                .bind(id)
                .bind(&rule.id)
                .bind(rule.status.as_str())
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(id)
    }

    /// The evaluations of a repository's ref, newest first.
    pub async fn evaluations(&self, repository: &str, git_ref: &str) -> Result<Vec<EvaluationRecord>> {
        let rows = sqlx::query(&format!(
            "SELECT {EVALUATION_COLUMNS} FROM evaluations WHERE repository = $1 AND git_ref = $2
             ORDER BY evaluated_at DESC, id DESC"
        ))
        .bind(repository)
        .bind(git_ref)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(evaluation).collect()
    }

    /// The latest `limit` evaluations of a repository, of every ref, newest first.
    pub async fn recent_evaluations(&self, repository: &str, limit: u32) -> Result<Vec<EvaluationRecord>> {
        let rows = sqlx::query(&format!(
            "SELECT {EVALUATION_COLUMNS} FROM evaluations WHERE repository = $1
             ORDER BY evaluated_at DESC, id DESC LIMIT $2"
        ))
        .bind(repository)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(evaluation).collect()
    }

    /// Deletes the evaluations (and their rule statuses) made before `before`; returns how many. A rule failing
    /// for longer than that is then taken to have started failing at its oldest kept evaluation.
    pub async fn prune_evaluations(&self, before: DateTime<Utc>) -> Result<u64> {
        let done = sqlx::query("DELETE FROM evaluations WHERE evaluated_at < $1")
            .bind(millis(before))
            .execute(&self.writes)
            .await?;
        Ok(done.rows_affected())
    }

    /// When each rule started failing on a repository's ref: for every rule whose latest status is `fail`, the
    /// earliest evaluation of its current run of failures (the failures since the last evaluation where it did not
    /// fail).
    pub async fn failing_since(
        &self,
        repository: &str,
        git_ref: &str,
    ) -> Result<std::collections::BTreeMap<String, DateTime<Utc>>> {
        let rows = sqlx::query(
            "SELECT r.rule_id, e.evaluated_at, r.status FROM evaluations e
             JOIN evaluation_rules r ON r.evaluation_id = e.id
             WHERE e.repository = $1 AND e.git_ref = $2
             ORDER BY r.rule_id, e.evaluated_at DESC, e.id DESC",
        )
        .bind(repository)
        .bind(git_ref)
        .fetch_all(&self.pool)
        .await?;
        let mut since = std::collections::BTreeMap::new();
        let mut settled: Option<String> = None; // the rule whose run is known (a non-failure was reached)
        for row in rows {
            let rule: String = row.get("rule_id");
            if settled.as_deref() == Some(rule.as_str()) {
                continue;
            }
            if row.get::<String, _>("status") != Status::Fail.as_str() {
                settled = Some(rule);
                continue;
            }
            since.insert(rule, from_millis(row.get("evaluated_at"))?);
        }
        Ok(since)
    }
}

#[cfg(test)]
mod tests {
    use crate::engine::{Scorecard, Status, testing};
    use crate::store::Store;
    use chrono::{TimeZone, Utc};

    fn card(commit: &str, runbook: Status) -> Scorecard {
        let mut card = testing::card(vec![
            testing::rule("readme", "bronze", Status::Pass, true),
            testing::rule("runbook", "bronze", runbook, true),
        ]);
        card.commit = Some(commit.into());
        card
    }

    #[tokio::test]
    async fn evaluations_are_kept_and_first_failures_found() {
        let db = crate::store::test_database::TestDatabase::new().await;
        let store = Store::open(&db.url).await.unwrap();
        let day = |d: u32| Utc.with_ymd_and_hms(2026, 11, d, 12, 0, 0).unwrap();
        let main = "refs/heads/main";
        store.record_evaluation(&card("a", Status::Fail), main, day(1)).await.unwrap();
        store.record_evaluation(&card("b", Status::Pass), main, day(2)).await.unwrap();
        store.record_evaluation(&card("c", Status::Fail), main, day(3)).await.unwrap();
        store.record_evaluation(&card("d", Status::Fail), main, day(4)).await.unwrap();
        store.record_evaluation(&card("x", Status::Pass), "refs/pull/1/head", day(5)).await.unwrap();

        let history = store.evaluations("acme/payments", main).await.unwrap();
        assert_eq!(history.iter().map(|e| e.commit_sha.as_str()).collect::<Vec<_>>(), ["d", "c", "b", "a"]);
        assert_eq!(history[0].service.as_deref(), Some("payments"));
        assert_eq!(
            (history[0].tier, history[0].level.as_deref(), history[0].meets_required),
            (2, Some("bronze"), false)
        );
        // The current run of failures started on day 3 (it passed on day 2); pull requests do not count.
        let all = store.failing_since("acme/payments", main).await.unwrap();
        assert_eq!(all.get("runbook"), Some(&day(3)));
        assert_eq!(all.get("readme"), None);
        assert_eq!(all.into_iter().collect::<Vec<_>>(), [("runbook".to_string(), day(3))]);
        assert!(store.failing_since("acme/other", main).await.unwrap().is_empty());

        // Pruned before day 4: the run of failures now starts at the oldest kept evaluation; rule rows go too.
        assert_eq!(store.prune_evaluations(day(4)).await.unwrap(), 3);
        let kept = store.evaluations("acme/payments", main).await.unwrap();
        assert_eq!(kept.iter().map(|e| e.commit_sha.as_str()).collect::<Vec<_>>(), ["d"]);
        assert_eq!(store.failing_since("acme/payments", main).await.unwrap().get("runbook"), Some(&day(4)));
        let rules: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM evaluation_rules").fetch_one(&store.pool).await.unwrap();
        assert_eq!(rules, 2 * 2, "the rules of d and of the pull request's evaluation");
    }
}
