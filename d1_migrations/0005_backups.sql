-- The last backup of every Durable Object, so the scheduled backups pick the objects that are
-- due without listing R2 (the snapshots themselves live only in R2).
CREATE TABLE backup_runs (
    org_id TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('chat', 'workspace')),
    object_id TEXT NOT NULL,
    -- The newest complete snapshot (ms), or NULL if none has succeeded yet.
    last_taken_at INTEGER,
    last_attempt_at INTEGER NOT NULL,
    -- 'ok' or the refusal / failure code of the last attempt.
    last_outcome TEXT NOT NULL,
    PRIMARY KEY (org_id, kind, object_id)
);
