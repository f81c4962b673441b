-- Every write of a day record takes the next revision, so a reader that has loaded the history once reads only what
-- changed since (the web's read model). Existing records are numbered in insertion order.
ALTER TABLE service_days ADD COLUMN revision INTEGER NOT NULL DEFAULT 0;
UPDATE service_days SET revision = rowid;
CREATE INDEX service_days_by_revision ON service_days (revision);
