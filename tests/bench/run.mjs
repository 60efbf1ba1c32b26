// Benchmarks on the local runtime (wrangler dev / workerd, both workers, offline model).
// Not a test: it measures, prints and writes docs/BENCHMARKS.md. Run with `cargo xtask bench`.

import { readFileSync, writeFileSync, statSync } from "node:fs";
import { gzipSync } from "node:zlib";
import os from "node:os";
import path from "node:path";
import { ROOT } from "../support/stack.mjs";
import { startMiniflareStack } from "../support/miniflare_stack.mjs";
import { call, createChat, socketTicket } from "../support/client.mjs";
import { restoreBenchmark } from "./restore.mjs";
import { loadTest } from "./load.mjs";
import { startFloor } from "./floor.mjs";

const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};
const ms = (x) => `${x.toFixed(2)} ms`;

// A benchmark's WebSocket client: one listener that stamps each frame on arrival and settles
// the waits whose text the frame contains, with no parsing on the hot path (the test clients'
// recorder parses every frame, which on 50 sockets in one Node process measures Node).
async function benchSocket(url) {
  const ws = new WebSocket(url);
  const socket = { ws, waits: [] };
  ws.addEventListener("message", (ev) => {
    const at = performance.now();
    socket.waits = socket.waits.filter((w) => !(ev.data.includes(w.needle) && (w.resolve(at), true)));
  });
  await new Promise((resolve, reject) => {
    ws.addEventListener("open", resolve, { once: true });
    ws.addEventListener("error", () => reject(new Error("websocket failed to open")), { once: true });
  });
  return socket;
}

// Resolves with the arrival time of the first frame on `socket` containing `needle`.
const arrival = (socket, needle) => new Promise((resolve) => socket.waits.push({ needle, resolve }));

const pause = (ms) => new Promise((r) => setTimeout(r, ms));

// One chat of Parley's with `clients` sockets: `post` sends a message and, once every socket has
// it, waits for the offline turn to finish (its final state broadcast) so samples do not overlap
// with agent work, then lets its after-response writes land.
async function parleyChat(stack, clients) {
  const id = await createChat(stack);
  const sockets = [];
  for (let i = 0; i < clients; i++) {
    const ticket = await socketTicket(stack, id);
    sockets.push(await benchSocket(`${stack.url.replace("http", "ws")}/v1/chats/${id}/ws?ticket=${encodeURIComponent(ticket)}`));
  }
  return {
    sockets,
    send: async (clientId, content) => {
      const res = await call(stack, "POST", `/v1/chats/${id}/messages`, { body: { client_id: clientId, content } });
      if (res.status !== 201) throw new Error(res.text);
      return res.json.message.turn_id;
    },
    settle: async (turnId) => {
      await Promise.race([
        arrival(sockets[0], `"id":"${turnId}","state":"done"`),
        pause(10_000).then(() => { throw new Error(`turn ${turnId} did not finish`); }),
      ]);
      await pause(25);
    },
  };
}

// One of the floor worker's chats (floor.mjs) with `clients` sockets, driven the same way;
// `action` is the variant posted to: "messages", "gated" or "unstored".
async function floorChat(floor, clients, action = "messages") {
  const chat = `${action}-${clients}`;
  const sockets = [];
  for (let i = 0; i < clients; i++) sockets.push(await benchSocket(`${floor.url.replace("http", "ws")}/${chat}/ws`));
  return {
    sockets,
    send: async (clientId, content) => {
      const res = await call(floor, "POST", `/${chat}/${action}`, { body: { client_id: clientId, content }, anonymous: true });
      if (res.status !== 201) throw new Error(res.text);
    },
    settle: () => pause(25),
  };
}

