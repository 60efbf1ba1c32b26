// The org's Workspace object on the real runtime: leads, policy settings, and sends decided by
// the send policy with every decision recorded. Concurrent sends to one contact are decided
// one at a time: exactly one goes out.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startStack } from "../support/stack.mjs";
import { createHmac } from "node:crypto";
import { call } from "../support/client.mjs";
import { daytimeZone } from "../support/zones.mjs";

let stack;
const INBOUND_SECRET = "whsec_inbound_test_only";
before(async () => {
  stack = await startStack({ orchestratorVars: { INBOUND_WEBHOOK_SECRET: INBOUND_SECRET } });
});
after(async () => {
  await stack?.stop();
});

async function lead(body) {
  const res = await call(stack, "POST", "/v1/leads", { body });
  assert.equal(res.status, 201, res.text);
  return res.json;
}

test("leads are created, validated and listed", async () => {
  const l = await lead({ name: "Ada Lovelace", email: "ada@analytical.io", time_zone: "Europe/London", industry: "software", employees: 40 });
  assert.match(l.id, /^lead_[0-9a-z]{26}$/);
  assert.equal(l.stage, "new");
  assert.equal((await call(stack, "GET", `/v1/leads/${l.id}`)).json.name, "Ada Lovelace");
  assert.ok((await call(stack, "GET", "/v1/leads")).json.leads.some((x) => x.id === l.id));
  const bad = [
    [{ name: "X", time_zone: "Mars/Olympus_Mons" }, 400, "invalid_field"],
    [{ name: "X", email: "not-an-email" }, 400, "invalid_field"],
    [{ email: "x@y.io" }, 400, "missing_field"],
  ];
  for (const [body, status, code] of bad) {
    const res = await call(stack, "POST", "/v1/leads", { body });
    assert.equal(res.status, status, res.text);
    assert.equal(res.json.error.code, code);
  }
  const unknown = await call(stack, "GET", "/v1/leads/lead_00000000000000000000000000");
  assert.equal(unknown.status, 404);
  assert.equal(unknown.json.error.code, "unknown_lead");
});

test("settings default to draft-only and change all or nothing", async () => {
  const initial = (await call(stack, "GET", "/v1/workspace/settings")).json;
  assert.equal(initial.mode, "DRAFT_ONLY");
  assert.equal(initial.sunday_hold, true);
  const bad = await call(stack, "PUT", "/v1/workspace/settings", { body: { sunday_hold: false, mode: "YOLO" } });
  assert.equal(bad.status, 400);
  assert.equal((await call(stack, "GET", "/v1/workspace/settings")).json.sunday_hold, true, "nothing changed");
  const badZone = await call(stack, "PUT", "/v1/workspace/settings", { body: { default_time_zone: "Nowhere/Land" } });
  assert.equal(badZone.status, 400);
  const ok = await call(stack, "PUT", "/v1/workspace/settings", { body: { sunday_hold: false } });
  assert.equal(ok.status, 200, ok.text);
  assert.equal(ok.json.sunday_hold, false);
});

