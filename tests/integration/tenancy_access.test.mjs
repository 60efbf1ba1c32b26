// Sign-in, roles, what the customer paid for (billing status, seats, quotas), WebSocket
// tickets and usage, in workerd. Orgs are provisioned through signed Clerk and Stripe webhooks,
// exactly as in production; session tokens are signed with `jose`.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startStack } from "../support/stack.mjs";
import { startFakeOpenAI, behave } from "../support/fake_openai.mjs";
import { call, createChat, eventually, settledTurn } from "../support/client.mjs";
import { mintToken } from "../support/identity.mjs";
import { d1Get } from "../support/d1.mjs";
import { sendClerk, sendStripe, clerk, stripeEvents, provisionOrg, uid, nowSecs } from "../support/webhooks.mjs";

let stack;
let fake;

before(async () => {
  fake = await startFakeOpenAI({ defaultBehaviour: behave.text(["Fine", " thanks."]) });
  stack = await startStack({
    seedFiles: ["tests/fixtures/test_plans.sql"],
    agentVars: { OPENAI_API_KEY: "sk-test-not-secret", OPENAI_BASE_URL: fake.url, OPENAI_MODEL: "fake-large", OPENAI_TIMEOUT_MS: "10000" },
  });
});

after(async () => {
  await stack?.stop();
  await fake?.close();
});

const post = (chat, content, token) => call(stack, "POST", `/v1/chats/${chat}/messages`, { token, body: { client_id: uid("c"), content } });

test("session tokens: signature, key rotation, expiry, issuer, party and algorithm are all checked", async () => {
  const ok = async (options) => (await call(stack, "GET", "/v1/me", { token: await mintToken(options) }));
  const me = await ok({});
  assert.equal(me.status, 200);
  assert.deepEqual(me.json, { org_id: "org_demo", user_id: "user_demo", role: "admin", auth: "clerk_session" });
  assert.equal((await ok({ key: "next" })).status, 200, "the second key of a rotation verifies by its kid");

  const now = nowSecs();
  const refused = [
    ["no token", null, "unauthenticated"],
    ["forged key with a known kid", { key: "forged" }, "token_signature_invalid"],
    ["unknown kid", { header: { kid: "nobody" } }, "token_key_unknown"],
    ["expired", { claims: { exp: now - 120 } }, "token_expired"],
    ["not yet valid", { claims: { nbf: now + 300 } }, "token_not_yet_valid"],
    ["wrong issuer", { claims: { iss: "https://evil.example" } }, "token_issuer_invalid"],
    ["wrong authorized party", { claims: { azp: "https://evil.example" } }, "token_party_invalid"],
  ];
  for (const [what, options, code] of refused) {
    const res = options ? await ok(options) : await call(stack, "GET", "/v1/me", { anonymous: true });
    assert.equal(res.status, 401, what);
    assert.equal(res.json.error.code, code, what);
  }
  // alg confusion: an unsigned token, and an HMAC one keyed with the public key.
  const b64 = (o) => Buffer.from(JSON.stringify(o)).toString("base64url");
  const claims = { iss: "x", sub: "user_demo", exp: now + 60, o: { id: "org_demo", rol: "admin" } };
  for (const alg of ["none", "HS256"]) {
    const res = await call(stack, "GET", "/v1/me", { token: `${b64({ alg, typ: "JWT" })}.${b64(claims)}.${alg === "none" ? "" : "c2ln"}` });
    assert.equal(res.status, 401, alg);
  }
  const noOrg = await ok({ claims: { o: undefined } });
  assert.equal(noOrg.status, 403);
  assert.equal(noOrg.json.error.code, "no_active_org");
  // Browsers may send the session cookie instead of a header.
  const cookie = await call(stack, "GET", "/v1/me", { anonymous: true, headers: { Cookie: `theme=dark; __session=${await mintToken({})}` } });
  assert.equal(cookie.status, 200);
});

test("roles: members are refused admin routes; admins are not", async () => {
  const { org, users } = await provisionOrg(stack, { members: [["boss", "org:admin"], ["rep", "org:member"]] });
  const admin = await mintToken({ org_id: org, user_id: users.boss, role: "admin" });
  const member = await mintToken({ org_id: org, user_id: users.rep, role: "member" });
  const adminRoutes = [
    ["PUT", "/v1/workspace/settings", { sunday_hold: false }],
    ["GET", "/v1/secrets"],
    ["POST", "/v1/secrets", { name: "K", value: "v", grant: { scope: "org" } }],
    ["DELETE", "/v1/secrets/K"],
    ["GET", "/v1/audit/export"],
  ];
  for (const [method, path, body] of adminRoutes) {
    const res = await call(stack, method, path, { token: member, body });
    assert.equal(res.status, 403, `${method} ${path}`);
    assert.equal(res.json.error.code, "admin_required");
  }
  assert.equal((await call(stack, "PUT", "/v1/workspace/settings", { token: admin, body: { sunday_hold: false } })).status, 200);
  assert.equal((await call(stack, "GET", "/v1/workspace/settings", { token: member })).status, 200, "members read settings");
});

