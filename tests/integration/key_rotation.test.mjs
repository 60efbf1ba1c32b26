// Rotating PARLEY_MASTER_KEY (ADR 19) on the real runtime: with the new key current and the old
// one as PARLEY_MASTER_KEY_PREVIOUS, turns still receive every granted secret (including a row
// from before key ids were recorded); the cron reseals each row under the new key, audited; and
// then the old key can go: with the new key alone, turns still receive every secret.

import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { startStack, stackWrangler } from "../support/stack.mjs";
import { call, createChat, eventually, settledTurn } from "../support/client.mjs";
import { d1All } from "../support/d1.mjs";
import { uid } from "../support/webhooks.mjs";

const oldKey = randomBytes(32);
const newKey = randomBytes(32);
const b64 = (k) => k.toString("base64");
// The key id as ADR 19 defines it, computed here independently of the worker's code.
const keyId = (k) => createHash("sha256").update("parley-master-key-id/v1\0").update(k).digest("hex").slice(0, 16);

const rows = (stack) => Object.fromEntries(d1All(stack, "SELECT name, key_id, nonce FROM secrets WHERE org_id = 'org_demo' ORDER BY name").map((r) => [r.name, r]));
const events = (stack, action) => d1All(stack, "SELECT target, actor FROM security_events WHERE org_id = 'org_demo' AND action = ? ORDER BY id", action).map((e) => ({ ...e }));
const usedCount = (stack, name) => events(stack, "secret.used").filter((e) => e.target === name).length;

async function runTurn(stack, chat) {
  const posted = await call(stack, "POST", `/v1/chats/${chat}/messages`, { body: { client_id: uid("c"), content: "hello" } });
  assert.equal(posted.status, 201, posted.text);
  assert.equal((await settledTurn(stack, chat, posted.json.message.seq)).state, "done");
}

test("secrets survive a master key rotation and the cron reseals them under the new key", async () => {
  let stack = await startStack({ orchestratorVars: { PARLEY_MASTER_KEY: b64(oldKey) } });
  let chat;
  try {
    chat = await createChat(stack);
    for (const name of ["CURRENT_ROW", "LEGACY_ROW"]) {
      const res = await call(stack, "POST", "/v1/secrets", { body: { name, value: `value_${uid(name)}`, grant: { scope: "org" } } });
      assert.equal(res.status, 201, res.text);
    }
    assert.equal(rows(stack).CURRENT_ROW.key_id, keyId(oldKey), "each write records the id of the key that sealed it");
  } finally {
    await stack.stop();
  }
  const persistDir = stack.persistDir;
  // A row written before key ids were recorded (migration 0007) has none.
  stackWrangler(stack, ["d1", "execute", "DB", "--command", "UPDATE secrets SET key_id = NULL WHERE name = 'LEGACY_ROW'"]);

  // The rotation: the new key is current, the old one is kept as the previous key.
  stack = await startStack({
    persistDir,
    orchestratorVars: { PARLEY_MASTER_KEY: b64(newKey), PARLEY_MASTER_KEY_PREVIOUS: b64(oldKey) },
    chatVars: { PARLEY_MASTER_KEY_PREVIOUS: b64(oldKey) },
  });
  try {
    const before = rows(stack);
    await runTurn(stack, chat);
    assert.equal(usedCount(stack, "CURRENT_ROW"), 1, "opened with the previous key");
    assert.equal(usedCount(stack, "LEGACY_ROW"), 1, "a row without a key id is tried with both keys");

    const tick = await fetch(`${stack.url}/__scheduled?cron=${encodeURIComponent("*/15 * * * *")}`);
    assert.equal(tick.status, 200);
    await eventually(() => Object.values(rows(stack)).every((r) => r.key_id === keyId(newKey)), 20_000, "every row sealed under the new key");
    const after = rows(stack);
    for (const name of ["CURRENT_ROW", "LEGACY_ROW"]) assert.notEqual(after[name].nonce, before[name].nonce, `${name} sealed again with a fresh nonce`);
    assert.deepEqual(events(stack, "secret.resealed"), [
      { target: "CURRENT_ROW", actor: "system:key-rotation" },
      { target: "LEGACY_ROW", actor: "system:key-rotation" },
    ]);
    // A second tick finds nothing left to do.
    await fetch(`${stack.url}/__scheduled?cron=${encodeURIComponent("*/15 * * * *")}`);
    assert.equal(events(stack, "secret.resealed").length, 2);
  } finally {
    await stack.stop();
  }

  // The old key is gone: only rows resealed under the new key can still be opened.
  stack = await startStack({ persistDir, orchestratorVars: { PARLEY_MASTER_KEY: b64(newKey) } });
  try {
    await runTurn(stack, chat);
    assert.equal(usedCount(stack, "CURRENT_ROW"), 2);
    assert.equal(usedCount(stack, "LEGACY_ROW"), 2);
  } finally {
    await stack.stop();
  }
});

test("a previous key equal to the current one is refused as a misconfiguration", async () => {
  const same = b64(newKey);
  const stack = await startStack({ orchestratorVars: { PARLEY_MASTER_KEY: same, PARLEY_MASTER_KEY_PREVIOUS: same } });
  try {
    const res = await call(stack, "POST", "/v1/secrets", { body: { name: "NOPE", value: "value-never-stored", grant: { scope: "org" } } });
    assert.equal(res.status, 503);
    assert.equal(res.json.error.code, "misconfigured");
    assert.equal(d1All(stack, "SELECT name FROM secrets WHERE name = 'NOPE'").length, 0);
  } finally {
    await stack.stop();
  }
});
