// `cargo xtask dev`, the README's first command, run as a developer runs it (on free ports and a
// fresh state folder, beside any copy of yours): it builds (nothing to do after the test
// command's build), applies the D1 migrations, seeds the demo org, starts the development issuer
// and `wrangler dev` with the four workers, and the app works: ready, the browser app served,
// signed in as the demo org's admin, and a chat answered by the offline model with a secret
// granted to it. The secret checks the secondary workers' settings: `wrangler dev` passes
// `--var` to its first worker only, so the chat worker must get its master key another way
// (its `[secrets] required`, from the environment).

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { ROOT, freePort } from "../support/stack.mjs";
import { call, createChat, eventually, settledTurn } from "../support/client.mjs";

let dev, output = "", app, state;

before(async () => {
  const [port, issuerPort] = [await freePort(), await freePort()];
  state = mkdtempSync(path.join(tmpdir(), "parley-dev-"));
  // Its own process group, so the whole tree (cargo, the issuer, wrangler, workerd) is stopped.
  dev = spawn("cargo", ["xtask", "dev", "--port", String(port), "--issuer-port", String(issuerPort), "--state", state], {
    cwd: ROOT,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, NO_COLOR: "1" },
  });
  for (const stream of [dev.stdout, dev.stderr]) stream.on("data", (d) => (output += d));
  const url = `http://127.0.0.1:${port}`;
  await eventually(async () => {
    if (dev.exitCode !== null) throw new Error(`cargo xtask dev exited (${dev.exitCode}):\n${output}`);
    return (await fetch(`${url}/ready`).catch(() => null))?.status === 200;
  }, 240_000, `cargo xtask dev to be ready:\n${output}`);
  // The app's own sign-in path: the development issuer hands out the demo admin's token.
  const { token } = await (await fetch(`http://127.0.0.1:${issuerPort}/token`)).json();
  app = { url, token };
});

after(async () => {
  if (dev?.exitCode === null) {
    process.kill(-dev.pid, "SIGTERM");
    const exited = new Promise((resolve) => dev.once("exit", resolve));
    const timer = setTimeout(() => process.kill(-dev.pid, "SIGKILL"), 10_000);
    await exited;
    clearTimeout(timer);
  }
  if (state) rmSync(state, { recursive: true, force: true });
});

test("the app is served, ready and signed in as the seeded demo org's admin", async () => {
  const page = await fetch(`${app.url}/`);
  assert.equal(page.status, 200);
  assert.match(await page.text(), /<html/i);
  const me = await call(app, "GET", "/v1/me");
  assert.equal(me.status, 200, me.text);
  assert.deepEqual([me.json.org_id, me.json.role], ["org_demo", "admin"]);
});

test("a chat is answered by the offline model, and the chat worker opens the secret granted to it", async () => {
  const secret = await call(app, "POST", "/v1/secrets", { body: { name: "DEV_SMOKE_KEY", value: "dev-smoke-value", grant: { scope: "org" } } });
  assert.equal(secret.status, 201, secret.text);
  const chat = await createChat(app, "Dev smoke");
  const posted = await call(app, "POST", `/v1/chats/${chat}/messages`, { body: { client_id: "dev-smoke-1", content: "hello from the smoke test" } });
  assert.equal(posted.status, 201, posted.text);
  assert.equal((await settledTurn(app, chat, posted.json.message.seq, 60_000)).state, "done");
  const messages = (await call(app, "GET", `/v1/chats/${chat}/messages?after=0`)).json.messages;
  assert.match(messages.at(-1).content, /offline/i, "the offline model says so");
  // The agents worker logs the names of the secrets the turn was given.
  const line = await eventually(() => output.split("\n").find((l) => l.includes('"turn.received"') && l.includes(chat)), 10_000, "the turn's log line");
  assert.match(line, /"secrets":\["DEV_SMOKE_KEY"\]/, `the chat worker could not open the granted secret:\n${line}`);
});
