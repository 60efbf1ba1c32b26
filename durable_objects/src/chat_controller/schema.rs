//! The Chat Controller's SQLite schema, versioned by a row in `meta`.
//!
//! Migrations are append-only: each entry upgrades the schema by one version, and an object
//! applies the ones it has not seen yet when it is initialised or woken.

use worker::{Result, SqlStorage};

/// Migrations in order; the schema version is the number applied.
pub const MIGRATIONS: &[&str] = &[
    // v1: message log, turn queue, schedule behind the single alarm.
    "CREATE TABLE messages (
        seq INTEGER PRIMARY KEY,
        role TEXT NOT NULL CHECK (role IN ('user', 'assistant', 'system')),
        content TEXT NOT NULL,
        client_id TEXT UNIQUE,
        turn_id TEXT,
        created_at INTEGER NOT NULL
    );
    CREATE TABLE turns (
        id TEXT PRIMARY KEY,
        trigger_seq INTEGER NOT NULL UNIQUE,
        state TEXT NOT NULL CHECK (state IN ('queued', 'running', 'done', 'failed')),
        attempts INTEGER NOT NULL DEFAULT 0,
        error_code TEXT,
        error_message TEXT,
        model TEXT,
        tokens_in INTEGER NOT NULL DEFAULT 0,
        tokens_out INTEGER NOT NULL DEFAULT 0,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
    );
    CREATE INDEX turns_by_state ON turns (state, trigger_seq);
    CREATE TABLE schedule (
        kind TEXT PRIMARY KEY,
        due_at INTEGER NOT NULL
    );",
    // v2: tool steps, approvals, artifacts and rolling summaries; turns may await approval and
    // record their budget tier and cost.
    "CREATE TABLE turns_v2 (
        id TEXT PRIMARY KEY,
        trigger_seq INTEGER NOT NULL UNIQUE,
        state TEXT NOT NULL CHECK (state IN ('queued', 'running', 'awaiting_approval', 'done', 'failed')),
        attempts INTEGER NOT NULL DEFAULT 0,
        error_code TEXT,
        error_message TEXT,
        model TEXT,
        tokens_in INTEGER NOT NULL DEFAULT 0,
        tokens_out INTEGER NOT NULL DEFAULT 0,
        model_steps INTEGER NOT NULL DEFAULT 0,
        tier TEXT,
        cost_micros INTEGER NOT NULL DEFAULT 0,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
    );
    INSERT INTO turns_v2 (id, trigger_seq, state, attempts, error_code, error_message, model, tokens_in, tokens_out, created_at, updated_at)
        SELECT id, trigger_seq, state, attempts, error_code, error_message, model, tokens_in, tokens_out, created_at, updated_at FROM turns;
    DROP TABLE turns;
    ALTER TABLE turns_v2 RENAME TO turns;
    CREATE INDEX turns_by_state ON turns (state, trigger_seq);
    CREATE TABLE turn_steps (
        turn_id TEXT NOT NULL,
        step INTEGER NOT NULL,
        model_step INTEGER NOT NULL,
        call_id TEXT NOT NULL,
        tool TEXT NOT NULL,
        arguments TEXT NOT NULL,
        state TEXT NOT NULL,
        result TEXT,
        summary TEXT,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        PRIMARY KEY (turn_id, step)
    );
    CREATE TABLE approvals (
        id TEXT PRIMARY KEY,
        turn_id TEXT NOT NULL,
        step INTEGER NOT NULL,
        tool TEXT NOT NULL,
        request TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('pending', 'approved', 'denied', 'expired')),
        requested_by TEXT NOT NULL,
        decided_by TEXT,
        note TEXT,
        created_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL,
        decided_at INTEGER,
        UNIQUE (turn_id, step)
    );
    CREATE INDEX approvals_by_state ON approvals (state, expires_at);
    CREATE TABLE artifacts (
        id INTEGER PRIMARY KEY,
        turn_id TEXT NOT NULL,
        step INTEGER NOT NULL,
        kind TEXT NOT NULL,
        title TEXT NOT NULL,
        body TEXT NOT NULL,
        created_at INTEGER NOT NULL
    );
    CREATE TABLE summaries (
        version INTEGER PRIMARY KEY,
        message_cursor INTEGER NOT NULL,
        text TEXT NOT NULL,
        pinned TEXT NOT NULL,
        created_at INTEGER NOT NULL
    );",
    // v3: the trace id of the request that queued a turn, so the turn's log lines (run later,
    // from the alarm) and the agents worker's carry it.
    "ALTER TABLE turns ADD COLUMN trace_id TEXT;",
];

/// Whether the object has been initialised as a chat (the `meta` table exists). Reading
/// `sqlite_master` writes nothing, so probing an unknown chat leaves no trace.
pub fn is_initialised(sql: &SqlStorage) -> Result<bool> {
    #[derive(serde::Deserialize)]
    struct Count {
        n: i64,
    }
    let c: Count = sql
        .exec("SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table' AND name = 'meta'", None)?
        .one()?;
    Ok(c.n > 0)
}

/// Creates `meta` and applies every pending migration. Call inside a transaction.
pub fn migrate(sql: &SqlStorage) -> Result<()> {
    runtime_support::meta::migrate(sql, MIGRATIONS)
}
