// The browser app's Clerk sign-in path (`public/session.js`, mode "clerk"), in headless Debian
// Chromium against the real stack, with no development issuer offered.
//
// Clerk's own SDK cannot be loaded here: it is served by the Clerk frontend API that the
// publishable key names, off this network. So the page is given a stand-in at the URL the app
// derives from the key, implementing the part of Clerk's documented browser interface the app
// uses (`Clerk.load()`, `Clerk.session` with `getToken()`, `Clerk.openSignIn()`); its session
// tokens are Clerk-shaped and verified by the worker exactly as Clerk's are. What this proves is
// our side: the script URL and its publishable-key attribute, calling `load()`, bearer tokens
// from the session, and opening Clerk's sign-in when there is no session. The key names a
// loopback host and the script request is answered inside the browser: nothing leaves the machine.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { launchChromium } from "../support/browser.mjs";
import { startStack } from "../support/stack.mjs";
import { mintToken } from "../support/identity.mjs";

const FRONTEND_API = "127.0.0.1:9";
const PUBLISHABLE_KEY = `pk_test_${Buffer.from(`${FRONTEND_API}$`).toString("base64")}`;
const SCRIPT_URL = `https://${FRONTEND_API}/npm/@clerk/clerk-js@5/dist/clerk.browser.js`;

let stack;
let browser;
before(async () => {
  stack = await startStack({ orchestratorVars: { PARLEY_DEV_ISSUER_URL: "", CLERK_PUBLISHABLE_KEY: PUBLISHABLE_KEY } });
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
  await stack?.stop();
});

/** A page whose Clerk script is the stand-in; `token` is the session's, or null for no session. */
async function pageWithClerk(token) {
  const page = await browser.newPage();
  const scriptRequests = [];
  await page.route(SCRIPT_URL, (route) => {
    scriptRequests.push(route.request().url());
    const body = `
      window.__clerkCalls = [];
      window.Clerk = {
        session: undefined,
        async load() {
          window.__clerkCalls.push("load");
          const token = ${JSON.stringify(token)};
          this.session = token && { async getToken() { window.__clerkCalls.push("getToken"); return token; } };
        },
        openSignIn() { window.__clerkCalls.push("openSignIn"); },
      };`;
    return route.fulfill({ status: 200, contentType: "application/javascript", headers: { "Access-Control-Allow-Origin": "*" }, body });
  });
  return { page, scriptRequests, calls: () => page.evaluate(() => window.__clerkCalls ?? []) };
}

test("the auth config offers Clerk, not the development issuer", async () => {
  const res = await fetch(`${stack.url}/auth/config`);
  assert.deepEqual(await res.json(), { mode: "clerk", dev_issuer: null, clerk_publishable_key: PUBLISHABLE_KEY });
});

test("signed in with Clerk: the session's token opens the app and a chat answers", async () => {
  const { page, scriptRequests, calls } = await pageWithClerk(await mintToken());
  const errors = [];
  page.on("pageerror", (e) => errors.push(e.message));
  await page.goto(stack.url);
  await page.getByTestId("who").filter({ hasText: "user_demo · org_demo · admin" }).waitFor();
  assert.ok(!(await page.getByTestId("who").textContent()).includes("development"), "not the development sign-in");
  assert.deepEqual(scriptRequests, [SCRIPT_URL], "Clerk's script from the frontend API the key names, once");
  assert.equal(await page.locator("script[data-clerk-publishable-key]").getAttribute("data-clerk-publishable-key"), PUBLISHABLE_KEY);

  await page.getByTestId("new-chat").click();
  await page.getByTestId("connection").and(page.locator('[data-state="open"]')).waitFor();
  await page.getByTestId("input").fill("Hello through Clerk");
  await page.getByTestId("send").click();
  await page.locator('[data-testid="msg-assistant"]', { hasText: "Offline model" }).waitFor({ timeout: 20_000 });
  const made = await calls();
  assert.equal(made[0], "load", "Clerk was loaded (its session exists only after load())");
  assert.ok(made.filter((c) => c === "getToken").length >= 2, `every API call asks the session for its token: ${made}`);
  assert.ok(!made.includes("openSignIn"));
  assert.deepEqual(errors, []);
});

test("without a Clerk session the app opens Clerk's sign-in and calls no API", async () => {
  const { page, calls } = await pageWithClerk(null);
  const apiCalls = [];
  page.on("request", (r) => new URL(r.url()).pathname.startsWith("/v1/") && apiCalls.push(r.url()));
  await page.goto(stack.url);
  await page.getByTestId("error").filter({ hasText: "please sign in" }).waitFor();
  assert.deepEqual(await calls(), ["load", "openSignIn"]);
  assert.deepEqual(apiCalls, [], "nothing is asked of the API without a session");
});
