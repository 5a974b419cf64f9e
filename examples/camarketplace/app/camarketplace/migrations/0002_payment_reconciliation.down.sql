DROP TABLE reconciliation_runs;
ALTER TABLE payments DROP COLUMN reconciled_at;
ALTER TABLE payments DROP COLUMN reconciliation_status;
ALTER TABLE payments DROP COLUMN gateway_reference;
