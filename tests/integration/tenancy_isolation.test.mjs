// Tenant isolation on every route, and secrets that never come back out.
//
// Org A (the seeded demo org) owns a chat, a lead, a draft and a secret. Org B, a fully paid-up
// org provisioned through webhooks, tries every route with A's ids: each answer must be exactly
// the answer for an id that does not exist, and nothing of A's may appear in any of B's
// responses. The table below must name every route in docs/openapi.yaml, so a new route cannot
// be added without saying how it is isolated.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { startStack, ROOT } from "../support/stack.mjs";
import { call, createChat, settledTurn, eventually } from "../support/client.mjs";
import { mintToken } from "../support/identity.mjs";
import { d1All, d1Get } from "../support/d1.mjs";
import { provisionOrg, uid } from "../support/webhooks.mjs";

let stack;
const A = {};
const B = {};
const SECRET_VALUE = `sk_live_${uid("plaintext")}`;

before(async () => {
  // Log-level output, so the agents worker's `turn.received` lines (secret names only) are seen.
  stack = await startStack({ logLevel: "log" });
  A.chat = await createChat(stack, "A's chat");
  A.lead = (await call(stack, "POST", "/v1/leads", { body: { name: "A's lead", email: "lead@a.test", time_zone: "Europe/London" } })).json.id;
  A.draft = (await call(stack, "POST", `/v1/leads/${A.lead}/drafts`, { body: { client_id: "d1", content: "Would a short call on Tuesday suit you?" } })).json.id;
  const secret = await call(stack, "POST", "/v1/secrets", { body: { name: "A_CRM_KEY", value: SECRET_VALUE, grant: { scope: "chats", chat_ids: [A.chat] } } });
  assert.equal(secret.status, 201, secret.text);
  const endpoint = await call(stack, "PUT", "/v1/tools/endpoints/a_crm", { body: { method: "GET", url_template: "https://crm.a-corp.test/{id}", allowed_hosts: ["crm.a-corp.test"] } });
  assert.equal(endpoint.status, 200, endpoint.text);
  const doc = await call(stack, "POST", "/v1/knowledge", { body: { title: "A's pricing playbook", text: "Zanzibar discount tiers are confidential to A." } });
  assert.equal(doc.status, 201, doc.text);
  A.doc = doc.json.id;
  const backup = await call(stack, "POST", "/v1/backups", { body: { kind: "chat", object_id: A.chat } });
  assert.equal(backup.status, 201, backup.text);
  A.backup = backup.json.id;
  assert.equal((await call(stack, "POST", "/v1/backups", { body: { kind: "workspace" } })).status, 201);
  const b = await provisionOrg(stack);
  B.org = b.org;
  B.token = await mintToken({ org_id: b.org, user_id: b.users.admin, role: "admin" });
});

after(async () => {
  await stack?.stop();
});

const NO_CHAT = "chat_zzzzzzzzzzzzzzzzzzzzzzzzzz";
const NO_LEAD = "lead_zzzzzzzzzzzzzzzzzzzzzzzzzz";

