// Reads the stack's local D1 database directly (read-only), so a test can check exactly what
// was written, or that nothing was.

import { DatabaseSync } from "node:sqlite";
import { readdirSync, statSync } from "node:fs";
import path from "node:path";

function sqliteFiles(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) out.push(...sqliteFiles(p));
    else if (name.endsWith(".sqlite") && name !== "metadata.sqlite") out.push(p);
  }
  return out;
}

/** The D1 file of a stack (the one holding the `orgs` table). */
function databaseFile(stack) {
  for (const file of sqliteFiles(path.join(stack.persistDir, "v3", "d1"))) {
    const db = new DatabaseSync(file, { readOnly: true });
    try {
      if (db.prepare("SELECT name FROM sqlite_master WHERE name = 'orgs'").get()) return file;
    } finally {
      db.close();
    }
  }
  throw new Error("no D1 database with an orgs table under " + stack.persistDir);
}

/** Runs a read-only query; returns every row. */
export function d1All(stack, sql, ...params) {
  const db = new DatabaseSync(databaseFile(stack), { readOnly: true });
  try {
    return db.prepare(sql).all(...params);
  } finally {
    db.close();
  }
}

/** The first row of a read-only query, or undefined. */
export function d1Get(stack, sql, ...params) {
  return d1All(stack, sql, ...params)[0];
}

/** A snapshot of every mirror and record table, to show that a refused request wrote nothing. */
export function d1Snapshot(stack) {
  const tables = ["orgs", "users", "memberships", "subscriptions", "billing_customers", "webhook_events", "secrets", "secret_grants", "security_events"];
  return Object.fromEntries(tables.map((t) => [t, d1All(stack, `SELECT * FROM ${t} ORDER BY 1, 2`)]));
}
