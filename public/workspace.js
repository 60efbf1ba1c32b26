// The workspace view: leads, sends decided by the send policy, drafts waiting for a person,
// the audit log and the policy settings. Everything shown comes from the API; nothing here
// decides anything.

import { authedFetch } from "/session.js";

const $ = (id) => document.getElementById(id);

async function api(method, path, body, contentType = "application/json") {
  const init = { method, headers: {} };
  if (body !== undefined) {
    init.headers["Content-Type"] = contentType;
    init.body = contentType === "application/json" ? JSON.stringify(body) : body;
  }
  const res = await authedFetch(path, init);
  const data = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(data?.error?.message || `HTTP ${res.status}`);
  return { status: res.status, data };
}

const el = (tag, props = {}, ...children) => {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k === "dataset") Object.assign(node.dataset, v);
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node[k] = v;
  }
  node.append(...children.filter((c) => c !== null && c !== undefined));
  return node;
};

const state = { leadId: null };

function say(text, bad = false) {
  const box = $("ws-notice");
  box.textContent = text;
  box.dataset.bad = String(bad);
  box.hidden = !text;
}

function describeDecision(d) {
  const when = d.until ? ` until ${new Date(d.until).toLocaleString()}` : "";
  const reasons = d.reasons?.length ? ` (${d.reasons.join(", ")})` : "";
  return `${d.verdict.toUpperCase()}${when}${reasons}. ${d.next_step ?? ""}`.trim();
}

export async function refreshLeads() {
  const { data } = await api("GET", "/v1/leads");
  const list = $("ws-leads");
  list.replaceChildren(
    ...data.leads.map((l) =>
      el("li", {}, el("button", { type: "button", textContent: `${l.name} · ${l.stage}${l.opted_out ? " · opted out" : ""}${l.human_takeover ? " · taken over" : ""}`, dataset: { testid: "lead-item", leadId: l.id }, onclick: () => openLead(l.id) })),
    ),
  );
}

async function openLead(id) {
  state.leadId = id;
  const [{ data: lead }, { data: decisions }] = await Promise.all([api("GET", `/v1/leads/${id}`), api("GET", `/v1/leads/${id}/decisions`)]);
  $("ws-lead-title").textContent = `${lead.name} (${lead.stage})`;
  $("ws-lead-meta").textContent = [lead.email, lead.time_zone ?? "time zone unknown", lead.opted_out ? "OPTED OUT" : null, lead.human_takeover ? "taken over by a person" : null].filter(Boolean).join(" · ");
  $("ws-lead").hidden = false;
  $("ws-takeover").textContent = lead.human_takeover ? "Hand back to the agent" : "Take over";
  $("ws-decisions").replaceChildren(...decisions.decisions.map((d) => el("li", { textContent: `#${d.id} ${new Date(d.decided_at).toLocaleString()}: ${describeDecision(d)}`, dataset: { testid: "decision" } })));
}

export async function refreshDrafts() {
  const { data } = await api("GET", "/v1/drafts");
  $("ws-drafts").replaceChildren(
    ...data.drafts.map((d) => {
      const actions = [];
      if (d.state === "pending") actions.push(el("button", { type: "button", textContent: "Approve", dataset: { testid: "approve" }, onclick: () => act(d.id, "approve") }));
      if (d.state === "pending" || d.state === "approved") {
        const reason = el("input", { type: "text", placeholder: "Reason for rejecting", dataset: { testid: "reject-reason" } });
        actions.push(reason, el("button", { type: "button", textContent: "Reject", dataset: { testid: "reject" }, onclick: () => reject(d.id, reason.value) }));
      }
      if (d.state === "approved") actions.push(el("button", { type: "button", textContent: "Send", dataset: { testid: "send-draft" }, onclick: () => act(d.id, "send") }));
      const problems = d.quality.violations.map((v) => el("li", { textContent: `${v.severity}: ${v.message}. Fix: ${v.suggested_fix}` }));
      return el(
        "li",
        { className: `draft ${d.state}`, dataset: { testid: "draft", state: d.state } },
        el("p", { textContent: d.content }),
        el("p", { className: "meta", textContent: `#${d.id} · ${d.state} · quality ${d.quality.verdict}, risk ${d.quality.risk_score}${d.reject_reason ? ` · rejected: ${d.reject_reason}` : ""}` }),
        problems.length ? el("ul", { className: "violations" }, ...problems) : null,
        el("div", { className: "actions" }, ...actions),
      );
    }),
  );
}

async function act(id, action) {
  try {
    const { data } = await api("POST", `/v1/drafts/${id}/${action}`);
    say(data.decision ? `Draft #${id}: ${describeDecision(data.decision)}` : `Draft #${id} ${data.state}.`, data.decision && data.decision.verdict !== "allow");
  } catch (err) {
    say(err.message, true);
  }
  await Promise.all([refreshDrafts(), state.leadId ? openLead(state.leadId) : null, refreshAudit(), refreshOutbox()]);
}

async function reject(id, reason) {
  try {
    await api("POST", `/v1/drafts/${id}/reject`, { reason });
  } catch (err) {
    say(err.message, true);
  }
  await refreshDrafts();
}

