// Backups of both Durable Object kinds to R2 and the restore script, on the real runtime with
// local R2. Corrupt, partial and mismatched backups are made by editing the local bucket with
// wrangler's own `r2 object` commands, never through Parley.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import path from "node:path";
import { startStack, stackWrangler, NODE, ROOT } from "../support/stack.mjs";
import { call, createChat, allMessages, settledTurn, eventually } from "../support/client.mjs";
import { mintToken } from "../support/identity.mjs";
import { d1All } from "../support/d1.mjs";
import { contents } from "../../tools/restore.mjs";
import { r2Get as snapshotR2Get, r2Put as snapshotR2Put, r2Delete as snapshotR2Delete } from "../support/snapshots.mjs";

let stack;
before(async () => {
  stack = await startStack();
});
after(async () => {
  await stack?.stop();
});

async function post(chat, content, clientId) {
  const res = await call(stack, "POST", `/v1/chats/${chat}/messages`, { body: { client_id: clientId, content } });
  assert.ok([200, 201].includes(res.status), res.text);
  return res.json;
}

/** A chat with `n` answered messages. */
async function chatWith(n, label) {
  const chat = await createChat(stack, label);
  for (let i = 0; i < n; i++) {
    const { message } = await post(chat, `${label} message ${i}`, `${label}-${i}`);
    await settledTurn(stack, chat, message.seq);
  }
  return chat;
}

async function takeBackup(kind, objectId) {
  const res = await call(stack, "POST", "/v1/backups", { body: { kind, ...(objectId ? { object_id: objectId } : {}) } });
  assert.equal(res.status, 201, res.text);
  return res.json;
}

function script(...args) {
  const r = spawnSync(NODE, [path.join(ROOT, "tools/restore.mjs"), ...args, "--url", stack.url], { env: { ...process.env, PARLEY_TOKEN: stack.token }, encoding: "utf8" });
  return { code: r.status, out: r.stdout + r.stderr };
}

const r2Key = (m, suffix) => `backups/${m.org}/${m.kind}/${m.object_id}/${m.taken_at}/${suffix}`;

const r2Get = (key) => snapshotR2Get(stack, key);
const r2Put = (key, bytes) => snapshotR2Put(stack, key, bytes);
const r2Delete = (key) => snapshotR2Delete(stack, key);

test("a chat's backup is checksummed in R2, verified by the script, and restored exactly", async () => {
  const chat = await chatWith(3, "restore");
  const before = await allMessages(stack, chat);
  assert.equal(before.length, 6, "three messages and three replies");

  const taken = await takeBackup("chat", chat);
  const manifest = taken.manifest;
  assert.equal(manifest.format, "parley-backup/1");
  assert.equal(manifest.tables.messages, 6);
  assert.equal(manifest.tables.turns, 3);
  assert.equal(manifest.total_rows, Object.values(manifest.tables).reduce((a, b) => a + b, 0));
  for (const part of manifest.parts) {
    const bytes = r2Get(part.key);
    assert.equal(createHash("sha256").update(bytes).digest("hex"), part.sha256, "each part's checksum, computed by Node");
    assert.equal(bytes.length, part.bytes);
  }
  assert.ok(r2Get(r2Key(manifest, "manifest.json")).length > 0, "the manifest is in R2 under the key scheme");

  const listed = await call(stack, "GET", `/v1/backups?kind=chat&object_id=${chat}`);
  assert.deepEqual(listed.json.snapshots.map((s) => [s.id, s.complete]), [[taken.id, true]]);
  const listedByScript = script("list", "chat", chat);
  assert.equal(listedByScript.code, 0, listedByScript.out);
  assert.match(listedByScript.out, new RegExp(`${taken.id}\\tcomplete`));
  const verified = script("verify", taken.id);
  assert.equal(verified.code, 0, verified.out);
  assert.match(verified.out, /every checksum matches/);

  // The chat moves on, then is restored.
  const later = await post(chat, "after the backup", "restore-later");
  await settledTurn(stack, chat, later.message.seq);
  assert.equal((await allMessages(stack, chat)).length, 8);
  const restored = script("restore", taken.id);
  assert.equal(restored.code, 0, restored.out);
  assert.match(restored.out, /restored: \d+ rows/);
  assert.match(restored.out, /holds exactly the restored snapshot/, "a new backup of the restored chat matches the old manifest");
  assert.deepEqual(await allMessages(stack, chat), before, "the rows equal the snapshot's");

  // The restored chat goes on: a client id from before the backup is still known, a new
  // message continues the sequence.
  const retried = await call(stack, "POST", `/v1/chats/${chat}/messages`, { body: { client_id: "restore-0", content: "restore message 0" } });
  assert.deepEqual([retried.status, retried.json.duplicate, retried.json.message.seq], [200, true, 1]);
  const next = await post(chat, "continuing", "restore-next");
  assert.equal(next.message.seq, 7);
  await settledTurn(stack, chat, next.message.seq);
});

