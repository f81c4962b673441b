-- Every evaluation the App makes, so that first-failure dates, trends and the org-wide picture can be computed.
CREATE TABLE evaluations (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    repository     TEXT    NOT NULL,               -- owner/name
    service        TEXT,                           -- catalog service, when there is one
    git_ref        TEXT    NOT NULL,               -- refs/heads/main for the default branch, refs/pull/N/head for PRs
    commit_sha     TEXT    NOT NULL,
    tier           INTEGER NOT NULL,
    level          TEXT,                           -- NULL below the lowest level
    required_level TEXT    NOT NULL,
    meets_required INTEGER NOT NULL CHECK (meets_required IN (0, 1)),
    evaluated_at   INTEGER NOT NULL
);
CREATE INDEX evaluations_by_repository ON evaluations (repository, git_ref, evaluated_at);

-- Each rule's status in an evaluation.
CREATE TABLE evaluation_rules (
    evaluation_id INTEGER NOT NULL REFERENCES evaluations (id) ON DELETE CASCADE,
    rule_id       TEXT    NOT NULL,
    status        TEXT    NOT NULL CHECK (status IN ('pass', 'fail', 'excepted', 'skipped', 'error')),
    PRIMARY KEY (evaluation_id, rule_id)
);
CREATE INDEX evaluation_rules_by_rule ON evaluation_rules (rule_id, status);
