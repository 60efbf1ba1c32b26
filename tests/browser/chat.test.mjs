// The browser app in headless Debian Chromium against the real stack: open the app, create a
// chat, send a message, watch the reply stream in, reload and see the history; reconnect after
// the server goes away; see a failed turn; open an earlier chat from the list.

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

/** Opens the app in `page` once earlier tests left chats, and creates a new chat there. */
async function openNewChat(page) {
  await page.goto(stack.url);
  // The app opens the newest existing chat on load: let it finish first.
  await page.getByTestId("connection").and(page.locator('[data-state="open"]')).waitFor();
  const before = await page.evaluate(() => location.hash);
  await page.getByTestId("new-chat").click();
  // Wait until the new chat is the open one.
  await page.waitForFunction((old) => location.hash.startsWith("#chat=") && location.hash !== old, before);
  await page.getByTestId("connection").and(page.locator('[data-state="open"]')).waitFor();
}

test("after a dropped connection the app reconnects and catches up without duplicates", async () => {
  const page = await browser.newPage();
  await openNewChat(page);
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

test("a failed turn says so, and the chat list opens an earlier chat with its history", async () => {
  const page = await browser.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(e.message));
  await openNewChat(page);

  // The provider refuses the next call outright (a 400 is not retried): the turn fails.
  fake.script(behave.status(400, { body: JSON.stringify({ error: { message: "scripted refusal", type: "invalid_request_error" } }) }));
  await page.getByTestId("input").fill("this one will fail");
  await page.getByTestId("send").click();
  const status = page.getByTestId("turn-status");
  await status.and(page.locator('[data-state="failed"]')).waitFor({ timeout: 20_000 });
  assert.match(await status.textContent(), /^Turn failed: /);
  await page.locator('[data-testid="msg-user"]', { hasText: "this one will fail" }).waitFor();
  assert.equal(await page.locator('[data-testid="msg-assistant"]').count(), 0, "no reply for a failed turn");

  // Every chat is listed, newest first; the oldest is the first test's, with its history.
  const items = page.getByTestId("chat-item");
  assert.ok((await items.count()) >= 3, `chats listed: ${await items.count()}`);
  assert.equal(await items.first().getAttribute("aria-current"), "true", "the open chat is marked");
  await items.last().click();
  await page.locator('[data-testid="msg-user"]', { hasText: "Can you help me draft a follow-up?" }).waitFor();
  await page.locator('[data-testid="msg-assistant"]', { hasText: "Happy to help with that!" }).waitFor();
  assert.equal(await items.last().getAttribute("aria-current"), "true");
  assert.deepEqual(errors, []);
});