// Post to broadcast for each chat in `chats`, `samples` posts each, the chats taking turns so
// every figure sees the same moments of the host. Each client's arrival is one sample.
async function postToBroadcast(chats, samples) {
  const latencies = chats.map(() => []);
  for (let i = 0; i < samples; i++) {
    for (const [k, chat] of chats.entries()) {
      const clientId = `lat-${chat.sockets.length}-${i}`;
      const waits = chat.sockets.map((s) => arrival(s, `"client_id":"${clientId}"`));
      const start = performance.now();
      const turn = await chat.send(clientId, `ping ${i}`);
      for (const t of await Promise.all(waits)) latencies[k].push(t - start);
      await chat.settle(turn);
    }
  }
  for (const chat of chats) for (const s of chat.sockets) s.ws.close();
  return latencies.map((xs) => ({ p50: pct(xs, 50), p99: pct(xs, 99), n: xs.length }));
}

async function turnOverhead(stack, samples) {
  const id = await createChat(stack);
  const ws = await benchSocket(`${stack.url.replace("http", "ws")}/v1/chats/${id}/ws?ticket=${encodeURIComponent(await socketTicket(stack, id))}`);
  const times = [];
  for (let i = 0; i < samples; i++) {
    // The stored reply is the message after the user's: its turn id is the user message's.
    const reply = arrival(ws, `"role":"assistant"`);
    const start = performance.now();
    await call(stack, "POST", `/v1/chats/${id}/messages`, { body: { client_id: `t${i}`, content: `turn ${i}` } });
    times.push((await reply) - start);
    await pause(25);
  }
  ws.ws.close();
  return { p50: pct(times, 50), p99: pct(times, 99), n: times.length };
}

async function throughput(stack, chats, total, concurrency) {
  const ids = [];
  for (let i = 0; i < chats; i++) ids.push(await createChat(stack));
  let next = 0;
  const start = performance.now();
  await Promise.all(Array.from({ length: concurrency }, async (_, w) => {
    for (;;) {
      const i = next++;
      if (i >= total) return;
      const res = await call(stack, "POST", `/v1/chats/${ids[i % chats]}/messages`, { body: { client_id: `tp-${w}-${i}`, content: `load ${i}` } });
      if (res.status !== 201) throw new Error(res.text);
    }
  }));
  const seconds = (performance.now() - start) / 1000;
  return total / seconds;
}

async function baseline(stack, n, route = "/health") {
  const times = [];
  for (let i = 0; i < n; i++) {
    const s = performance.now();
    await call(stack, "GET", route);
    times.push(performance.now() - s);
  }
  return pct(times, 50);
}

function wasmSize(rel) {
  const bytes = readFileSync(path.join(ROOT, rel));
  return { raw: statSync(path.join(ROOT, rel)).size, gzip: gzipSync(bytes, { level: 9 }).length };
}