// How org B exercises each route; `ids` are A's ids or ids that exist nowhere.
const ROUTES = {
  "GET /v1/chats/{chat_id}": (i) => ["GET", `/v1/chats/${i.chat}`],
  "GET /v1/chats/{chat_id}/messages": (i) => ["GET", `/v1/chats/${i.chat}/messages`],
  "POST /v1/chats/{chat_id}/messages": (i) => ["POST", `/v1/chats/${i.chat}/messages`, { client_id: "x1", content: "hi" }],
  "GET /v1/chats/{chat_id}/turns": (i) => ["GET", `/v1/chats/${i.chat}/turns`],
  "GET /v1/chats/{chat_id}/ws": (i) => ["GET", `/v1/chats/${i.chat}/ws`],
  "POST /v1/chats/{chat_id}/ws-ticket": (i) => ["POST", `/v1/chats/${i.chat}/ws-ticket`],
  "GET /v1/leads/{lead_id}": (i) => ["GET", `/v1/leads/${i.lead}`],
  "PATCH /v1/leads/{lead_id}": (i) => ["PATCH", `/v1/leads/${i.lead}`, { name: "Stolen" }],
  "POST /v1/leads/{lead_id}/sends": (i) => ["POST", `/v1/leads/${i.lead}/sends`, { client_id: "s1", content: "hi" }],
  "GET /v1/leads/{lead_id}/decisions": (i) => ["GET", `/v1/leads/${i.lead}/decisions`],
  "POST /v1/leads/{lead_id}/stage": (i) => ["POST", `/v1/leads/${i.lead}/stage`, { stage: "contacted" }],
  "POST /v1/leads/{lead_id}/takeover": (i) => ["POST", `/v1/leads/${i.lead}/takeover`],
  "POST /v1/leads/{lead_id}/handback": (i) => ["POST", `/v1/leads/${i.lead}/handback`],
  "POST /v1/leads/{lead_id}/replies": (i) => ["POST", `/v1/leads/${i.lead}/replies`, { client_id: "r1", content: "STOP" }],
  "POST /v1/leads/{lead_id}/suppressions": (i) => ["POST", `/v1/leads/${i.lead}/suppressions`, { reason: "manual" }],
  "GET /v1/leads/{lead_id}/suppressions": (i) => ["GET", `/v1/leads/${i.lead}/suppressions`],
  "POST /v1/leads/{lead_id}/suppressions/lift": (i) => ["POST", `/v1/leads/${i.lead}/suppressions/lift`, {}],
  "POST /v1/leads/{lead_id}/drafts": (i) => ["POST", `/v1/leads/${i.lead}/drafts`, { client_id: "d2", content: "Hello there, free on Friday?" }],
  "POST /v1/drafts/{draft_id}/approve": (i) => ["POST", `/v1/drafts/${i.draft}/approve`],
  "POST /v1/drafts/{draft_id}/reject": (i) => ["POST", `/v1/drafts/${i.draft}/reject`, { reason: "no" }],
  "POST /v1/drafts/{draft_id}/send": (i) => ["POST", `/v1/drafts/${i.draft}/send`],
  "DELETE /v1/secrets/{secret_name}": (i) => ["DELETE", `/v1/secrets/${i.secret}`],
  "GET /v1/chats/{chat_id}/approvals": (i) => ["GET", `/v1/chats/${i.chat}/approvals`],
  "POST /v1/chats/{chat_id}/approvals/{approval_id}": (i) => ["POST", `/v1/chats/${i.chat}/approvals/apr_turn_1_0`, { decision: "approve" }],
  "GET /v1/chats/{chat_id}/artifacts": (i) => ["GET", `/v1/chats/${i.chat}/artifacts`],
  "DELETE /v1/tools/endpoints/{endpoint_name}": (i) => ["DELETE", `/v1/tools/endpoints/${i.endpoint}`],
  "POST /v1/backups": (i) => ["POST", "/v1/backups", { kind: "chat", object_id: i.chat }],
  "GET /v1/backups/{backup_id}": (i) => ["GET", `/v1/backups/${i.backup}`],
  "GET /v1/backups/{backup_id}/parts": (i) => ["GET", `/v1/backups/${i.backup}/parts?index=0`],
  "POST /v1/backups/{backup_id}/restore": (i) => ["POST", `/v1/backups/${i.backup}/restore`],
};

// Routes without an id: B's answers must not mention anything of A's.
const LISTS = [
  ["GET", "/v1/me"],
  ["GET", "/v1/org"],
  ["GET", "/v1/org/usage"],
  ["GET", "/v1/chats"],
  ["GET", "/v1/leads"],
  ["GET", "/v1/drafts"],
  ["GET", "/v1/outbox"],
  ["GET", "/v1/audit"],
  ["GET", "/v1/audit/export"],
  ["GET", "/v1/secrets"],
  ["GET", "/v1/workspace/settings"],
  ["GET", "/v1/workspace/flags?subject=someone"],
  ["GET", "/v1/tools/endpoints"],
  ["GET", "/v1/knowledge"],
  ["GET", "/v1/knowledge/search?q=zanzibar%20discount%20pricing"],
  ["GET", "/v1/backups?kind=workspace"],
  // Only B's own series (observability.test.mjs shows A's counts going up in A's).
  ["GET", "/metrics"],
];

