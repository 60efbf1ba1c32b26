// The CRM loops on the Workspace's alarm, on the real runtime. `CRM_HOUR_MS=1000` makes a
// follow-up "hour" one second long (a deployment variable, unset in production), so the org's
// interval override of 2 hours is due in 2 seconds; the send policy's own windows (24 hours,
// quiet hours) are real.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startStack } from "../support/stack.mjs";
import { call, eventually } from "../support/client.mjs";
import { daytimeZone } from "../support/zones.mjs";

let stack;
// Leads of earlier tests that the review test looks at again.
let sentLead, deferredLead, repliedLead;
before(async () => {
  stack = await startStack({ workspaceVars: { CRM_HOUR_MS: "1000" }, logLevel: "log" });
});
after(async () => {
  await stack?.stop();
});

async function settings(body) {
  const res = await call(stack, "PUT", "/v1/workspace/settings", { body });
  assert.equal(res.status, 200, res.text);
  return res.json;
}

async function lead(name) {
  const res = await call(stack, "POST", "/v1/leads", { body: { name, time_zone: daytimeZone() } });
  assert.equal(res.status, 201, res.text);
  return res.json;
}

const get = async (id) => (await call(stack, "GET", `/v1/leads/${id}`)).json;
const decisions = async (id) => (await call(stack, "GET", `/v1/leads/${id}/decisions`)).json.decisions;
const drafts = async (id) => (await call(stack, "GET", "/v1/drafts")).json.drafts.filter((d) => d.lead_id === id);
const audit = async (id) => (await call(stack, "GET", `/v1/audit?lead_id=${id}&limit=500`)).json;
const outbox = async (id) => (await call(stack, "GET", "/v1/outbox")).json.sent.filter((s) => s.lead_id === id);

test("follow-up settings are validated all or nothing and shown on leads", async () => {
  const initial = (await call(stack, "GET", "/v1/workspace/settings")).json;
  assert.equal(initial.followup_preset, "standard");
  assert.equal(initial.followup_intervals_hours, null);
  assert.equal(initial.followup_max_steps, 3);
  for (const body of [{ followup_preset: "pushy" }, { followup_intervals_hours: [0] }, { followup_intervals_hours: [] }, { followup_max_steps: 11 }, { followup_preset: "gentle", followup_intervals_hours: ["24"] }]) {
    const res = await call(stack, "PUT", "/v1/workspace/settings", { body });
    assert.equal(res.status, 400, JSON.stringify(body));
    assert.equal(res.json.error.code, "invalid_field");
  }
  assert.equal((await call(stack, "GET", "/v1/workspace/settings")).json.followup_preset, "standard", "nothing changed");
  const s = await settings({ followup_preset: "gentle", followup_intervals_hours: [500], followup_max_steps: 2 });
  assert.deepEqual([s.followup_preset, s.followup_intervals_hours, s.followup_max_steps], ["gentle", [500], 2]);
  const before = Date.now();
  const l = await lead("Preset Shown");
  assert.equal(l.followup_preset, "gentle");
  assert.equal(l.followup_step, 0);
  assert.ok(l.next_followup_at >= before + 500_000 && l.next_followup_at <= Date.now() + 500_000, "one interval after creation");
  const listed = (await call(stack, "GET", "/v1/leads")).json.leads.find((x) => x.id === l.id);
  assert.equal(listed.next_followup_at, l.next_followup_at);
});

