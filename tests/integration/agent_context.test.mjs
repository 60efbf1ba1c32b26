// Budget tiers and rolling summaries in workerd, observed through what the fake model receives.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startStack } from "../support/stack.mjs";
import { startFakeOpenAI, behave } from "../support/fake_openai.mjs";
import { call, createChat, eventually, openSocket, settledTurn } from "../support/client.mjs";
import { mintToken } from "../support/identity.mjs";
import { provisionOrg, uid } from "../support/webhooks.mjs";

let stack;
let fake;

before(async () => {
  fake = await startFakeOpenAI({ defaultBehaviour: behave.text(["Noted."]) });
  stack = await startStack({
    agentVars: { OPENAI_API_KEY: "sk-test-not-secret", OPENAI_BASE_URL: fake.url, OPENAI_MODEL: "fake-large", OPENAI_CHEAP_MODEL: "fake-small", OPENAI_TIMEOUT_MS: "10000" },
    // Each fake call reports 12 prompt tokens: at $1.25 a token, one turn costs $15, 75 % of
    // the starter plan's $20 budget.
    chatVars: { MODEL_PRICES: JSON.stringify({ "fake-large": { input: 1250000, output: 0 }, "fake-small": { input: 1250000, output: 0 } }), SUMMARY_THRESHOLD: "4" },
  });
});

after(async () => {
  await stack?.stop();
  await fake?.close();
});

async function turn(s, chat, content) {
  const posted = await call(s, "POST", `/v1/chats/${chat}/messages`, { body: { client_id: uid("c"), content } });
  assert.equal(posted.status, 201, posted.text);
  return settledTurn(s, chat, posted.json.message.seq);
}

test("budget tiers: GREEN uses the primary model, YELLOW and RED the cheaper one with a smaller context; the tier is recorded and shown", async () => {
  const org = await provisionOrg(stack, { price: "parley_starter" });
  const s = { ...stack, token: await mintToken({ org_id: org.org, user_id: org.users.admin }) };
  const chat = await createChat(s);
  const green = await turn(s, chat, "First question");
  assert.equal(green.tier, "GREEN");
  assert.equal(fake.requests.at(-1).body.model, "fake-large");
  assert.equal(green.cost_micros, 15_000_000);
  assert.equal((await call(s, "GET", "/v1/org/usage")).json.tier, "YELLOW");

  const yellow = await turn(s, chat, "Second question");
  assert.equal(yellow.tier, "YELLOW");
  assert.equal(fake.requests.at(-1).body.model, "fake-small");

  const red = await turn(s, chat, "Third question");
  assert.equal(red.tier, "RED", "inbound replies are still answered in RED");
  assert.equal(red.state, "done");
  assert.equal(fake.requests.at(-1).body.model, "fake-small");
  const usage = (await call(s, "GET", "/v1/org/usage")).json;
  assert.equal(usage.tier, "RED");
  assert.equal(usage.spent_micros, 45_000_000);
  assert.equal(usage.ai_budget_micros, 20_000_000);
});

test("rolling summaries: old messages fold into a versioned summary, and pinned facts stay in every context", async () => {
  const chat = await createChat(stack);
  const watcher = await openSocket(stack, chat);
  await turn(stack, chat, "Hi, my name is Dana Scully and I run procurement.");
  // Ten messages stay verbatim; past 4 more, the alarm folds the older ones into a summary.
  const isSummary = (r) => r.body.messages[0].content.includes("rolling summary");
  for (let i = 1; i <= 6; i++) await turn(stack, chat, `Question number ${i} about pricing tiers`);
  assert.ok(!fake.requests.some(isSummary), "14 messages: not yet");
  await turn(stack, chat, "Question number 7 about pricing tiers");
  const summaryCall = await eventually(() => fake.requests.find(isSummary), 10_000, "a summary call");
  assert.equal(summaryCall.body.model, "fake-small", "summaries use the cheaper model");
  assert.equal(summaryCall.body.tools, undefined, "summaries offer no tools");
  await turn(stack, chat, "What was my name again?");
  // A summary is internal work, not a reply: its text never streams to the chat's clients.
  const shown = watcher.events.filter((e) => e.type === "delta").map((e) => e.turn_id);
  assert.ok(shown.length > 0 && shown.every((id) => id.startsWith("turn_")), `deltas shown: ${[...new Set(shown)]}`);
  watcher.close();
  const last = fake.requests.filter((r) => !isSummary(r)).at(-1).body.messages;
  const system = last.filter((m) => m.role === "system").map((m) => m.content).join("\n");
  assert.match(system, /Conversation so far \(summary v\d+\)/);
  assert.match(system, /The contact's name is Dana Scully\./, "the pinned fact is in the context");
  assert.ok(!last.some((m) => m.role === "user" && m.content.startsWith("Hi, my name is")), "the folded message itself is gone");
});

test("the org's strategy and its retrieved knowledge join the system prompt, with source tags", async () => {
  const set = await call(stack, "PUT", "/v1/workspace/settings", { body: { strategy: "Lead with onboarding speed; never discount on the first call." } });
  assert.equal(set.status, 200, set.text);
  const doc = await call(stack, "POST", "/v1/knowledge", { body: { title: "Onboarding", text: "New customers are live within 48 hours of signing." } });
  const chat = await createChat(stack);
  await turn(stack, chat, "How fast is onboarding for new customers?");
  const system = fake.requests.at(-1).body.messages.filter((m) => m.role === "system").map((m) => m.content).join("\n");
  assert.match(system, /Organisation strategy:\nLead with onboarding speed/);
  assert.match(system, new RegExp(`\\[doc:${doc.json.id}#c0\\] Onboarding`));
});