test("billing: active and trialing work, past_due within its grace, the rest refuse new turns but keep history", async () => {
  const cases = [
    ["active", 201],
    ["trialing", 201],
    ["canceled", 402],
    ["unpaid", 402],
    ["incomplete", 402],
    ["incomplete_expired", 402],
    ["paused", 402],
  ];
  for (const [status, expected] of cases) {
    const { org, users } = await provisionOrg(stack, { status });
    const token = await mintToken({ org_id: org, user_id: users.admin });
    const chat = await createChat({ ...stack, token }, `billing ${status}`);
    const res = await post(chat, "hello", token);
    assert.equal(res.status, expected, status);
    if (expected === 402) {
      assert.equal(res.json.error.code, "subscription_inactive", status);
      assert.equal((await call(stack, "GET", `/v1/chats/${chat}/messages`, { token })).status, 200, "history still reads");
    }
  }
  // past_due: the grace period (7 days by default) runs from the failed payment's event time.
  const recent = await provisionOrg(stack);
  await sendStripe(stack, stripeEvents.invoice("payment_failed", { customer: recent.customer, subscription: recent.subscription, created: nowSecs() - 86400 }));
  const recentToken = await mintToken({ org_id: recent.org, user_id: recent.users.admin });
  assert.equal((await post(await createChat({ ...stack, token: recentToken }), "hi", recentToken)).status, 201, "past due for a day: still works");
  const fresh = await provisionOrg(stack, { status: null });
  await sendStripe(stack, stripeEvents.checkout(fresh.org, fresh.customer, fresh.subscription));
  await sendStripe(stack, stripeEvents.subscription("created", { id: fresh.subscription, customer: fresh.customer, org: fresh.org, status: "active", created: nowSecs() - 9 * 86400 }));
  await sendStripe(stack, stripeEvents.invoice("payment_failed", { customer: fresh.customer, subscription: fresh.subscription, created: nowSecs() - 8 * 86400 }));
  const freshToken = await mintToken({ org_id: fresh.org, user_id: fresh.users.admin });
  const late = await post(await createChat({ ...stack, token: freshToken }), "hi", freshToken);
  assert.equal(late.status, 402, "past due for 8 days: the grace period is over");
  assert.equal(late.json.error.code, "payment_overdue");
  const none = await provisionOrg(stack, { status: null });
  const noneToken = await mintToken({ org_id: none.org, user_id: none.users.admin });
  const res = await post(await createChat({ ...stack, token: noneToken }), "hi", noneToken);
  assert.equal(res.status, 402);
  assert.equal(res.json.error.code, "no_subscription");
});

test("seats: members beyond the purchased seats are recorded but cannot run the agent until seats are added", async () => {
  const { org, users, customer, subscription } = await provisionOrg(stack, { members: [["first", "org:admin"], ["second", "org:member"]], seats: 1 });
  const first = await mintToken({ org_id: org, user_id: users.first });
  const second = await mintToken({ org_id: org, user_id: users.second, role: "member" });
  const chat = await createChat({ ...stack, token: first });
  assert.equal((await post(chat, "from the first seat", first)).status, 201);
  const refused = await post(chat, "from the second member", second);
  assert.equal(refused.status, 402);
  assert.equal(refused.json.error.code, "seat_limit");
  assert.ok(d1Get(stack, "SELECT id FROM memberships WHERE org_id = ? AND user_id = ?", org, users.second), "the member is recorded");
  assert.equal((await call(stack, "GET", `/v1/chats/${chat}/messages`, { token: second })).status, 200, "and can read");
  await sendStripe(stack, stripeEvents.subscription("updated", { id: subscription, customer, org, quantity: 2 }));
  assert.equal((await post(chat, "now with a seat", second)).status, 201);

  // A third member joins: over the seats again. When Clerk deletes the first user, their seat frees up.
  const third = uid("user_third");
  await sendClerk(stack, clerk.user("created", third));
  await sendClerk(stack, clerk.membership("created", uid("orgmem"), org, third, { created_at: Date.now() }));
  const thirdToken = await mintToken({ org_id: org, user_id: third, role: "member" });
  assert.equal((await post(chat, "third", thirdToken)).json.error.code, "seat_limit");
  await sendClerk(stack, clerk.user("deleted", users.first));
  assert.equal((await post(chat, "third, seated", thirdToken)).status, 201);
});