test("50 concurrent sends to one contact: exactly one is allowed, the rest deferred with reasons", async () => {
  await call(stack, "PUT", "/v1/workspace/settings", { body: { sunday_hold: false, kill_switch: false } });
  const l = await lead({ name: "Grace Hopper", time_zone: daytimeZone() });
  const results = await Promise.all(
    Array.from({ length: 50 }, (_, i) => call(stack, "POST", `/v1/leads/${l.id}/sends`, { body: { client_id: `burst-${i}`, content: `Hello ${i}` } })),
  );
  const allowed = results.filter((r) => r.status === 201);
  assert.equal(allowed.length, 1, results.map((r) => r.status).join(","));
  assert.equal(allowed[0].json.decision.verdict, "allow");
  const refused = results.filter((r) => r.status === 200);
  assert.equal(refused.length, 49);
  for (const r of refused) {
    assert.equal(r.json.decision.verdict, "defer");
    assert.deepEqual(r.json.decision.reasons, ["CONTACT_24H_LIMIT"]);
    assert.equal(r.json.sent, null);
    assert.ok(r.json.decision.until > Date.now() + 23 * 3600_000);
    assert.ok(r.json.decision.next_step.length > 0);
    assert.equal(r.json.decision.rule_trace.length, 14, "every rule is traced");
  }
  const decisions = (await call(stack, "GET", `/v1/leads/${l.id}/decisions`)).json.decisions;
  assert.equal(decisions.length, 50, "every decision is recorded");
  assert.equal(decisions.filter((d) => d.verdict === "allow").length, 1);

  const clientId = allowed[0].json.sent && allowed[0].json.decision ? results.indexOf(allowed[0]) : -1;
  const retry = await call(stack, "POST", `/v1/leads/${l.id}/sends`, { body: { client_id: `burst-${clientId}`, content: `Hello ${clientId}` } });
  assert.equal(retry.status, 200);
  assert.equal(retry.json.duplicate, true);
  assert.equal(retry.json.sent.id, allowed[0].json.sent.id);
  assert.equal((await call(stack, "GET", `/v1/leads/${l.id}/decisions`)).json.decisions.length, 50, "a retried send is not decided again");
  const reused = await call(stack, "POST", `/v1/leads/${l.id}/sends`, { body: { client_id: `burst-${clientId}`, content: "Something else entirely" } });
  assert.equal(reused.status, 409, reused.text);
  assert.equal(reused.json.error.code, "client_id_conflict");
  assert.equal((await call(stack, "GET", `/v1/leads/${l.id}/decisions`)).json.decisions.length, 50, "a reused client id decides nothing");
  assert.equal((await call(stack, "GET", "/v1/outbox")).json.sent.filter((o) => o.lead_id === l.id).length, 1, "and sends nothing");
  const otherLead = await lead({ name: "Another Lead", time_zone: daytimeZone() });
  const elsewhere = await call(stack, "POST", `/v1/leads/${otherLead.id}/sends`, { body: { client_id: `burst-${clientId}`, content: `Hello ${clientId}` } });
  assert.equal(elsewhere.status, 409, "the same id and text to another lead is not a retry");
  assert.equal((await call(stack, "GET", `/v1/leads/${otherLead.id}/decisions`)).json.decisions.length, 0);
  const unknown = await call(stack, "POST", "/v1/leads/lead_00000000000000000000000000/sends", { body: { client_id: `burst-${clientId}`, content: "x" } });
  assert.equal(unknown.status, 404, "an unknown lead is reported as such first");
});

test("the kill switch stops every send, with its reason and the next step", async () => {
  const l = await lead({ name: "Katherine Johnson", time_zone: daytimeZone() });
  await call(stack, "PUT", "/v1/workspace/settings", { body: { kill_switch: true, sunday_hold: false } });
  const res = await call(stack, "POST", `/v1/leads/${l.id}/sends`, { body: { client_id: "ks-1", content: "Hi" } });
  await call(stack, "PUT", "/v1/workspace/settings", { body: { kill_switch: false } });
  assert.equal(res.status, 200, res.text);
  assert.equal(res.json.decision.verdict, "deny");
  assert.deepEqual(res.json.decision.reasons, ["KILL_SWITCH_ON"]);
  assert.match(res.json.decision.next_step, /kill switch/);
  const after = await call(stack, "POST", `/v1/leads/${l.id}/sends`, { body: { client_id: "ks-2", content: "Hi" } });
  assert.equal(after.status, 201, "allowed once the switch is off");
});

test("sends to unknown leads and bad send bodies write nothing", async () => {
  const l = await lead({ name: "Dorothy Vaughan", time_zone: daytimeZone() });
  const cases = [
    [await call(stack, "POST", "/v1/leads/lead_00000000000000000000000000/sends", { body: { client_id: "u1", content: "x" } }), 404],
    [await call(stack, "POST", `/v1/leads/${l.id}/sends`, { body: { client_id: "u2" } }), 400],
    [await call(stack, "POST", `/v1/leads/${l.id}/sends`, { raw: "{", headers: { "Content-Type": "application/json" } }), 400],
    [await call(stack, "POST", `/v1/leads/${l.id}/sends`, { raw: "x", headers: { "Content-Type": "text/plain" } }), 415],
  ];
  for (const [res, status] of cases) assert.equal(res.status, status, res.text);
  assert.equal((await call(stack, "GET", `/v1/leads/${l.id}/decisions`)).json.decisions.length, 0);
});

