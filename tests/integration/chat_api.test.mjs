// The orchestrator's JSON API on the real runtime: health, readiness, chats, messages,
// idempotent retries, paging, and every kind of bad input getting its 4xx while writing
// nothing.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startStack } from "../support/stack.mjs";
import { call, createChat, allMessages, settledTurn, turns, eventually } from "../support/client.mjs";
import { d1All } from "../support/d1.mjs";

let stack;
before(async () => {
  stack = await startStack();
});
after(async () => {
  await stack?.stop();
});

test("health and readiness", async () => {
  assert.deepEqual((await call(stack, "GET", "/health")).json, { status: "ok" });
  const ready = await call(stack, "GET", "/ready");
  assert.equal(ready.status, 200, ready.text);
  assert.equal(ready.json.status, "ready");
});

test("chats are created, listed and fetched", async () => {
  const id = await createChat(stack, "Acme follow-up");
  assert.match(id, /^chat_[0-9a-z]{26}$/);
  const list = await call(stack, "GET", "/v1/chats");
  assert.equal(list.status, 200);
  assert.ok(list.json.chats.some((c) => c.id === id && c.title === "Acme follow-up"));
  const one = await call(stack, "GET", `/v1/chats/${id}`);
  assert.equal(one.status, 200);
  assert.equal(one.json.title, "Acme follow-up");
  const untitled = await call(stack, "POST", "/v1/chats", { raw: "" });
  assert.equal(untitled.status, 201);
  assert.equal(untitled.json.title, "New chat");
});