const stack = await startMiniflareStack({ seedFiles: ["tests/fixtures/bench_plan.sql"] });
const floor = await startFloor();
try {
  const health = await baseline(stack, 200);
  const healthEntry = await baseline({ ...stack, url: stack.entryUrl }, 200);
  // Signed in and checked against D1 (the org), no Durable Object: the gate's own cost.
  const me = await baseline(stack, 200, "/v1/me");
  const [one, floorOne] = await postToBroadcast([await parleyChat(stack, 1), await floorChat(floor, 1)], 200);
  const [fifty, floorFifty, gatedFifty, unstoredFifty] = await postToBroadcast([
    await parleyChat(stack, 50),
    await floorChat(floor, 50),
    await floorChat(floor, 50, "gated"),
    await floorChat(floor, 50, "unstored"),
  ], 100);
  await floor.stop();
  if (process.env.PARLEY_BENCH_PART === "latency") {
    // Only the latency figures, printed, for repeating them quickly; the document is not written.
    console.log({ health, me, one, floorOne, fifty, floorFifty, gatedFifty, unstoredFifty });
    process.exit(0);
  }
  const overhead = await turnOverhead(stack, 100);
  const oneChat = await throughput(stack, 1, 1000, 16);
  const hundredChats = await throughput(stack, 100, 2000, 16);
  const restore = await restoreBenchmark(stack, 10_000);
  const loadSize = Number(process.env.PARLEY_LOAD_MESSAGES || 10_000);
  const load = await loadTest(stack, { messages: loadSize, chats: 200, clients: 500 });
  const orch = wasmSize("build/index_bg.wasm");
  const agents = wasmSize("workers/agents/build/index_bg.wasm");
  const workspace = wasmSize("workers/workspace/build/index_bg.wasm");
  const chat = wasmSize("workers/chat/build/index_bg.wasm");
  const kb = (b) => `${(b / 1024).toFixed(1)} KiB`;
  // gzip sizes also in bytes: the budget's "KB" is read both ways, so both are shown.
  const gz = (b) => `${kb(b)} (${b.toLocaleString("en-US")} bytes, Node zlib level 9)`;
  // The targets, judged from this run's figures (the wasm budget read as 300,000 bytes, the
  // stricter of its two readings).
  const verdict = (ok) => (ok ? "met" : "**not met**");
  const wasmOk = [orch, agents, workspace, chat].every((w) => w.gzip <= 300_000);
  const targets = `Targets in this run: post to broadcast with 50 clients, p50 ≤ 5 ms ${verdict(fifty.p50 <= 5)} (${ms(fifty.p50)}), \
p99 ≤ 25 ms ${verdict(fifty.p99 <= 25)} (${ms(fifty.p99)}); every worker's wasm ≤ 300 KB gzip ${verdict(wasmOk)}. In the same run the \
runtime floor measured ${ms(floorFifty.p50)} at p50 with 50 clients, and ${ms(gatedFifty.p50)} with one D1 read before the post.`;
  const date = new Date().toISOString().slice(0, 10);
  const machine = `${os.cpus().length} × ${os.cpus()[0]?.model ?? "cpu"}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, ${os.type()} ${os.release()}`;
  const doc = `# Benchmarks

Produced by \`cargo xtask bench\` (which runs \`tests/bench/run.mjs\`) on ${date}, on ${machine}.
The stack: the four compiled workers (the same \`build/\` output \`wrangler deploy\` uploads) in workerd,
started through Miniflare's API (\`tests/support/miniflare_stack.mjs\`) with the bindings of the
\`wrangler.toml\` files: local D1, R2, SQLite Durable Objects and the service binding, and the
offline model (zero latency). Miniflare is used rather than \`wrangler dev\` because wrangler's
devtools inspector turns every Worker-to-Durable-Object call into logged events and costs them
most of their throughput on 2 cores. The load generator is Node on
the same machine, over loopback, so every figure includes its HTTP and WebSocket client costs.
It talks to the orchestrator's own socket in workerd, as production traffic reaches the worker,
not through Miniflare's development entry router (one more hop per request and per WebSocket
frame; the health round trip through it is shown for comparison). The API rate limits are raised
for the run (it measures the platform, not the limiter). Every worker writes its JSON log lines;
Miniflare hands them to the load generator's process, which appends them to a file.

Absolute figures on these shared 2-core machines drift by 15-25 % between runs; the health
round trip measured in the same run is the baseline to compare against.

${targets}

| measure | result | target |
| --- | --- | --- |
| baseline: \`GET /health\` round trip, p50 | ${ms(health)} | |
| baseline: \`GET /health\` through Miniflare's entry router, p50 | ${ms(healthEntry)} | |
| baseline: \`GET /v1/me\` (session token, org checked in D1), p50 | ${ms(me)} | |
| post to broadcast, 1 client, p50 / p99 (n=${one.n}) | ${ms(one.p50)} / ${ms(one.p99)} | |
| post to broadcast, 50 clients, p50 / p99 (n=${fifty.n}) | ${ms(fifty.p50)} / ${ms(fifty.p99)} | p50 ≤ 5 ms, p99 ≤ 25 ms |
| runtime floor (\`tests/bench/floor.mjs\`), post to broadcast, 1 client, p50 / p99 (n=${floorOne.n}) | ${ms(floorOne.p50)} / ${ms(floorOne.p99)} | |
| runtime floor, post to broadcast, 50 clients, p50 / p99 (n=${floorFifty.n}) | ${ms(floorFifty.p50)} / ${ms(floorFifty.p99)} | |
| runtime floor plus one D1 read before the post (the least a tenant gate costs), 50 clients, p50 / p99 (n=${gatedFifty.n}) | ${ms(gatedFifty.p50)} / ${ms(gatedFifty.p99)} | |
| runtime floor without storing the row (fan-out alone), 50 clients, p50 / p99 (n=${unstoredFifty.n}) | ${ms(unstoredFifty.p50)} / ${ms(unstoredFifty.p99)} | |
| turn with a zero-latency model: post to stored reply broadcast, p50 / p99 (n=${overhead.n}) | ${ms(overhead.p50)} / ${ms(overhead.p99)} | |
| sustained posts into one chat (16 concurrent senders) | ${oneChat.toFixed(0)} msg/s | |
| sustained posts across 100 chats (16 concurrent senders) | ${hundredChats.toFixed(0)} msg/s | |
| load: ${load.messages.toLocaleString("en-US")} messages across ${load.chats} chats, ${load.clients} WebSocket clients, ${load.senders} senders: lost / duplicated | 0 / 0 (checked in every chat's log and on every client) | 0 / 0 |
| load: posts accepted / posts answered by a turn | ${load.postRate.toFixed(0)} msg/s / ${load.answeredRate.toFixed(0)} msg/s | |
| load: post round trip, p50 / p99 | ${ms(load.postP50)} / ${ms(load.postP99)} | |
| load: post to broadcast, p50 / p99 (n=${load.deliveries.toLocaleString("en-US")} deliveries) | ${ms(load.broadcastP50)} / ${ms(load.broadcastP99)} | |
| restore: verify a ${restore.messages.toLocaleString("en-US")}-message chat (${restore.rows.toLocaleString("en-US")} rows, ${restore.parts} parts, ${restore.mib.toFixed(1)} MiB) as the restore script does | ${ms(restore.verifyMs)} | |
| restore: verify again in the app and restore it into its object | ${ms(restore.restoreMs)} | |
| restore: back up the restored chat | ${ms(restore.backupMs)} | |
| orchestrator wasm, raw / gzip | ${kb(orch.raw)} / ${gz(orch.gzip)} | gzip ≤ 300 KB |
| agents wasm, raw / gzip | ${kb(agents.raw)} / ${gz(agents.gzip)} | gzip ≤ 300 KB |
| chat wasm, raw / gzip | ${kb(chat.raw)} / ${gz(chat.gzip)} | gzip ≤ 300 KB |
| workspace wasm, raw / gzip | ${kb(workspace.raw)} / ${gz(workspace.gzip)} | gzip ≤ 300 KB |

The load test (\`tests/bench/load.mjs\`) fails the run on any message lost, stored twice, out of
sequence, unanswered, or missed or seen twice by any client. The restore benchmark
(\`tests/bench/restore.mjs\`) builds a real chat's snapshot up to 10,000 messages from its own
rows, puts it in the local bucket with its checksums, and times the restore script's
verification, the restore, and a backup of the result (which must hold the 10,000 messages).

The runtime floor is a minimal JavaScript worker and SQLite Durable Object
(\`tests/bench/floor.mjs\`) that only parse a post, insert one row and send it to every
connected socket: no sign-in, tenant gate, validation, logs, metrics or turn. It runs in its own
workerd beside Parley's with the orchestrator's compatibility settings, and its samples alternate
with Parley's, so both figures see the same moments of the host. Parley's figure minus the floor
is what Parley's own work costs; the floor is what workerd, the loopback and the Node clients cost
on this machine however little a worker does.
Two variants of the floor bound what any design can reach here: with one D1 read by primary key
before the post (ADR 10's tenant gate reads seats, billing and quotas from D1 before every post,
so no design that keeps it can beat this), and without inserting the row (no storage commit
holds the frames back: what sending one frame to 50 sockets costs on its own).

"Post to broadcast" is the time from sending \`POST /v1/chats/{id}/messages\` to the message event
arriving on every connected WebSocket (each client's arrival is one sample). "Turn" is the time
from the post to the agent's stored reply arriving on a WebSocket, with the offline model, so it is
the platform's own overhead per turn: alarm, context assembly, service binding call, NDJSON
stream, storage and broadcast.
`;
  writeFileSync(path.join(ROOT, "docs/BENCHMARKS.md"), doc);
  console.log(doc);
} finally {
  await stack.stop();
  await floor.stop();
}
