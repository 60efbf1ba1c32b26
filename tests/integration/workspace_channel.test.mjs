// The signed webhook channel: an allowed send is recorded as a send intent with an idempotency
// key before delivery; delivery is signed, retried from the workspace's alarm after a failure
// with the same key, and a retried send request never delivers twice.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { createHmac, randomBytes } from "node:crypto";
import { startStack } from "../support/stack.mjs";
import { call, eventually } from "../support/client.mjs";
import { daytimeZone } from "../support/zones.mjs";

const SECRET = `whsec_out_${randomBytes(8).toString("hex")}`;
let stack;
let receiver;
const deliveries = [];
let failNext = 0;
// While set, the receiver holds deliveries open (never answers): a delivery "in flight".
let hang = false;

before(async () => {
  receiver = http.createServer((req, res) => {
    let body = "";
    req.on("data", (d) => (body += d));
    req.on("end", () => {
      deliveries.push({ headers: req.headers, body });
      if (hang) return;
      if (failNext > 0) {
        failNext -= 1;
        res.writeHead(503).end("try later");
      } else {
        res.writeHead(202).end("accepted");
      }
    });
  });
  await new Promise((r) => receiver.listen(0, "127.0.0.1", r));
  stack = await startStack({
    agentVars: { OUTBOUND_WEBHOOK_SECRET: SECRET, EGRESS_ALLOW_LOOPBACK_HTTP: "local-only" },
    workspaceVars: { OUTBOUND_RETRY_BASE_MS: "1000", OUTBOUND_LEASE_MS: "12000" },
  });
  const url = `http://127.0.0.1:${receiver.address().port}/send`;
  const set = await call(stack, "PUT", "/v1/workspace/settings", { body: { sunday_hold: false, channel: { kind: "webhook", url } } });
  assert.equal(set.status, 200, set.text);
  assert.equal(set.json.channel.kind, "webhook");
});

after(async () => {
  await stack?.stop();
  await new Promise((r) => receiver?.close(r));
});

// Our own signature scheme, checked with Node's crypto rather than Parley's code.
function verify(d) {
  const ts = d.headers["x-parley-timestamp"];
  const expected = createHmac("sha256", SECRET).update(`${ts}.${d.body}`).digest("hex");
  return d.headers["x-parley-signature"] === `v1=${expected}`;
}

test("an allowed send is delivered signed, with its idempotency key, and retried after a failure with the same key", async () => {
  const lead = (await call(stack, "POST", "/v1/leads", { body: { name: "Ida", email: "ida@example.com", time_zone: daytimeZone() } })).json;
  failNext = 1;
  const before = deliveries.length;
  const sent = await call(stack, "POST", `/v1/leads/${lead.id}/sends`, { body: { client_id: "channel-1", content: "Hello Ida, are you free on Thursday?" } });
  assert.equal(sent.status, 201, sent.text);
  await eventually(() => deliveries.length >= before + 2, 20_000, "a retry after the 503");
  const [first, second] = deliveries.slice(before);
  assert.ok(verify(first) && verify(second), "both deliveries are signed");
  assert.equal(first.headers["idempotency-key"], second.headers["idempotency-key"], "the retry carries the same key");
  const payload = JSON.parse(second.body);
  assert.equal(payload.idempotency_key, second.headers["idempotency-key"]);
  assert.equal(payload.lead_id, lead.id);
  assert.equal(payload.to.email, "ida@example.com");
  assert.equal(payload.content, "Hello Ida, are you free on Thursday?");

  const item = await eventually(async () => {
    const out = (await call(stack, "GET", "/v1/outbox")).json.sent.find((s) => s.lead_id === lead.id);
    return out?.delivery_state === "delivered" ? out : null;
  }, 10_000, "the intent to be delivered");
  assert.equal(item.attempts, 2);
  assert.equal(item.channel, "webhook");

  const retried = await call(stack, "POST", `/v1/leads/${lead.id}/sends`, { body: { client_id: "channel-1", content: "Hello Ida, are you free on Thursday?" } });
  assert.equal(retried.status, 200);
  assert.equal(retried.json.duplicate, true);
  await new Promise((r) => setTimeout(r, 1500));
  assert.equal(deliveries.length, before + 2, "a retried send request never delivers again");
});

test("a channel URL the egress guard refuses is never called, and the intent says why", async () => {
  await call(stack, "PUT", "/v1/workspace/settings", { body: { channel: { kind: "webhook", url: "https://169.254.169.254/latest" } } });
  const lead = (await call(stack, "POST", "/v1/leads", { body: { name: "Joan", time_zone: daytimeZone() } })).json;
  const sent = await call(stack, "POST", `/v1/leads/${lead.id}/sends`, { body: { client_id: "channel-2", content: "Hello Joan" } });
  assert.equal(sent.status, 201, sent.text);
  const item = (await call(stack, "GET", "/v1/outbox")).json.sent.find((s) => s.lead_id === lead.id);
  assert.equal(item.delivery_state, "failed");
  assert.match(item.last_error, /refused: .*169\.254\.169\.254/);
});

test("workerd killed while a delivery is in flight: after the restart it is delivered once more with the same key, and the send is recorded once", async () => {
  const url = `http://127.0.0.1:${receiver.address().port}/send`;
  await call(stack, "PUT", "/v1/workspace/settings", { body: { channel: { kind: "webhook", url } } });
  const lead = (await call(stack, "POST", "/v1/leads", { body: { name: "Kay", email: "kay@example.com", time_zone: daytimeZone() } })).json;
  hang = true;
  const before = deliveries.length;
  const sent = await call(stack, "POST", `/v1/leads/${lead.id}/sends`, { body: { client_id: "channel-crash", content: "Hello Kay, does Friday work?" } });
  assert.equal(sent.status, 201, sent.text);
  await eventually(() => deliveries.length > before, 10_000, "the delivery to reach the receiver");
  await stack.kill();
  hang = false;
  await stack.restart();
  const item = await eventually(async () => {
    const out = (await call(stack, "GET", "/v1/outbox")).json.sent.find((s) => s.lead_id === lead.id);
    return out?.delivery_state === "delivered" ? out : null;
  }, 40_000, "the interrupted delivery to be retried after its lease");
  const mine = deliveries.slice(before);
  assert.equal(mine.length, 2, "the interrupted attempt and one retry");
  assert.equal(mine[0].headers["idempotency-key"], mine[1].headers["idempotency-key"], "the receiver can tell it is the same send");
  assert.ok(item.attempts >= 1 && item.attempts <= 2, `attempts ${item.attempts}: the retry, and the interrupted one if it was recorded before the crash`);
  const decisions = (await call(stack, "GET", `/v1/leads/${lead.id}/decisions`)).json.decisions;
  assert.equal(decisions.filter((d) => d.verdict === "allow").length, 1, "one decision, one send");
  await new Promise((r) => setTimeout(r, 4000));
  assert.equal(deliveries.length, before + 2, "and nothing more once delivered");
});
