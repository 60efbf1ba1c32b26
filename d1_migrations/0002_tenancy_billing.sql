-- Tenancy and billing: Clerk mirrors (orgs, users, memberships), Stripe mirrors (customers,
-- subscriptions), plans and their limits, usage counters, processed webhook events, encrypted
-- secrets with grants, single-use WebSocket tickets, turns in flight, and security events.
--
-- Mirrored rows carry `source_version` (the provider's own ordering: Clerk's updated_at in ms,
-- Stripe's event `created` in seconds), `deleted_at` (a tombstone: a deletion is final) and
-- `revision` (incremented by every write, so a writer can compare-and-set against what it read).
-- Mirror tables have no foreign keys between them: webhooks arrive in any order, and a
-- membership may well arrive before its organization.

ALTER TABLE orgs ADD COLUMN slug TEXT;
ALTER TABLE orgs ADD COLUMN source_version INTEGER NOT NULL DEFAULT 0;
ALTER TABLE orgs ADD COLUMN deleted_at INTEGER;
ALTER TABLE orgs ADD COLUMN revision INTEGER NOT NULL DEFAULT 0;

ALTER TABLE users ADD COLUMN source_version INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN deleted_at INTEGER;
ALTER TABLE users ADD COLUMN revision INTEGER NOT NULL DEFAULT 0;

-- Memberships are keyed by Clerk's membership id from now on; rows from 0001 get a derived id.
CREATE TABLE memberships_v2 (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('admin', 'member')),
    clerk_role TEXT,
    created_at INTEGER NOT NULL,
    source_version INTEGER NOT NULL DEFAULT 0,
    deleted_at INTEGER,
    revision INTEGER NOT NULL DEFAULT 0
);
INSERT INTO memberships_v2 (id, org_id, user_id, role, clerk_role, created_at)
    SELECT 'orgmem_' || org_id || '_' || user_id, org_id, user_id, role, 'org:' || role, created_at FROM memberships;
DROP TABLE memberships;
ALTER TABLE memberships_v2 RENAME TO memberships;
-- Seats are handed out in join order among live memberships.
CREATE INDEX memberships_by_org ON memberships (org_id, deleted_at, created_at, user_id);
CREATE INDEX memberships_by_user ON memberships (user_id, org_id);

-- What each plan allows. `stripe_price` is the Stripe price lookup key (or price id).
CREATE TABLE plans (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    stripe_price TEXT UNIQUE,
    messages_per_day INTEGER NOT NULL CHECK (messages_per_day >= 0),
    tokens_per_month INTEGER NOT NULL CHECK (tokens_per_month >= 0),
    concurrent_turns INTEGER NOT NULL CHECK (concurrent_turns >= 0)
);
INSERT INTO plans (id, name, stripe_price, messages_per_day, tokens_per_month, concurrent_turns) VALUES
    ('starter', 'Starter', 'parley_starter', 500, 2000000, 2),
    ('growth', 'Growth', 'parley_growth', 5000, 20000000, 10),
    ('scale', 'Scale', 'parley_scale', 50000, 200000000, 50);

-- Which org a Stripe customer pays for (from checkout's client_reference_id or metadata).
CREATE TABLE billing_customers (
    customer_id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX billing_customers_by_org ON billing_customers (org_id);

CREATE TABLE subscriptions (
    id TEXT PRIMARY KEY,
    customer_id TEXT NOT NULL,
    org_id TEXT,
    status TEXT NOT NULL,
    seats INTEGER NOT NULL CHECK (seats >= 0),
    price TEXT,
    period_start INTEGER,
    period_end INTEGER,
    cancel_at_period_end INTEGER NOT NULL DEFAULT 0,
    past_due_since INTEGER,
    source_created INTEGER NOT NULL,
    revision INTEGER NOT NULL DEFAULT 0,
    updated_at INTEGER NOT NULL
);
CREATE INDEX subscriptions_by_customer ON subscriptions (customer_id);
CREATE INDEX subscriptions_by_org ON subscriptions (org_id);

-- Usage per org per billing period, and messages per UTC day (the daily quota).
CREATE TABLE usage_periods (
    org_id TEXT NOT NULL,
    period_start INTEGER NOT NULL,
    period_end INTEGER NOT NULL,
    messages INTEGER NOT NULL DEFAULT 0,
    tokens_in INTEGER NOT NULL DEFAULT 0,
    tokens_out INTEGER NOT NULL DEFAULT 0,
    tool_calls INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (org_id, period_start)
);
CREATE TABLE usage_days (
    org_id TEXT NOT NULL,
    day TEXT NOT NULL,
    messages INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (org_id, day)
);

-- Agent turns in flight, for the concurrent-turns quota. The Chat Controller adds a row when a
-- turn starts and removes it when the turn ends; rows older than a turn can live are ignored.
CREATE TABLE active_turns (
    org_id TEXT NOT NULL,
    chat_id TEXT NOT NULL,
    turn_id TEXT NOT NULL,
    started_at INTEGER NOT NULL,
    PRIMARY KEY (org_id, chat_id)
);

-- Every webhook delivery we acted on (or deliberately ignored), for idempotency.
CREATE TABLE webhook_events (
    provider TEXT NOT NULL CHECK (provider IN ('clerk', 'stripe')),
    id TEXT NOT NULL,
    type TEXT NOT NULL,
    outcome TEXT NOT NULL,
    received_at INTEGER NOT NULL,
    PRIMARY KEY (provider, id)
);

-- Secrets: AES-256-GCM ciphertext under the master key, a fresh 96-bit nonce per write, the
-- org and name bound in as associated data so a row cannot be moved to another org or name.
CREATE TABLE secrets (
    org_id TEXT NOT NULL,
    name TEXT NOT NULL,
    nonce TEXT NOT NULL,        -- base64
    ciphertext TEXT NOT NULL,   -- base64, ciphertext and tag
    created_by TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (org_id, name)
);
-- A grant scopes a secret to the whole org (`chat_id` = '') or to one chat.
CREATE TABLE secret_grants (
    org_id TEXT NOT NULL,
    secret_name TEXT NOT NULL,
    chat_id TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (org_id, secret_name, chat_id)
);

-- Single-use WebSocket tickets, stored only as a SHA-256 of the ticket.
CREATE TABLE ws_tickets (
    ticket_hash TEXT PRIMARY KEY,
    org_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    chat_id TEXT NOT NULL,
    expires_at INTEGER NOT NULL
);

-- Security-relevant events: secret created, deleted and used; roles refused; and the like.
CREATE TABLE security_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id TEXT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT NOT NULL,
    at INTEGER NOT NULL
);
CREATE INDEX security_events_by_org ON security_events (org_id, at);
