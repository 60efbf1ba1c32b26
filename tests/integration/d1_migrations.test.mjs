// The D1 migrations apply cleanly to an empty database, and to the previous version with data
// in it (which they carry over), with wrangler's own `d1 migrations apply`.

import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, mkdirSync, readdirSync, copyFileSync, writeFileSync, readdirSync as ls, statSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { DatabaseSync } from "node:sqlite";
import { ROOT, wranglerSync } from "../support/stack.mjs";

const MIGRATIONS = readdirSync(path.join(ROOT, "d1_migrations")).filter((f) => f.endsWith(".sql")).sort();

function workspace() {
  const dir = mkdtempSync(path.join(tmpdir(), "parley-d1-"));
  mkdirSync(path.join(dir, "migrations"));
  const config = path.join(dir, "wrangler.toml");
  writeFileSync(config, `name = "d1-migrations-test"\ncompatibility_date = "2026-06-01"\n\n[[d1_databases]]\nbinding = "DB"\ndatabase_name = "parley"\ndatabase_id = "00000000-0000-0000-0000-000000000000"\nmigrations_dir = "migrations"\n`);
  const state = path.join(dir, "state");
  const run = (...args) => wranglerSync([...args, "--local", "--persist-to", state, "-c", config], dir);
  const add = (names) => names.forEach((f) => copyFileSync(path.join(ROOT, "d1_migrations", f), path.join(dir, "migrations", f)));
  const open = () => {
    const find = (d) => ls(d).flatMap((n) => (statSync(path.join(d, n)).isDirectory() ? find(path.join(d, n)) : n.endsWith(".sqlite") && n !== "metadata.sqlite" ? [path.join(d, n)] : []));
    return new DatabaseSync(find(path.join(state, "v3", "d1"))[0], { readOnly: true });
  };
  return { run, add, open };
}

test("every migration applies to an empty database", () => {
  const w = workspace();
  w.add(MIGRATIONS);
  w.run("d1", "migrations", "apply", "DB");
  const db = w.open();
  const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all().map((r) => r.name);
  for (const t of ["orgs", "users", "memberships", "chats", "plans", "subscriptions", "billing_customers", "usage_periods", "usage_days", "active_turns", "webhook_events", "secrets", "secret_grants", "ws_tickets", "security_events"]) {
    assert.ok(tables.includes(t), `table ${t}`);
  }
  assert.equal(db.prepare("SELECT COUNT(*) AS n FROM plans").get().n, 3);
  db.close();
  w.run("d1", "migrations", "apply", "DB"); // nothing left to apply: a no-op, not an error
});

test("each migration applies to the version before it with data in it, keeping the data", () => {
  const w = workspace();
  w.add([MIGRATIONS[0]]);
  w.run("d1", "migrations", "apply", "DB");
  w.run("d1", "execute", "DB", "--command", [
    "INSERT INTO orgs (id, name, created_at) VALUES ('org_old', 'Old Org', 5)",
    "INSERT INTO users (id, email, name, created_at) VALUES ('user_old', 'old@example.com', 'Old User', 6)",
    "INSERT INTO memberships (org_id, user_id, role, created_at) VALUES ('org_old', 'user_old', 'admin', 7)",
    "INSERT INTO chats (org_id, id, title, created_by, created_at) VALUES ('org_old', 'chat_0123456789abcdefghjkmnpqrs', 'Kept', 'user_old', 8)",
  ].join("; "));
  w.add(MIGRATIONS.slice(1));
  w.run("d1", "migrations", "apply", "DB");
  const db = w.open();
  const org = db.prepare("SELECT * FROM orgs WHERE id = 'org_old'").get();
  assert.equal(org.name, "Old Org");
  assert.equal(org.deleted_at, null);
  assert.equal(org.revision, 0);
  const member = db.prepare("SELECT * FROM memberships WHERE org_id = 'org_old'").get();
  assert.deepEqual({ ...member }, {
    id: "orgmem_org_old_user_old", org_id: "org_old", user_id: "user_old", role: "admin", clerk_role: "org:admin",
    created_at: 7, source_version: 0, deleted_at: null, revision: 0,
  });
  assert.equal(db.prepare("SELECT title FROM chats WHERE org_id = 'org_old'").get().title, "Kept");
  assert.equal(db.prepare("SELECT email FROM users WHERE id = 'user_old'").get().email, "old@example.com");
  db.close();
});
