// A fake OpenAI-compatible chat-completions server on 127.0.0.1 that speaks the real wire
// format: `POST /v1/chat/completions` with `stream: true` answers `text/event-stream` chunks
// shaped like OpenAI's, ending with `data: [DONE]`. Each request takes the next scripted
// behaviour from a queue (or the default), and every request is recorded.

import http from "node:http";

const sse = (obj) => `data: ${typeof obj === "string" ? obj : JSON.stringify(obj)}\n\n`;

function chunk(model, delta, finish_reason = null) {
  return { id: "chatcmpl-fake", object: "chat.completion.chunk", created: 1_700_000_000, model, choices: [{ index: 0, delta, finish_reason }] };
}

/** Behaviours: text, toolCalls, status, hang, malformed, truncated, stall (some text, then silence). */
export const behave = {
  text: (pieces, { delayMs = 0 } = {}) => ({ kind: "text", pieces, delayMs }),
  toolCalls: (calls) => ({ kind: "tools", calls }),
  status: (status, { retryAfter, body } = {}) => ({ kind: "status", status, retryAfter, body }),
  hang: () => ({ kind: "hang" }),
  malformed: () => ({ kind: "malformed" }),
  truncated: (pieces) => ({ kind: "truncated", pieces }),
  stall: (pieces) => ({ kind: "stall", pieces }),
};

export async function startFakeOpenAI({ defaultBehaviour = behave.text(["Hello", " from", " the", " fake", " model."]) } = {}) {
  const queue = [];
  const requests = [];
  const open = new Set();
  const server = http.createServer(async (req, res) => {
    let raw = "";
    for await (const part of req) raw += part;
    let body;
    try {
      body = JSON.parse(raw);
    } catch {
      body = null;
    }
    requests.push({ method: req.method, url: req.url, headers: req.headers, body });
    if (req.method !== "POST" || req.url !== "/v1/chat/completions") {
      res.writeHead(404, { "content-type": "application/json" }).end(JSON.stringify({ error: { message: "not found" } }));
      return;
    }
    const b = queue.length ? queue.shift() : defaultBehaviour;
    const model = body?.model ?? "unknown";
    if (b.kind === "status") {
      const headers = { "content-type": "application/json" };
      if (b.retryAfter !== undefined) headers["retry-after"] = String(b.retryAfter);
      res.writeHead(b.status, headers).end(b.body ?? JSON.stringify({ error: { message: `scripted ${b.status}`, type: "server_error" } }));
      return;
    }
    if (b.kind === "hang") {
      open.add(res);
      return; // never answers; the client's timeout must fire
    }
    res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
    if (b.kind === "malformed") {
      res.end(sse(chunk(model, { role: "assistant", content: "" })) + "data: {\"choices\": [ this is not json\n\n");
      return;
    }
    if (b.kind === "tools") {
      res.write(sse(chunk(model, { role: "assistant", content: null })));
      b.calls.forEach((c, index) => {
        res.write(sse(chunk(model, { tool_calls: [{ index, id: c.id, type: "function", function: { name: c.name, arguments: "" } }] })));
        const args = c.arguments;
        const half = Math.floor(args.length / 2);
        for (const part of [args.slice(0, half), args.slice(half)]) {
          res.write(sse(chunk(model, { tool_calls: [{ index, function: { arguments: part } }] })));
        }
      });
      res.write(sse(chunk(model, {}, "tool_calls")));
      res.write(sse({ id: "chatcmpl-fake", object: "chat.completion.chunk", created: 1_700_000_000, model, choices: [], usage: { prompt_tokens: 11, completion_tokens: 7, total_tokens: 18 } }));
      res.end(sse("[DONE]"));
      return;
    }
    res.write(sse(chunk(model, { role: "assistant", content: "" })));
    for (const piece of b.pieces) {
      if (b.delayMs) await new Promise((r) => setTimeout(r, b.delayMs));
      if (res.destroyed) return;
      res.write(sse(chunk(model, { content: piece })));
    }
    if (b.kind === "truncated") {
      res.end();
      return;
    }
    if (b.kind === "stall") {
      open.add(res);
      return; // the stream stays open and silent; the client's timeout between chunks must fire
    }
    res.write(sse(chunk(model, {}, "stop")));
    res.write(sse({ id: "chatcmpl-fake", object: "chat.completion.chunk", created: 1_700_000_000, model, choices: [], usage: { prompt_tokens: 12, completion_tokens: b.pieces.length, total_tokens: 12 + b.pieces.length } }));
    res.end(sse("[DONE]"));
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address();
  return {
    url: `http://127.0.0.1:${port}/v1`,
    requests,
    script: (...behaviours) => queue.push(...behaviours),
    close: async () => {
      for (const res of open) res.destroy();
      server.closeAllConnections?.();
      await new Promise((r) => server.close(r));
    },
  };
}
