// Observability and protection: trace ids across the workers, structured logs without message
// content or secrets, the admin-only /metrics, the API rate limits and the model provider's
// circuit breaker, against the four compiled workers and the fake provider on 127.0.0.1.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startStack } from "../support/stack.mjs";
import { d1All } from "../support/d1.mjs";
import { call, createChat, eventually, settledTurn } from "../support/client.mjs";
import { mintToken } from "../support/identity.mjs";
import { startFakeOpenAI, behave } from "../support/fake_openai.mjs";

const API_KEY = `sk-obs-${Math.random().toString(36).slice(2)}-provider-key`;
const COOL_DOWN_MS = 1500;
let fake;
let stack;
/** Where the workers' own output starts: wrangler's start-up banner lists the variables. */
let logStart = 0;

before(async () => {
  fake = await startFakeOpenAI();
  stack = await startStack({
    logLevel: "log",
    agentVars: {
      OPENAI_API_KEY: API_KEY,
      OPENAI_BASE_URL: fake.url,
      OPENAI_MODEL: "obs-model",
      OPENAI_MAX_RETRIES: "1",
      OPENAI_TIMEOUT_MS: "3000",
      BREAKER_FAILURE_THRESHOLD: "2",
      BREAKER_COOL_DOWN_MS: String(COOL_DOWN_MS),
    },
  });
  logStart = stack.logs().length;
});

/** What the workers printed since the stack started. */
const workerOutput = () => stack.logs().slice(logStart);

after(async () => {
  await stack?.stop();
  await fake?.close?.();
});

/** Every structured log line the stack printed (the workers' stdout, parsed). */
function logLines() {
  return workerOutput()
    .split("\n")
    .filter((l) => l.includes('{"ts":'))
    .map((l) => {
      // The runtime may frame a line (a prefix, colour codes after it): the object is whole.
      const text = l.slice(l.indexOf('{"ts":'), l.lastIndexOf("}") + 1);
      try {
        return JSON.parse(text);
      } catch (e) {
        throw new Error(`not a JSON log line: ${JSON.stringify(l)} (${e.message})`);
      }
    });
}

const uid = (p) => `${p}-${Math.random().toString(36).slice(2, 10)}`;

async function post(chat, content, headers = {}) {
  const res = await call(stack, "POST", `/v1/chats/${chat}/messages`, { body: { client_id: uid("c"), content }, headers });
  assert.equal(res.status, 201, res.text);
  return res;
}

function metricValue(text, series) {
  const line = text.split("\n").find((l) => l.startsWith(series + " "));
  return line ? Number(line.slice(series.length + 1)) : 0;
}

test("one trace id flows from the orchestrator through the chat to the agents worker", async () => {
  const chat = await createChat(stack, "traced");
  const trace = "4bf92f3577b34da6a3ce929d0e0e4736";
  const res = await post(chat, "hello there", { "x-parley-trace": trace });
  assert.equal(res.headers.get("x-parley-trace"), trace);
  await settledTurn(stack, chat, res.json.message.seq);
  const lines = await eventually(() => {
    const mine = logLines().filter((l) => l.trace_id === trace);
    const events = new Set(mine.map((l) => l.event));
    return ["http.request", "turn.finished", "turn.received", "turn.model_call"].every((e) => events.has(e)) && mine;
  }, 15_000, "log lines from every worker with the trace id");
  const request = lines.find((l) => l.event === "http.request");
  assert.equal(request.org, "org_demo");
  assert.equal(request.method, "POST");
  assert.equal(request.route, "/v1/chats/{chat_id}/messages");
  assert.equal(request.status, 201);
  assert.ok(Number.isInteger(request.duration_ms));
  const finished = lines.find((l) => l.event === "turn.finished");
  assert.equal(finished.chat, chat);
  assert.equal(finished.outcome, "completed");
  assert.equal(lines.find((l) => l.event === "turn.received").chat, chat);
  for (const l of lines) {
    assert.ok(Number.isInteger(l.ts) && Math.abs(l.ts - Date.now()) < 600_000, `ts ${l.ts}`);
    assert.ok(["info", "warn", "error"].includes(l.level));
  }
});

