// Backups and restores when the runtime dies half way, or R2 fails: workerd is killed (SIGKILL, every
// object evicted at once) while a large chat is being backed up or restored, at a different
// moment each time. Whatever the moment, the invariants hold: a snapshot is either complete and
// verifies, or incomplete and is refused; a chat is either exactly as before the restore or
// exactly the snapshot, never a mix; and everything works again after the restart.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startStack } from "../support/stack.mjs";
import { call, createChat, allMessages, settledTurn, openSocket } from "../support/client.mjs";
import { adminApi, bigChatSnapshot, r2Put } from "../support/snapshots.mjs";
import { verifyBackup } from "../../tools/restore.mjs";
import { d1Get } from "../support/d1.mjs";
import { existsSync, renameSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";

const MESSAGES = 6_000;
let stack;
let api;
before(async () => {
  stack = await startStack();
  api = adminApi(stack);
});
after(async () => {
  await stack?.stop();
});

const pause = (ms) => new Promise((r) => setTimeout(r, ms));

/** Starts `request` and kills the runtime `afterMs` later, then starts it again on the same state. */
async function killDuring(request, afterMs) {
  const pending = request().then(
    (r) => ({ done: r }),
    (e) => ({ failed: e }),
  );
  await pause(afterMs);
  await stack.kill();
  const outcome = await pending;
  await stack.restart();
  return outcome;
}

async function snapshots(chat) {
  return (await call(stack, "GET", `/v1/backups?kind=chat&object_id=${chat}`)).json.snapshots;
}

test("killed mid-backup and mid-restore, a large chat loses nothing and no snapshot is ever half-used", async () => {
  // A chat of 6,000 messages, made from its own rows and restored from R2.
  const chat = await createChat(stack, "faults");
  const seed = await call(stack, "POST", `/v1/chats/${chat}/messages`, { body: { client_id: "seed", content: "seed" } });
  await settledTurn(stack, chat, seed.json.message.seq);
  const big = await bigChatSnapshot(api, chat, MESSAGES);
  await stack.kill();
  for (const { key, bytes } of big.objects) r2Put(stack, key, bytes);
  await stack.restart();
  assert.equal((await call(stack, "POST", `/v1/backups/${big.id}/restore`)).status, 200);
  const full = await allMessages(stack, chat);
  assert.equal(full.length, MESSAGES);

  // A socket replays at most 1,000 missed messages (the object's replay limit), oldest first, and
  // its hello's `last_seq` tells a client that far behind to page the rest over HTTP; a client
  // less far behind gets exactly what it missed.
  const seqs = (from, to) => Array.from({ length: to - from + 1 }, (_, i) => from + i);
  const farBehind = await openSocket(stack, chat, 0);
  assert.deepEqual(farBehind.messages().map((m) => m.seq), seqs(1, 1000));
  assert.equal(farBehind.hello().last_seq, MESSAGES);
  farBehind.close();
  const rest = await call(stack, "GET", `/v1/chats/${chat}/messages?after=1000&limit=5`);
  assert.deepEqual(rest.json.messages.map((m) => m.seq), seqs(1001, 1005), "the rest pages on from the last replayed");
  const nearlyThere = await openSocket(stack, chat, MESSAGES - 300);
  assert.deepEqual(nearlyThere.messages().map((m) => m.seq), seqs(MESSAGES - 299, MESSAGES));
  nearlyThere.close();

  // Killed while backing up, at several moments.
  for (const afterMs of [40, 150, 400]) {
    await killDuring(() => api("POST", "/v1/backups", { kind: "chat", object_id: chat }), afterMs);
    assert.equal((await allMessages(stack, chat)).length, MESSAGES, `a backup killed after ${afterMs} ms leaves the chat as it was`);
  }
  for (const s of await snapshots(chat)) {
    if (s.complete) {
      const manifest = await verifyBackup(api, s.id);
      assert.ok(manifest.total_rows > 0, `${s.id} verifies`);
    } else {
      const res = await call(stack, "POST", `/v1/backups/${s.id}/restore`);
      assert.equal(res.status, 422, `${s.id}: ${res.text}`);
      assert.equal(res.json.error.code, "backup_incomplete", "an unfinished snapshot is refused");
    }
  }

  // Killed while restoring: the chat is the snapshot or what it was, never a mix.
  const moved = await call(stack, "POST", `/v1/chats/${chat}/messages`, { body: { client_id: "moved-on", content: "after the snapshot" } });
  await settledTurn(stack, chat, moved.json.message.seq);
  let before = await allMessages(stack, chat);
  assert.equal(before.length, MESSAGES + 2);
  for (const afterMs of [30, 120, 350]) {
    const outcome = await killDuring(() => api("POST", `/v1/backups/${big.id}/restore`), afterMs);
    const now = await allMessages(stack, chat);
    if (outcome.done) {
      assert.deepEqual(now, full, "acknowledged: the chat is the snapshot");
    } else {
      assert.ok(JSON.stringify(now) === JSON.stringify(full) || JSON.stringify(now) === JSON.stringify(before), `killed after ${afterMs} ms: ${now.length} messages, neither the snapshot nor the chat before`);
    }
    // Back to the moved-on state for the next round, if the restore went in.
    if (now.length === MESSAGES) {
      const again = await call(stack, "POST", `/v1/chats/${chat}/messages`, { body: { client_id: "moved-on", content: "after the snapshot" } });
      assert.equal(again.status, 201, "the restored chat no longer knows the later client id");
      await settledTurn(stack, chat, again.json.message.seq);
      before = await allMessages(stack, chat);
    }
  }

  // And everything works afterwards: a backup, verified; the chat takes new messages.
  const fresh = (await api("POST", "/v1/backups", { kind: "chat", object_id: chat })).json();
  await verifyBackup(api, fresh.id);
  const last = await call(stack, "POST", `/v1/chats/${chat}/messages`, { body: { client_id: "after-faults", content: "still here" } });
  assert.equal(last.status, 201);
  await settledTurn(stack, chat, last.json.message.seq);
});

test("an R2 put that fails leaves no snapshot, is recorded as failed, and the next backup succeeds", async () => {
  const chat = await createChat(stack, "r2 down");
  const posted = await call(stack, "POST", `/v1/chats/${chat}/messages`, { body: { client_id: "r2", content: "hello" } });
  await settledTurn(stack, chat, posted.json.message.seq);
  const messages = await allMessages(stack, chat);
  const good = (await api("POST", "/v1/backups", { kind: "chat", object_id: chat })).json();

  // The local bucket's blob store is made unwritable (a file where its folder was), with the
  // runtime stopped: every put now fails inside R2 itself.
  const blobs = path.join(stack.persistDir, "v3", "r2", "parley-backups", "blobs");
  assert.ok(existsSync(blobs), "the local bucket keeps its blobs here");
  await stack.kill();
  renameSync(blobs, `${blobs}.saved`);
  writeFileSync(blobs, "not a folder");
  await stack.restart();
  const failed = await call(stack, "POST", "/v1/backups", { body: { kind: "chat", object_id: chat } });
  assert.equal(failed.status, 503, failed.text);
  assert.equal(failed.json.error.code, "unavailable");
  assert.equal(failed.json.error.message, "r2 is unavailable", "the put itself failed");
  const run = d1Get(stack, "SELECT last_outcome, last_taken_at FROM backup_runs WHERE org_id = 'org_demo' AND kind = 'chat' AND object_id = ?", chat);
  assert.equal(run.last_outcome, "unavailable", "the failure is recorded");
  assert.equal(run.last_taken_at, good.manifest.taken_at_ms, "the last good snapshot is still the last one taken");
  assert.deepEqual((await snapshots(chat)).filter((s) => s.complete).map((s) => s.id), [good.id], "no new complete snapshot");
  assert.deepEqual(await allMessages(stack, chat), messages, "the chat is untouched");

  await stack.kill();
  rmSync(blobs);
  renameSync(`${blobs}.saved`, blobs);
  await stack.restart();
  const again = (await api("POST", "/v1/backups", { kind: "chat", object_id: chat })).json();
  await verifyBackup(api, again.id);
  assert.equal(d1Get(stack, "SELECT last_outcome FROM backup_runs WHERE org_id = 'org_demo' AND kind = 'chat' AND object_id = ?", chat).last_outcome, "ok");
});
