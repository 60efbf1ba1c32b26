// The agent's work in a chat: tool calls as they start and finish, and the calls waiting for a
// person, with approve and deny buttons. Everything shown comes from the chat's events and API.

const $ = (id) => document.getElementById(id);
const tools = new Map(); // "turn:step" -> { tool, state, summary }
const approvals = new Map(); // id -> approval
let artifacts = [];
let api;
let chatId = null;

const el = (tag, props = {}, ...children) => {
  const node = Object.assign(document.createElement(tag), props);
  node.append(...children);
  return node;
};

/** Wires the panel to the app's API helper. */
export function initAgentPanel(apiCall) {
  api = apiCall;
}

/** Switches to a chat: clears the panel and loads its approvals. */
export async function openAgentPanel(id) {
  chatId = id;
  tools.clear();
  approvals.clear();
  artifacts = [];
  render();
  const { approvals: list } = await api("GET", `/v1/chats/${id}/approvals`);
  if (chatId !== id) return;
  for (const a of list) approvals.set(a.id, a);
  await loadArtifacts(id);
}

async function loadArtifacts(id) {
  const { artifacts: list } = await api("GET", `/v1/chats/${id}/artifacts`);
  if (chatId !== id) return;
  artifacts = list;
  render();
}

/** Handles `tool` and `approval` events from the chat's socket. */
export function onAgentEvent(event) {
  if (event.type === "tool") {
    tools.set(`${event.turn_id}:${event.step}`, event);
    // A finished call may have left an artifact (an HTTP response).
    if (event.state === "done" || event.state === "failed") loadArtifacts(chatId).catch(() => {});
  }
  else if (event.type === "approval") approvals.set(event.approval.id, event.approval);
  else return;
  render();
}

async function decide(approval, decision, note) {
  try {
    const updated = await api("POST", `/v1/chats/${chatId}/approvals/${approval.id}`, { decision, note: note || undefined });
    approvals.set(updated.id, updated);
  } catch (err) {
    $("approvals-error").textContent = err.message;
  }
  render();
}

function approvalItem(a) {
  const request = JSON.parse(a.request || "{}");
  const detail = el("pre", { className: "request" }, `${request.method} ${request.url}${request.body ? `\n\n${request.body}` : ""}`);
  const item = el("li", { className: "approval" }, el("strong", {}, a.tool), " requested by ", a.requested_by, detail);
  item.dataset.testid = "approval";
  item.dataset.state = a.state;
  if (a.state === "pending") {
    const note = el("input", { type: "text", placeholder: "Note (optional)", maxLength: 1000 });
    const approve = el("button", { type: "button", onclick: () => decide(a, "approve", note.value) }, "Approve");
    const deny = el("button", { type: "button", onclick: () => decide(a, "deny", note.value) }, "Deny");
    approve.dataset.testid = "approve-call";
    deny.dataset.testid = "deny-call";
    item.append(el("div", { className: "row" }, note, approve, deny), el("small", {}, `expires ${new Date(a.expires_at).toLocaleString()}`));
  } else {
    item.append(el("small", {}, `${a.state}${a.decided_by ? ` by ${a.decided_by}` : ""}${a.note ? `: ${a.note}` : ""}`));
  }
  return item;
}

function render() {
  const list = $("approval-list");
  const shown = [...approvals.values()].sort((x, y) => (x.state === "pending") - (y.state === "pending") || y.created_at - x.created_at).reverse();
  list.replaceChildren(...shown.slice(0, 10).map(approvalItem));
  $("approvals").hidden = shown.length === 0;
  $("artifacts").hidden = artifacts.length === 0;
  $("artifact-list").replaceChildren(...artifacts.slice(0, 10).map((a) => {
    const item = el("li", {}, el("details", {}, el("summary", {}, a.title), el("pre", { className: "request" }, a.body)));
    item.dataset.testid = "artifact";
    return item;
  }));
  const steps = $("tool-steps");
  steps.replaceChildren(...[...tools.values()].slice(-8).map((t) => {
    const li = el("li", {}, el("code", {}, t.tool), ` ${t.state}${t.summary ? ` · ${t.summary}` : ""}`);
    li.dataset.testid = "tool-step";
    li.dataset.state = t.state;
    return li;
  }));
}
