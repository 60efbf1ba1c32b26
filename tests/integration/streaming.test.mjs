// WebSocket broadcast on the real runtime: several clients see every stored message and every
// streamed delta in order; a client that reconnects with its last sequence gets exactly what
// it missed; messages posted while a turn runs are queued, never dropped.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { startStack } from "../support/stack.mjs";
import { startMiniflareStack } from "../support/miniflare_stack.mjs";
import { startFakeOpenAI, behave } from "../support/fake_openai.mjs";
import { call, createChat, allMessages, openSocket, settledTurn, eventually } from "../support/client.mjs";

let stack;
let fake;
before(async () => {
  fake = await startFakeOpenAI({ defaultBehaviour: behave.text(["Hi", " there", ",", " friend", "."], { delayMs: 20 }) });
  stack = await startStack({ agentVars: { OPENAI_API_KEY: "sk-test-not-secret", OPENAI_BASE_URL: fake.url, OPENAI_MODEL: "fake-large", OPENAI_TIMEOUT_MS: "5000" } });
});
after(async () => {
  await stack?.stop();
  await fake?.close();
});

test("every client sees the message, the streamed deltas in order, and the reply", async () => {
  const id = await createChat(stack);
  const clients = await Promise.all([1, 2, 3].map(() => openSocket(stack, id)));
  const res = await call(stack, "POST", `/v1/chats/${id}/messages`, { body: { client_id: "b1", content: "Hello?" } });
  assert.equal(res.status, 201);
  for (const c of clients) {
    await c.waitFor((e) => e.type === "message" && e.message.role === "assistant", 20_000, "assistant reply");
    const seqs = c.messages().map((m) => m.seq);
    assert.deepEqual(seqs, [1, 2]);
    const deltas = c.events.filter((e) => e.type === "delta");
    assert.deepEqual(deltas.map((d) => d.index), [0, 1, 2, 3, 4]);
    assert.equal(deltas.map((d) => d.text).join(""), "Hi there, friend.");
    assert.equal(c.messages()[1].content, "Hi there, friend.");
    const order = c.events.filter((e) => e.type !== "hello").map((e) => e.type === "turn" ? `turn:${e.turn.state}` : e.type);
    assert.deepEqual(order.filter((t) => t !== "delta"), ["message", "turn:queued", "turn:running", "message", "turn:done"]);
    assert.ok(order.indexOf("delta") > order.indexOf("turn:running") && order.lastIndexOf("delta") < order.lastIndexOf("message"));
    c.close();
  }
  const turn = await settledTurn(stack, id, 1);
  assert.equal(turn.model, "fake-large");
  assert.equal(turn.tokens_in, 12);
  assert.equal(turn.tokens_out, 5);
  const sent = fake.requests.at(-1).body;
  assert.equal(sent.stream, true);
  assert.equal(sent.messages[0].role, "system");
  assert.deepEqual(sent.messages.at(-1), { role: "user", content: "Hello?" });
  assert.equal(fake.requests.at(-1).headers.authorization, "Bearer sk-test-not-secret");
});

test("the orchestrator declines permessage-deflate for chat sockets, though clients offer it (ADR 18)", async () => {
  // wrangler dev's entry router would negotiate the extension itself, so this runs the workers
  // with their wrangler.toml settings and connects to the orchestrator's own socket.
  const direct = await startMiniflareStack();
  try {
    const id = await createChat(direct);
    // Node's WebSocket, like a browser's, offers permessage-deflate on every upgrade.
    const client = await openSocket(direct, id);
    assert.equal(client.ws.extensions, "");
    // The router in front, with the runtime's default, accepts it: the offer was really made.
    const routed = await openSocket({ ...direct, url: direct.entryUrl }, id);
    assert.match(routed.ws.extensions, /^permessage-deflate/);
    const res = await call(direct, "POST", `/v1/chats/${id}/messages`, { body: { client_id: "x1", content: "plain frames" } });
    assert.equal(res.status, 201);
    for (const c of [client, routed]) {
      await c.waitFor((e) => e.type === "message" && e.message.client_id === "x1", 10_000, "the message");
      c.close();
    }
  } finally {
    await direct.stop();
  }
});

test("a reconnecting client receives exactly what it missed", async () => {
  const id = await createChat(stack);
  const c1 = await openSocket(stack, id);
  await call(stack, "POST", `/v1/chats/${id}/messages`, { body: { client_id: "r1", content: "first" } });
  await c1.waitFor((e) => e.type === "message" && e.message.seq === 2, 20_000, "first reply");
  c1.close();
  await call(stack, "POST", `/v1/chats/${id}/messages`, { body: { client_id: "r2", content: "second" } });
  await settledTurn(stack, id, 3);
  const c2 = await openSocket(stack, id, 2);
  assert.deepEqual(c2.messages().map((m) => m.seq), [3, 4]);
  assert.equal(c2.hello().last_seq, 4);
  assert.ok(c2.events.findIndex((e) => e.type === "hello") > c2.events.findIndex((e) => e.type === "message"), "replay comes before hello");
  c2.close();
  const c3 = await openSocket(stack, id, 4);
  assert.deepEqual(c3.messages(), []);
  c3.close();
});

test("messages posted during a turn are queued and each gets its turn, in order", async () => {
  const id = await createChat(stack);
  fake.script(behave.text(["slow", " one"], { delayMs: 300 }));
  const posts = [];
  for (let i = 0; i < 4; i++) {
    posts.push(await call(stack, "POST", `/v1/chats/${id}/messages`, { body: { client_id: `q${i}`, content: `question ${i}` } }));
  }
  assert.deepEqual(posts.map((p) => p.status), [201, 201, 201, 201]);
  await eventually(async () => {
    const log = await allMessages(stack, id);
    return log.filter((m) => m.role === "assistant").length === 4;
  }, 30_000, "four replies");
  const log = await allMessages(stack, id);
  assert.deepEqual(log.map((m) => m.seq), log.map((_, i) => i + 1), "sequence numbers have no gaps");
  const replies = log.filter((m) => m.role === "assistant").map((m) => m.turn_id);
  assert.deepEqual(replies, ["turn_1", "turn_2", "turn_3", "turn_4"], "one turn at a time, in order");
});

test("a token from the local development issuer is refused on a non-loopback host", async () => {
  const get = (path, headers) => new Promise((resolve, reject) => {
    const req = http.request({ host: "127.0.0.1", port: stack.port, path, headers: { host: "parley.example.com", ...headers } }, (res) => {
      let text = "";
      res.on("data", (d) => (text += d));
      res.on("end", () => resolve({ status: res.statusCode, json: JSON.parse(text) }));
    });
    req.on("error", reject);
    req.end();
  });
  const res = await get("/v1/chats", { authorization: `Bearer ${stack.token}` });
  assert.equal(res.status, 401);
  assert.equal(res.json.error.code, "token_issuer_invalid");
  const config = await get("/auth/config", {});
  assert.equal(config.json.dev_issuer, null, "the development issuer is not offered off loopback");
  const local = await call(stack, "GET", "/v1/chats");
  assert.equal(local.status, 200, "the same token works on loopback");
});
