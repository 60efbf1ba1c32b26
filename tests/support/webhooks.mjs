// Clerk and Stripe webhook deliveries, signed with the providers' own libraries (`svix` and
// `stripe`), never with Parley's code.

import { Webhook } from "svix";
import Stripe from "stripe";
import { randomBytes } from "node:crypto";
import { testIdentity } from "./identity.mjs";

const stripe = new Stripe("sk_test_parley_tests_never_call_stripe");

export const uid = (prefix) => `${prefix}_${randomBytes(8).toString("hex")}`;

/**
 * Delivers a Clerk event as Svix would. Options: id (svix-id), at (Date signed), secret,
 * body (raw text instead of the event), headers (overrides; `null` removes one), tamper
 * (changes the body after signing), rotatedFrom (an old secret whose signature comes first).
 */
export async function sendClerk(stack, event, { id = uid("msg"), at = new Date(), secret, body, headers = {}, tamper, rotatedFrom } = {}) {
  const { secrets } = await testIdentity();
  const payload = body ?? JSON.stringify(event);
  let signature = new Webhook(secret || secrets.CLERK_WEBHOOK_SECRET).sign(id, at, payload);
  // During a secret rotation Svix sends one signature per secret, space-separated.
  if (rotatedFrom) signature = `${new Webhook(rotatedFrom).sign(id, at, payload)} ${signature}`;
  const h = { "content-type": "application/json", "svix-id": id, "svix-timestamp": String(Math.floor(at.getTime() / 1000)), "svix-signature": signature, ...headers };
  for (const k of Object.keys(h)) if (h[k] === null) delete h[k];
  const res = await fetch(`${stack.url}/webhooks/clerk`, { method: "POST", headers: h, body: tamper ? tamper(payload) : payload });
  return { status: res.status, json: await res.json().catch(() => undefined) };
}

/** Delivers a Stripe event signed with `stripe.webhooks.generateTestHeaderString`. */
export async function sendStripe(stack, event, { at = new Date(), secret, body, header, tamper } = {}) {
  const { secrets } = await testIdentity();
  const payload = body ?? JSON.stringify(event);
  const signature = header !== undefined ? header : stripe.webhooks.generateTestHeaderString({ payload, secret: secret || secrets.STRIPE_WEBHOOK_SECRET, timestamp: Math.floor(at.getTime() / 1000) });
  const headers = { "content-type": "application/json" };
  if (signature !== null) headers["stripe-signature"] = signature;
  const res = await fetch(`${stack.url}/webhooks/stripe`, { method: "POST", headers, body: tamper ? tamper(payload) : payload });
  return { status: res.status, json: await res.json().catch(() => undefined) };
}

// Clerk payloads, shaped like Clerk's (only the fields Parley reads, plus a few it ignores).
export const clerk = {
  org: (type, id, { name = "Acme", updated_at = Date.now(), created_at = 1_700_000_000_000 } = {}) => ({
    type: `organization.${type}`,
    object: "event",
    timestamp: Date.now(),
    data: type === "deleted" ? { id, object: "organization", deleted: true } : { id, object: "organization", name, slug: name.toLowerCase(), created_at, updated_at, members_count: 1 },
  }),
  user: (type, id, { email = `${id}@example.com`, updated_at = Date.now(), created_at = 1_700_000_000_000 } = {}) => ({
    type: `user.${type}`,
    object: "event",
    timestamp: Date.now(),
    data: type === "deleted" ? { id, object: "user", deleted: true } : {
      id, object: "user", first_name: "Test", last_name: id, primary_email_address_id: "idn_1",
      email_addresses: [{ id: "idn_1", email_address: email }], created_at, updated_at,
    },
  }),
  membership: (type, id, org, user, { role = "org:member", updated_at = Date.now(), created_at = Date.now() } = {}) => ({
    type: `organizationMembership.${type}`,
    object: "event",
    timestamp: Date.now(),
    data: { id, object: "organization_membership", role, organization: { id: org, name: "Acme" }, public_user_data: { user_id: user, identifier: `${user}@example.com` }, created_at, updated_at },
  }),
};

// Stripe payloads (API version 2025+ shapes: periods on the subscription items).
export const stripeEvents = {
  checkout: (org, customer, subscription, created = nowSecs()) => ({
    id: uid("evt"), object: "event", type: "checkout.session.completed", created, livemode: false,
    data: { object: { id: uid("cs"), object: "checkout.session", client_reference_id: org, customer, subscription, mode: "subscription" } },
  }),
  subscription: (type, { id, customer, org, status = "active", quantity = 1, price = "parley_growth", created = nowSecs(), period = [nowSecs() - 86400, nowSecs() + 29 * 86400] }) => ({
    id: uid("evt"), object: "event", type: `customer.subscription.${type}`, created, livemode: false,
    data: { object: {
      id, object: "subscription", customer, status, cancel_at_period_end: false, metadata: org ? { org_id: org } : {},
      items: { object: "list", data: [{ id: uid("si"), quantity, price: { id: uid("price"), lookup_key: price }, current_period_start: period[0], current_period_end: period[1] }] },
    } },
  }),
  invoice: (type, { customer, subscription, created = nowSecs() }) => ({
    id: uid("evt"), object: "event", type: `invoice.${type}`, created, livemode: false,
    data: { object: { id: uid("in"), object: "invoice", customer, subscription, status: type === "paid" ? "paid" : "open" } },
  }),
};

export function nowSecs() {
  return Math.floor(Date.now() / 1000);
}

/**
 * Provisions an org through signed webhooks, as production would: the org, its users and
 * memberships from Clerk, and (unless `status` is null) a subscription from Stripe.
 * Returns { org, customer, subscription, users }.
 */
export async function provisionOrg(stack, { members = [["admin", "org:admin"]], status = "active", seats = 5, price = "parley_growth" } = {}) {
  const org = uid("org");
  const users = {};
  const ok = (r, what) => {
    if (r.status !== 200) throw new Error(`${what}: ${r.status} ${JSON.stringify(r.json)}`);
  };
  ok(await sendClerk(stack, clerk.org("created", org, { name: `Org ${org}` })), "org");
  let joined = 1_700_000_000_000;
  for (const [name, role] of members) {
    const user = uid(`user_${name}`);
    users[name] = user;
    ok(await sendClerk(stack, clerk.user("created", user)), "user");
    ok(await sendClerk(stack, clerk.membership("created", uid("orgmem"), org, user, { role, created_at: (joined += 1000) })), "membership");
  }
  const customer = uid("cus");
  const subscription = uid("sub");
  if (status) {
    ok(await sendStripe(stack, stripeEvents.checkout(org, customer, subscription)), "checkout");
    ok(await sendStripe(stack, stripeEvents.subscription("created", { id: subscription, customer, org, status, quantity: seats, price })), "subscription");
  }
  return { org, customer, subscription, users };
}