test("a cadence change moves the follow-ups already waiting, from the lead's creation or last message", async () => {
  const l = await lead("Cadence Change");
  assert.equal(l.next_followup_at, l.created_at + 500_000, "the current settings: 500 hours (seconds here)");
  await settings({ followup_intervals_hours: [700] });
  assert.equal((await get(l.id)).next_followup_at, l.created_at + 700_000, "one new interval after creation");
  const entries = (await call(stack, "GET", "/v1/audit?action=followups.rescheduled&limit=500")).json.entries;
  assert.ok(entries.length >= 1 && JSON.parse(entries.at(-1).detail).leads >= 1, JSON.stringify(entries));
  const other = await settings({ mode: "DRAFT_ONLY" });
  assert.equal(other.followup_intervals_hours[0], 700);
  assert.equal((await get(l.id)).next_followup_at, l.created_at + 700_000, "other settings leave follow-ups alone");
  await settings({ followup_max_steps: 0 });
  assert.equal((await get(l.id)).next_followup_at, null, "no steps: no follow-up");
  const replied = await lead("Cadence Replied");
  const reply = await call(stack, "POST", `/v1/leads/${replied.id}/replies`, { body: { client_id: "cadence-reply-1", content: "Thanks, I will read it" } });
  assert.equal(reply.status, 200, reply.text);
  await settings({ followup_max_steps: 2, followup_intervals_hours: [500] });
  assert.equal((await get(l.id)).next_followup_at, l.created_at + 500_000, "follow-ups back on: due one interval after creation");
  assert.equal((await get(replied.id)).next_followup_at, null, "a lead paused by its reply stays paused");
  const last = (await call(stack, "GET", "/v1/audit?action=followups.rescheduled&limit=500")).json.entries.at(-1);
  assert.ok(JSON.parse(last.detail).revived >= 1, last.detail);
});

test("DRAFT_ONLY: a due follow-up becomes exactly one draft, decided by the policy as the agent", async () => {
  await settings({ mode: "DRAFT_ONLY", sunday_hold: false, followup_preset: "standard", followup_intervals_hours: [2], followup_max_steps: 1 });
  const l = await lead("Ada Drafted");
  const done = await eventually(async () => ((await get(l.id)).followup_step === 1 ? get(l.id) : null), 30_000, "the follow-up");
  assert.equal(done.next_followup_at, null, "one step, then no more");
  const ds = await drafts(l.id);
  assert.equal(ds.length, 1);
  assert.equal(ds[0].origin, "agent");
  assert.equal(ds[0].state, "pending");
  assert.match(ds[0].content, /automatic follow-up/);
  assert.equal(ds[0].quality.verdict, "pass");
  const dec = await decisions(l.id);
  assert.equal(dec.length, 1);
  assert.equal(dec[0].origin, "agent");
  assert.equal(dec[0].verdict, "deny");
  assert.deepEqual(dec[0].reasons, ["DRAFT_ONLY_MODE"]);
  assert.equal((await outbox(l.id)).length, 0, "nothing sent");
  const log = await audit(l.id);
  assert.ok(log.chain_intact);
  const fu = log.entries.filter((e) => e.action === "crm.followup");
  assert.equal(fu.length, 1);
  assert.equal(JSON.parse(fu[0].detail).outcome, "drafted");
  assert.equal(JSON.parse(fu[0].detail).key, `followup:${l.id}:0`);
});

test("SEND_ALLOWED: a due follow-up is sent through the policy; a deferred one waits for the policy's until", async () => {
  await settings({ mode: "SEND_ALLOWED", sunday_hold: false, followup_intervals_hours: [2], followup_max_steps: 1 });
  const sent = (sentLead = await lead("Grace Sent"));
  const deferred = (deferredLead = await lead("Linus Deferred"));
  // A person's message restarts the wait; the follow-up then falls inside the 24-hour rule.
  const human = await call(stack, "POST", `/v1/leads/${deferred.id}/sends`, { body: { client_id: "crm-human-1", content: "Hello Linus, are you free for a call?" } });
  assert.equal(human.status, 201, human.text);
  const afterSend = await get(deferred.id);
  assert.equal(afterSend.stage, "contacted", "the post-turn loop moved the stage");
  assert.ok(afterSend.next_followup_at > human.json.sent.created_at);

  const s = await eventually(async () => ((await get(sent.id)).followup_step === 1 ? get(sent.id) : null), 30_000, "the autonomous follow-up");
  assert.equal(s.stage, "contacted");
  const out = await outbox(sent.id);
  assert.equal(out.length, 1);
  assert.match(out[0].content, /^Hi Grace, .*automatic follow-up/);
  const sd = await decisions(sent.id);
  assert.equal(sd.length, 1);
  assert.deepEqual([sd[0].origin, sd[0].verdict], ["agent", "allow"]);
  assert.equal(out[0].decision_id, sd[0].id);
  assert.equal((await drafts(sent.id)).length, 0);

  const dd = await eventually(async () => {
    const ds = (await decisions(deferred.id)).filter((d) => d.origin === "agent");
    return ds.length ? ds : null;
  }, 30_000, "the deferral");
  assert.equal(dd.length, 1);
  assert.equal(dd[0].verdict, "defer");
  assert.deepEqual(dd[0].reasons, ["CONTACT_24H_LIMIT"]);
  const d = await get(deferred.id);
  assert.equal(d.next_followup_at, dd[0].until, "rescheduled to the policy's until");
  assert.equal(d.followup_step, 0, "the step is still to do");
  assert.equal((await outbox(deferred.id)).length, 1, "only the person's message");
});

