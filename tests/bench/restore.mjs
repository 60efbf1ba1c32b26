// The restore benchmark: verify and restore a chat of 10,000 messages from R2.
//
// The snapshot is built from a real chat's own rows (`tests/support/snapshots.mjs`): a chat
// with one answered message is backed up, and its rows are the templates for 10,000 messages
// (5,000 answered turns), written as parts with their SHA-256 and a manifest into the local
// bucket. Then the restore script's verification (download and check every part), the restore,
// and a backup of the restored chat are timed; the restored chat must hold the 10,000 messages.

import { call, createChat, allMessages, settledTurn } from "../support/client.mjs";
import { adminApi, bigChatSnapshot } from "../support/snapshots.mjs";
import { verifyBackup } from "../../tools/restore.mjs";

export async function restoreBenchmark(stack, messages = 10_000) {
  const api = adminApi(stack);
  const chat = await createChat(stack, "restore benchmark");
  const posted = await call(stack, "POST", `/v1/chats/${chat}/messages`, { body: { client_id: "seed", content: "seed" } });
  await settledTurn(stack, chat, posted.json.message.seq);
  const snapshot = await bigChatSnapshot(api, chat, messages);
  const bucket = await stack.mf.getR2Bucket("BACKUPS");
  for (const { key, bytes } of snapshot.objects) await bucket.put(key, bytes);

  let t = performance.now();
  await verifyBackup(api, snapshot.id);
  const verifyMs = performance.now() - t;
  t = performance.now();
  const restored = (await api("POST", `/v1/backups/${snapshot.id}/restore`)).json();
  const restoreMs = performance.now() - t;
  t = performance.now();
  const again = (await api("POST", "/v1/backups", { kind: "chat", object_id: chat })).json().manifest;
  const backupMs = performance.now() - t;

  const after = await allMessages(stack, chat);
  if (after.length !== messages || restored.rows !== snapshot.manifest.total_rows || again.tables.messages !== messages) {
    throw new Error(`restore benchmark: ${after.length} messages after the restore, ${restored.rows} rows restored, ${again.tables.messages} backed up again`);
  }
  const parts = snapshot.manifest.parts;
  const mib = parts.reduce((n, p) => n + p.bytes, 0) / 2 ** 20;
  return { messages, rows: snapshot.manifest.total_rows, parts: parts.length, mib, verifyMs, restoreMs, backupMs };
}
