-- The demo org and user that the development identity signs in as. Idempotent.
INSERT OR IGNORE INTO orgs (id, name, created_at) VALUES ('org_demo', 'Demo Org', 0);
INSERT OR IGNORE INTO users (id, email, name, created_at) VALUES ('user_demo', 'demo@parley.local', 'Demo Operator', 0);
INSERT OR IGNORE INTO memberships (org_id, user_id, role, created_at) VALUES ('org_demo', 'user_demo', 'admin', 0);
