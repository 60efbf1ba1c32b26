// The agent's tool loop in workerd, driven by a fake OpenAI-compatible server that scripts
// multi-step tool calls, with a fake HTTP endpoint on 127.0.0.1 standing in for an org's API.
// Covers: knowledge search with sources, invalid arguments, meeting slots, drafts, the HTTP
// tool (read calls at once, mutating calls only after a person approves), deny, expiry,
// eviction while parked, a crash mid-call (never run twice), and egress refusals.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { startStack } from "../support/stack.mjs";
import { startFakeOpenAI, behave } from "../support/fake_openai.mjs";
import { call, createChat, eventually, turns } from "../support/client.mjs";
import { mintToken } from "../support/identity.mjs";
import { uid } from "../support/webhooks.mjs";
import { d1Get } from "../support/d1.mjs";

let stack;
let fake;
let api; // the org's own HTTP API
const hits = [];
let apiDelayMs = 0;
const CRM_SECRET = `crm_${uid("key")}`;

before(async () => {
  api = http.createServer(async (req, res) => {
    let body = "";
    for await (const part of req) body += part;
    hits.push({ method: req.method, url: req.url, headers: req.headers, body });
    if (apiDelayMs) await new Promise((r) => setTimeout(r, apiDelayMs));
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ ok: true, path: req.url }));
  });
  await new Promise((r) => api.listen(0, "127.0.0.1", r));
  fake = await startFakeOpenAI({ defaultBehaviour: behave.text(["Done."]) });
  stack = await startStack({
    agentVars: { OPENAI_API_KEY: "sk-test-not-secret", OPENAI_BASE_URL: fake.url, OPENAI_MODEL: "fake-large", OPENAI_TIMEOUT_MS: "10000", EGRESS_ALLOW_LOOPBACK_HTTP: "local-only" },
    chatVars: { APPROVAL_TTL_SECS: "20" },
  });
  const apiHost = `127.0.0.1:${api.address().port}`;
  const secret = await call(stack, "POST", "/v1/secrets", { body: { name: "CRM_KEY", value: CRM_SECRET, grant: { scope: "org" } } });
  assert.equal(secret.status, 201, secret.text);
  for (const [name, method, path] of [["crm_contact", "GET", "/contacts/{id}"], ["crm_note", "POST", "/contacts/{id}/notes"]]) {
    const res = await call(stack, "PUT", `/v1/tools/endpoints/${name}`, {
      body: { method, url_template: `http://${apiHost}${path}`, allowed_hosts: [apiHost], headers: { Authorization: "Bearer {{secret.CRM_KEY}}" } },
    });
    assert.equal(res.status, 200, res.text);
  }
  const metadata = await call(stack, "PUT", "/v1/tools/endpoints/metadata", { body: { method: "GET", url_template: "http://169.254.169.254/latest/meta-data", allowed_hosts: ["169.254.169.254"] } });
  assert.equal(metadata.status, 200);
});

after(async () => {
  await stack?.stop();
  await fake?.close();
  await new Promise((r) => api?.close(r));
});

const toolCall = (name, args, id = uid("call")) => ({ id, name, arguments: JSON.stringify(args) });

async function ask(chat, content) {
  const res = await call(stack, "POST", `/v1/chats/${chat}/messages`, { body: { client_id: uid("c"), content } });
  assert.equal(res.status, 201, res.text);
  return res.json.message.seq;
}

const turnFor = async (chat, seq) => (await turns(stack, chat)).find((t) => t.trigger_seq === seq);
const settled = (chat, seq, states = ["done", "failed"]) =>
  eventually(async () => {
    const t = await turnFor(chat, seq);
    return t && states.includes(t.state) ? t : null;
  }, 30_000, `turn ${seq} in ${states}`);
const approvals = async (chat) => (await call(stack, "GET", `/v1/chats/${chat}/approvals`)).json.approvals;
// The tool messages the model was shown in its latest request.
const lastToolResults = () => fake.requests.at(-1).body.messages.filter((m) => m.role === "tool").map((m) => m.content);

