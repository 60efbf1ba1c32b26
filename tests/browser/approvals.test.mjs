// Human approval in the browser: the agent asks to POST to the org's API, the app shows what
// exactly would be sent (secrets masked) with Approve and Deny, and approving runs the call
// once and lets the turn finish. The budget tier is shown too.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import path from "node:path";
import { launchChromium } from "../support/browser.mjs";
import { startStack, ROOT } from "../support/stack.mjs";
import { startFakeOpenAI, behave } from "../support/fake_openai.mjs";
import { call } from "../support/client.mjs";

let stack;
let fake;
let browser;
let api;
const hits = [];

before(async () => {
  api = http.createServer((req, res) => {
    let body = "";
    req.on("data", (d) => (body += d));
    req.on("end", () => {
      hits.push({ method: req.method, url: req.url, body });
      res.writeHead(201, { "content-type": "application/json" }).end('{"saved":true}');
    });
  });
  await new Promise((r) => api.listen(0, "127.0.0.1", r));
  fake = await startFakeOpenAI({ defaultBehaviour: behave.text(["The note is saved."]) });
  stack = await startStack({
    agentVars: { OPENAI_API_KEY: "sk-test", OPENAI_BASE_URL: fake.url, OPENAI_MODEL: "fake-large", EGRESS_ALLOW_LOOPBACK_HTTP: "local-only" },
  });
  const host = `127.0.0.1:${api.address().port}`;
  await call(stack, "POST", "/v1/secrets", { body: { name: "CRM_KEY", value: "crm-secret-value", grant: { scope: "org" } } });
  const ep = await call(stack, "PUT", "/v1/tools/endpoints/crm_note", {
    body: { method: "POST", url_template: `http://${host}/notes/{id}`, allowed_hosts: [host], headers: { Authorization: "Bearer {{secret.CRM_KEY}}" } },
  });
  assert.equal(ep.status, 200, ep.text);
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await stack?.stop();
  await fake?.close();
  await new Promise((r) => api?.close(r));
});

test("a person approves the agent's call from the chat, and only then is it made", async () => {
  const page = await browser.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(e.message));
  await page.goto(stack.url);
  await page.getByTestId("tier").filter({ hasText: "GREEN" }).waitFor();
  await page.getByTestId("new-chat").click();
  await page.getByTestId("connection").and(page.locator('[data-state="open"]')).waitFor();

  fake.script(behave.toolCalls([{ id: "call_1", name: "http_request", arguments: JSON.stringify({ endpoint: "crm_note", params: { id: "17" }, body: { note: "Asked for pricing" } }) }]));
  await page.getByTestId("input").fill("Save a note on contact 17: asked for pricing");
  await page.getByTestId("send").click();

  const pending = page.locator('[data-testid="approval"][data-state="pending"]');
  await pending.waitFor({ timeout: 20_000 });
  const shown = await pending.textContent();
  assert.match(shown, /POST http:\/\/127\.0\.0\.1:\d+\/notes\/17/);
  assert.match(shown, /Asked for pricing/);
  assert.ok(!shown.includes("crm-secret-value"));
  await page.getByTestId("turn-status").filter({ hasText: "Waiting for a person" }).waitFor();
  assert.equal(hits.length, 0, "nothing is sent before approval");

  await page.getByTestId("approve-call").click();
  await page.locator('[data-testid="approval"][data-state="approved"]').waitFor();
  await page.locator('[data-testid="msg-assistant"]', { hasText: "The note is saved." }).waitFor({ timeout: 20_000 });
  await page.locator('[data-testid="tool-step"][data-state="done"]').waitFor();
  assert.equal(hits.length, 1);
  assert.equal(hits[0].url, "/notes/17");
  // The response is kept as an artifact, visible in the chat.
  await page.getByTestId("artifact").filter({ hasText: "→ 201" }).waitFor();
  assert.match(await page.getByTestId("artifact").first().textContent(), /"saved":true/);
  await page.screenshot({ path: path.join(ROOT, "tests/.artifacts/approvals.png") }).catch(() => {});
  assert.deepEqual(errors, []);
});
