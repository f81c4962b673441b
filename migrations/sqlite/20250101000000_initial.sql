-- shipshape's durable state (SQLite). Times are INTEGER milliseconds since the Unix epoch (UTC): they sort and compare
-- correctly, unlike RFC 3339 text with a variable number of fractional digits.

-- Every webhook delivery, stored before it is acknowledged with 202 and kept after processing (deduplication by
-- X-GitHub-Delivery; audit). The raw body is kept so that processing survives a crash or restart.
CREATE TABLE deliveries (
    delivery_id     TEXT    NOT NULL PRIMARY KEY,   -- X-GitHub-Delivery
    event           TEXT    NOT NULL,               -- X-GitHub-Event
    action          TEXT,
    installation_id INTEGER,
    repository      TEXT,                           -- owner/name
    serial_key      TEXT,                           -- deliveries sharing a key are processed one at a time
    head_sha        TEXT,                           -- a newer delivery for another head supersedes a queued one
    payload         BLOB    NOT NULL,
    received_at     INTEGER NOT NULL,
    status          TEXT    NOT NULL DEFAULT 'queued'
        CHECK (status IN ('queued', 'processing', 'done', 'failed', 'ignored', 'superseded')),
    attempts        INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    next_attempt_at INTEGER NOT NULL,
    lease_owner     TEXT,
    lease_until     INTEGER,
    last_error      TEXT,
    finished_at     INTEGER,
    CHECK ((status = 'processing') = (lease_owner IS NOT NULL AND lease_until IS NOT NULL)),
    CHECK ((status IN ('done', 'failed', 'ignored', 'superseded')) = (finished_at IS NOT NULL))
);

-- Claiming: due queued work in arrival order, and expired leases (crash recovery). Partial, so that finished rows,
-- the vast majority, cost nothing.
CREATE INDEX deliveries_queued ON deliveries (next_attempt_at, received_at) WHERE status = 'queued';
CREATE INDEX deliveries_processing ON deliveries (lease_until) WHERE status = 'processing';
-- Serialisation (is another delivery with this key running?) and superseding (is there a newer one?).
CREATE INDEX deliveries_serial ON deliveries (serial_key, received_at) WHERE serial_key IS NOT NULL;
-- Pruning old finished rows.
CREATE INDEX deliveries_finished ON deliveries (finished_at) WHERE finished_at IS NOT NULL;

-- Content-addressed cache of git blobs: a blob's content never changes for its SHA.
CREATE TABLE blobs (
    sha     TEXT NOT NULL PRIMARY KEY,
    content BLOB NOT NULL
);

-- Small caches keyed by namespace: catalog snapshots by commit, scorecards by repository and SHA, linked facts,
-- check run ids by repository and head SHA, sticky comment ids by repository and pull request.
CREATE TABLE kv (
    namespace  TEXT    NOT NULL,
    key        TEXT    NOT NULL,
    value      BLOB    NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (namespace, key)
);
