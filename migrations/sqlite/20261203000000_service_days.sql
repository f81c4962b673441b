-- The readiness of each catalog service's default branch, one record per day (the day's latest evaluation), so that
-- trends and the organisation's picture need no re-evaluation. Kept 400 days.
CREATE TABLE service_days (
    org            TEXT    NOT NULL,               -- the repository's owner: what a signed-in user may see
    service        TEXT    NOT NULL,               -- catalog service name
    day            TEXT    NOT NULL,               -- YYYY-MM-DD, UTC
    repository     TEXT    NOT NULL,               -- owner/name
    owner          TEXT,                           -- spec.owner of the catalog entry
    tier           INTEGER NOT NULL,
    level          TEXT,                           -- NULL below the lowest level
    required_level TEXT    NOT NULL,
    meets_required INTEGER NOT NULL CHECK (meets_required IN (0, 1)),
    unverified     INTEGER NOT NULL,
    commit_sha     TEXT    NOT NULL,
    rules          TEXT    NOT NULL,               -- JSON object: rule id -> pass | fail | excepted | skipped | error
    levels         TEXT    NOT NULL,               -- JSON array: the policy's levels then, lowest first
    evaluated_at   INTEGER NOT NULL,               -- milliseconds since the epoch
    PRIMARY KEY (org, service, day)
);
CREATE INDEX service_days_by_day ON service_days (org, day);
