// Signing in. The app asks the worker how (`GET /auth/config`):
// - "development": a local development issuer (started by `cargo xtask dev`) hands out
//   Clerk-shaped session tokens for the seeded demo org; the worker verifies them exactly as it
//   verifies Clerk's;
// - "clerk": Clerk's browser SDK (loaded from the Clerk frontend API named by the publishable
//   key) supplies the session token.
// Every API call carries the token as a bearer header; WebSockets use a single-use ticket.

let config;
let cached = { token: null, expiresAt: 0 };

async function authConfig() {
  if (!config) {
    const res = await fetch("/auth/config");
    config = await res.json();
  }
  return config;
}

// Clerk's publishable key is `pk_(test|live)_` + base64 of "<frontend api host>$".
function clerkFrontendApi(publishableKey) {
  const encoded = publishableKey.split("_").slice(2).join("_");
  return atob(encoded).replace(/\$$/, "");
}

async function loadClerk(publishableKey) {
  if (!window.Clerk) {
    await new Promise((resolve, reject) => {
      const script = document.createElement("script");
      script.src = `https://${clerkFrontendApi(publishableKey)}/npm/@clerk/clerk-js@5/dist/clerk.browser.js`;
      script.dataset.clerkPublishableKey = publishableKey;
      script.crossOrigin = "anonymous";
      script.onload = resolve;
      script.onerror = () => reject(new Error("could not load Clerk"));
      document.head.append(script);
    });
    await window.Clerk.load();
  }
  if (!window.Clerk.session) {
    window.Clerk.openSignIn();
    throw new Error("please sign in");
  }
  return window.Clerk;
}

/** A current session token; `fresh` skips the cache (after a 401). */
export async function sessionToken(fresh = false) {
  if (!fresh && cached.token && Date.now() < cached.expiresAt - 30_000) return cached.token;
  const cfg = await authConfig();
  if (cfg.mode === "development") {
    const res = await fetch(`${cfg.dev_issuer}/token`);
    if (!res.ok) throw new Error(`the development issuer answered ${res.status}`);
    const body = await res.json();
    cached = { token: body.token, expiresAt: body.expires_at };
    return cached.token;
  }
  if (cfg.mode === "clerk") {
    const clerk = await loadClerk(cfg.clerk_publishable_key);
    // Clerk caches and refreshes its short-lived tokens itself.
    return clerk.session.getToken();
  }
  throw new Error("sign-in is not configured on this server");
}

/** Whether the app signed in through the local development issuer. */
export async function isDevelopmentSignIn() {
  return (await authConfig()).mode === "development";
}

/** `fetch` with the session token; retried once with a fresh token after a 401. */
export async function authedFetch(path, init = {}) {
  for (const fresh of [false, true]) {
    const headers = { ...(init.headers || {}), Authorization: `Bearer ${await sessionToken(fresh)}` };
    const res = await fetch(path, { ...init, headers });
    if (res.status !== 401 || fresh) return res;
  }
}

/** A single-use ticket for a chat's WebSocket. */
export async function socketTicket(chatId) {
  const res = await authedFetch(`/v1/chats/${chatId}/ws-ticket`, { method: "POST" });
  const body = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(body?.error?.message || `HTTP ${res.status}`);
  return body.ticket;
}