test("a lead that replied gets no follow-up; the reply's stage and opt-out updates are audited", async () => {
  await settings({ mode: "DRAFT_ONLY", sunday_hold: false, followup_intervals_hours: [2], followup_max_steps: 1 });
  const replied = (repliedLead = await lead("Katherine Replied"));
  const optOut = await lead("Dorothy Optout");
  const r1 = await call(stack, "POST", `/v1/leads/${replied.id}/replies`, { body: { client_id: "crm-reply-1", content: "Sounds interesting, tell me more" } });
  assert.equal(r1.status, 200, r1.text);
  assert.equal(r1.json.stage, "engaged");
  assert.equal(r1.json.next_followup_at, null);
  const r2 = await call(stack, "POST", `/v1/leads/${optOut.id}/replies`, { body: { client_id: "crm-reply-2", content: "Please unsubscribe me" } });
  assert.equal(r2.status, 200, r2.text);
  assert.equal(r2.json.stage, "lost");
  assert.ok(r2.json.tags.includes("opted_out"));
  // A control lead created with them is followed up: the loop ran past their due time.
  const control = await lead("Control Lead");
  await eventually(async () => (await get(control.id)).followup_step === 1, 30_000, "the control lead's follow-up");
  for (const l of [replied, optOut]) {
    assert.equal((await drafts(l.id)).length, 0);
    assert.equal((await decisions(l.id)).length, 0);
    assert.equal((await get(l.id)).followup_step, 0);
  }
  const entries = (await audit(replied.id)).entries;
  const post = entries.filter((e) => e.action === "crm.post_turn").map((e) => JSON.parse(e.detail));
  assert.equal(post.length, 1);
  assert.deepEqual(post[0].stage, { from: "new", to: "engaged" });
  assert.equal(post[0].next_followup_at, null);
  const outEntries = (await audit(optOut.id)).entries.map((e) => e.action);
  assert.ok(outEntries.includes("lead.opted_out") && outEntries.includes("crm.post_turn"));
  // The same reply delivered again changes nothing.
  await call(stack, "POST", `/v1/leads/${replied.id}/replies`, { body: { client_id: "crm-reply-1", content: "Sounds interesting, tell me more" } });
  assert.equal((await audit(replied.id)).entries.filter((e) => e.action === "crm.post_turn").length, 1);
});

test("wakes delivered many times and a runtime killed mid-loop act once per lead and step", async () => {
  await settings({ mode: "DRAFT_ONLY", sunday_hold: false, followup_intervals_hours: [2], followup_max_steps: 1 });
  const leads = [];
  for (let i = 0; i < 6; i++) leads.push(await lead(`Batch ${i}`));
  // The cron's wake, many times at once, around the time the follow-ups fall due.
  const wakes = await Promise.all(Array.from({ length: 5 }, () => fetch(`${stack.url}/__scheduled?cron=*/15+*+*+*+*`)));
  for (const w of wakes) assert.equal(w.status, 200);
  await new Promise((r) => setTimeout(r, 1_500));
  await stack.restart();
  await Promise.all(Array.from({ length: 5 }, () => fetch(`${stack.url}/__scheduled?cron=*/15+*+*+*+*`)));
  for (const l of leads) {
    await eventually(async () => (await get(l.id)).followup_step === 1, 30_000, `follow-up of ${l.name}`);
  }
  await new Promise((r) => setTimeout(r, 2_000));
  await Promise.all(Array.from({ length: 3 }, () => fetch(`${stack.url}/__scheduled?cron=*/15+*+*+*+*`)));
  for (const l of leads) {
    assert.equal((await drafts(l.id)).length, 1, `one draft for ${l.name}`);
    assert.equal((await decisions(l.id)).length, 1, `one decision for ${l.name}`);
    assert.equal((await audit(l.id)).entries.filter((e) => e.action === "crm.followup").length, 1);
  }
});

