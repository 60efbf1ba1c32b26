// Parley's browser app: list and create chats, send messages, watch replies stream in.
//
// The log is keyed by sequence number, so replays after a reconnect never duplicate a
// message, and posts carry a client id, so retrying a post never stores it twice.

import { initWorkspace, showWorkspace } from "/workspace.js";
import { authedFetch, isDevelopmentSignIn, socketTicket } from "/session.js";
import { initAgentPanel, openAgentPanel, onAgentEvent } from "/agent_panel.js";

const $ = (id) => document.getElementById(id);
const state = {
  chatId: null,
  lastSeq: 0,
  messages: new Map(), // seq -> message
  pending: new Map(), // client_id -> { content, failed }
  streaming: null, // { turnId, deltas, text }
  socket: null,
  retryMs: 500,
  generation: 0, // bumps on chat switch so stale sockets are ignored
};

async function api(method, path, body) {
  const init = { method, headers: {} };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const res = await authedFetch(path, init);
  const data = await res.json().catch(() => ({}));
  if (!res.ok) {
    const err = new Error(data?.error?.message || `HTTP ${res.status}`);
    err.status = res.status;
    err.code = data?.error?.code;
    throw err;
  }
  return data;
}

function showError(text) {
  const el = $("error");
  el.textContent = text || "";
  el.hidden = !text;
}

async function loadChats(selectId) {
  const { chats } = await api("GET", "/v1/chats");
  const list = $("chats");
  list.replaceChildren();
  for (const chat of chats) {
    const li = document.createElement("li");
    const btn = document.createElement("button");
    btn.type = "button";
    btn.textContent = chat.title;
    btn.dataset.chatId = chat.id;
    btn.dataset.testid = "chat-item";
    btn.setAttribute("aria-current", String(chat.id === state.chatId));
    btn.addEventListener("click", () => openChat(chat.id, chat.title));
    li.append(btn);
    list.append(li);
  }
  const wanted = selectId || new URLSearchParams(location.hash.slice(1)).get("chat");
  const chosen = chats.find((c) => c.id === wanted) || (!state.chatId && chats[0]);
  if (chosen && chosen.id !== state.chatId) await openChat(chosen.id, chosen.title);
}

async function openChat(id, title) {
  const generation = ++state.generation;
  if (state.socket) state.socket.close();
  Object.assign(state, { chatId: id, lastSeq: 0, streaming: null, socket: null, retryMs: 500 });
  state.messages.clear();
  state.pending.clear();
  history.replaceState(null, "", `#chat=${id}`);
  $("chat-title").textContent = title;
  for (const b of document.querySelectorAll("#chats button")) b.setAttribute("aria-current", String(b.dataset.chatId === id));
  // The composer stays off until this chat's history is loaded, so nothing typed during a
  // switch can go to the chat being left.
  $("input").disabled = true;
  $("send").disabled = true;
  setTurnStatus("", "");
  render();
  await catchUp(generation);
  if (generation !== state.generation) return;
  openAgentPanel(id).catch((err) => showError(`Approvals unavailable: ${err.message}`));
  $("input").disabled = false;
  $("send").disabled = false;
  connect(generation);
}

// Pages through the log over HTTP from the last sequence we have.
async function catchUp(generation) {
  for (;;) {
    const page = await api("GET", `/v1/chats/${state.chatId}/messages?after=${state.lastSeq}&limit=200`);
    if (generation !== state.generation) return;
    for (const m of page.messages) addMessage(m);
    if (page.messages.length < 200) break;
  }
  render();
}

function addMessage(m) {
  if (state.messages.has(m.seq)) return;
  state.messages.set(m.seq, m);
  state.lastSeq = Math.max(state.lastSeq, m.seq);
  if (m.client_id) state.pending.delete(m.client_id);
  if (m.role === "assistant" && state.streaming?.turnId === m.turn_id) state.streaming = null;
}