// Local wall-clock parts of an instant in a zone, from Node's own Intl (independent of the
// worker's code).
function localParts(zone, t) {
  const parts = new Intl.DateTimeFormat("en-US", { timeZone: zone, hourCycle: "h23", hour: "numeric", minute: "numeric" }).formatToParts(new Date(t));
  const get = (type) => Number(parts.find((p) => p.type === type).value);
  return { hour: get("hour"), minute: get("minute") };
}

test("quiet hours are read in the contact's own zone, daylight saving included", async () => {
  const zones = ["America/Los_Angeles", "America/New_York", "America/Sao_Paulo", "Europe/London", "Europe/Berlin", "Asia/Kolkata", "Asia/Tokyo", "Australia/Sydney", "Pacific/Auckland", "Australia/Lord_Howe"];
  const now = Date.now();
  const quiet = zones.filter((z) => {
    const { hour } = localParts(z, now);
    return hour >= 21 || hour < 8;
  });
  assert.ok(quiet.length > 0, "some zone is in quiet hours at any time");
  await call(stack, "PUT", "/v1/workspace/settings", { body: { sunday_hold: false, kill_switch: false } });
  for (const zone of quiet) {
    const l = await lead({ name: `Night owl in ${zone}`, time_zone: zone });
    const res = await call(stack, "POST", `/v1/leads/${l.id}/sends`, { body: { client_id: `q-${zone.replace("/", "-")}`, content: "Hi" } });
    assert.equal(res.json.decision.verdict, "defer", `${zone}: ${res.text}`);
    assert.deepEqual(res.json.decision.reasons, ["QUIET_HOURS"]);
    // The first whole minute after now whose local time is 09:00.
    let expected = Math.ceil(Date.now() / 60_000) * 60_000;
    while (!(localParts(zone, expected).hour === 9 && localParts(zone, expected).minute === 0)) expected += 60_000;
    assert.equal(res.json.decision.until, expected, `${zone}: deferred to local 09:00`);
  }
});

test("stages follow the table, takeover and replies are recorded, and every change is audited", async () => {
  const l = await lead({ name: "Hedy Lamarr", time_zone: daytimeZone() });
  const stage = (s) => call(stack, "POST", `/v1/leads/${l.id}/stage`, { body: { stage: s } });
  assert.equal((await stage("contacted")).json.stage, "contacted");
  assert.equal((await stage("qualified")).json.stage, "qualified");
  const back = await stage("engaged");
  assert.equal(back.status, 409);
  assert.equal(back.json.error.code, "invalid_transition");
  const won = await stage("won");
  assert.equal(won.status, 409, "won only from negotiation");
  assert.equal((await stage("bogus")).status, 400);

  assert.equal((await call(stack, "POST", `/v1/leads/${l.id}/takeover`)).json.human_takeover, true);
  assert.equal((await call(stack, "POST", `/v1/leads/${l.id}/handback`)).json.human_takeover, false);

  const audit = (await call(stack, "GET", "/v1/audit")).json;
  assert.equal(audit.chain_intact, true);
  const mine = audit.entries.filter((e) => e.lead_id === l.id).map((e) => e.action);
  assert.deepEqual(mine, ["lead.stage_changed", "lead.stage_changed", "lead.taken_over", "lead.handed_back"]);
  assert.ok(audit.entries.every((e) => e.actor === "user_demo"));
  assert.ok(audit.entries.some((e) => e.action === "settings.changed"));
  assert.ok(audit.entries.some((e) => e.action === "send.decided"));
});

