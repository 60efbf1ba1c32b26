// Building a large chat snapshot for the restore benchmark and the backup fault tests, the way
// the orchestrator writes one (r2_layout/SPEC.md), from a real one-turn chat's rows.

import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { stackWrangler } from "./stack.mjs";
import { adminClient } from "../../tools/restore.mjs";

const PART_LIMIT = 1 << 20;

/** The rows of a snapshot of `messages` messages, from the rows of a real one-turn chat. */
function synthesize(rows, messages) {
  const byTable = (t) => rows.filter((r) => r.table === t);
  const [user, reply] = byTable("messages");
  const [turn] = byTable("turns");
  const out = rows.filter((r) => r.table !== "messages" && r.table !== "turns" && r.table !== "turn_steps");
  for (let seq = 1; seq <= messages; seq++) {
    const isUser = seq % 2 === 1;
    const turnId = `turn_${isUser ? seq : seq - 1}`;
    const template = isUser ? user : reply;
    out.push({ table: "messages", row: { ...template.row, seq, client_id: isUser ? `bulk-${seq}` : null, turn_id: turnId, content: `${isUser ? "question" : "answer"} ${seq}: ${"lorem ipsum ".repeat(8)}` } });
    if (isUser) out.push({ table: "turns", row: { ...turn.row, id: turnId, trigger_seq: seq } });
  }
  return out.sort((x, y) => (x.table < y.table ? -1 : x.table > y.table ? 1 : 0));
}

/**
 * A snapshot of `chat` with `messages` messages. `api(method, route, body)` is an admin client;
 * the chat must have exactly one answered message. Returns the backup id, the manifest and the
 * objects to put in the bucket (parts first, the manifest last).
 */
export async function bigChatSnapshot(api, chat, messages, takenAtMs = Date.now() - 60_000) {
  const seed = (await api("POST", "/v1/backups", { kind: "chat", object_id: chat })).json().manifest;
  const rows = [];
  for (const part of seed.parts) {
    const text = (await api("GET", `/v1/backups/chat.${chat}.${seed.taken_at}/parts?index=${part.index}`)).bytes.toString("utf8");
    for (const line of text.split("\n").filter(Boolean)) rows.push(JSON.parse(line));
  }
  const stamp = new Date(takenAtMs).toISOString().replace(/[-:.]/g, "");
  const prefix = `backups/${seed.org}/chat/${chat}/${stamp}`;
  const objects = [];
  const parts = [];
  const tables = {};
  let content = "";
  let count = 0;
  const flush = () => {
    const key = `${prefix}/parts/${String(parts.length).padStart(5, "0")}.ndjson`;
    const bytes = Buffer.from(content);
    objects.push({ key, bytes });
    parts.push({ index: parts.length, key, bytes: bytes.length, rows: count, sha256: createHash("sha256").update(bytes).digest("hex") });
    content = "";
    count = 0;
  };
  const all = synthesize(rows, messages);
  for (const r of all) {
    const line = JSON.stringify(r);
    if (content && content.length + line.length + 1 > PART_LIMIT) flush();
    content += `${line}\n`;
    count++;
    tables[r.table] = (tables[r.table] ?? 0) + 1;
  }
  if (content) flush();
  const manifest = { ...seed, taken_at: stamp, taken_at_ms: takenAtMs, tables, total_rows: all.length, parts };
  objects.push({ key: `${prefix}/manifest.json`, bytes: Buffer.from(JSON.stringify(manifest)) });
  return { id: `chat.${chat}.${stamp}`, manifest, objects };
}

/** The restore script's own admin API client, signed in as the stack's admin. */
export function adminApi(stack) {
  return adminClient(stack.url, stack.token);
}

// The local bucket, edited with wrangler's own `r2 object` commands (best with the runtime
// stopped: `stack.kill()` first, `stack.restart()` after).
const scratch = () => mkdtempSync(path.join(tmpdir(), "parley-r2-"));

export function r2Get(stack, key) {
  const file = path.join(scratch(), "object");
  stackWrangler(stack, ["r2", "object", "get", `parley-backups/${key}`, "--file", file]);
  return readFileSync(file);
}

export function r2Put(stack, key, bytes) {
  const file = path.join(scratch(), "object");
  writeFileSync(file, bytes);
  stackWrangler(stack, ["r2", "object", "put", `parley-backups/${key}`, "--file", file]);
}

export function r2Delete(stack, key) {
  stackWrangler(stack, ["r2", "object", "delete", `parley-backups/${key}`]);
}
