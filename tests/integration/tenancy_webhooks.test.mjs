// Clerk and Stripe webhooks in workerd, signed with the providers' own libraries (svix,
// stripe). Every refused delivery is checked against D1 afterwards: nothing written.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startStack } from "../support/stack.mjs";
import { call } from "../support/client.mjs";
import { mintToken } from "../support/identity.mjs";
import { d1Get, d1All, d1Snapshot } from "../support/d1.mjs";
import { sendClerk, sendStripe, clerk, stripeEvents, uid, nowSecs } from "../support/webhooks.mjs";

let stack;

before(async () => {
  stack = await startStack();
});

after(async () => {
  await stack?.stop();
});

const org = (id) => d1Get(stack, "SELECT * FROM orgs WHERE id = ?", id);

test("Clerk: organizations, users and memberships are mirrored, and the org can sign in", async () => {
  const orgId = uid("org");
  const userId = uid("user");
  const before = await call(stack, "GET", "/v1/chats", { token: await mintToken({ org_id: orgId, user_id: userId }) });
  assert.equal(before.status, 403, "an org Clerk never told us about is not provisioned");
  assert.equal(before.json.error.code, "org_unavailable");

  let r = await sendClerk(stack, clerk.org("created", orgId, { name: "Acme" }));
  assert.equal(r.status, 200);
  assert.equal(r.json.status, "applied");
  r = await sendClerk(stack, clerk.user("created", userId, { email: "ann@acme.test" }));
  assert.equal(r.status, 200);
  r = await sendClerk(stack, clerk.membership("created", uid("orgmem"), orgId, userId, { role: "org:admin" }));
  assert.equal(r.status, 200);

  assert.equal(org(orgId).name, "Acme");
  assert.equal(d1Get(stack, "SELECT email FROM users WHERE id = ?", userId).email, "ann@acme.test");
  assert.equal(d1Get(stack, "SELECT role FROM memberships WHERE user_id = ?", userId).role, "admin");
  const after = await call(stack, "GET", "/v1/chats", { token: await mintToken({ org_id: orgId, user_id: userId }) });
  assert.equal(after.status, 200);
});

test("Clerk: every bad delivery is refused with its code and writes nothing", async () => {
  const event = clerk.org("created", uid("org"));
  const snapshot = d1Snapshot(stack);
  const cases = [
    ["tampered body", { tamper: (p) => p.replace("Acme", "Evil") }, 401, "signature_mismatch"],
    ["wrong secret", { secret: "whsec_" + Buffer.from("not the right secret").toString("base64") }, 401, "signature_mismatch"],
    ["stale timestamp", { at: new Date(Date.now() - 6 * 60_000) }, 401, "signature_timestamp_stale"],
    ["future timestamp", { at: new Date(Date.now() + 6 * 60_000) }, 401, "signature_timestamp_stale"],
    ["missing svix-id", { headers: { "svix-id": null } }, 401, "signature_missing"],
    ["missing svix-timestamp", { headers: { "svix-timestamp": null } }, 401, "signature_missing"],
    ["missing svix-signature", { headers: { "svix-signature": null } }, 401, "signature_missing"],
    ["valid signature over malformed JSON", { body: '{"type": "organization.created", "data": {' }, 400, "malformed_json"],
    ["valid signature, missing data", { body: JSON.stringify({ type: "organization.created", object: "event", timestamp: Date.now() }) }, 400, "missing_field"],
    ["valid signature, org without id", { body: JSON.stringify({ ...event, data: { name: "No id" } }) }, 400, "missing_field"],
  ];
  for (const [what, options, status, code] of cases) {
    const r = await sendClerk(stack, event, options);
    assert.equal(r.status, status, what);
    assert.equal(r.json.error.code, code, what);
  }
  assert.deepEqual(d1Snapshot(stack), snapshot, "nothing was written");
  // One of several signatures may match (secret rotation): an old secret's first, then ours.
  const good = await sendClerk(stack, event, { rotatedFrom: "whsec_" + Buffer.from("the old secret").toString("base64") });
  assert.equal(good.status, 200);
  assert.equal(good.json.status, "applied");
});