test("the workspace (leads, audit chain, knowledge index) is backed up and restored", async () => {
  const lead = (await call(stack, "POST", "/v1/leads", { body: { name: "Grace Hopper", email: "grace@navy.example", time_zone: "America/New_York" } })).json;
  assert.equal((await call(stack, "POST", "/v1/knowledge", { body: { title: "Pricing", text: "Parley costs forty dollars per seat per month." } })).status, 201);
  const leadsBefore = (await call(stack, "GET", "/v1/leads")).json;
  const taken = await takeBackup("workspace");
  assert.match(taken.id, /^workspace\.org_demo\./);
  assert.ok(taken.manifest.tables.leads >= 1);
  assert.ok(taken.manifest.tables.knowledge_chunks >= 1, "the full-text table is exported through its columns");
  assert.equal(Object.keys(taken.manifest.tables).filter((t) => t.startsWith("knowledge_chunks_")).length, 0, "never its shadow tables");

  await call(stack, "POST", "/v1/leads", { body: { name: "Added Later", email: "later@example.com", time_zone: "Europe/Paris" } });
  await call(stack, "POST", `/v1/leads/${lead.id}/stage`, { body: { stage: "contacted" } });
  assert.notDeepEqual((await call(stack, "GET", "/v1/leads")).json, leadsBefore);

  const res = await call(stack, "POST", `/v1/backups/${taken.id}/restore`);
  assert.equal(res.status, 200, res.text);
  assert.equal(res.json.rows, taken.manifest.total_rows);
  assert.deepEqual((await call(stack, "GET", "/v1/leads")).json, leadsBefore);
  const search = await call(stack, "GET", "/v1/knowledge/search?q=seat");
  assert.equal(search.status, 200, search.text);
  assert.ok(JSON.stringify(search.json).includes("forty dollars"), "the full-text index answers after the restore");
  const audit = await call(stack, "GET", "/v1/audit");
  assert.equal(audit.status, 200);
  assert.equal(audit.json.chain_intact, true, "the audit hash chain is intact");
  const again = await takeBackup("workspace");
  assert.equal(contents(again.manifest), contents(taken.manifest), "a new backup matches the restored snapshot");
});

