-- The demo org, its admin and a trialing Growth subscription, so a fresh `cargo xtask dev` can
-- sign in through the local development issuer and run the agent. Idempotent.
INSERT OR IGNORE INTO orgs (id, name, slug, created_at, source_version) VALUES ('org_demo', 'Demo Org', 'demo', 0, 1);
INSERT OR IGNORE INTO users (id, email, name, created_at, source_version) VALUES ('user_demo', 'demo@parley.local', 'Demo Operator', 0, 1);
INSERT OR IGNORE INTO memberships (id, org_id, user_id, role, clerk_role, created_at, source_version)
    VALUES ('orgmem_demo', 'org_demo', 'user_demo', 'admin', 'org:admin', 0, 1);
INSERT OR IGNORE INTO billing_customers (customer_id, org_id, created_at) VALUES ('cus_demo', 'org_demo', 0);
INSERT OR IGNORE INTO subscriptions (id, customer_id, org_id, status, seats, price, source_created, updated_at)
    VALUES ('sub_demo', 'cus_demo', 'org_demo', 'trialing', 5, 'parley_growth', 1, 0);
