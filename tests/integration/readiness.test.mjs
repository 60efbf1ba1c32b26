// `GET /ready` names the dependency that fails: here the agents worker is not running, so the
// orchestrator's AGENTS service binding has nothing behind it.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startStack } from "../support/stack.mjs";
import { call } from "../support/client.mjs";

let stack;
before(async () => {
  stack = await startStack({ orchestratorOnly: true });
});
after(async () => {
  await stack?.stop();
});

test("readiness is 503 and names the agents worker when it is down", async () => {
  const health = await call(stack, "GET", "/health");
  assert.equal(health.status, 200, "alive even when a dependency is down");
  const ready = await call(stack, "GET", "/ready");
  assert.equal(ready.status, 503, ready.text);
  assert.equal(ready.json.status, "unavailable");
  assert.equal(ready.json.error.code, "unavailable");
  assert.deepEqual(ready.json.failed.map((f) => f.dependency), ["agents"]);
  assert.match(ready.json.error.message, /agents/);
});
