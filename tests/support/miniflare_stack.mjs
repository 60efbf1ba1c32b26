// The same four compiled workers, bindings and compatibility settings as the wrangler.toml files,
// started with Miniflare's API directly: no wrangler proxy in front and no devtools inspector,
// which would otherwise cost Worker-to-Durable-Object calls most of their throughput. Used by the
// benchmarks, so they measure Parley rather than the dev tooling, and by the tests that need the
// orchestrator's own socket (what it negotiates for a WebSocket, which the dev router would
// negotiate instead):
// - `url` is the orchestrator's own socket in workerd (`unsafeDirectSockets`), as production
//   traffic reaches the worker, without Miniflare's development entry router in front;
//   `entryUrl` is the router, for comparison;
// - the workers' log lines go to `logFile` (one JSON object per line) instead of being
//   pretty-printed by the load generator's own Node process.

import { Miniflare, convertV4MiniflareOptions } from "miniflare";
import { readFileSync, readdirSync, mkdtempSync, createWriteStream } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { ROOT, freePort } from "./stack.mjs";
import { authVars, mintToken } from "./identity.mjs";


// worker-build's output: the JS glue (which imports the wasm by a relative name) and the wasm.
function modulesOf(dir) {
  const root = path.join(ROOT, dir);
  return {
    modulesRoot: root,
    modules: [
      { type: "ESModule", path: path.join(root, "index.js") },
      { type: "CompiledWasm", path: path.join(root, "index_bg.wasm") },
    ],
  };
}

// A worker's compatibility date and flags, read from its wrangler.toml (top-level keys, one line
// each), so this stack runs the workers exactly as configured for `wrangler deploy`.
export function compatibilityOf(file) {
  const toml = readFileSync(path.join(ROOT, file), "utf8");
  const date = toml.match(/^compatibility_date\s*=\s*"([^"]+)"/m)?.[1];
  if (!date) throw new Error(`${file}: no compatibility_date`);
  const flags = toml.match(/^compatibility_flags\s*=\s*\[([^\]]*)\]/m)?.[1];
  return { compatibilityDate: date, compatibilityFlags: flags ? [...flags.matchAll(/"([^"]+)"/g)].map((m) => m[1]) : [] };
}

export async function startMiniflareStack({ agentVars = {}, seedFiles = [] } = {}) {
  const persist = mkdtempSync(path.join(tmpdir(), "parley-mf-"));
  const logFile = path.join(persist, "worker-logs.ndjson");
  const logs = createWriteStream(logFile);
  const port = await freePort();
  const vars = await authVars();
  const mf = new Miniflare(convertV4MiniflareOptions({
    host: "127.0.0.1",
    port,
    defaultPersistRoot: persist,
    handleStructuredLogs: (log) => logs.write(`${JSON.stringify(log)}\n`),
    workers: [
      {
        name: "parley",
        ...modulesOf("build"),
        ...compatibilityOf("wrangler.toml"),
        durableObjects: { CHAT_CONTROLLER: { className: "ChatController", scriptName: "parley-chat" }, WORKSPACE: { className: "Workspace", scriptName: "parley-workspace" } },
        d1Databases: { DB: "parley" },
        r2Buckets: { BACKUPS: "parley-backups" },
        serviceBindings: { AGENTS: "parley-agents" },
        unsafeDirectSockets: [{ host: "127.0.0.1", port: 0 }],
        // The benchmarks measure the platform, not the API rate limiter: its limits are raised.
        bindings: { ...vars, RATE_LIMIT_USER: "1000000", RATE_LIMIT_ORG: "1000000" },
      },
      {
        name: "parley-chat",
        ...modulesOf("workers/chat/build"),
        ...compatibilityOf("workers/chat/wrangler.toml"),
        durableObjects: { CHAT_CONTROLLER: { className: "ChatController", useSQLite: true } },
        d1Databases: { DB: "parley" },
        serviceBindings: { AGENTS: "parley-agents" },
        bindings: { PARLEY_MASTER_KEY: vars.PARLEY_MASTER_KEY },
      },
      {
        name: "parley-agents",
        ...modulesOf("workers/agents/build"),
        ...compatibilityOf("workers/agents/wrangler.toml"),
        durableObjects: { WORKSPACE: { className: "Workspace", scriptName: "parley-workspace" } },
        bindings: agentVars,
      },
      {
        name: "parley-workspace",
        ...modulesOf("workers/workspace/build"),
        ...compatibilityOf("workers/workspace/wrangler.toml"),
        durableObjects: { WORKSPACE: { className: "Workspace", useSQLite: true } },
        d1Databases: { DB: "parley" },
        serviceBindings: { AGENTS: "parley-agents" },
      },
    ],
  }));
  const entryUrl = (await mf.ready).toString().replace(/\/$/, "");
  const url = (await mf.unsafeGetDirectURL("parley")).toString().replace(/\/$/, "");
  const db = await mf.getD1Database("DB");
  const migrations = readdirSync(path.join(ROOT, "d1_migrations")).filter((f) => f.endsWith(".sql")).sort();
  for (const file of [...migrations.map((f) => path.join(ROOT, "d1_migrations", f)), path.join(ROOT, "xtask/sql/dev_seed.sql"), ...seedFiles.map((f) => path.join(ROOT, f))]) {
    const statements = readFileSync(file, "utf8").split(/;\s*$/m).map((s) => s.replace(/^\s*--.*$/gm, "").trim()).filter(Boolean);
    for (const sql of statements) await db.prepare(sql).run();
  }
  const stop = async () => {
    await mf.dispose();
    logs.end();
  };
  return { url, entryUrl, logFile, port: Number(new URL(url).port), mf, token: await mintToken(), stop };
}