async function connect(generation) {
  const proto = location.protocol === "https:" ? "wss" : "ws";
  let ticket;
  try {
    ticket = await socketTicket(state.chatId);
  } catch (err) {
    // Treated like a dropped connection: retried with backoff.
    setConnection("reconnecting");
    setTimeout(() => generation === state.generation && connect(generation), state.retryMs);
    state.retryMs = Math.min(state.retryMs * 2, 5000);
    return;
  }
  if (generation !== state.generation) return;
  const ws = new WebSocket(`${proto}://${location.host}/v1/chats/${state.chatId}/ws?after=${state.lastSeq}&ticket=${encodeURIComponent(ticket)}`);
  state.socket = ws;
  setConnection("connecting");
  ws.addEventListener("open", () => {
    if (generation !== state.generation) return;
    state.retryMs = 500;
    setConnection("open");
  });
  ws.addEventListener("message", (ev) => {
    if (generation !== state.generation) return;
    onEvent(JSON.parse(ev.data));
  });
  ws.addEventListener("close", () => {
    if (generation !== state.generation) return;
    setConnection("reconnecting");
    const wait = state.retryMs;
    state.retryMs = Math.min(state.retryMs * 2, 5000);
    setTimeout(async () => {
      if (generation !== state.generation) return;
      try {
        await catchUp(generation);
      } catch {
        // The server may still be down; the socket retry below keeps trying.
      }
      if (generation === state.generation) connect(generation);
    }, wait);
  });
}

function onEvent(event) {
  switch (event.type) {
    case "message":
      addMessage(event.message);
      break;
    case "delta": {
      let s = state.streaming;
      if (!s || s.turnId !== event.turn_id) {
        if (event.index !== 0) break; // joined mid-stream: the hello snapshot covers it
        s = state.streaming = { turnId: event.turn_id, deltas: 0, text: "" };
      }
      if (event.index === s.deltas) {
        s.text += event.text;
        s.deltas += 1;
      }
      break;
    }
    case "turn":
      onTurn(event.turn);
      break;
    case "tool":
    case "approval":
      onAgentEvent(event);
      break;
    case "hello":
      if (event.partial) state.streaming = { turnId: event.partial.turn_id, deltas: event.partial.deltas, text: event.partial.text };
      for (const t of event.active_turns) onTurn(t);
      if (event.last_seq > state.lastSeq) catchUp(state.generation).catch(() => {});
      break;
  }
  render();
}

function onTurn(turn) {
  if (turn.state === "queued") setTurnStatus("queued", "Waiting for the agent…");
  if (turn.state === "running") {
    setTurnStatus("running", "Agent is replying…");
    if (state.streaming?.turnId === turn.id && state.streaming.deltas > 0) state.streaming = { turnId: turn.id, deltas: 0, text: "" };
  }
  if (turn.state === "awaiting_approval") setTurnStatus("waiting", "Waiting for a person to approve a tool call…");
  if (turn.state === "done") setTurnStatus("done", `Reply finished${turn.model ? ` (${turn.model})` : ""}${turn.tier ? ` · ${turn.tier}` : ""}`);
  if (turn.state === "failed") {
    if (state.streaming?.turnId === turn.id) state.streaming = null;
    setTurnStatus("failed", `Turn failed: ${turn.error?.message || "unknown error"}`);
  }
}

function setTurnStatus(stateName, text) {
  const el = $("turn-status");
  el.dataset.state = stateName;
  el.textContent = text;
}

function setConnection(s) {
  const el = $("connection");
  el.dataset.state = s;
  el.textContent = { open: "live", connecting: "connecting", reconnecting: "reconnecting", idle: "offline" }[s];
}

function bubble(role, text, extra = [], meta = "") {
  const li = document.createElement("li");
  li.className = ["msg", role, ...extra].join(" ");
  li.dataset.testid = `msg-${role}`;
  li.textContent = text;
  if (meta) {
    const m = document.createElement("span");
    m.className = "meta";
    m.textContent = meta;
    li.append(m);
  }
  return li;
}