test("corrupt, partial and mismatched backups are refused with their reason and leave the object untouched", async () => {
  const chat = await chatWith(2, "faults");
  const other = await chatWith(1, "other");
  const snapshots = [];
  for (let i = 0; i < 5; i++) snapshots.push(await takeBackup("chat", chat));
  const [corrupt, noManifest, noPart, newer, good] = snapshots;
  const otherSnapshot = await takeBackup("chat", other);

  // The chat moves on, so a restore would show.
  const moved = await post(chat, "after the snapshots", "faults-later");
  await settledTurn(stack, chat, moved.message.seq);
  const untouched = await allMessages(stack, chat);

  // The bucket is edited with the runtime stopped, as an outage or a bad hand would leave it.
  await stack.kill();
  // One changed byte in a part.
  const part = r2Get(corrupt.manifest.parts[0].key);
  part[10] = part[10] === 0x41 ? 0x42 : 0x41;
  r2Put(corrupt.manifest.parts[0].key, part);
  // The manifest is gone (the backup never finished), or a part is.
  r2Delete(r2Key(noManifest.manifest, "manifest.json"));
  r2Delete(noPart.manifest.parts[0].key);
  // A manifest claiming a schema newer than the object knows, with parts whose checksums match.
  const future = { ...newer.manifest, schema_version: 99 };
  r2Put(r2Key(newer.manifest, "manifest.json"), Buffer.from(JSON.stringify(future)));
  // The other chat's snapshot copied under this chat's prefix.
  const misplaced = { ...otherSnapshot.manifest, taken_at: "20300101T000000000Z" };
  const misplacedId = `chat.${chat}.${misplaced.taken_at}`;
  for (const p of otherSnapshot.manifest.parts) r2Put(`backups/org_demo/chat/${chat}/${misplaced.taken_at}/parts/${String(p.index).padStart(5, "0")}.ndjson`, r2Get(p.key));
  r2Put(`backups/org_demo/chat/${chat}/${misplaced.taken_at}/manifest.json`, Buffer.from(JSON.stringify(otherSnapshot.manifest)));
  // The other chat's rows under a manifest rewritten for this chat, checksums and all: only the
  // object, reading the rows' own identity, can tell.
  const foreignAt = "20300102T000000000Z";
  const foreignPart = (i) => `backups/org_demo/chat/${chat}/${foreignAt}/parts/${String(i).padStart(5, "0")}.ndjson`;
  const foreign = {
    ...otherSnapshot.manifest,
    object_id: chat,
    taken_at: foreignAt,
    taken_at_ms: Date.UTC(2030, 0, 2),
    parts: otherSnapshot.manifest.parts.map((p) => ({ ...p, key: foreignPart(p.index) })),
  };
  for (const p of otherSnapshot.manifest.parts) r2Put(foreignPart(p.index), r2Get(p.key));
  r2Put(`backups/org_demo/chat/${chat}/${foreignAt}/manifest.json`, Buffer.from(JSON.stringify(foreign)));
  await stack.restart();

  const cases = [
    [corrupt.id, "backup_corrupt"],
    [noManifest.id, "backup_incomplete"],
    [noPart.id, "backup_incomplete"],
    [newer.id, "backup_mismatch"],
    [misplacedId, "backup_mismatch"],
    [`chat.${chat}.${foreignAt}`, "backup_mismatch", /`chat_id` names another object/],
  ];
  for (const [id, code, reason] of cases) {
    const res = await call(stack, "POST", `/v1/backups/${id}/restore`);
    assert.equal(res.status, 422, `${id}: ${res.text}`);
    assert.equal(res.json.error.code, code, id);
    if (reason) assert.match(res.json.error.message, reason);
    assert.ok(res.json.error.message.length > 10, "with a reason");
    assert.deepEqual(await allMessages(stack, chat), untouched, `${code}: the chat is untouched`);
  }
  // The script refuses before asking the app to restore anything.
  const byScript = script("restore", corrupt.id);
  assert.equal(byScript.code, 1);
  assert.match(byScript.out, /backup_corrupt: part 0 does not match its SHA-256/);
  assert.match(script("verify", noPart.id).out, /backup_incomplete: part 0 is missing/);
  assert.deepEqual(await allMessages(stack, chat), untouched);
  const listing = (await call(stack, "GET", `/v1/backups?kind=chat&object_id=${chat}`)).json.snapshots;
  assert.equal(listing.find((s) => s.id === noManifest.id)?.complete, false, "a snapshot without its manifest is listed as incomplete");

  // The good one still restores.
  const res = await call(stack, "POST", `/v1/backups/${good.id}/restore`);
  assert.equal(res.status, 200, res.text);
  assert.equal((await allMessages(stack, chat)).length, 4);
});