export async function refreshAudit() {
  const { data } = await api("GET", "/v1/audit?limit=1000");
  $("ws-chain").textContent = data.chain_intact ? "chain intact" : `chain BROKEN at #${data.first_broken}`;
  $("ws-audit").replaceChildren(...data.entries.slice(-50).reverse().map((e) => el("li", { textContent: `#${e.seq} ${new Date(e.at).toLocaleString()} ${e.actor} ${e.action}${e.lead_id ? ` ${e.lead_id}` : ""}` })));
}

export async function refreshOutbox() {
  const { data } = await api("GET", "/v1/outbox");
  $("ws-outbox").replaceChildren(...data.sent.map((m) => el("li", { textContent: `${new Date(m.created_at).toLocaleString()} to ${m.lead_id}: ${m.content}`, dataset: { testid: "outbox-item" } })));
}

export async function refreshSettings() {
  const { data } = await api("GET", "/v1/workspace/settings");
  $("ws-mode").value = data.mode;
  $("ws-kill").checked = data.kill_switch;
  $("ws-sunday").checked = data.sunday_hold;
}

async function saveSettings() {
  try {
    await api("PUT", "/v1/workspace/settings", { mode: $("ws-mode").value, kill_switch: $("ws-kill").checked, sunday_hold: $("ws-sunday").checked });
    say("Settings saved.");
  } catch (err) {
    say(err.message, true);
  }
  await refreshAudit();
}

function form(id, handler) {
  $(id).addEventListener("submit", async (ev) => {
    ev.preventDefault();
    try {
      await handler(new FormData(ev.target));
      ev.target.reset();
    } catch (err) {
      say(err.message, true);
    }
  });
}

// The audit export needs the session token, so it is fetched and handed over as a file.
async function downloadAuditCsv() {
  const res = await authedFetch("/v1/audit/export");
  if (!res.ok) {
    const data = await res.json().catch(() => ({}));
    throw new Error(data?.error?.message || `HTTP ${res.status}`);
  }
  const url = URL.createObjectURL(await res.blob());
  const a = Object.assign(document.createElement("a"), { href: url, download: "audit.csv" });
  document.body.append(a);
  a.click();
  a.remove();
  URL.revokeObjectURL(url);
}

export function initWorkspace() {
  $("ws-audit-export").addEventListener("click", () => downloadAuditCsv().catch((err) => say(err.message, true)));
  form("ws-new-lead", async (f) => {
    const body = { name: f.get("name") };
    for (const k of ["email", "time_zone"]) if (f.get(k)) body[k] = f.get(k);
    const { data } = await api("POST", "/v1/leads", body);
    await refreshLeads();
    await openLead(data.id);
  });
  form("ws-import", async (f) => {
    const file = f.get("file");
    const { data } = await api("POST", "/v1/leads/import", await file.text(), "text/csv");
    say(`Imported ${data.created.length}; rejected ${data.rejected.length}${data.rejected.length ? `: ${data.rejected.map((r) => `row ${r.row} (${r.errors.join("; ")})`).join(", ")}` : ""}.`, data.rejected.length > 0);
    await refreshLeads();
  });
  form("ws-send", async (f) => {
    const { data } = await api("POST", `/v1/leads/${state.leadId}/sends`, { client_id: crypto.randomUUID(), content: f.get("content") });
    say(describeDecision(data.decision), data.decision.verdict !== "allow");
    await Promise.all([openLead(state.leadId), refreshAudit(), refreshOutbox()]);
  });
  form("ws-draft", async (f) => {
    const { data } = await api("POST", `/v1/leads/${state.leadId}/drafts`, { client_id: crypto.randomUUID(), content: f.get("content") });
    say(`Draft #${data.id} is ${data.state} (quality ${data.quality.verdict}).`, data.state === "blocked");
    await Promise.all([refreshDrafts(), refreshAudit()]);
  });
  form("ws-reply", async (f) => {
    const { data } = await api("POST", `/v1/leads/${state.leadId}/replies`, { client_id: crypto.randomUUID(), content: f.get("content") });
    say(data.opted_out ? "Reply recorded: the contact opted out. They will never be contacted again." : "Reply recorded.");
    await Promise.all([openLead(state.leadId), refreshLeads(), refreshAudit()]);
  });
  $("ws-stage").addEventListener("change", async (ev) => {
    if (!ev.target.value) return;
    try {
      await api("POST", `/v1/leads/${state.leadId}/stage`, { stage: ev.target.value });
    } catch (err) {
      say(err.message, true);
    }
    ev.target.value = "";
    await Promise.all([openLead(state.leadId), refreshLeads(), refreshAudit()]);
  });
  $("ws-takeover").addEventListener("click", async () => {
    const { data } = await api("GET", `/v1/leads/${state.leadId}`);
    await api("POST", `/v1/leads/${state.leadId}/${data.human_takeover ? "handback" : "takeover"}`);
    await Promise.all([openLead(state.leadId), refreshLeads(), refreshAudit()]);
  });
  $("ws-settings").addEventListener("change", saveSettings);
}

export async function showWorkspace() {
  await Promise.all([refreshLeads(), refreshDrafts(), refreshAudit(), refreshSettings(), refreshOutbox()]);
}
