-- Claims that stay fast however deep the queue (issue 12): one claim candidate per serial key instead of every
-- queued delivery of a busy pull request, and superseding by one index lookup instead of comparing every queued
-- delivery with every newer one of its key.

-- 1 for a never-attempted queued delivery waiting behind an older one of its key; 0 otherwise (the front of its
-- key's line, deliveries without a key, attempted deliveries). Claims only look at the 0s.
ALTER TABLE deliveries ADD COLUMN behind INTEGER NOT NULL DEFAULT 0 CHECK (behind IN (0, 1));
-- For a delivery with a serial key and a head SHA: how many times the head changed among the key's deliveries up
-- to this one, in arrival order. A queued delivery is stale when a newer one of its key has a higher number.
ALTER TABLE deliveries ADD COLUMN head_generation INTEGER;

DROP INDEX deliveries_queued;
DROP INDEX deliveries_serial;
-- Claim candidates in arrival order (the index ends with the rowid, the tiebreak).
CREATE INDEX deliveries_candidates ON deliveries (received_at) WHERE status = 'queued' AND behind = 0;
-- A key's queued deliveries in arrival order: the next in its line, the stale ones to set aside; the queue depth.
CREATE INDEX deliveries_queued_by_key ON deliveries (serial_key, received_at) WHERE status = 'queued';
-- Whether a live lease holds a key.
CREATE INDEX deliveries_leased_keys ON deliveries (serial_key, lease_until) WHERE status = 'processing';
-- A key's head generations.
CREATE INDEX deliveries_head_generations ON deliveries (serial_key, head_generation, received_at)
    WHERE head_generation IS NOT NULL;

-- Existing deliveries: number the head changes of each key ...
UPDATE deliveries SET head_generation = numbered.generation
FROM (
    SELECT id, SUM(changed) OVER (PARTITION BY serial_key ORDER BY received_at, id) AS generation
    FROM (
        SELECT rowid AS id, serial_key, received_at,
               CASE WHEN head_sha = LAG(head_sha) OVER by_arrival
                      OR LAG(head_sha) OVER by_arrival IS NULL THEN 0 ELSE 1 END AS changed
        FROM deliveries
        WHERE serial_key IS NOT NULL AND head_sha IS NOT NULL
        WINDOW by_arrival AS (PARTITION BY serial_key ORDER BY received_at, rowid))
) AS numbered
WHERE deliveries.rowid = numbered.id;

-- ... and line up the never-attempted queued ones behind the oldest of their key.
UPDATE deliveries AS d SET behind = 1
WHERE d.status = 'queued' AND d.attempts = 0 AND d.serial_key IS NOT NULL
  AND EXISTS (
    SELECT 1 FROM deliveries AS o
    WHERE o.serial_key = d.serial_key AND o.status = 'queued' AND o.attempts = 0
      AND (o.received_at < d.received_at OR (o.received_at = d.received_at AND o.rowid < d.rowid)));
