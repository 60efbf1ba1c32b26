// The workspace view in headless Debian Chromium: add a lead, write a draft that the quality
// gate blocks and one it passes, approve and send it through the policy, see the decision,
// switch the kill switch on and see a send refused with its reason, and the audit log intact.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { readFileSync } from "node:fs";
import { launchChromium } from "../support/browser.mjs";
import { startStack, ROOT } from "../support/stack.mjs";
import { daytimeZone } from "../support/zones.mjs";

let stack;
let browser;
before(async () => {
  stack = await startStack();
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
  await stack?.stop();
});

test("an operator works a lead from the browser, and the policy and the gate are visible", async () => {
  await fetch(`${stack.url}/v1/workspace/settings`, { method: "PUT", headers: { "Content-Type": "application/json", Authorization: `Bearer ${stack.token}` }, body: JSON.stringify({ sunday_hold: false }) });
  const page = await browser.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(e.message));
  await page.goto(stack.url);
  await page.getByTestId("view-workspace").click();
  const addLead = page.getByTestId("new-lead");
  await addLead.locator('input[name="name"]').fill("Ada Lovelace");
  await addLead.locator('input[name="email"]').fill("ada@analytical.io");
  await addLead.locator('input[name="time_zone"]').fill(daytimeZone());
  await addLead.getByRole("button", { name: "Add lead" }).click();
  await page.getByTestId("lead-title").filter({ hasText: "Ada Lovelace" }).waitFor();

  const draft = page.getByTestId("draft-form");
  await draft.locator("textarea").fill("We guarantee results \u2014 mail ada@analytical.io now!");
  await draft.getByRole("button", { name: "Save draft" }).click();
  await page.locator('[data-testid="draft"][data-state="blocked"]').waitFor();
  assert.match(await page.locator('[data-testid="draft"][data-state="blocked"]').textContent(), /em-dash/);

  await draft.locator("textarea").fill("Hi Ada, your team is growing fast. We help new engineers ramp sooner. Would you be open to a 15-minute call next week?");
  await draft.getByRole("button", { name: "Save draft" }).click();
  await page.locator('[data-testid="draft"][data-state="pending"]').getByTestId("approve").click();
  await page.locator('[data-testid="draft"][data-state="approved"]').getByTestId("send-draft").click();
  await page.locator('[data-testid="draft"][data-state="sent"]').waitFor();
  await page.getByTestId("decisions").getByText(/ALLOW/).waitFor();
  await page.getByTestId("outbox-item").filter({ hasText: "Would you be open to a 15-minute call" }).waitFor();

  await page.getByTestId("kill-switch").check();
  await page.getByTestId("ws-notice").filter({ hasText: "Settings saved" }).waitFor();
  const send = page.getByTestId("send-form");
  await send.locator("textarea").fill("One more thing");
  await send.getByRole("button", { name: "Send" }).click();
  await page.getByTestId("ws-notice").filter({ hasText: "KILL_SWITCH_ON" }).waitFor();
  await page.getByTestId("kill-switch").uncheck();

  await page.getByTestId("chain").filter({ hasText: "chain intact" }).waitFor();
  assert.ok((await page.getByTestId("audit").locator("li").count()) >= 6);
  // The CSV export is fetched with the session token and handed over as a download.
  const [download] = await Promise.all([page.waitForEvent("download"), page.getByTestId("audit-export").click()]);
  const csv = readFileSync(await download.path(), "utf8");
  assert.match(csv.split("\n")[0], /action/);
  assert.match(csv, /draft\.sent|send/);
  await page.screenshot({ path: path.join(ROOT, "tests/.artifacts/workspace.png"), fullPage: true }).catch(() => {});
  assert.deepEqual(errors, []);
});