function render() {
  const list = $("messages");
  const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
  const items = [...state.messages.values()].sort((a, b) => a.seq - b.seq).map((m) => {
    const li = bubble(m.role, m.content, [], `#${m.seq} · ${new Date(m.created_at).toLocaleTimeString()}`);
    li.dataset.seq = m.seq;
    return li;
  });
  for (const [clientId, p] of state.pending) {
    const li = bubble("user", p.content, [p.failed ? "failed-send" : "pending"], p.failed ? `not sent: ${p.failed}` : "sending…");
    li.dataset.clientId = clientId;
    items.push(li);
  }
  if (state.streaming) {
    const li = bubble("assistant", state.streaming.text || "…", ["streaming"]);
    li.dataset.testid = "msg-streaming";
    items.push(li);
  }
  list.replaceChildren(...items);
  if (atBottom) list.scrollTop = list.scrollHeight;
}

// Posts with retries; the client id makes a retried post idempotent.
async function send(content) {
  const clientId = crypto.randomUUID();
  const chatId = state.chatId;
  state.pending.set(clientId, { content, failed: null });
  render();
  for (let attempt = 0; ; attempt++) {
    try {
      const { message } = await api("POST", `/v1/chats/${chatId}/messages`, { client_id: clientId, content });
      if (chatId === state.chatId) addMessage(message);
      break;
    } catch (err) {
      const retryable = !err.status || err.status >= 500;
      if (!retryable || attempt >= 5) {
        const p = state.pending.get(clientId);
        if (p) p.failed = err.message;
        break;
      }
      await new Promise((r) => setTimeout(r, 300 * 2 ** attempt));
    }
  }
  render();
}

$("composer").addEventListener("submit", (ev) => {
  ev.preventDefault();
  const input = $("input");
  const text = input.value.trim();
  if (!text || !state.chatId) return;
  input.value = "";
  showError("");
  send(text);
});

$("input").addEventListener("keydown", (ev) => {
  if (ev.key === "Enter" && !ev.shiftKey) {
    ev.preventDefault();
    $("composer").requestSubmit();
  }
});

$("new-chat").addEventListener("click", async () => {
  $("input").disabled = true;
  $("send").disabled = true;
  try {
    const chat = await api("POST", "/v1/chats", { title: `Chat ${new Date().toLocaleString()}` });
    await loadChats(chat.id);
  } catch (err) {
    showError(`Could not create a chat: ${err.message}`);
  }
});

// Two views share the page: chats, and the sales workspace.
function showView(name) {
  const workspace = name === "workspace";
  $("chat-view").hidden = workspace;
  $("chat-sidebar").hidden = workspace;
  $("workspace-view").hidden = !workspace;
  $("view-chats").setAttribute("aria-pressed", String(!workspace));
  $("view-workspace").setAttribute("aria-pressed", String(workspace));
  if (workspace) showWorkspace().catch((err) => showError(`Workspace unavailable: ${err.message}`));
}
$("view-chats").addEventListener("click", () => showView("chats"));
$("view-workspace").addEventListener("click", () => showView("workspace"));
initWorkspace();

(async () => {
  try {
    const me = await api("GET", "/v1/me");
    const dev = await isDevelopmentSignIn();
    $("who").textContent = `${me.user_id} · ${me.org_id} · ${me.role}${dev ? " (development sign-in)" : ""}`;
    initAgentPanel(api);
    api("GET", "/v1/org/usage").then((u) => {
      $("tier").textContent = `AI budget: ${u.tier}`;
      $("tier").dataset.tier = u.tier;
    }).catch(() => {});
    await loadChats();
  } catch (err) {
    showError(`Parley is unavailable: ${err.message}`);
  }
})();