// Routes that create or change only the caller's own org (checked below: A is unchanged).
const OWN_ORG_WRITES = [
  ["POST", "/v1/chats", { title: "B's chat" }],
  ["POST", "/v1/leads", { name: "B's lead", email: "lead@a.test" }],
  ["POST", "/v1/leads/import", "name,email\nB import,import@b.test\n", "text/csv"],
  ["POST", "/v1/secrets", { name: "A_CRM_KEY", value: "B's own value", grant: { scope: "org" } }],
  ["PUT", "/v1/workspace/settings", { kill_switch: true }],
  ["PUT", "/v1/tools/endpoints/a_crm", { method: "POST", url_template: "https://crm.b-corp.test/x", allowed_hosts: ["crm.b-corp.test"] }, null, "/v1/tools/endpoints/{endpoint_name}"],
  ["POST", "/v1/knowledge", { title: "B's notes", text: "Zanzibar is a place." }],
];

// Not org-scoped by a session: health, sign-in configuration, and signed webhooks (covered in
// tenancy_webhooks.test.mjs and workspace.test.mjs).
const PUBLIC = ["GET /health", "GET /ready", "GET /auth/config", "POST /webhooks/clerk", "POST /webhooks/stripe", "POST /v1/inbound"];

function documentedRoutes() {
  const spec = readFileSync(path.join(ROOT, "docs/openapi.yaml"), "utf8").split("\n");
  const routes = [];
  let current;
  for (const line of spec) {
    const p = line.match(/^ {2}(\/\S*):\s*$/);
    if (p) current = p[1];
    const m = line.match(/^ {4}(get|post|put|patch|delete):\s*$/);
    if (m && current) routes.push(`${m[1].toUpperCase()} ${current}`);
    if (/^\S/.test(line) && !line.startsWith("paths:")) current = undefined;
  }
  return routes;
}

test("the isolation table covers every documented route", () => {
  const covered = new Set([...Object.keys(ROUTES), ...LISTS.map(([m, p]) => `${m} ${p.split("?")[0]}`), ...OWN_ORG_WRITES.map(([m, p, , , template]) => `${m} ${template || p}`), ...PUBLIC]);
  const documented = documentedRoutes();
  assert.ok(documented.length > 40, "the spec was read");
  assert.deepEqual(documented.filter((r) => !covered.has(r)), [], "routes without an isolation case");
});

test("org B gets exactly the not-found answer for each of org A's objects", async () => {
  const mine = { chat: A.chat, lead: A.lead, draft: A.draft, secret: "A_CRM_KEY", endpoint: "a_crm", backup: A.backup };
  const none = { chat: NO_CHAT, lead: NO_LEAD, draft: 999_999, secret: "NO_SUCH_SECRET", endpoint: "no_such_endpoint", backup: `chat.${NO_CHAT}.20260101T000000000Z` };
  for (const [name, route] of Object.entries(ROUTES)) {
    const [method, p, body] = route(mine);
    const [, q, body2] = route(none);
    const theirs = await call(stack, method, p, { token: B.token, body });
    const nothing = await call(stack, method, q, { token: B.token, body: body2 });
    assert.equal(theirs.status, nothing.status, `${name}: ${theirs.text} vs ${nothing.text}`);
    assert.equal(theirs.json?.error?.code, nothing.json?.error?.code, name);
    assert.ok([404, 426].includes(theirs.status), `${name}: ${theirs.status} ${theirs.text}`);
  }
  // A's objects are untouched.
  const lead = await call(stack, "GET", `/v1/leads/${A.lead}`);
  assert.equal(lead.json.name, "A's lead");
  assert.equal(lead.json.stage, "new");
  assert.equal((await call(stack, "GET", "/v1/secrets")).json.secrets.length, 1);
  assert.deepEqual((await call(stack, "GET", "/v1/tools/endpoints")).json.endpoints.map((e) => e.name), ["a_crm"]);
});

