-- 1.2.0: payment reconciliation. Expand-only: nullable columns and a new table, so 1.1.5
-- (which names its columns and never reads these) keeps working on this schema.
ALTER TABLE payments ADD COLUMN gateway_reference TEXT;
ALTER TABLE payments ADD COLUMN reconciliation_status TEXT;
ALTER TABLE payments ADD COLUMN reconciled_at TEXT;

CREATE TABLE reconciliation_runs (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id),
    payments_reconciled INTEGER NOT NULL,
    created_at TEXT NOT NULL
);
