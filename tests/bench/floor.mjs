// The runtime's floor for "post to broadcast" on this machine: a minimal JavaScript worker and
// SQLite Durable Object that parse the post, insert one row and send it to every connected
// socket, and nothing else (no sign-in, validation, logs, metrics, turn or alarm).
// Two variants bound what any design can reach here:
// - `gated`: the worker first reads one org row from D1 by primary key, the least that ADR 10's
//   tenant gate (seats, billing, quotas read before every post) can cost;
// - `unstored`: the object sends the frame without inserting the row, so no storage commit holds
//   the frames back (workerd's output gate): what fan-out to the sockets alone costs.
// It runs in its own workerd with the orchestrator's compatibility settings and is measured in
// the same run as Parley, samples interleaved, so the figures share the host's speed.
// It is a measuring instrument, not a part of Parley.

import { Miniflare, convertV4MiniflareOptions } from "miniflare";
import { compatibilityOf } from "../support/miniflare_stack.mjs";

const script = `
export default {
  // /<chat>/ws, /<chat>/messages, /<chat>/gated, /<chat>/unstored: one object per chat name.
  async fetch(req, env) {
    const [, chat, action] = new URL(req.url).pathname.split("/");
    if (action === "gated") {
      const org = await env.DB.prepare("SELECT status FROM orgs WHERE id = ?").bind("floor").first();
      if (org?.status !== "active") return new Response("gate closed", { status: 403 });
    }
    return env.CHAT.get(env.CHAT.idFromName(chat)).fetch(req);
  },
};
export class Chat {
  constructor(state) {
    this.state = state;
    state.storage.sql.exec("CREATE TABLE IF NOT EXISTS messages (seq INTEGER PRIMARY KEY, client_id TEXT UNIQUE, content TEXT)");
  }
  async fetch(req) {
    if (req.headers.get("Upgrade") === "websocket") {
      const [client, server] = Object.values(new WebSocketPair());
      this.state.acceptWebSocket(server);
      return new Response(null, { status: 101, webSocket: client });
    }
    const { client_id, content } = await req.json();
    const seq = req.url.endsWith("/unstored")
      ? 0
      : this.state.storage.sql.exec("INSERT INTO messages (client_id, content) VALUES (?, ?) RETURNING seq", client_id, content).one().seq;
    const frame = JSON.stringify({ type: "message", message: { seq, role: "user", client_id, content } });
    for (const ws of this.state.getWebSockets()) ws.send(frame);
    return new Response(JSON.stringify({ seq }), { status: 201, headers: { "Content-Type": "application/json" } });
  }
  webSocketMessage() {}
  webSocketClose() {}
}`;

/** Starts the floor worker; `url` is its own socket, as the orchestrator's is in the bench. */
export async function startFloor() {
  const mf = new Miniflare(convertV4MiniflareOptions({
    host: "127.0.0.1",
    port: 0,
    workers: [{
      name: "floor",
      modules: true,
      script,
      ...compatibilityOf("wrangler.toml"),
      d1Databases: { DB: "floor-db" },
      durableObjects: { CHAT: { className: "Chat", useSQLite: true } },
      unsafeDirectSockets: [{ host: "127.0.0.1", port: 0 }],
    }],
  }));
  await mf.ready;
  const db = await mf.getD1Database("DB");
  await db.batch([
    db.prepare("CREATE TABLE orgs (id TEXT PRIMARY KEY, status TEXT NOT NULL)"),
    db.prepare("INSERT INTO orgs (id, status) VALUES ('floor', 'active')"),
  ]);
  const url = (await mf.unsafeGetDirectURL("floor")).toString().replace(/\/$/, "");
  let stopped;
  return { url, stop: () => (stopped ??= mf.dispose()) };
}