test("backups are admin-only, per org, and checked before anything is read", async () => {
  const chat = await chatWith(1, "iso");
  const taken = await takeBackup("chat", chat);
  const member = await mintToken({ role: "member", user_id: "user_demo" });
  assert.equal((await call(stack, "GET", `/v1/backups?kind=chat&object_id=${chat}`, { token: member })).json.error.code, "admin_required");
  assert.equal((await call(stack, "POST", `/v1/backups/${taken.id}/restore`, { token: member })).status, 403);
  assert.equal((await call(stack, "GET", `/v1/backups/${taken.id}`)).status, 200);
  assert.equal((await call(stack, "GET", `/v1/backups/${taken.id}/parts?index=0`)).status, 200);
  assert.equal((await call(stack, "GET", `/v1/backups/${taken.id}/parts?index=x`)).json.error.code, "invalid_query");
  assert.equal((await call(stack, "GET", "/v1/backups/not-a-backup")).status, 404);
  assert.equal((await call(stack, "GET", "/v1/backups?kind=table")).json.error.code, "invalid_query");
  assert.equal((await call(stack, "POST", "/v1/backups", { body: { kind: "chat" } })).json.error.code, "missing_field");
  assert.equal((await call(stack, "POST", "/v1/backups", { body: { kind: "chat", object_id: "chat_00000000000000000000000000" } })).status, 404);
  assert.equal((await call(stack, "POST", "/v1/backups", { body: { kind: "workspace", object_id: "org_other" } })).status, 404, "a workspace is only the caller's org's");
  assert.equal((await call(stack, "POST", "/v1/backups", { raw: "{", headers: { "Content-Type": "application/json" } })).json.error.code, "malformed_json");
});

test("the cron trigger backs up every chat and workspace that is due, once per interval", async () => {
  const chat = await chatWith(1, "cron");
  const cron = async () => {
    const res = await fetch(`${stack.url}/__scheduled?cron=${encodeURIComponent("*/15 * * * *")}`);
    assert.equal(res.status, 200);
  };
  const snapshotsOf = async (kind, id) => (await call(stack, "GET", `/v1/backups?kind=${kind}${id ? `&object_id=${id}` : ""}`)).json.snapshots;
  // A run backs up at most a batch; run until this chat has been reached.
  await eventually(async () => {
    await cron();
    return (await snapshotsOf("chat", chat)).length > 0;
  }, 60_000, "the scheduled backup of the new chat");
  const rows = d1All(stack, "SELECT kind, object_id, last_outcome FROM backup_runs WHERE org_id = 'org_demo'");
  assert.ok(rows.some((r) => r.kind === "chat" && r.object_id === chat && r.last_outcome === "ok"));
  assert.ok(rows.some((r) => r.kind === "workspace" && r.object_id === "org_demo" && r.last_outcome === "ok"));
  const count = (await snapshotsOf("chat", chat)).length;
  await cron();
  assert.equal((await snapshotsOf("chat", chat)).length, count, "not due again within the interval");

  // Due again, as if an interval had passed (D1 edited with the runtime stopped).
  const makeDue = async () => {
    await stack.kill();
    stackWrangler(stack, ["d1", "execute", "DB", "--command", `UPDATE backup_runs SET last_attempt_at = 0 WHERE kind = 'chat' AND object_id = '${chat}'`]);
    await stack.restart();
  };
  const outcome = () => d1All(stack, "SELECT last_outcome AS o, last_attempt_at AS at FROM backup_runs WHERE kind = 'chat' AND object_id = ?", chat)[0];
  // Runs the cron until it has tried the chat again; answers the attempt's outcome.
  const nextAttempt = async (what) => {
    await makeDue();
    await eventually(async () => {
      await cron();
      return outcome().at > 0;
    }, 60_000, what);
    return outcome().o;
  };
  assert.equal(await nextAttempt("the unchanged chat's run"), "unchanged");
  assert.equal((await snapshotsOf("chat", chat)).length, count, "an unchanged chat gets no new snapshot");
  // Once it has changed, its next run writes one.
  const { message } = await post(chat, "something new", "cron-new");
  await settledTurn(stack, chat, message.seq);
  assert.equal(await nextAttempt("the changed chat's run"), "ok");
  assert.equal((await snapshotsOf("chat", chat)).length, count + 1, "a changed chat gets a new snapshot");
});