test("nothing of org A's appears in any of org B's lists, and B's writes stay in B", async () => {
  const aBefore = (await call(stack, "GET", "/v1/leads")).json.leads.length;
  for (const [method, p, body, type] of OWN_ORG_WRITES) {
    const res = await call(stack, method, p, type ? { token: B.token, raw: body, headers: { "Content-Type": type } } : { token: B.token, body });
    assert.ok(res.status < 300, `${method} ${p}: ${res.status} ${res.text}`);
  }
  const needles = [A.chat, A.lead, A.doc, "org_demo", "A's chat", "A's lead", "crm.a-corp.test", "A's pricing", SECRET_VALUE];
  for (const [method, p] of LISTS) {
    const res = await call(stack, method, p, { token: B.token });
    assert.equal(res.status, 200, `${method} ${p}: ${res.text}`);
    for (const needle of needles) assert.ok(!res.text.includes(needle), `${p} shows ${needle}`);
  }
  assert.equal((await call(stack, "GET", "/v1/leads")).json.leads.length, aBefore, "A's leads are A's");
  assert.equal((await call(stack, "GET", "/v1/workspace/settings")).json.kill_switch, false, "B's kill switch is B's");
  const aSecrets = (await call(stack, "GET", "/v1/secrets")).json.secrets;
  assert.deepEqual(aSecrets.map((s) => s.grant.scope), ["chats"], "B's secret of the same name did not replace A's");
  const aEndpoint = (await call(stack, "GET", "/v1/tools/endpoints")).json.endpoints[0];
  assert.equal(aEndpoint.url_template, "https://crm.a-corp.test/{id}", "B's endpoint of the same name did not replace A's");
});

test("secrets: encrypted at rest, never returned, granted per chat, every use audited", async () => {
  const list = await call(stack, "GET", "/v1/secrets");
  assert.deepEqual(list.json.secrets.map((s) => s.name), ["A_CRM_KEY"]);
  assert.ok(!list.text.includes(SECRET_VALUE));
  const row = d1Get(stack, "SELECT nonce, ciphertext FROM secrets WHERE org_id = 'org_demo' AND name = 'A_CRM_KEY'");
  assert.ok(!row.ciphertext.includes(SECRET_VALUE) && !Buffer.from(row.ciphertext, "base64").toString("latin1").includes(SECRET_VALUE), "encrypted at rest");
  assert.equal(Buffer.from(row.nonce, "base64").length, 12);
  // Rotating the value writes a fresh nonce.
  await call(stack, "POST", "/v1/secrets", { body: { name: "A_CRM_KEY", value: SECRET_VALUE, grant: { scope: "chats", chat_ids: [A.chat] } } });
  assert.notEqual(d1Get(stack, "SELECT nonce FROM secrets WHERE org_id = 'org_demo' AND name = 'A_CRM_KEY'").nonce, row.nonce);
  const orgWide = await call(stack, "POST", "/v1/secrets", { body: { name: "ORG_WIDE", value: `ow_${SECRET_VALUE}`, grant: { scope: "org" } } });
  assert.equal(orgWide.status, 201);
  assert.ok(!orgWide.text.includes(SECRET_VALUE));

  // A turn in A's chat receives both secrets; a turn in another chat only the org-wide one.
  const other = await createChat(stack, "another chat");
  for (const chat of [A.chat, other]) {
    const posted = await call(stack, "POST", `/v1/chats/${chat}/messages`, { body: { client_id: uid("c"), content: "hello" } });
    await settledTurn(stack, chat, posted.json.message.seq);
  }
  const received = (chat) => eventually(() => {
    const line = stack.logs().split("\n").find((l) => l.includes('"turn.received"') && l.includes(chat));
    return line && JSON.parse(line.slice(line.indexOf("{"))).secrets;
  }, 10_000, `the agents worker's log for ${chat}`);
  assert.deepEqual(await received(A.chat), ["A_CRM_KEY", "ORG_WIDE"]);
  assert.deepEqual(await received(other), ["ORG_WIDE"]);

  const events = d1All(stack, "SELECT action, target FROM security_events WHERE org_id = 'org_demo' ORDER BY id").map((e) => `${e.action} ${e.target}`);
  assert.ok(events.includes("secret.created A_CRM_KEY"));
  assert.ok(events.filter((e) => e === "secret.used A_CRM_KEY").length >= 1);
  assert.ok(events.filter((e) => e === "secret.used ORG_WIDE").length >= 2);

  const del = await call(stack, "DELETE", "/v1/secrets/ORG_WIDE");
  assert.equal(del.status, 200);
  assert.equal((await call(stack, "DELETE", "/v1/secrets/ORG_WIDE")).status, 404);
  assert.ok(d1All(stack, "SELECT 1 FROM security_events WHERE action = 'secret.deleted' AND target = 'ORG_WIDE'").length === 1);
  assert.ok(!stack.logs().includes(SECRET_VALUE), "no log line carries a secret's value");
});
