// The bounded load test: many messages across many chats with many WebSocket clients, on
// loopback against the Miniflare stack (offline model, so every message is also answered by a
// turn). It fails (throws) on any lost, duplicated or reordered message, in a chat's log or on
// any client, and returns throughput and latency figures for docs/BENCHMARKS.md.

import { call, createChat, allMessages, openSocket, eventually } from "../support/client.mjs";

const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};

export async function loadTest(stack, { messages = 20_000, chats = 200, clients = 500, senders = 32 } = {}) {
  const ids = [];
  for (let i = 0; i < chats; i++) ids.push(await createChat(stack, `load ${i}`));
  // Clients spread over the chats, each recording when it saw each message.
  const sockets = [];
  for (let i = 0; i < clients; i++) {
    const chat = ids[i % chats];
    const s = await openSocket(stack, chat);
    s.chat = chat;
    s.seen = new Map();
    s.ws.addEventListener("message", (ev) => {
      const e = JSON.parse(ev.data);
      if (e.type === "message") {
        if (s.seen.has(e.message.seq)) s.duplicates = (s.duplicates ?? 0) + 1;
        s.seen.set(e.message.seq, { at: performance.now(), clientId: e.message.client_id });
      }
    });
    sockets.push(s);
  }
  const postedAt = new Map();
  const postLatency = [];
  let next = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: senders }, async () => {
      for (;;) {
        const i = next++;
        if (i >= messages) return;
        const chat = ids[i % chats];
        const clientId = `load-${i}`;
        const t = performance.now();
        postedAt.set(clientId, t);
        let res;
        for (let attempt = 0; ; attempt++) {
          res = await call(stack, "POST", `/v1/chats/${chat}/messages`, { body: { client_id: clientId, content: `load ${i}` } });
          // A retry after a failure must be answered as the same message, never a second one.
          if (res.status === 201 || (res.status === 200 && attempt > 0)) break;
          if (attempt >= 5) throw new Error(`post ${clientId}: ${res.status} ${res.text}`);
        }
        postLatency.push(performance.now() - t);
      }
    }),
  );
  const postSeconds = (performance.now() - start) / 1000;

  // Every chat answers every message: with n messages posted, its log reaches 2n.
  const expected = new Map(ids.map((chat, c) => [chat, Math.floor(messages / chats) + (c < messages % chats ? 1 : 0)]));
  await eventually(async () => {
    for (const [chat, n] of expected) {
      if (n === 0) continue;
      const page = (await call(stack, "GET", `/v1/chats/${chat}/messages?after=${2 * n - 1}&limit=1`)).json;
      if (page.messages.length === 0) return false;
    }
    return true;
  }, 60 * 60_000, "every message answered");
  const totalSeconds = (performance.now() - start) / 1000;

  // The logs: every posted client id exactly once, sequences gap-free, a reply per message.
  const broadcast = [];
  for (const chat of ids) {
    const log = await allMessages(stack, chat);
    log.forEach((m, i) => {
      if (m.seq !== i + 1) throw new Error(`${chat}: sequence ${m.seq} at position ${i + 1}`);
    });
    const users = log.filter((m) => m.role === "user");
    const unique = new Set(users.map((m) => m.client_id));
    if (unique.size !== users.length) throw new Error(`${chat}: a client id stored twice`);
    if (log.length !== users.length * 2) throw new Error(`${chat}: ${users.length} messages but ${log.length - users.length} replies`);
    for (const s of sockets.filter((x) => x.chat === chat)) {
      if (s.duplicates) throw new Error(`${chat}: a client saw ${s.duplicates} messages twice`);
      for (const m of log) {
        const seen = s.seen.get(m.seq);
        if (!seen) throw new Error(`${chat}: a client never saw message ${m.seq}`);
        if (m.role === "user") broadcast.push(seen.at - postedAt.get(m.client_id));
      }
    }
  }
  const stored = (await Promise.all(ids.map((c) => allMessages(stack, c)))).reduce((n, l) => n + l.filter((m) => m.role === "user").length, 0);
  if (stored !== messages) throw new Error(`${stored} of ${messages} messages stored`);
  for (const s of sockets) s.close();
  return {
    messages,
    chats,
    clients,
    senders,
    postRate: messages / postSeconds,
    answeredRate: messages / totalSeconds,
    postP50: pct(postLatency, 50),
    postP99: pct(postLatency, 99),
    broadcastP50: pct(broadcast, 50),
    broadcastP99: pct(broadcast, 99),
    deliveries: broadcast.length,
  };
}