test("a reply resets the unanswered count, and an opt-out is final for everyone", async () => {
  await call(stack, "PUT", "/v1/workspace/settings", { body: { sunday_hold: false, kill_switch: false } });
  const l = await lead({ name: "Barbara Liskov", time_zone: daytimeZone() });
  const first = await call(stack, "POST", `/v1/leads/${l.id}/sends`, { body: { client_id: "r-1", content: "Hi" } });
  assert.equal(first.status, 201);
  const reply = await call(stack, "POST", `/v1/leads/${l.id}/replies`, { body: { client_id: "in-1", content: "Thanks, tell me more" } });
  assert.equal(reply.status, 200, reply.text);
  assert.equal(reply.json.opted_out, false);
  const again = await call(stack, "POST", `/v1/leads/${l.id}/replies`, { body: { client_id: "in-1", content: "Thanks, tell me more" } });
  assert.equal(again.status, 200, "a repeated delivery is harmless");

  const stop = await call(stack, "POST", `/v1/leads/${l.id}/replies`, { body: { client_id: "in-2", content: "STOP" } });
  assert.equal(stop.json.opted_out, true);
  const after = await call(stack, "POST", `/v1/leads/${l.id}/sends`, { body: { client_id: "r-2", content: "One more thing" } });
  assert.equal(after.json.decision.verdict, "deny");
  assert.ok(after.json.decision.reasons.includes("CONTACT_OPTED_OUT"));
  const replies = (await call(stack, "GET", "/v1/audit")).json.entries.filter((e) => e.lead_id === l.id && e.action === "lead.reply_recorded");
  assert.equal(replies.length, 2, "the repeated delivery was recorded once");
  // No setting or role undoes it.
  await call(stack, "PUT", "/v1/workspace/settings", { body: { mode: "SEND_ALLOWED" } });
  assert.equal((await call(stack, "GET", `/v1/leads/${l.id}`)).json.opted_out, true);
  await call(stack, "PUT", "/v1/workspace/settings", { body: { mode: "DRAFT_ONLY" } });
});

test("drafts: the quality gate, approval, rejection, and sending through the policy", async () => {
  await call(stack, "PUT", "/v1/workspace/settings", { body: { sunday_hold: false, kill_switch: false, forbidden_words: ["guarantee"], other_clients: ["Globex"] } });
  const l = await lead({ name: "Radia Perlman", time_zone: daytimeZone() });
  const write = (client_id, content) => call(stack, "POST", `/v1/leads/${l.id}/drafts`, { body: { client_id, content } });

  const bad = await write("d-bad", "We guarantee Globex-level results \u2014 email me at sam@acme.io. Book a call? Reply now!");
  assert.equal(bad.status, 201, bad.text);
  assert.equal(bad.json.state, "blocked");
  assert.equal(bad.json.quality.verdict, "fail");
  const codes = bad.json.quality.violations.map((v) => v.code);
  for (const c of ["forbidden_word", "other_client_named", "em_dash", "email_address"]) assert.ok(codes.includes(c), `${c} in ${codes}`);
  assert.ok(bad.json.quality.violations.every((v) => v.suggested_fix));
  assert.equal((await call(stack, "POST", `/v1/drafts/${bad.json.id}/approve`)).status, 409, "a blocked draft cannot be approved");

  const good = await write("d-good", "Hi Radia, your team is hiring network engineers. We help teams like yours ramp faster. Would you be open to a 15-minute call next week?");
  assert.equal(good.json.state, "pending", JSON.stringify(good.json.quality));
  assert.ok((await call(stack, "GET", "/v1/drafts?state=pending")).json.drafts.some((d) => d.id === good.json.id));
  assert.equal((await call(stack, "POST", `/v1/drafts/${good.json.id}/send`)).status, 409, "a pending draft cannot be sent");
  assert.equal((await call(stack, "POST", `/v1/drafts/${good.json.id}/approve`)).json.state, "approved");
  const sent = await call(stack, "POST", `/v1/drafts/${good.json.id}/send`);
  assert.equal(sent.status, 201, sent.text);
  assert.equal(sent.json.decision.verdict, "allow");
  assert.equal(sent.json.draft.state, "sent");

  const second = await write("d-second", "Hi Radia, one more thought on onboarding. Would you be open to a short call on Thursday?");
  await call(stack, "POST", `/v1/drafts/${second.json.id}/approve`);
  const deferred = await call(stack, "POST", `/v1/drafts/${second.json.id}/send`);
  assert.equal(deferred.json.decision.verdict, "defer", "the policy is asked again at send time");
  assert.equal(deferred.json.draft.state, "approved", "a deferred draft stays approved");

  const noReason = await call(stack, "POST", `/v1/drafts/${second.json.id}/reject`, { body: { reason: " " } });
  assert.equal(noReason.status, 400);
  const rejected = await call(stack, "POST", `/v1/drafts/${second.json.id}/reject`, { body: { reason: "Too soon after the last message" } });
  assert.equal(rejected.json.state, "rejected");
  assert.equal(rejected.json.reject_reason, "Too soon after the last message");
  assert.equal((await call(stack, "POST", "/v1/drafts/999999/approve")).status, 404);
  assert.equal((await call(stack, "GET", "/v1/drafts?state=nope")).status, 400);

  const actions = (await call(stack, "GET", "/v1/audit")).json.entries.filter((e) => e.lead_id === l.id).map((e) => e.action);
  for (const a of ["draft.created", "draft.approved", "send.decided", "draft.sent", "draft.rejected"]) assert.ok(actions.includes(a), `${a} audited`);
});