test("knowledge search: documents are chunked, searched by BM25, and results carry their sources", async () => {
  const doc = await call(stack, "POST", "/v1/knowledge", {
    body: { title: "Refund policy", text: "# Refunds\n\nCustomers may ask for a refund within 30 days of purchase.\n\nShipping costs are not refunded.", format: "markdown" },
  });
  assert.equal(doc.status, 201, doc.text);
  const search = await call(stack, "GET", "/v1/knowledge/search?q=refund%20days");
  assert.equal(search.json.results[0].document_id, doc.json.id);
  assert.match(search.json.results[0].chunk_id, /^c\d+$/);

  const chat = await createChat(stack);
  fake.script(behave.toolCalls([toolCall("knowledge_search", { query: "refund window" })]), behave.text(["Within 30 days [doc:", doc.json.id, "#c0]."]));
  const seq = await ask(chat, "How long do customers have to ask for a refund?");
  const t = await settled(chat, seq);
  assert.equal(t.state, "done", JSON.stringify(t));
  const results = JSON.parse(lastToolResults()[0]);
  assert.equal(results.results[0].document_id, doc.json.id);
  assert.ok(results.cite_as);
  const messages = (await call(stack, "GET", `/v1/chats/${chat}/messages`)).json.messages;
  assert.match(messages.at(-1).content, new RegExp(`\\[doc:${doc.json.id}#c0\\]`), "the answer shows its source");
});

test("invalid tool arguments go back to the model as an error, and the turn goes on", async () => {
  const chat = await createChat(stack);
  fake.script(behave.toolCalls([toolCall("propose_meeting_slots", { time_zone: 5 })]), behave.text(["Sorry, let me fix that."]));
  const seq = await ask(chat, "When can we meet?");
  assert.equal((await settled(chat, seq)).state, "done");
  assert.match(lastToolResults()[0], /^ERROR: .*time_zone/);
});

test("meeting slots: three ranked 30-minute slots in the contact's business hours", async () => {
  const chat = await createChat(stack);
  fake.script(behave.toolCalls([toolCall("propose_meeting_slots", { time_zone: "Europe/Berlin", busy: [] })]), behave.text(["Here are three times."]));
  const seq = await ask(chat, "Propose times for Berlin");
  assert.equal((await settled(chat, seq)).state, "done");
  const slots = JSON.parse(lastToolResults()[0]).slots;
  assert.equal(slots.length, 3);
  for (const s of slots) {
    assert.equal(s.end_ms - s.start_ms, 30 * 60_000);
    const hour = Number(s.local_start.slice(11, 13));
    assert.ok(hour >= 9 && hour < 17, s.local_start);
  }
});

test("draft_message stores a pending draft for a person to approve; nothing is sent", async () => {
  const lead = (await call(stack, "POST", "/v1/leads", { body: { name: "Dana", email: "dana@example.com", time_zone: "Europe/London" } })).json;
  const chat = await createChat(stack);
  fake.script(behave.toolCalls([toolCall("draft_message", { lead_id: lead.id, content: "Hi Dana, would a short call on Tuesday suit you?" })]), behave.text(["Drafted."]));
  const seq = await ask(chat, "Draft a note to Dana");
  assert.equal((await settled(chat, seq)).state, "done");
  const drafts = (await call(stack, "GET", "/v1/drafts")).json.drafts.filter((d) => d.lead_id === lead.id);
  assert.equal(drafts.length, 1);
  assert.equal(drafts[0].origin, "agent");
  assert.equal(drafts[0].state, "pending");
  assert.ok(!(await call(stack, "GET", "/v1/outbox")).text.includes("would a short call on Tuesday"), "nothing went out");
});

test("a GET endpoint runs at once with the granted secret; the response is kept as an artifact", async () => {
  const chat = await createChat(stack);
  const before = hits.length;
  fake.script(behave.toolCalls([toolCall("http_request", { endpoint: "crm_contact", params: { id: "42 / x" } })]), behave.text(["Found them."]));
  const seq = await ask(chat, "Look up contact 42");
  assert.equal((await settled(chat, seq)).state, "done");
  assert.equal(hits.length, before + 1);
  assert.equal(hits.at(-1).url, "/contacts/42%20%2F%20x", "parameters are percent-encoded");
  assert.equal(hits.at(-1).headers.authorization, `Bearer ${CRM_SECRET}`);
  assert.match(lastToolResults()[0], /"status":200/);
  const artifacts = (await call(stack, "GET", `/v1/chats/${chat}/artifacts`)).json.artifacts;
  assert.equal(artifacts.length, 1);
  assert.match(artifacts[0].body, /"ok":true/);
  assert.ok(!JSON.stringify(fake.requests).includes(CRM_SECRET), "the secret never reaches the model");
});

