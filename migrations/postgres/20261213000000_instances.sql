-- Replicas (issue 15). Every `serve` process registers an instance and beats every few seconds; a lease whose
-- instance stopped beating is dead, whatever its expiry, so another replica (or the restarted process) takes the
-- delivery over within seconds instead of waiting out the lease.
CREATE TABLE instances (
    id         TEXT   NOT NULL PRIMARY KEY,
    host       TEXT   NOT NULL,
    pid        BIGINT NOT NULL,
    started_at BIGINT NOT NULL,
    beat_at    BIGINT NOT NULL
);

-- Named leases with one holder at a time: `periodic`, the replica that schedules the sweep, the expiry of
-- exceptions, pruning and the recovery of missed deliveries.
CREATE TABLE leader_leases (
    name        TEXT   NOT NULL PRIMARY KEY,
    holder      TEXT   NOT NULL,
    lease_until BIGINT NOT NULL
);

-- The instance of the worker holding a delivery's lease (NULL: a lease that only its expiry ends).
ALTER TABLE deliveries ADD COLUMN lease_instance TEXT;

-- Whether a live lease holds a key, without reading the rows.
DROP INDEX deliveries_leased_keys;
CREATE INDEX deliveries_leased_keys ON deliveries (serial_key, lease_until, lease_instance)
    WHERE status = 'processing';