test("bulk CSV import creates the good rows and reports every bad one", async () => {
  const csv = [
    "name,email,time_zone,industry,employees",
    "Alan Turing,alan@bletchley.uk,Europe/London,research,12",
    '"Hamilton, Margaret",margaret@mit.edu,America/New_York,,',
    ",nobody@nowhere.io,,,",
    "Bad Zone,bz@x.io,Mars/Olympus_Mons,,",
    "Dup Email,ALAN@bletchley.uk,,,",
    "Many,many@x.io,,,lots",
    "Short,short@x.io",
  ].join("\r\n");
  const res = await call(stack, "POST", "/v1/leads/import", { raw: csv, headers: { "Content-Type": "text/csv" } });
  assert.equal(res.status, 200, res.text);
  assert.deepEqual(res.json.created.map((c) => c.row), [2, 3]);
  assert.deepEqual(res.json.rejected.map((r) => r.row), [4, 5, 6, 7, 8]);
  assert.match(res.json.rejected.find((r) => r.row === 5).errors[0], /time zone/);
  assert.match(res.json.rejected.find((r) => r.row === 6).errors[0], /already exists/);
  const imported = await call(stack, "GET", `/v1/leads/${res.json.created[1].id}`);
  assert.equal(imported.json.name, "Hamilton, Margaret");

  const again = await call(stack, "POST", "/v1/leads/import", { raw: csv, headers: { "Content-Type": "text/csv" } });
  assert.deepEqual(again.json.created, [], "a retried import makes no duplicates");

  assert.equal((await call(stack, "POST", "/v1/leads/import", { raw: "email\nx@y.io", headers: { "Content-Type": "text/csv" } })).status, 400);
  assert.equal((await call(stack, "POST", "/v1/leads/import", { raw: csv, headers: { "Content-Type": "application/json" } })).status, 415);
});

test("the audit log filters by lead, action and time, pages, and exports as CSV", async () => {
  const l = await lead({ name: "Frances Allen", time_zone: daytimeZone() });
  const since = Date.now() - 1;
  await call(stack, "POST", `/v1/leads/${l.id}/takeover`);
  await call(stack, "POST", `/v1/leads/${l.id}/handback`);
  await call(stack, "POST", `/v1/leads/${l.id}/takeover`);
  const byLead = (await call(stack, "GET", `/v1/audit?lead_id=${l.id}`)).json;
  assert.equal(byLead.chain_intact, true);
  assert.deepEqual(byLead.entries.map((e) => e.action), ["lead.taken_over", "lead.handed_back", "lead.taken_over"]);
  const takeovers = (await call(stack, "GET", `/v1/audit?lead_id=${l.id}&action=lead.taken_over`)).json.entries;
  assert.equal(takeovers.length, 2);
  const page1 = (await call(stack, "GET", `/v1/audit?lead_id=${l.id}&limit=2`)).json;
  assert.equal(page1.entries.length, 2);
  const page2 = (await call(stack, "GET", `/v1/audit?lead_id=${l.id}&after=${page1.next_after}`)).json;
  assert.deepEqual(page2.entries.map((e) => e.action), ["lead.taken_over"]);
  assert.equal((await call(stack, "GET", `/v1/audit?from=${since}&to=${since - 10}`)).json.entries.length, 0);
  assert.equal((await call(stack, "GET", "/v1/audit?limit=0")).status, 400);
  const csv = await call(stack, "GET", `/v1/audit/export?lead_id=${l.id}`);
  assert.equal(csv.status, 200);
  assert.match(csv.headers.get("content-type"), /text\/csv/);
  const lines = csv.text.trim().split("\r\n");
  assert.equal(lines[0], "seq,at,actor,action,lead_id,detail,prev_hash,hash");
  assert.equal(lines.length, 4);
  assert.ok(lines.slice(1).every((line) => line.includes(l.id)));
});

