// The agents worker's OpenAI-compatible client, compiled and running in workerd, against a
// fake provider on 127.0.0.1 speaking the real wire format.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startStack } from "../support/stack.mjs";
import { startFakeOpenAI, behave } from "../support/fake_openai.mjs";

let fake;
let agents;
before(async () => {
  fake = await startFakeOpenAI();
  agents = await startStack({
    agentsOnly: true,
    agentVars: { OPENAI_API_KEY: "sk-fake", OPENAI_BASE_URL: fake.url, OPENAI_MODEL: "big-model", OPENAI_FALLBACK_MODEL: "small-model", OPENAI_TIMEOUT_MS: "1500", OPENAI_MAX_RETRIES: "1" },
  });
});
after(async () => {
  await agents?.stop();
  await fake?.close();
});

async function turn(content = "hi") {
  const res = await fetch(`${agents.url}/v1/turns`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ turn_id: "turn_1", org_id: "org_t", chat_id: "chat_t", messages: [{ role: "system", content: "sys" }, { role: "user", content }], tools: [] }),
  });
  assert.equal(res.status, 200);
  assert.match(res.headers.get("content-type"), /application\/x-ndjson/);
  const text = await res.text();
  return text.split("\n").filter(Boolean).map((l) => JSON.parse(l));
}

const calls = () => fake.requests.filter((r) => r.url === "/v1/chat/completions");

test("streamed text becomes deltas, usage and a final message", async () => {
  const before = calls().length;
  fake.script(behave.text(["One", " two", " three"]));
  const events = await turn();
  assert.deepEqual(events.filter((e) => e.type === "delta").map((e) => e.text), ["One", " two", " three"]);
  assert.deepEqual(events.find((e) => e.type === "usage"), { type: "usage", input_tokens: 12, output_tokens: 3 });
  assert.deepEqual(events.at(-1), { type: "done", content: "One two three", model: "big-model", finish_reason: "stop" });
  assert.equal(calls().length - before, 1);
  assert.equal(calls().at(-1).body.model, "big-model");
});

test("streamed tool calls are assembled from fragments", async () => {
  fake.script(behave.toolCalls([{ id: "call_1", name: "knowledge_search", arguments: '{"query":"pricing tiers"}' }, { id: "call_2", name: "propose_meeting_slots", arguments: '{"days":2}' }]));
  const events = await turn();
  const toolCalls = events.filter((e) => e.type === "tool_call");
  assert.deepEqual(toolCalls, [
    { type: "tool_call", id: "call_1", name: "knowledge_search", arguments: '{"query":"pricing tiers"}' },
    { type: "tool_call", id: "call_2", name: "propose_meeting_slots", arguments: '{"days":2}' },
  ]);
  assert.equal(events.at(-1).finish_reason, "tool_calls");
});

test("a 429 is retried after Retry-After, then succeeds", async () => {
  const before = calls().length;
  fake.script(behave.status(429, { retryAfter: 1 }), behave.text(["ok"]));
  const started = Date.now();
  const events = await turn();
  assert.equal(events.at(-1).type, "done");
  assert.equal(events.at(-1).content, "ok");
  assert.equal(calls().length - before, 2);
  assert.ok(Date.now() - started >= 900, "waited for Retry-After");
});

test("persistent 500s exhaust the retries, fall back to the second model, then fail cleanly", async () => {
  const before = calls().length;
  fake.script(behave.status(500), behave.status(500), behave.status(500), behave.status(500));
  const events = await turn();
  const models = calls().slice(before).map((r) => r.body.model);
  assert.deepEqual(models, ["big-model", "big-model", "small-model", "small-model"]);
  assert.equal(events.at(-1).type, "error");
  assert.equal(events.at(-1).code, "provider_error");
  assert.ok(!JSON.stringify(events).includes("sk-fake"), "the key never appears in events");
});

test("the fallback model answers when the primary keeps failing", async () => {
  fake.script(behave.status(503), behave.status(502), behave.text(["from", " fallback"]));
  const events = await turn();
  assert.deepEqual(events.at(-1), { type: "done", content: "from fallback", model: "small-model", finish_reason: "stop" });
});

test("a provider that never answers times out, retried and then tried with the fallback model", async () => {
  const before = calls().length;
  fake.script(behave.hang(), behave.hang(), behave.hang(), behave.hang());
  const events = await turn();
  assert.equal(events.at(-1).type, "error");
  assert.equal(events.at(-1).code, "provider_timeout");
  assert.deepEqual(calls().slice(before).map((c) => c.body.model), ["big-model", "big-model", "small-model", "small-model"], "one retry per model (OPENAI_MAX_RETRIES=1)");
});

test("a stream that stalls after its first words times out, keeps them, and is not sent again", async () => {
  const before = calls().length;
  fake.script(behave.stall(["Half", " a"]));
  const events = await turn();
  assert.deepEqual(events.filter((e) => e.type === "delta").map((e) => e.text), ["Half", " a"]);
  assert.equal(events.at(-1).type, "error");
  assert.equal(events.at(-1).code, "provider_timeout");
  assert.equal(events.filter((e) => e.type === "done").length, 0);
  assert.equal(calls().length - before, 1, "words already streamed: retrying would repeat them");
});

test("a malformed stream is an error, not a reply", async () => {
  fake.script(behave.malformed(), behave.malformed(), behave.malformed(), behave.malformed());
  const events = await turn();
  assert.equal(events.at(-1).type, "error");
  assert.equal(events.at(-1).code, "provider_malformed_stream");
  assert.equal(events.filter((e) => e.type === "done").length, 0);
});

test("a stream cut off after text fails without retrying (it would repeat the text)", async () => {
  const before = calls().length;
  fake.script(behave.truncated(["partial", " answer"]));
  const events = await turn();
  assert.deepEqual(events.filter((e) => e.type === "delta").map((e) => e.text), ["partial", " answer"]);
  assert.equal(events.at(-1).type, "error");
  assert.equal(calls().length - before, 1);
});

test("client errors are not retried", async () => {
  const before = calls().length;
  fake.script(behave.status(401, { body: JSON.stringify({ error: { message: "bad key" } }) }));
  const events = await turn();
  assert.equal(events.at(-1).type, "error");
  assert.match(events.at(-1).message, /401/);
  assert.equal(calls().length - before, 1);
});
