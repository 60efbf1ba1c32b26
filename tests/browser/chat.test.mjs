// The browser app in headless Debian Chromium against the real stack: open the app, create a
// chat, send a message, watch the reply stream in, reload and see the history.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { launchChromium } from "../support/browser.mjs";
import { startStack, ROOT } from "../support/stack.mjs";
import { startFakeOpenAI, behave } from "../support/fake_openai.mjs";

let stack;
let fake;
let browser;
before(async () => {
  fake = await startFakeOpenAI({ defaultBehaviour: behave.text(["Happy", " to", " help", " with", " that", "!"], { delayMs: 150 }) });
  stack = await startStack({ agentVars: { OPENAI_API_KEY: "sk-test", OPENAI_BASE_URL: fake.url, OPENAI_MODEL: "fake-large" } });
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
  await stack?.stop();
  await fake?.close();
});

test("create a chat, send a message, see the reply stream in, reload and see the history", async () => {
  const page = await browser.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(e.message));
  await page.goto(stack.url);
  await page.getByTestId("who").filter({ hasText: "org_demo" }).waitFor();
  await page.getByTestId("new-chat").click();
  await page.getByTestId("connection").and(page.locator('[data-state="open"]')).waitFor();

  await page.getByTestId("input").fill("Can you help me draft a follow-up?");
  await page.getByTestId("send").click();
  await page.locator('[data-testid="msg-user"]', { hasText: "Can you help me draft a follow-up?" }).waitFor();

  // The reply appears piece by piece before it is stored.
  const streaming = page.getByTestId("msg-streaming");
  await streaming.waitFor();
  const partial = await streaming.textContent();
  assert.ok(!partial.includes("Happy to help with that!"), `saw a partial reply first, got: ${partial}`);
  await page.locator('[data-testid="msg-assistant"]', { hasText: "Happy to help with that!" }).waitFor({ timeout: 20_000 });
  await page.getByTestId("turn-status").filter({ hasText: "Reply finished" }).waitFor();
  await page.screenshot({ path: path.join(ROOT, "tests/.artifacts/chat.png") }).catch(() => {});

  await page.reload();
  await page.locator('[data-testid="msg-user"]', { hasText: "Can you help me draft a follow-up?" }).waitFor();
  await page.locator('[data-testid="msg-assistant"]', { hasText: "Happy to help with that!" }).waitFor();
  assert.equal(await page.locator('[data-testid="msg-user"]').count(), 1, "no duplicates after reload");
  assert.equal(await page.locator('[data-testid="msg-assistant"]').count(), 1);
  assert.deepEqual(errors, []);
});

test("after a dropped connection the app reconnects and catches up without duplicates", async () => {
  const page = await browser.newPage();
  await page.goto(stack.url);
  // The first test left a chat, which the app opens on load: let it finish first.
  await page.getByTestId("connection").and(page.locator('[data-state="open"]')).waitFor();
  const before = await page.evaluate(() => location.hash);
  await page.getByTestId("new-chat").click();
  // The app may first open the newest existing chat; wait until the new one is the open one.
  await page.waitForFunction((old) => location.hash.startsWith("#chat=") && location.hash !== old, before);
  await page.getByTestId("connection").and(page.locator('[data-state="open"]')).waitFor();
  await page.getByTestId("input").fill("first");
  await page.getByTestId("send").click();
  await page.locator('[data-testid="msg-assistant"]').first().waitFor({ timeout: 20_000 });

  await stack.restart(); // the server goes away and comes back on the same address
  const chatId = new URLSearchParams((await page.evaluate(() => location.hash)).slice(1)).get("chat");
  // Another client posts; this page must reconnect by itself and catch up.
  await fetch(`${stack.url}/v1/chats/${chatId}/messages`, { method: "POST", headers: { "Content-Type": "application/json", Authorization: `Bearer ${stack.token}` }, body: JSON.stringify({ client_id: "other-client", content: "sent elsewhere" }) });
  await page.locator('[data-testid="msg-user"]', { hasText: "sent elsewhere" }).waitFor({ timeout: 30_000 });
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="msg-assistant"]').length === 2, null, { timeout: 30_000 });
  await page.getByTestId("connection").and(page.locator('[data-state="open"]')).waitFor();
  const users = await page.locator('[data-testid="msg-user"]').allTextContents();
  assert.deepEqual(users.map((t) => t.replace(/#\d+ · .*$/, "")), ["first", "sent elsewhere"]);
});