test("the cron safety net wakes the org's workspace, which re-arms its alarm from its schedule", async () => {
  await settings({ mode: "DRAFT_ONLY", sunday_hold: false, followup_intervals_hours: [3], followup_max_steps: 1 });
  const l = await lead("Cron Woken");
  const mark = stack.logs().length;
  await stack.restart();
  const res = await fetch(`${stack.url}/__scheduled?cron=*/15+*+*+*+*`);
  assert.equal(res.status, 200);
  const logs = () => stack.logs().slice(mark);
  await eventually(async () => logs().includes('"cron.workspaces_woken"'), 20_000, "the cron run");
  const line = logs().split("\n").find((x) => x.includes('"workspace.wake"'));
  assert.ok(line, "the workspace was woken");
  const woke = JSON.parse(line.slice(line.indexOf("{")));
  assert.ok(woke.alarm_at >= l.next_followup_at - 1, "armed for the earliest entry");
  const summary = logs().split("\n").find((x) => x.includes('"cron.workspaces_woken"'));
  const counts = JSON.parse(summary.slice(summary.indexOf("{")));
  assert.ok(counts.woken >= 1);
  assert.equal(counts.failed, 0);
  await eventually(async () => (await get(l.id)).followup_step === 1, 30_000, "the follow-up after the wake");
  assert.equal((await drafts(l.id)).length, 1);
});

test("the daily review (24 s here) tags the leads whose follow-ups ran out unanswered, once, audited; never one that replied", async () => {
  // Grace's one follow-up was sent; Linus's, deferred at first, became a draft once the cron
  // test's cadence change made it due in DRAFT_ONLY: both used up their one step, unanswered.
  for (const { id, name } of [sentLead, deferredLead]) {
    const reviewed = await eventually(async () => {
      const l = await get(id);
      return l.tags.includes("strategy_review_required") ? l : null;
    }, 60_000, `the review of ${name}`);
    assert.equal(reviewed.strategy_review, true);
    assert.equal(reviewed.followup_step, 1);
    const entries = (await audit(id)).entries.filter((e) => e.action === "crm.reviewed").map((e) => JSON.parse(e.detail));
    assert.equal(entries.length, 1, `${name} is tagged once, and later reviews find nothing new`);
    assert.ok(entries[0].findings.includes("underperforming"));
    assert.equal(entries[0].tagged, true);
  }
  // A lead that replied has nothing to chase: reviewed or not, it is never tagged or changed.
  const replied = await get(repliedLead.id);
  assert.equal(replied.strategy_review, false);
  assert.equal((await audit(repliedLead.id)).entries.filter((e) => e.action === "crm.reviewed").length, 0);
});

test("the Workspace's alarms are counted in the org's metrics", async () => {
  // Earlier tests ran the loops from the alarm; each run is one count.
  const metrics = await call(stack, "GET", "/metrics");
  assert.equal(metrics.status, 200, metrics.text);
  const line = metrics.text.split("\n").find((l) => l.startsWith('parley_alarms_total{object="workspace"} '));
  assert.ok(line && Number(line.split(" ").at(-1)) >= 1, `no workspace alarm counted:\n${metrics.text}`);
});

// Last: raising the step count revives every earlier lead whose steps ran out.
test("raising followup_max_steps revives a lead whose follow-ups ran out unanswered, at once", async () => {
  await settings({ mode: "DRAFT_ONLY", sunday_hold: false, followup_preset: "standard", followup_intervals_hours: [2], followup_max_steps: 1 });
  const l = await lead("Steps Ran Out");
  const done = await eventually(async () => ((await get(l.id)).followup_step === 1 ? get(l.id) : null), 30_000, "the one follow-up");
  assert.equal(done.next_followup_at, null, "its steps are used up");
  await settings({ followup_intervals_hours: [600], followup_max_steps: 2 });
  const revived = await get(l.id);
  assert.equal(revived.followup_step, 1, "the step counter never goes back");
  assert.equal(revived.next_followup_at, l.created_at + 600_000, "one new interval after creation (a draft is not a message to the lead)");
  await settings({ followup_intervals_hours: [2] });
  await eventually(async () => ((await get(l.id)).followup_step === 2 ? true : null), 30_000, "the second follow-up");
  assert.equal((await drafts(l.id)).length, 2, "one draft per step");
});
