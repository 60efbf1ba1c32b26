// The restore script: lists, verifies and restores Parley backups through the admin API.
//
//   cargo xtask restore list <chat|workspace> [object_id]
//   cargo xtask restore verify <backup_id>
//   cargo xtask restore restore <backup_id>
//
// Options: --url URL (default $PARLEY_URL, else the local app at http://127.0.0.1:8787).
// Credentials: $PARLEY_TOKEN, an org admin's session token. Against a loopback URL without one,
// a development token for the demo org's admin is signed with the local development issuer's
// key (`.state/dev_issuer_key.json`), exactly as `cargo xtask dev` signs in.
//
// `verify` downloads the manifest and every part and checks each part's size, SHA-256 and rows
// per table itself, touching nothing. `restore` does the same first and stops on any problem;
// only then does it ask the app to restore (the app checks everything again), and afterwards
// it takes a new backup and compares it with the restored one.
// Exit codes: 0 done, 1 refused or failed (nothing restored), 2 usage.

import { createHash } from "node:crypto";
import path from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

function option(args, name, fallback) {
  const i = args.indexOf(name);
  if (i < 0) return fallback;
  const [, value] = args.splice(i, 2);
  return value;
}

function isLoopback(url) {
  return ["127.0.0.1", "localhost", "[::1]"].includes(new URL(url).hostname);
}

async function token(url) {
  if (process.env.PARLEY_TOKEN) return process.env.PARLEY_TOKEN;
  if (!isLoopback(url)) throw new Refused("credentials", "set PARLEY_TOKEN to an org admin's session token");
  const { loadOrCreateKey, signSessionToken, DEV_SUBJECT } = await import("./dev_issuer.mjs");
  const key = await loadOrCreateKey(path.join(ROOT, ".state", "dev_issuer_key.json"));
  return signSessionToken(key, { issuer: "http://127.0.0.1:8788", ...DEV_SUBJECT });
}

class Refused extends Error {
  constructor(code, message) {
    super(`${code}: ${message}`);
    this.code = code;
  }
}

/** The admin API at `url` as `bearer`: `(method, route, body) => { bytes, json() }`, throwing a
 * `Refused` with the API's error code on anything but 2xx. */
export function adminClient(url, bearer) {
  return async function api(method, route, body) {
    const res = await fetch(url + route, {
      method,
      headers: { Authorization: `Bearer ${bearer}`, ...(body ? { "Content-Type": "application/json" } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    const bytes = Buffer.from(await res.arrayBuffer());
    if (!res.ok) {
      let error = { code: `http_${res.status}`, message: bytes.toString("utf8").slice(0, 300) };
      try {
        error = JSON.parse(bytes.toString("utf8")).error ?? error;
      } catch {
        // not JSON: keep the text
      }
      throw new Refused(error.code, error.message);
    }
    return { bytes, json: () => JSON.parse(bytes.toString("utf8")) };
  };
}

/** Downloads and checks a whole snapshot; returns its manifest. Touches nothing. */
export async function verifyBackup(api, id) {
  const manifest = (await api("GET", `/v1/backups/${encodeURIComponent(id)}`)).json();
  const tables = {};
  for (const part of manifest.parts) {
    let bytes;
    try {
      bytes = (await api("GET", `/v1/backups/${encodeURIComponent(id)}/parts?index=${part.index}`)).bytes;
    } catch (e) {
      if (e.code === "not_found") throw new Refused("backup_incomplete", `part ${part.index} is missing`);
      throw e;
    }
    if (bytes.length !== part.bytes) throw new Refused("backup_corrupt", `part ${part.index} is ${bytes.length} bytes, the manifest says ${part.bytes}`);
    const sha = createHash("sha256").update(bytes).digest("hex");
    if (sha !== part.sha256) throw new Refused("backup_corrupt", `part ${part.index} does not match its SHA-256`);
    const lines = bytes.toString("utf8").split("\n").filter(Boolean);
    if (lines.length !== part.rows) throw new Refused("backup_corrupt", `part ${part.index} holds ${lines.length} rows, the manifest says ${part.rows}`);
    for (const line of lines) {
      const { table } = JSON.parse(line);
      tables[table] = (tables[table] ?? 0) + 1;
    }
  }
  const expected = JSON.stringify(Object.entries(manifest.tables).sort());
  if (JSON.stringify(Object.entries(tables).sort()) !== expected) throw new Refused("backup_corrupt", "rows per table differ from the manifest");
  return manifest;
}

/** What two manifests hold, ignoring when and where they were taken. */
export function contents(m) {
  return JSON.stringify([m.schema_version, Object.entries(m.tables).sort(), m.parts.map((p) => [p.sha256, p.bytes, p.rows])]);
}

async function main(argv) {
  const args = [...argv];
  const url = (option(args, "--url", process.env.PARLEY_URL || "http://127.0.0.1:8787")).replace(/\/$/, "");
  const [command, ...rest] = args;
  const api = adminClient(url, await token(url));
  if (command === "list" && rest.length >= 1) {
    const [kind, objectId] = rest;
    const query = new URLSearchParams({ kind, ...(objectId ? { object_id: objectId } : {}) });
    const { snapshots } = (await api("GET", `/v1/backups?${query}`)).json();
    if (snapshots.length === 0) console.log("no backups");
    for (const s of snapshots) console.log(`${s.id}\t${s.complete ? "complete" : "INCOMPLETE (never restored)"}`);
    return 0;
  }
  if (command === "verify" && rest.length === 1) {
    const manifest = await verifyBackup(api, rest[0]);
    console.log(`ok: ${rest[0]}: ${manifest.total_rows} rows in ${manifest.parts.length} parts, every checksum matches`);
    return 0;
  }
  if (command === "restore" && rest.length === 1) {
    const id = rest[0];
    const manifest = await verifyBackup(api, id);
    console.log(`verified: ${manifest.total_rows} rows in ${manifest.parts.length} parts; restoring ${manifest.kind} ${manifest.object_id}`);
    const restored = (await api("POST", `/v1/backups/${encodeURIComponent(id)}/restore`)).json();
    console.log(`restored: ${restored.rows} rows`);
    const check = (await api("POST", "/v1/backups", { kind: manifest.kind, object_id: manifest.object_id })).json();
    if (contents(check.manifest) === contents(manifest)) {
      console.log(`checked: a new backup (${check.id}) holds exactly the restored snapshot`);
    } else {
      console.log(`warning: a new backup (${check.id}) differs from the snapshot: the object changed after the restore (a queued turn or loop may have run)`);
    }
    return 0;
  }
  console.error("usage: cargo xtask restore list <chat|workspace> [object_id] | verify <backup_id> | restore <backup_id>  [--url URL]");
  return 2;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e) => {
      console.error(`refused: ${e.message}`);
      process.exit(1);
    },
  );
}