test("leads filter by stage, tag and text; the outbox lists what went out", async () => {
  const a = await lead({ name: "Filter Alpha", email: "alpha@filters.io", time_zone: daytimeZone() });
  const b = await lead({ name: "Filter Beta", time_zone: daytimeZone() });
  await call(stack, "POST", `/v1/leads/${a.id}/stage`, { body: { stage: "qualified" } });
  await call(stack, "POST", `/v1/leads/${b.id}/takeover`);
  const ids = async (query) => (await call(stack, "GET", `/v1/leads?${query}`)).json.leads.map((l) => l.id);
  assert.ok((await ids("stage=qualified")).includes(a.id));
  assert.ok(!(await ids("stage=qualified")).includes(b.id));
  assert.deepEqual((await ids("tag=human_takeover&q=filter")), [b.id]);
  assert.deepEqual(await ids("q=ALPHA@filters"), [a.id]);
  assert.equal((await call(stack, "GET", "/v1/leads?stage=sold")).status, 400);
  assert.deepEqual(await ids("q=%25"), [], "LIKE wildcards in the text are literal");

  await call(stack, "PUT", "/v1/workspace/settings", { body: { sunday_hold: false, kill_switch: false } });
  const sent = await call(stack, "POST", `/v1/leads/${a.id}/sends`, { body: { client_id: "outbox-1", content: "Hello from the outbox test" } });
  assert.equal(sent.status, 201, sent.text);
  const outbox = (await call(stack, "GET", "/v1/outbox")).json.sent;
  assert.equal(outbox[0].content, "Hello from the outbox test");
  assert.equal(outbox[0].decision_id, sent.json.decision.id);
});

test("the suppression list: reasons, expiry, lifting, and an opt-out that never lifts", async () => {
  await call(stack, "PUT", "/v1/workspace/settings", { body: { sunday_hold: false, kill_switch: false } });
  const l = await lead({ name: "Suppressed Sam", time_zone: daytimeZone() });
  const bounced = await call(stack, "POST", `/v1/leads/${l.id}/suppressions`, { body: { reason: "bounced", until: Date.now() + 86_400_000 } });
  assert.equal(bounced.status, 201, bounced.text);
  const refused = await call(stack, "POST", `/v1/leads/${l.id}/sends`, { body: { client_id: "sup-1", content: "Hi" } });
  assert.deepEqual(refused.json.decision.reasons, ["CONTACT_SUPPRESSED"]);
  assert.equal((await call(stack, "POST", `/v1/leads/${l.id}/suppressions`, { body: { reason: "opt_out", until: Date.now() + 1000 } })).status, 400, "an opt-out has no expiry");
  const lifted = await call(stack, "POST", `/v1/leads/${l.id}/suppressions/lift`);
  assert.equal(lifted.json.lead.suppressed_until, null);
  assert.equal((await call(stack, "POST", `/v1/leads/${l.id}/sends`, { body: { client_id: "sup-2", content: "Hi" } })).status, 201);

  const optOut = await call(stack, "POST", `/v1/leads/${l.id}/suppressions`, { body: { reason: "opt_out", note: "asked by phone" } });
  assert.equal(optOut.json.lead.opted_out, true);
  await call(stack, "POST", `/v1/leads/${l.id}/suppressions/lift`);
  const after = (await call(stack, "GET", `/v1/leads/${l.id}`)).json;
  assert.equal(after.opted_out, true, "lifting never undoes an opt-out");
  const list = (await call(stack, "GET", `/v1/leads/${l.id}/suppressions`)).json.suppressions;
  assert.deepEqual(list.map((s) => [s.reason, s.lifted_at !== null, s.permanent]), [["bounced", true, false], ["opt_out", false, true]]);
});

test("feature flags roll out by percentage, the same way every time", async () => {
  const set = await call(stack, "PUT", "/v1/workspace/settings", { body: { feature_flags: { everyone: 100, nobody: 0, half: 50 } } });
  assert.equal(set.status, 200, set.text);
  assert.equal((await call(stack, "PUT", "/v1/workspace/settings", { body: { feature_flags: { half: 101 } } })).status, 400);
  let halfOn = 0;
  for (let i = 0; i < 40; i++) {
    const flags = (await call(stack, "GET", `/v1/workspace/flags?subject=lead_${i}`)).json.flags;
    assert.equal(flags.everyone.enabled, true);
    assert.equal(flags.nobody.enabled, false);
    const again = (await call(stack, "GET", `/v1/workspace/flags?subject=lead_${i}`)).json.flags;
    assert.equal(again.half.enabled, flags.half.enabled, "deterministic");
    if (flags.half.enabled) halfOn++;
  }
  assert.ok(halfOn > 5 && halfOn < 35, `${halfOn} of 40 at 50 %`);
  assert.equal((await call(stack, "GET", "/v1/workspace/flags")).status, 400, "a subject is required");
});

