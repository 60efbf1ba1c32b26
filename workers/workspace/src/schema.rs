//! The workspace's SQLite schema, versioned by a row in `meta`.

/// Migrations in order; the schema version is the number applied.
pub const MIGRATIONS: &[&str] = &[
    // v1: leads, the contact history the policy reads, every decision, the outbox.
    "CREATE TABLE leads (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        email TEXT,
        phone TEXT,
        time_zone TEXT,
        industry TEXT,
        company_stage TEXT,
        employees INTEGER,
        stage TEXT NOT NULL DEFAULT 'new',
        opted_out INTEGER NOT NULL DEFAULT 0,
        human_takeover INTEGER NOT NULL DEFAULT 0,
        suppressed_until INTEGER,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
    );
    CREATE TABLE contact_events (
        id INTEGER PRIMARY KEY,
        lead_id TEXT NOT NULL REFERENCES leads (id),
        direction TEXT NOT NULL CHECK (direction IN ('outbound', 'inbound')),
        at INTEGER NOT NULL
    );
    CREATE INDEX contact_events_by_lead ON contact_events (lead_id, at);
    CREATE TABLE decisions (
        id INTEGER PRIMARY KEY,
        lead_id TEXT NOT NULL REFERENCES leads (id),
        client_id TEXT,
        origin TEXT NOT NULL,
        verdict TEXT NOT NULL,
        until INTEGER,
        reasons TEXT NOT NULL,
        rule_trace TEXT NOT NULL,
        decided_at INTEGER NOT NULL
    );
    CREATE INDEX decisions_by_lead ON decisions (lead_id, id);
    CREATE TABLE outbox (
        id INTEGER PRIMARY KEY,
        lead_id TEXT NOT NULL REFERENCES leads (id),
        decision_id INTEGER NOT NULL REFERENCES decisions (id),
        client_id TEXT NOT NULL UNIQUE,
        content TEXT NOT NULL,
        created_at INTEGER NOT NULL
    );
    CREATE INDEX outbox_by_time ON outbox (created_at);",
    // v2: the append-only, hash-chained audit log.
    "CREATE TABLE audit (
        seq INTEGER PRIMARY KEY,
        at INTEGER NOT NULL,
        actor TEXT NOT NULL,
        action TEXT NOT NULL,
        lead_id TEXT,
        detail TEXT NOT NULL,
        prev_hash TEXT NOT NULL,
        hash TEXT NOT NULL
    );
    CREATE INDEX audit_by_lead ON audit (lead_id, seq);
    ALTER TABLE contact_events ADD COLUMN client_id TEXT;
    CREATE UNIQUE INDEX contact_events_by_client_id ON contact_events (client_id);",
    // v3: drafts waiting for a person, with the quality gate's report.
    "CREATE TABLE drafts (
        id INTEGER PRIMARY KEY,
        lead_id TEXT NOT NULL REFERENCES leads (id),
        content TEXT NOT NULL,
        origin TEXT NOT NULL,
        state TEXT NOT NULL,
        gate_verdict TEXT NOT NULL,
        risk_score INTEGER NOT NULL,
        violations TEXT NOT NULL,
        reject_reason TEXT,
        created_by TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
    );
    CREATE INDEX drafts_by_state ON drafts (state, id);",
    // v4: the suppression list with reasons.
    "CREATE TABLE suppressions (
        id INTEGER PRIMARY KEY,
        lead_id TEXT NOT NULL REFERENCES leads (id),
        reason TEXT NOT NULL CHECK (reason IN ('opt_out', 'bounced', 'complaint', 'manual')),
        until INTEGER,
        note TEXT,
        created_by TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        lifted_at INTEGER
    );
    CREATE INDEX suppressions_by_lead ON suppressions (lead_id, id);",
    // v5: the org's knowledge base: documents, and their chunks indexed with FTS5 (BM25).
    "CREATE TABLE knowledge_documents (
        id TEXT PRIMARY KEY,
        title TEXT NOT NULL,
        bytes INTEGER NOT NULL,
        chunks INTEGER NOT NULL,
        created_by TEXT NOT NULL,
        created_at INTEGER NOT NULL
    );
    CREATE VIRTUAL TABLE knowledge_chunks USING fts5(title, text, document_id UNINDEXED, chunk_id UNINDEXED);",
    // v6: the strategy-review tag on leads.
    "ALTER TABLE leads ADD COLUMN strategy_review INTEGER NOT NULL DEFAULT 0;",
    // v7: send intents for the webhook channel (delivery state, attempts, retry time, a lease
    // while a delivery is in flight) and the schedule behind the object's one alarm.
    "ALTER TABLE outbox ADD COLUMN channel TEXT NOT NULL DEFAULT 'outbox';
    ALTER TABLE outbox ADD COLUMN channel_url TEXT;
    ALTER TABLE outbox ADD COLUMN delivery_state TEXT NOT NULL DEFAULT 'recorded';
    ALTER TABLE outbox ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE outbox ADD COLUMN next_attempt_at INTEGER;
    ALTER TABLE outbox ADD COLUMN lease_until INTEGER;
    ALTER TABLE outbox ADD COLUMN last_error TEXT;
    ALTER TABLE outbox ADD COLUMN delivered_at INTEGER;
    CREATE INDEX outbox_due ON outbox (delivery_state, next_attempt_at);
    CREATE TABLE schedule (kind TEXT PRIMARY KEY, due_at INTEGER NOT NULL);",
    // v8: the CRM loops: each lead's follow-up step, when the next one is due and when it was
    // last reviewed; and the idempotency key of every loop action, written in the action's
    // own transaction, so an alarm delivered twice acts once.
    "ALTER TABLE leads ADD COLUMN followup_step INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE leads ADD COLUMN next_followup_at INTEGER;
    ALTER TABLE leads ADD COLUMN last_followup_review_at INTEGER NOT NULL DEFAULT 0;
    CREATE INDEX leads_followup_due ON leads (next_followup_at) WHERE next_followup_at IS NOT NULL;
    CREATE INDEX leads_review_due ON leads (last_followup_review_at);
    CREATE TABLE crm_actions (key TEXT PRIMARY KEY, lead_id TEXT NOT NULL, action TEXT NOT NULL, at INTEGER NOT NULL);",
];