test("a posted message is stored, answered, and a retried post is not stored twice", async () => {
  const id = await createChat(stack);
  const first = await call(stack, "POST", `/v1/chats/${id}/messages`, { body: { client_id: "retry-1", content: "Hello Parley" } });
  assert.equal(first.status, 201, first.text);
  assert.equal(first.json.duplicate, false);
  assert.equal(first.json.message.seq, 1);
  assert.equal(first.json.message.role, "user");
  const again = await call(stack, "POST", `/v1/chats/${id}/messages`, { body: { client_id: "retry-1", content: "Hello Parley" } });
  assert.equal(again.status, 200);
  assert.equal(again.json.duplicate, true);
  assert.equal(again.json.message.seq, 1);
  const reused = await call(stack, "POST", `/v1/chats/${id}/messages`, { body: { client_id: "retry-1", content: "Something else" } });
  assert.equal(reused.status, 409, reused.text);
  assert.equal(reused.json.error.code, "client_id_conflict");
  const turn = await settledTurn(stack, id, 1);
  assert.equal(turn.state, "done", JSON.stringify(turn));
  assert.equal(turn.model, "parley-offline-1");
  const log = await allMessages(stack, id);
  assert.deepEqual(log.map((m) => [m.seq, m.role]), [[1, "user"], [2, "assistant"]]);
  assert.match(log[1].content, /^\[Offline model/);
  assert.equal(log[1].turn_id, log[0].turn_id);
});

test("messages page by sequence number", async () => {
  const id = await createChat(stack);
  for (let i = 0; i < 5; i++) {
    const r = await call(stack, "POST", `/v1/chats/${id}/messages`, { body: { client_id: `p${i}`, content: `m${i}` } });
    assert.equal(r.status, 201);
  }
  const page = await call(stack, "GET", `/v1/chats/${id}/messages?after=2&limit=2`);
  assert.equal(page.status, 200);
  assert.deepEqual(page.json.messages.map((m) => m.seq), [3, 4]);
  assert.ok(page.json.last_seq >= 5);
});

test("every bad input gets its 4xx and a stable code, and writes nothing", async () => {
  const id = await createChat(stack);
  const counted = () => d1All(stack, "SELECT COALESCE(SUM(messages), 0) AS n FROM usage_periods WHERE org_id = 'org_demo'")[0].n;
  const countedBefore = counted();
  const ok = await call(stack, "POST", `/v1/chats/${id}/messages`, { body: { client_id: "keep", content: "kept" } });
  assert.equal(ok.status, 201);
  await settledTurn(stack, id, ok.json.message.seq);
  // What a bad input could write: messages and turns in the chat's object, chats and message
  // usage in D1 (request metrics are meant to count refusals, so they are not compared).
  const written = async () => ({
    messages: (await allMessages(stack, id)).map((m) => [m.seq, m.role, m.client_id]),
    turns: (await turns(stack, id)).map((t) => t.id),
    chats: d1All(stack, "SELECT id, title FROM chats ORDER BY id").map((r) => ({ ...r })),
    usage: d1All(stack, "SELECT org_id, period_start, messages FROM usage_periods ORDER BY org_id, period_start").map((r) => ({ ...r })),
  });
  // The accepted message's usage is counted after its response: wait until it shows.
  await eventually(() => counted() === countedBefore + 1, 10_000, "the accepted message's usage");
  const before = await written();
  const post = (opts) => call(stack, "POST", `/v1/chats/${id}/messages`, opts);
  const cases = [
    ["malformed JSON", await post({ raw: '{"client_id": "x", ', headers: { "Content-Type": "application/json" } }), 400, "malformed_json"],
    ["not an object", await post({ raw: "[1,2]", headers: { "Content-Type": "application/json" } }), 400, "malformed_json"],
    ["missing content", await post({ body: { client_id: "x1" } }), 400, "missing_field"],
    ["missing client id", await post({ body: { content: "hi" } }), 400, "missing_field"],
    ["wrong type", await post({ body: { client_id: "x2", content: 42 } }), 400, "invalid_field"],
    ["empty content", await post({ body: { client_id: "x3", content: "   " } }), 400, "invalid_field"],
    ["bad client id", await post({ body: { client_id: "has spaces", content: "hi" } }), 400, "invalid_field"],
    ["oversized text", await post({ body: { client_id: "x4", content: "a".repeat(16 * 1024 + 1) } }), 413, "payload_too_large"],
    ["oversized body", await post({ raw: JSON.stringify({ client_id: "x5", content: "a", pad: "b".repeat(70_000) }), headers: { "Content-Type": "application/json" } }), 413, "payload_too_large"],
    ["unsupported content type", await post({ raw: "client_id=x&content=y", headers: { "Content-Type": "application/x-www-form-urlencoded" } }), 415, "unsupported_media_type"],
    ["no content type", await post({ raw: '{"client_id":"x6","content":"y"}', headers: {} }), 415, "unsupported_media_type"],
    ["wrong method", await call(stack, "PUT", `/v1/chats/${id}/messages`, { body: {} }), 405, "method_not_allowed"],
    ["unknown route", await call(stack, "GET", "/v1/nothing-here"), 404, "not_found"],
    ["unknown chat", await call(stack, "POST", "/v1/chats/chat_00000000000000000000000000/messages", { body: { client_id: "x7", content: "hi" } }), 404, "unknown_chat"],
    ["malformed chat id", await call(stack, "GET", "/v1/chats/../../etc/messages"), 404, null],
    ["bad paging", await call(stack, "GET", `/v1/chats/${id}/messages?limit=0`), 400, "invalid_query"],
    ["negative cursor", await call(stack, "GET", `/v1/chats/${id}/messages?after=-5`), 400, "invalid_query"],
    ["socket without upgrade", await call(stack, "GET", `/v1/chats/${id}/ws`), 426, "upgrade_required"],
    ["bad chat title", await call(stack, "POST", "/v1/chats", { body: { title: 7 } }), 400, "invalid_field"],
  ];
  const wrongMethod = cases.find(([name]) => name === "wrong method")[1];
  assert.equal(wrongMethod.headers.get("allow"), "GET, POST", "a 405 names the methods the path serves");
  for (const [name, res, status, code] of cases) {
    assert.equal(res.status, status, `${name}: ${res.text}`);
    assert.ok(res.json?.error?.message, `${name} has a JSON error body`);
    if (code) assert.equal(res.json.error.code, code, name);
  }
  const log = await allMessages(stack, id);
  assert.deepEqual(log.filter((m) => m.role === "user").map((m) => m.client_id), ["keep"], "nothing but the valid message was stored");
  assert.deepEqual(await written(), before, "no message, turn, chat or usage written by any bad input");
});

test("the browser app is served as static assets", async () => {
  const res = await call(stack, "GET", "/");
  assert.equal(res.status, 200);
  assert.match(res.headers.get("content-type"), /text\/html/);
  assert.match(res.text, /<title>Parley<\/title>/);
  const js = await call(stack, "GET", "/app.js");
  assert.equal(js.status, 200);
});