test("the signed inbound webhook records replies once and refuses every bad signature", async () => {
  const l = await lead({ name: "Inbound Ida", time_zone: daytimeZone() });
  const post = (body, { secret = INBOUND_SECRET, ts = Math.floor(Date.now() / 1000), signature, contentType = "application/json" } = {}) => {
    const raw = typeof body === "string" ? body : JSON.stringify(body);
    const sig = signature ?? `v1=${createHmac("sha256", secret).update(`${ts}.${raw}`).digest("hex")}`;
    return call(stack, "POST", "/v1/inbound", { raw, headers: { "Content-Type": contentType, "x-parley-timestamp": String(ts), "x-parley-signature": sig } });
  };
  const reply = { org_id: "org_demo", lead_id: l.id, message_id: "prov-msg-1", content: "Please unsubscribe me" };
  // Ten seconds past the 5-minute tolerance: a timestamp only just past it can come back within
  // it when the second turns between the signing here and the check in the worker.
  const bad = [
    [await post(reply, { secret: "wrong" }), "signature_mismatch"],
    [await post(reply, { ts: Math.floor(Date.now() / 1000) - 310 }), "signature_timestamp_stale"],
    [await post(reply, { ts: Math.floor(Date.now() / 1000) + 310 }), "signature_timestamp_stale"],
    [await post(reply, { signature: "v1=" }), "signature_mismatch"],
    [await call(stack, "POST", "/v1/inbound", { body: reply }), "signature_missing"],
  ];
  for (const [res, code] of bad) {
    assert.equal(res.status, 401, res.text);
    assert.equal(res.json.error.code, code);
  }
  assert.equal((await call(stack, "GET", `/v1/leads/${l.id}`)).json.opted_out, false, "nothing was recorded");
  const malformed = await post("{not json");
  assert.equal(malformed.status, 400, "a valid signature over malformed JSON is still refused");

  const ok = await post(reply);
  assert.equal(ok.status, 200, ok.text);
  assert.equal(ok.json.opted_out, true);
  const again = await post(reply);
  assert.equal(again.status, 200, "a redelivery is harmless");
  const recorded = (await call(stack, "GET", `/v1/audit?lead_id=${l.id}&action=lead.reply_recorded`)).json.entries;
  assert.equal(recorded.length, 1);
  assert.equal(recorded[0].actor, "inbound-webhook");
  const otherOrg = await post({ ...reply, org_id: "org_other", message_id: "prov-msg-2" });
  assert.equal(otherOrg.status, 404, "another org's workspace has no such lead");
});

test("a lead's contact fields can be changed, cleared and audited, never its opt-out", async () => {
  const l = await lead({ name: "Patchy Pat", email: "pat@patch.io", time_zone: "Europe/Paris", employees: 9 });
  const res = await call(stack, "PATCH", `/v1/leads/${l.id}`, { body: { email: null, employees: 120, time_zone: "Asia/Tokyo" } });
  assert.equal(res.status, 200, res.text);
  assert.equal(res.json.email, null);
  assert.equal(res.json.employees, 120);
  assert.equal(res.json.time_zone, "Asia/Tokyo");
  assert.equal(res.json.name, "Patchy Pat");
  assert.equal((await call(stack, "PATCH", `/v1/leads/${l.id}`, { body: { time_zone: "Nowhere/Land" } })).status, 400);
  assert.equal((await call(stack, "PATCH", `/v1/leads/${l.id}`, { body: { opted_out: false } })).status, 400);
  assert.equal((await call(stack, "PATCH", "/v1/leads/lead_00000000000000000000000000", { body: { name: "X" } })).status, 404);
  const audit = (await call(stack, "GET", `/v1/audit?lead_id=${l.id}&action=lead.updated`)).json.entries;
  assert.equal(audit.length, 1);
  assert.deepEqual(JSON.parse(audit[0].detail).fields, ["email", "time_zone", "employees"]);
});