test("Clerk: duplicates are acknowledged once, reordered updates never regress, deletion is final", async () => {
  const orgId = uid("org");
  const created = clerk.org("created", orgId, { name: "V1", updated_at: 1_000 });
  const id = uid("msg");
  assert.equal((await sendClerk(stack, created, { id })).json.status, "applied");
  const again = await sendClerk(stack, created, { id });
  assert.equal(again.status, 200);
  assert.equal(again.json.status, "duplicate");
  assert.equal(d1All(stack, "SELECT * FROM webhook_events WHERE id = ?", id).length, 1);

  assert.equal((await sendClerk(stack, clerk.org("updated", orgId, { name: "V3", updated_at: 3_000 }))).json.status, "applied");
  const late = await sendClerk(stack, clerk.org("updated", orgId, { name: "V2", updated_at: 2_000 }));
  assert.equal(late.json.status, "skipped");
  assert.equal(org(orgId).name, "V3", "an older update never overwrites a newer one");

  assert.equal((await sendClerk(stack, clerk.org("deleted", orgId))).json.status, "applied");
  const resurrect = await sendClerk(stack, clerk.org("updated", orgId, { name: "V9", updated_at: Date.now() + 60_000 }));
  assert.equal(resurrect.json.status, "skipped");
  assert.ok(org(orgId).deleted_at, "a deletion is not undone by a late update");
  assert.equal(org(orgId).name, "V3");
  const res = await call(stack, "GET", "/v1/chats", { token: await mintToken({ org_id: orgId }) });
  assert.equal(res.status, 403, "a deleted org's members are refused");

  // A membership deletion that arrives before its creation leaves a tombstone the creation cannot undo.
  const mem = uid("orgmem");
  const user = uid("user");
  assert.equal((await sendClerk(stack, clerk.membership("deleted", mem, orgId, user))).json.status, "applied");
  assert.equal((await sendClerk(stack, clerk.membership("created", mem, orgId, user, { updated_at: 5 }))).json.status, "skipped");
  assert.ok(d1Get(stack, "SELECT deleted_at FROM memberships WHERE id = ?", mem).deleted_at);
});

test("Clerk: unknown event types are acknowledged, recorded and ignored", async () => {
  const id = uid("msg");
  const r = await sendClerk(stack, { type: "session.created", object: "event", timestamp: Date.now(), data: { id: "sess_1" } }, { id });
  assert.equal(r.status, 200);
  assert.equal(r.json.status, "skipped");
  assert.equal(d1Get(stack, "SELECT type FROM webhook_events WHERE provider = 'clerk' AND id = ?", id).type, "session.created");
});

test("Stripe: checkout and subscription events set seats and status, shown by GET /v1/org", async () => {
  const orgId = uid("org");
  await sendClerk(stack, clerk.org("created", orgId));
  const token = await mintToken({ org_id: orgId });
  const customer = uid("cus");
  const sub = uid("sub");
  // The subscription arrives before checkout links the customer: still counted once linked.
  assert.equal((await sendStripe(stack, stripeEvents.subscription("created", { id: sub, customer, quantity: 3, status: "trialing" }))).json.status, "applied");
  assert.equal((await call(stack, "GET", "/v1/org", { token })).json.billing.status, null, "not linked to the org yet");
  assert.equal((await sendStripe(stack, stripeEvents.checkout(orgId, customer, sub))).json.status, "applied");
  const view = (await call(stack, "GET", "/v1/org", { token })).json;
  assert.equal(view.billing.status, "trialing");
  assert.equal(view.billing.seats, 3);
  assert.equal(view.billing.plan, "growth");
  assert.equal(d1Get(stack, "SELECT org_id FROM billing_customers WHERE customer_id = ?", customer).org_id, orgId);
});

