-- The rules of a day record that did not apply to the service (skipped by their `when`), so initiatives count them
-- as done without the full scorecard.
ALTER TABLE service_days ADD COLUMN not_applicable TEXT NOT NULL DEFAULT '[]';
