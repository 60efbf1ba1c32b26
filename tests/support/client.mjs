// Small HTTP and WebSocket helpers for driving the API like a client would.

/**
 * One API call. It carries `token` (else the stack's default token, the demo org's admin);
 * `anonymous: true` sends no credentials.
 */
export async function call(stack, method, path, { body, headers = {}, raw, token, anonymous } = {}) {
  const init = { method, headers: { ...headers } };
  if (!anonymous && !init.headers.Authorization && (token || stack.token)) {
    init.headers.Authorization = `Bearer ${token || stack.token}`;
  }
  if (raw !== undefined) {
    init.body = raw;
  } else if (body !== undefined) {
    init.headers["Content-Type"] ??= "application/json";
    init.body = JSON.stringify(body);
  }
  const res = await fetch(stack.url + path, init);
  const text = await res.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, json, text, headers: res.headers };
}

export async function createChat(stack, title = "Test chat") {
  const res = await call(stack, "POST", "/v1/chats", { body: { title } });
  if (res.status !== 201) throw new Error(`create chat: ${res.status} ${res.text}`);
  return res.json.id;
}

export async function allMessages(stack, chatId) {
  const out = [];
  let after = 0;
  for (;;) {
    const res = await call(stack, "GET", `/v1/chats/${chatId}/messages?after=${after}&limit=200`);
    if (res.status !== 200) throw new Error(`messages: ${res.status} ${res.text}`);
    out.push(...res.json.messages);
    if (res.json.messages.length < 200) return out;
    after = out.at(-1).seq;
  }
}

export async function turns(stack, chatId) {
  const res = await call(stack, "GET", `/v1/chats/${chatId}/turns?limit=200`);
  return res.json.turns;
}

/** Polls until `predicate()` resolves truthy, or fails after `ms`. */
export async function eventually(predicate, ms = 20_000, what = "condition") {
  const deadline = Date.now() + ms;
  let last;
  for (;;) {
    last = await predicate();
    if (last) return last;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A single-use WebSocket ticket for a chat. */
export async function socketTicket(stack, chatId, token) {
  const res = await call(stack, "POST", `/v1/chats/${chatId}/ws-ticket`, { token });
  if (res.status !== 201) throw new Error(`ws ticket: ${res.status} ${res.text}`);
  return res.json.ticket;
}

/** A WebSocket client that records every event it receives (signed in with a ticket). */
export async function openSocket(stack, chatId, after = 0) {
  const ticket = await socketTicket(stack, chatId);
  const ws = new WebSocket(`${stack.url.replace("http", "ws")}/v1/chats/${chatId}/ws?after=${after}&ticket=${encodeURIComponent(ticket)}`);
  const events = [];
  ws.addEventListener("message", (ev) => events.push(JSON.parse(ev.data)));
  await new Promise((resolve, reject) => {
    ws.addEventListener("open", resolve, { once: true });
    ws.addEventListener("error", () => reject(new Error("websocket failed to open")), { once: true });
  });
  const client = {
    ws,
    events,
    messages: () => events.filter((e) => e.type === "message").map((e) => e.message),
    hello: () => events.find((e) => e.type === "hello"),
    close: () => ws.close(),
    waitFor: (pred, ms, what) => eventually(() => events.find(pred), ms, what),
  };
  await client.waitFor((e) => e.type === "hello", 10_000, "hello");
  return client;
}

/** Waits until the chat's turn for `seq` is done or failed and returns it. */
export async function settledTurn(stack, chatId, seq, ms = 30_000) {
  return eventually(async () => {
    // Turns page by their trigger sequence, so a long chat's turn is found directly.
    const page = await call(stack, "GET", `/v1/chats/${chatId}/turns?after=${seq - 1}&limit=1`);
    const t = page.json?.turns?.find((t) => t.trigger_seq === seq);
    return t && (t.state === "done" || t.state === "failed") ? t : null;
  }, ms, `turn for message ${seq}`);
}
