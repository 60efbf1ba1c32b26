// The restore benchmark: verify and restore a chat of 10,000 messages from R2.
//
// The snapshot is made the way a real one is, from a real chat's export: a chat with one
// answered message is backed up, and its rows are the templates for 10,000 messages (5,000
// answered turns) written as parts with their SHA-256 and a manifest, into the local bucket.
// Then: the restore script's verification (download and check every part), the restore, and a
// backup of the restored chat, each timed; the restored chat must hold exactly 10,000 messages.

import { createHash } from "node:crypto";
import { call, createChat, allMessages, settledTurn } from "../support/client.mjs";
import { verifyBackup } from "../../tools/restore.mjs";

const PART_LIMIT = 1 << 20;

function api(stack) {
  return async (method, route, body) => {
    const res = await fetch(stack.url + route, { method, headers: { Authorization: `Bearer ${stack.token}`, ...(body ? { "Content-Type": "application/json" } : {}) }, body: body ? JSON.stringify(body) : undefined });
    const bytes = Buffer.from(await res.arrayBuffer());
    if (!res.ok) throw new Error(`${method} ${route}: ${res.status} ${bytes}`);
    return { bytes, json: () => JSON.parse(bytes.toString("utf8")) };
  };
}

/** Rows of a snapshot of `messages` messages, from the rows of a real one-turn chat. */
function synthesize(rows, messages) {
  const byTable = (t) => rows.filter((r) => r.table === t);
  const [user, reply] = byTable("messages");
  const [turn] = byTable("turns");
  const out = rows.filter((r) => r.table !== "messages" && r.table !== "turns" && r.table !== "turn_steps");
  for (let seq = 1; seq <= messages; seq++) {
    const isUser = seq % 2 === 1;
    const turnId = `turn_${isUser ? seq : seq - 1}`;
    const template = isUser ? user : reply;
    out.push({ table: "messages", row: { ...template.row, seq, client_id: isUser ? `bench-${seq}` : null, turn_id: turnId, content: `${isUser ? "question" : "answer"} ${seq}: ${"lorem ipsum ".repeat(8)}` } });
    if (isUser) out.push({ table: "turns", row: { ...turn.row, id: turnId, trigger_seq: seq } });
  }
  return out;
}

export async function restoreBenchmark(stack, messages = 10_000) {
  const a = api(stack);
  const chat = await createChat(stack, "restore benchmark");
  const posted = await call(stack, "POST", `/v1/chats/${chat}/messages`, { body: { client_id: "seed", content: "seed" } });
  await settledTurn(stack, chat, posted.json.message.seq);
  const seed = (await a("POST", "/v1/backups", { kind: "chat", object_id: chat })).json().manifest;
  const rows = [];
  for (const part of seed.parts) {
    const text = (await a("GET", `/v1/backups/${encodeURIComponent(`chat.${chat}.${seed.taken_at}`)}/parts?index=${part.index}`)).bytes.toString("utf8");
    for (const line of text.split("\n").filter(Boolean)) rows.push(JSON.parse(line));
  }
  const synthetic = synthesize(rows, messages);

  // Parts and manifest exactly as r2_layout writes them (SPEC.md), into the local bucket.
  const takenAtMs = Date.now() - 60_000;
  const stamp = new Date(takenAtMs).toISOString().replace(/[-:.]/g, "").replace(/(\d{8}T\d{6})(\d{3})Z/, "$1$2Z");
  const prefix = `backups/org_demo/chat/${chat}/${stamp}`;
  const bucket = await stack.mf.getR2Bucket("BACKUPS");
  const parts = [];
  let content = "";
  let count = 0;
  const tables = {};
  const flush = async () => {
    const key = `${prefix}/parts/${String(parts.length).padStart(5, "0")}.ndjson`;
    const bytes = Buffer.from(content);
    await bucket.put(key, bytes);
    parts.push({ index: parts.length, key, bytes: bytes.length, rows: count, sha256: createHash("sha256").update(bytes).digest("hex") });
    content = "";
    count = 0;
  };
  const ordered = [...synthetic].sort((x, y) => (x.table < y.table ? -1 : x.table > y.table ? 1 : 0));
  for (const r of ordered) {
    const line = JSON.stringify(r);
    if (content && content.length + line.length + 1 > PART_LIMIT) await flush();
    content += `${line}\n`;
    count++;
    tables[r.table] = (tables[r.table] ?? 0) + 1;
  }
  if (content) await flush();
  const manifest = { ...seed, taken_at: stamp, taken_at_ms: takenAtMs, tables, total_rows: ordered.length, parts };
  await bucket.put(`${prefix}/manifest.json`, JSON.stringify(manifest));
  const id = `chat.${chat}.${stamp}`;

  let t = performance.now();
  await verifyBackup(a, id);
  const verifyMs = performance.now() - t;
  t = performance.now();
  const restored = (await a("POST", `/v1/backups/${encodeURIComponent(id)}/restore`)).json();
  const restoreMs = performance.now() - t;
  t = performance.now();
  const again = (await a("POST", "/v1/backups", { kind: "chat", object_id: chat })).json().manifest;
  const backupMs = performance.now() - t;

  const after = await allMessages(stack, chat);
  if (after.length !== messages || restored.rows !== ordered.length || again.tables.messages !== messages) {
    throw new Error(`restore benchmark: ${after.length} messages after the restore, ${restored.rows} rows restored, ${again.tables.messages} backed up again`);
  }
  const mib = parts.reduce((n, p) => n + p.bytes, 0) / 2 ** 20;
  return { messages, rows: ordered.length, parts: parts.length, mib, verifyMs, restoreMs, backupMs };
}
