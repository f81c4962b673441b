-- The Ops view: when a delivery's last attempt failed, for the deliveries that failed for good and those waiting
-- to be retried after an error, and an index for "failed in the last 24 hours" that skips the finished rows that
-- did not fail (the vast majority).
ALTER TABLE deliveries ADD COLUMN failed_at INTEGER;

-- Deliveries that failed before this column: they failed when they finished. (Queued retries keep NULL: when their
-- last attempt failed was not recorded.)
UPDATE deliveries SET failed_at = finished_at WHERE status = 'failed';

CREATE INDEX deliveries_failed ON deliveries (failed_at) WHERE status = 'failed';
