// Killing the whole runtime (workerd and every Durable Object in it) mid-conversation and
// starting it again on the same persisted state: nothing acknowledged is lost, nothing is
// stored twice, and the interrupted turn is run again to completion without help.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startStack } from "../support/stack.mjs";
import { startFakeOpenAI, behave } from "../support/fake_openai.mjs";
import { call, createChat, allMessages, openSocket, settledTurn, turns } from "../support/client.mjs";

let stack;
let fake;
before(async () => {
  fake = await startFakeOpenAI();
  stack = await startStack({ agentVars: { OPENAI_API_KEY: "sk-test", OPENAI_BASE_URL: fake.url, OPENAI_TIMEOUT_MS: "5000" } });
});
after(async () => {
  await stack?.stop();
  await fake?.close();
});

test("an object evicted mid-turn loses nothing and finishes the turn once", async () => {
  const id = await createChat(stack);
  const pieces = Array.from({ length: 40 }, (_, i) => `w${i} `);
  fake.script(behave.text(pieces, { delayMs: 250 }));
  const ws = await openSocket(stack, id);
  const posted = await call(stack, "POST", `/v1/chats/${id}/messages`, { body: { client_id: "e1", content: "tell me a long story" } });
  assert.equal(posted.status, 201);
  await ws.waitFor((e) => e.type === "delta" && e.index >= 2, 20_000, "streaming to start");
  ws.close();

  await stack.restart(); // SIGKILL to workerd: the object is gone mid-stream

  // The next request wakes the object; the interrupted turn goes back to the queue and runs
  // again (the fake's default reply this time).
  const turn = await settledTurn(stack, id, 1, 45_000);
  assert.equal(turn.state, "done", JSON.stringify(turn));
  const log = await allMessages(stack, id);
  assert.deepEqual(log.map((m) => [m.seq, m.role]), [[1, "user"], [2, "assistant"]], "one user message, one reply");
  assert.equal(log[0].client_id, "e1");
  assert.equal(log[1].content, "Hello from the fake model.");
  assert.equal((await turns(stack, id)).length, 1);

  const retry = await call(stack, "POST", `/v1/chats/${id}/messages`, { body: { client_id: "e1", content: "tell me a long story" } });
  assert.equal(retry.json.duplicate, true, "the client id is remembered across the restart");
});

test("messages acknowledged before a crash are all there after it, and the chat goes on", async () => {
  const id = await createChat(stack, "survives");
  for (let i = 0; i < 5; i++) {
    const r = await call(stack, "POST", `/v1/chats/${id}/messages`, { body: { client_id: `k${i}`, content: `msg ${i}` } });
    assert.equal(r.status, 201);
  }
  await stack.restart();
  const users = (await allMessages(stack, id)).filter((m) => m.role === "user");
  assert.deepEqual(users.map((m) => m.client_id), ["k0", "k1", "k2", "k3", "k4"]);
  const chats = (await call(stack, "GET", "/v1/chats")).json.chats;
  assert.ok(chats.some((c) => c.id === id && c.title === "survives"));
  for (const seq of users.map((m) => m.seq)) {
    const t = await settledTurn(stack, id, seq, 45_000);
    assert.equal(t.state, "done", JSON.stringify(t));
  }
  const log = await allMessages(stack, id);
  assert.equal(log.filter((m) => m.role === "assistant").length, 5, "each message answered exactly once");
  const after = await call(stack, "POST", `/v1/chats/${id}/messages`, { body: { client_id: "k5", content: "still here?" } });
  assert.equal(after.status, 201);
  assert.equal(after.json.message.seq, 11);
});