test("Stripe: every bad delivery is refused with its code and writes nothing", async () => {
  const event = stripeEvents.subscription("created", { id: uid("sub"), customer: uid("cus") });
  const snapshot = d1Snapshot(stack);
  const stale = new Date(Date.now() - 310_000);
  const cases = [
    ["tampered body", { tamper: (p) => p.replace('"quantity":1', '"quantity":99') }, 401, "signature_mismatch"],
    ["wrong secret", { secret: "whsec_wrong" }, 401, "signature_mismatch"],
    ["expired timestamp", { at: stale }, 401, "signature_timestamp_stale"],
    ["future timestamp", { at: new Date(Date.now() + 310_000) }, 401, "signature_timestamp_stale"],
    ["missing header", { header: null }, 401, "signature_missing"],
    ["v0 only", { header: `t=${nowSecs()},v0=abcdef` }, 401, "signature_v1_missing"],
    ["valid signature over malformed JSON", { body: '{"id": "evt_1", "type": ' }, 400, "malformed_json"],
    ["valid signature, unknown status", { body: JSON.stringify({ ...event, data: { object: { ...event.data.object, status: "exploded" } } }) }, 400, "invalid_field"],
  ];
  for (const [what, options, status, code] of cases) {
    const r = await sendStripe(stack, event, options);
    assert.equal(r.status, status, what);
    assert.equal(r.json.error.code, code, what);
  }
  assert.deepEqual(d1Snapshot(stack), snapshot, "nothing was written");
});

test("Stripe: duplicates and reordered deliveries never regress a subscription", async () => {
  const customer = uid("cus");
  const sub = uid("sub");
  const t = nowSecs() - 1000;
  const created = stripeEvents.subscription("created", { id: sub, customer, quantity: 2, created: t });
  assert.equal((await sendStripe(stack, created)).json.status, "applied");
  const dup = await sendStripe(stack, created);
  assert.equal(dup.json.status, "duplicate");
  assert.equal(d1All(stack, "SELECT * FROM webhook_events WHERE id = ?", created.id).length, 1);

  // Canceled at t+300 is delivered before an update from t+200: the update is stale.
  assert.equal((await sendStripe(stack, stripeEvents.subscription("deleted", { id: sub, customer, status: "canceled", quantity: 2, created: t + 300 }))).json.status, "applied");
  const stale = await sendStripe(stack, stripeEvents.subscription("updated", { id: sub, customer, status: "active", quantity: 9, created: t + 200 }));
  assert.equal(stale.json.status, "skipped");
  // Even a newer event cannot bring a canceled subscription back.
  await sendStripe(stack, stripeEvents.subscription("updated", { id: sub, customer, status: "active", quantity: 9, created: t + 400 }));
  const row = d1Get(stack, "SELECT status, seats FROM subscriptions WHERE id = ?", sub);
  assert.deepEqual({ ...row }, { status: "canceled", seats: 2 });
});

test("Stripe: a failed invoice makes a subscription past due, a paid one recovers it", async () => {
  const customer = uid("cus");
  const sub = uid("sub");
  const t = nowSecs() - 100;
  await sendStripe(stack, stripeEvents.subscription("created", { id: sub, customer, created: t }));
  assert.equal((await sendStripe(stack, stripeEvents.invoice("payment_failed", { customer, subscription: sub, created: t + 10 }))).json.status, "applied");
  let row = d1Get(stack, "SELECT status, past_due_since FROM subscriptions WHERE id = ?", sub);
  assert.equal(row.status, "past_due");
  assert.equal(row.past_due_since, t + 10);
  assert.equal((await sendStripe(stack, stripeEvents.invoice("paid", { customer, subscription: sub, created: t + 20 }))).json.status, "applied");
  row = d1Get(stack, "SELECT status, past_due_since FROM subscriptions WHERE id = ?", sub);
  assert.equal(row.status, "active");
  assert.equal(row.past_due_since, null);
  const unknown = await sendStripe(stack, { id: uid("evt"), object: "event", type: "charge.refunded", created: nowSecs(), data: { object: { id: "ch_1" } } });
  assert.equal(unknown.status, 200);
  assert.equal(unknown.json.status, "skipped");
});

test("a storm of concurrent duplicate deliveries is applied exactly once", async () => {
  const orgId = uid("org");
  const id = uid("msg");
  const event = clerk.org("created", orgId, { name: "Once" });
  const results = await Promise.all(Array.from({ length: 20 }, () => sendClerk(stack, event, { id })));
  assert.ok(results.every((r) => r.status === 200), JSON.stringify(results.map((r) => r.status)));
  assert.equal(results.filter((r) => r.json.status === "applied").length, 1);
  assert.equal(d1Get(stack, "SELECT revision FROM orgs WHERE id = ?", orgId).revision, 1);
});