test("a POST waits for approval: messages still land, members cannot approve, the admin's approval runs it once", async () => {
  const chat = await createChat(stack);
  const before = hits.length;
  fake.script(behave.toolCalls([toolCall("http_request", { endpoint: "crm_note", params: { id: "7" }, body: { note: "Called, interested" } })]), behave.text(["Note saved."]));
  const seq = await ask(chat, "Save a note on contact 7");
  await settled(chat, seq, ["awaiting_approval"]);
  const [pending] = await approvals(chat);
  assert.equal(pending.state, "pending");
  const request = JSON.parse(pending.request);
  assert.equal(request.method, "POST");
  assert.match(request.url, /\/contacts\/7\/notes$/);
  assert.deepEqual(request.headers, [["Authorization", "Bearer ***"]], "secrets are masked");
  assert.equal(JSON.parse(request.body).note, "Called, interested");
  assert.equal(hits.length, before, "nothing was sent yet");

  const later = await ask(chat, "Also, what is on my calendar?");
  assert.equal((await turnFor(chat, later)).state, "queued", "a new message is stored and waits its turn");

  const memberToken = await mintToken({ role: "member", user_id: "user_demo" });
  const refused = await call(stack, "POST", `/v1/chats/${chat}/approvals/${pending.id}`, { token: memberToken, body: { decision: "approve" } });
  assert.equal(refused.status, 403);
  const bad = await call(stack, "POST", `/v1/chats/${chat}/approvals/${pending.id}`, { body: { decision: "perhaps" } });
  assert.equal(bad.status, 400);

  const ok = await call(stack, "POST", `/v1/chats/${chat}/approvals/${pending.id}`, { body: { decision: "approve", note: "fine" } });
  assert.equal(ok.status, 200, ok.text);
  assert.equal(ok.json.state, "approved");
  assert.equal(ok.json.decided_by, "user_demo");
  assert.equal((await settled(chat, seq)).state, "done");
  await settled(chat, later);
  assert.equal(hits.length, before + 1, "run exactly once");
  assert.equal(hits.at(-1).method, "POST");
  const again = await call(stack, "POST", `/v1/chats/${chat}/approvals/${pending.id}`, { body: { decision: "approve" } });
  assert.equal(again.status, 409, "a decision is final");
  const audited = d1Get(stack, "SELECT actor, action FROM security_events WHERE target = ?", `${chat}/${pending.id}`);
  assert.deepEqual({ ...audited }, { actor: "user_demo", action: "approval.approved" });
});

test("a denied call is not made; the model hears who denied it and why", async () => {
  const chat = await createChat(stack);
  const before = hits.length;
  fake.script(behave.toolCalls([toolCall("http_request", { endpoint: "crm_note", params: { id: "8" }, body: { note: "x" } })]), behave.text(["Understood, not saved."]));
  const seq = await ask(chat, "Save a note on contact 8");
  await settled(chat, seq, ["awaiting_approval"]);
  const [pending] = await approvals(chat);
  await call(stack, "POST", `/v1/chats/${chat}/approvals/${pending.id}`, { body: { decision: "deny", note: "wrong contact" } });
  assert.equal((await settled(chat, seq)).state, "done");
  assert.equal(hits.length, before);
  assert.match(lastToolResults()[0], /DENIED: user_demo denied this call because: wrong contact/);
});