test("a W3C traceparent is accepted; a malformed trace header is replaced by a fresh id", async () => {
  const fromParent = await call(stack, "GET", "/v1/me", { headers: { traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01" } });
  assert.equal(fromParent.headers.get("x-parley-trace"), "0af7651916cd43dd8448eb211c80319c");
  for (const bad of ["not-a-trace", "4BF92F3577B34DA6A3CE929D0E0E4736", "00000000000000000000000000000000", "4bf92f3577b34da6a3ce929d0e0e4736 injected"]) {
    const res = await call(stack, "GET", "/v1/me", { headers: { "x-parley-trace": bad } });
    const trace = res.headers.get("x-parley-trace");
    assert.match(trace, /^[0-9a-f]{32}$/);
    assert.notEqual(trace, bad);
  }
  const anonymous = await call(stack, "GET", "/health", { anonymous: true });
  assert.match(anonymous.headers.get("x-parley-trace"), /^[0-9a-f]{32}$/);
});

test("no log line carries message content or a secret value", async () => {
  const chat = await createChat(stack, "private");
  const content = `my card number is 4111 1111 1111 1111 ${uid("private")}`;
  const res = await post(chat, content);
  await settledTurn(stack, chat, res.json.message.seq);
  const secretValue = `sk_live_${uid("plaintext")}`;
  const secret = await call(stack, "POST", "/v1/secrets", { body: { name: "OBS_KEY", value: secretValue, grant: { scope: "org" } } });
  assert.equal(secret.status, 201, secret.text);
  const again = await post(chat, "and again");
  await settledTurn(stack, chat, again.json.message.seq);
  await eventually(() => logLines().some((l) => l.event === "turn.received" && l.chat === chat && (l.secrets || []).includes("OBS_KEY")), 10_000, "the turn with the secret");
  const logs = workerOutput();
  for (const leaked of [content, "4111 1111", secretValue, API_KEY, "Hello from the fake model"]) {
    assert.ok(!logs.includes(leaked), `the logs contain ${leaked}`);
  }
});

test("/metrics is admin-only and shows the org's counts going up", async () => {
  assert.equal((await call(stack, "GET", "/metrics", { anonymous: true })).status, 401);
  const member = await mintToken({ user_id: "user_member_obs", role: "member" });
  const refused = await call(stack, "GET", "/metrics", { token: member });
  assert.equal(refused.status, 403);
  assert.equal(refused.json.error.code, "admin_required");

  const first = await call(stack, "GET", "/metrics");
  assert.equal(first.status, 200);
  assert.match(first.headers.get("content-type"), /^text\/plain/);
  assert.match(first.text, /# TYPE parley_http_requests_total counter/);
  assert.match(first.text, /# TYPE parley_http_request_duration_ms histogram/);
  assert.match(first.text, /# TYPE parley_backups_total counter/);
  const series = 'parley_http_requests_total{route="GET /v1/chats",status="200"}';
  const before = metricValue(first.text, series);
  for (let i = 0; i < 3; i++) assert.equal((await call(stack, "GET", "/v1/chats")).status, 200);
  const later = await eventually(async () => {
    const text = (await call(stack, "GET", "/metrics")).text;
    return metricValue(text, series) >= before + 3 && text;
  }, 10_000, "the request counter to go up");
  assert.ok(metricValue(later, 'parley_http_request_duration_ms_count{route="GET /v1/chats"}') >= before + 3);
  assert.ok(metricValue(later, 'parley_http_request_duration_ms_bucket{le="+Inf",route="GET /v1/chats"}') >= before + 3);
  assert.ok(metricValue(later, 'parley_turns_total{outcome="completed"}') >= 1, "completed turns are counted by the chat");
  assert.ok(metricValue(later, 'parley_alarms_total{object="chat_controller"}') >= 1);

  // Another org's admin sees only its own series.
  const other = await mintToken({ org_id: "org_obs_other", user_id: "user_obs_other" });
  const theirs = await call(stack, "GET", "/metrics", { token: other });
  assert.equal(theirs.status, 403, "an unprovisioned org gets nothing");
});

test("the send policy's decisions are counted by verdict and reason", async () => {
  const lead = await call(stack, "POST", "/v1/leads", { body: { name: "Obs lead", email: "obs@lead.test", time_zone: "Europe/London" } });
  assert.equal(lead.status, 201, lead.text);
  const put = await call(stack, "PUT", "/v1/workspace/settings", { body: { kill_switch: true } });
  assert.equal(put.status, 200, put.text);
  const send = await call(stack, "POST", `/v1/leads/${lead.json.id}/sends`, { body: { client_id: uid("s"), content: "Would a short call suit you?" } });
  assert.equal(send.json.decision.verdict, "deny");
  await eventually(async () => {
    const text = (await call(stack, "GET", "/metrics")).text;
    return metricValue(text, 'parley_policy_decisions_total{verdict="deny",reason="KILL_SWITCH_ON"}') >= 1;
  }, 10_000, "the policy decision counter");
  await eventually(() => logLines().some((l) => l.event === "policy.decided" && l.lead === lead.json.id && l.verdict === "deny" && l.reason === "KILL_SWITCH_ON" && /^[0-9a-f]{32}$/.test(l.trace_id)), 10_000, "the workspace's policy.decided line");
  await call(stack, "PUT", "/v1/workspace/settings", { body: { kill_switch: false } });
});

test("the provider's circuit opens after repeated 500s, fails fast, and closes after the cool-down", async () => {
  const chat = await createChat(stack, "breaker");
  // Two attempts (one retry), both 500: the second consecutive failure opens the circuit.
  fake.script(behave.status(500), behave.status(500));
  const failing = await post(chat, "first");
  const t1 = await settledTurn(stack, chat, failing.json.message.seq);
  assert.equal(t1.state, "failed");
  assert.equal(t1.error.code, "provider_error");
  await eventually(() => logLines().some((l) => l.event === "circuit.opened" && l.dependency === "provider"), 10_000, "circuit.opened");

  const calls = fake.requests.length;
  const fast = await post(chat, "second");
  const t2 = await settledTurn(stack, chat, fast.json.message.seq);
  assert.equal(t2.state, "failed");
  const agentLines = () => JSON.stringify(logLines().filter((l) => l.chat === chat || l.event === "circuit.opened"));
  assert.equal(t2.error.code, "provider_unavailable", agentLines());
  assert.equal(fake.requests.length, calls, "no request reached the provider while the circuit was open");

  await new Promise((r) => setTimeout(r, COOL_DOWN_MS + 200));
  const probe = await post(chat, "third");
  const t3 = await settledTurn(stack, chat, probe.json.message.seq);
  assert.equal(t3.state, "done", "the probe after the cool-down goes through and closes the circuit");
  const next = await post(chat, "fourth");
  assert.equal((await settledTurn(stack, chat, next.json.message.seq)).state, "done");
  await eventually(async () => {
    const text = (await call(stack, "GET", "/metrics")).text;
    return metricValue(text, 'parley_turns_total{outcome="provider_unavailable"}') >= 1;
  }, 10_000, "the failed-fast turn counted");
});

test("the API rate limits answer 429 rate_limited with Retry-After, per user then per org", async () => {
  const limited = await startStack({ orchestratorOnly: true, orchestratorVars: { RATE_LIMIT_USER: "5", RATE_LIMIT_ORG: "8" } });
  try {
    const alice = await mintToken({ user_id: "user_rate_alice", role: "member" });
    const bob = await mintToken({ user_id: "user_rate_bob", role: "member" });
    const statuses = [];
    let refused;
    let aliceCalls = 0;
    for (let i = 0; i < 7; i++) {
      aliceCalls++;
      const res = await call(limited, "GET", "/v1/me", { token: alice });
      statuses.push(res.status);
      if (res.status === 429) refused = res;
    }
    // Up to 5 in the window pass; a window boundary in the middle may let a few more through.
    assert.ok(statuses.filter((s) => s === 200).length >= 5);
    if (!refused) {
      // The minute turned during the burst: go again, now well inside a window.
      for (let i = 0; i < 6 && !refused; i++) {
        aliceCalls++;
        const res = await call(limited, "GET", "/v1/me", { token: alice });
        if (res.status === 429) refused = res;
      }
    }
    assert.ok(refused, "alice is refused past her limit");
    assert.equal(refused.json.error.code, "rate_limited");
    assert.equal(refused.json.error.scope, "user");
    assert.equal(refused.json.error.limit, 5);
    const retryAfter = Number(refused.headers.get("retry-after"));
    assert.ok(retryAfter >= 1 && retryAfter <= 60, `Retry-After ${retryAfter}`);
    assert.equal(refused.json.error.retry_after, retryAfter);

    // Bob has his own allowance until the org's (8 a minute, alice's refused calls included)
    // is used up.
    const bobFirst = await call(limited, "GET", "/v1/me", { token: bob });
    if (bobFirst.status === 429) {
      assert.equal(bobFirst.json.error.scope, "org");
      assert.equal(bobFirst.json.error.limit, 8);
    } else {
      assert.equal(bobFirst.status, 200);
      let orgRefusal;
      for (let i = 0; i < 8 && !orgRefusal; i++) {
        const res = await call(limited, "GET", "/v1/me", { token: bob });
        if (res.status === 429) orgRefusal = res;
      }
      assert.ok(orgRefusal, "the org's limit is reached");
      assert.ok(["org", "user"].includes(orgRefusal.json.error.scope));
      assert.ok(orgRefusal.headers.get("retry-after"));
    }

    // The counts are written behind the responses, in a batch: with no further request they
    // reach D1 within the flush delay, every one of alice's calls (refused ones included).
    const stored = () => d1All(limited, "SELECT COALESCE(SUM(count), 0) AS n FROM rate_windows WHERE bucket = 'api:user:user_rate_alice'")[0].n;
    await eventually(() => stored() === aliceCalls, 10_000, `alice's ${aliceCalls} calls in D1`);
  } finally {
    await limited.stop();
  }
});
