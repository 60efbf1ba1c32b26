// `GET /ready` names every dependency that fails: the agents worker not running (the AGENTS
// service binding has nothing behind it), and the orchestrator run without its D1, R2 and Chat
// Controller bindings.

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

test("readiness names D1, R2 and the Chat Controller when the orchestrator cannot reach them", async () => {
  const broken = await startStack({ unbound: ["DB", "BACKUPS", "CHAT_CONTROLLER"] });
  try {
    assert.equal((await call(broken, "GET", "/health")).status, 200);
    const ready = await call(broken, "GET", "/ready");
    assert.equal(ready.status, 503, ready.text);
    assert.deepEqual(ready.json.failed.map((f) => f.dependency), ["d1", "r2", "chat_controller"], "the workspace and the agents worker still answer");
    assert.ok(ready.json.failed.every((f) => typeof f.reason === "string" && f.reason.length > 0), ready.text);
    assert.match(ready.json.error.message, /^d1 /);
  } finally {
    await broken.stop();
  }
});