test("an endpoint edited while its call waits for approval: the approved call is not sent in its new form", async () => {
  const apiHost = `127.0.0.1:${api.address().port}`;
  const define = (path) => call(stack, "PUT", "/v1/tools/endpoints/crm_task", {
    body: { method: "POST", url_template: `http://${apiHost}${path}`, allowed_hosts: [apiHost], headers: { Authorization: "Bearer {{secret.CRM_KEY}}" } },
  });
  assert.equal((await define("/contacts/{id}/tasks")).status, 200);
  const chat = await createChat(stack);
  const before = hits.length;
  fake.script(behave.toolCalls([toolCall("http_request", { endpoint: "crm_task", params: { id: "9" }, body: { task: "call back" } })]), behave.text(["Not sent."]));
  const seq = await ask(chat, "Add a task on contact 9");
  await settled(chat, seq, ["awaiting_approval"]);
  const [pending] = await approvals(chat);
  assert.match(JSON.parse(pending.request).url, /\/contacts\/9\/tasks$/);
  // An admin points the endpoint elsewhere before anyone decides.
  assert.equal((await define("/export/{id}")).status, 200);
  const ok = await call(stack, "POST", `/v1/chats/${chat}/approvals/${pending.id}`, { body: { decision: "approve" } });
  assert.equal(ok.status, 200, ok.text);
  assert.equal((await settled(chat, seq)).state, "done");
  assert.equal(hits.length, before, "neither the approved request nor the edited one was sent");
  assert.match(lastToolResults()[0], /REFUSED: the request is no longer the one a person approved/);
});

test("a parked turn survives eviction; an egress refusal never asks anyone", async () => {
  const chat = await createChat(stack);
  const before = hits.length;
  fake.script(behave.toolCalls([toolCall("http_request", { endpoint: "crm_note", params: { id: "9" }, body: { note: "after restart" } })]), behave.text(["Saved after all."]));
  const seq = await ask(chat, "Save a note on contact 9");
  await settled(chat, seq, ["awaiting_approval"]);
  await stack.restart();
  const [pending] = await approvals(chat);
  assert.equal(pending.state, "pending", "the approval survived the restart");
  await call(stack, "POST", `/v1/chats/${chat}/approvals/${pending.id}`, { body: { decision: "approve" } });
  assert.equal((await settled(chat, seq)).state, "done");
  assert.equal(hits.length, before + 1);

  const metaChat = await createChat(stack);
  fake.script(behave.toolCalls([toolCall("http_request", { endpoint: "metadata", params: {} })]), behave.text(["I cannot reach that."]));
  const s2 = await ask(metaChat, "Read the instance metadata");
  assert.equal((await settled(metaChat, s2)).state, "done");
  assert.match(lastToolResults()[0], /^REFUSED: .*169\.254\.169\.254/);
  assert.deepEqual(await approvals(metaChat), []);
});

test("an approval nobody decides expires; the model is told the call was not made", async () => {
  const chat = await createChat(stack);
  const before = hits.length;
  fake.script(behave.toolCalls([toolCall("http_request", { endpoint: "crm_note", params: { id: "10" }, body: { note: "x" } })]), behave.text(["It expired, so I did not save it."]));
  const seq = await ask(chat, "Save a note on contact 10");
  await settled(chat, seq, ["awaiting_approval"]);
  const t = await eventually(async () => {
    const turn = await turnFor(chat, seq);
    return turn.state === "done" ? turn : null;
  }, 40_000, "the approval to expire");
  assert.equal(t.state, "done");
  assert.equal((await approvals(chat))[0].state, "expired");
  assert.equal(hits.length, before);
  assert.match(lastToolResults()[0], /^EXPIRED/);
});

test("a crash while a call is in flight: the call is never made twice", async () => {
  const chat = await createChat(stack);
  const before = hits.length;
  apiDelayMs = 4000;
  fake.script(behave.toolCalls([toolCall("http_request", { endpoint: "crm_contact", params: { id: "slow" } })]), behave.text(["The lookup was interrupted."]));
  const seq = await ask(chat, "Look up the slow contact");
  await eventually(() => hits.length > before, 20_000, "the call to reach the API");
  await stack.restart();
  apiDelayMs = 0;
  // The woken object finds the step mid-call: it tells the model, and does not call again.
  const t = await settled(chat, seq);
  assert.equal(t.state, "done", JSON.stringify(t));
  assert.equal(hits.length, before + 1, "exactly one call");
  assert.match(lastToolResults()[0], /^INTERRUPTED/);
});
