-- The agent runtime: HTTP endpoints an org's admins define for the `http_request` tool, fixed
-- windows for per-org rate limits, and the monthly AI budget with the spend that counts
-- against it.

CREATE TABLE tool_endpoints (
    org_id TEXT NOT NULL,
    name TEXT NOT NULL,
    definition TEXT NOT NULL, -- JSON: method, url_template, allowed_hosts, headers, mutating
    created_by TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (org_id, name)
);

-- Calls per org per fixed window, e.g. ('org_x', 'http_tool', 29461234): incremented
-- atomically by the caller, which refuses once the limit is passed.
CREATE TABLE rate_windows (
    org_id TEXT NOT NULL,
    bucket TEXT NOT NULL,
    window INTEGER NOT NULL,
    count INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (org_id, bucket, window)
);

-- The monthly AI budget per plan (micro-dollars) and what the turns of a period cost.
ALTER TABLE plans ADD COLUMN ai_budget_micros INTEGER NOT NULL DEFAULT 50000000;
UPDATE plans SET ai_budget_micros = 20000000 WHERE id = 'starter';
UPDATE plans SET ai_budget_micros = 200000000 WHERE id = 'growth';
UPDATE plans SET ai_budget_micros = 2000000000 WHERE id = 'scale';
ALTER TABLE usage_periods ADD COLUMN cost_micros INTEGER NOT NULL DEFAULT 0;