test("quotas: messages per day, tokens per month and concurrent turns answer 429 with Retry-After", async () => {
  // Messages per day (limit 2).
  const m = await provisionOrg(stack, { price: "parley_test_messages" });
  const mt = await mintToken({ org_id: m.org, user_id: m.users.admin });
  const mc = await createChat({ ...stack, token: mt });
  assert.equal((await post(mc, "one", mt)).status, 201);
  assert.equal((await post(mc, "two", mt)).status, 201);
  const third = await post(mc, "three", mt);
  assert.equal(third.status, 429);
  assert.equal(third.json.error.code, "quota_exceeded");
  assert.equal(third.json.error.quota, "messages_per_day");
  const retry = Number(third.headers.get("retry-after"));
  assert.ok(retry >= 1 && retry <= 86400, `Retry-After ${retry}`);

  // Tokens per month (limit 1): the first turn uses tokens, the next message is refused.
  const t = await provisionOrg(stack, { price: "parley_test_tokens" });
  const tt = await mintToken({ org_id: t.org, user_id: t.users.admin });
  const tc = await createChat({ ...stack, token: tt });
  const first = await post(tc, "spend tokens", tt);
  assert.equal(first.status, 201);
  await settledTurn({ ...stack, token: tt }, tc, first.json.message.seq);
  const over = await eventually(async () => {
    const r = await post(tc, "more", tt);
    return r.status === 429 ? r : null;
  }, 10_000, "the token quota");
  assert.equal(over.json.error.quota, "tokens_per_month");
  assert.ok(Number(over.headers.get("retry-after")) > 0);

  // Concurrent turns (limit 1): while one chat's turn runs, another chat cannot start one.
  const c = await provisionOrg(stack, { price: "parley_test_concurrency" });
  const ct = await mintToken({ org_id: c.org, user_id: c.users.admin });
  const busy = await createChat({ ...stack, token: ct });
  const other = await createChat({ ...stack, token: ct });
  fake.script(behave.text(["slow", " ", "reply", " ", "here", "."], { delayMs: 700 }));
  const running = await post(busy, "take your time", ct);
  assert.equal(running.status, 201);
  await eventually(() => d1Get(stack, "SELECT 1 AS x FROM active_turns WHERE org_id = ?", c.org), 10_000, "the turn to start");
  const blocked = await post(other, "me too", ct);
  assert.equal(blocked.status, 429);
  assert.equal(blocked.json.error.quota, "concurrent_turns");
  assert.equal(blocked.headers.get("retry-after"), "5");
  assert.equal((await post(busy, "queued behind the running turn", ct)).status, 201, "the same chat still queues");
  await settledTurn({ ...stack, token: ct }, busy, running.json.message.seq);
  await eventually(async () => !d1Get(stack, "SELECT 1 AS x FROM active_turns WHERE org_id = ? AND chat_id = ?", c.org, other), 5_000, "no turn elsewhere");
});

test("usage: messages, tokens and the period are counted per org", async () => {
  const u = await provisionOrg(stack);
  const token = await mintToken({ org_id: u.org, user_id: u.users.admin });
  const chat = await createChat({ ...stack, token });
  const posted = await post(chat, "count me", token);
  await settledTurn({ ...stack, token }, chat, posted.json.message.seq);
  const usage = await eventually(async () => {
    const r = await call(stack, "GET", "/v1/org/usage", { token });
    return r.json.tokens_out > 0 ? r.json : null;
  }, 10_000, "usage");
  assert.equal(usage.messages, 1);
  assert.equal(usage.messages_today, 1);
  assert.ok(usage.tokens_in > 0);
  assert.ok(usage.period.start < Date.now() && Date.now() < usage.period.end);
  assert.equal(usage.plan, "growth");
  const retried = await call(stack, "POST", `/v1/chats/${chat}/messages`, { token, body: { client_id: posted.json.message.client_id, content: "count me" } });
  assert.equal(retried.status, 200);
  assert.equal((await call(stack, "GET", "/v1/org/usage", { token })).json.messages, 1, "a retried post is not counted again");
});

test("WebSocket tickets are single-use, bound to their chat, and required without a session", async () => {
  const chat = await createChat(stack);
  const otherChat = await createChat(stack);
  const ticket = (await call(stack, "POST", `/v1/chats/${chat}/ws-ticket`)).json.ticket;
  const open = (id, t) => new Promise((resolve) => {
    const ws = new WebSocket(`${stack.url.replace("http", "ws")}/v1/chats/${id}/ws${t === undefined ? "" : `?ticket=${encodeURIComponent(t)}`}`);
    ws.addEventListener("open", () => {
      ws.close();
      resolve("open");
    });
    ws.addEventListener("error", () => resolve("refused"));
  });
  assert.equal(await open(otherChat, ticket), "refused", "a ticket for another chat is refused (and spent)");
  assert.equal(await open(chat, ticket), "refused", "a spent ticket is refused");
  const fresh = (await call(stack, "POST", `/v1/chats/${chat}/ws-ticket`)).json.ticket;
  assert.equal(await open(chat, fresh), "open");
  assert.equal(await open(chat, fresh), "refused", "single use");
  assert.equal(await open(chat, undefined), "refused", "no ticket, no session");
  assert.equal(await open(chat, "wst_not-a-real-ticket"), "refused");
  const unknown = await call(stack, "POST", "/v1/chats/chat_zzzzzzzzzzzzzzzzzzzzzzzzzz/ws-ticket");
  assert.equal(unknown.status, 404);
  assert.equal(d1Get(stack, "SELECT COUNT(*) AS n FROM ws_tickets WHERE chat_id = ?", chat).n, 0, "spent tickets are gone");
});
