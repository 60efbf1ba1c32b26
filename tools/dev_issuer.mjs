// The local development issuer: stands in for Clerk on a developer's machine.
//
// It holds an RS256 key pair (generated once, kept in the git-ignored state directory), publishes
// the public half as a JWKS that `cargo xtask dev` configures the orchestrator with, and signs
// short-lived session tokens shaped like Clerk's (v2 org claims) for the browser app. The worker
// verifies them on exactly the same path as real Clerk tokens. Nothing here runs in production:
// the issuer is a separate local process that listens only on 127.0.0.1, its key never leaves the
// machine, and the orchestrator refuses tokens from a loopback issuer unless the request itself
// arrived on a loopback host.
//
//   node tools/dev_issuer.mjs vars  --state DIR --port N    prints the worker's development settings
//                                                           as KEY=VALUE lines (creating keys once)
//   node tools/dev_issuer.mjs serve --state DIR --port N    serves /token and /.well-known/jwks.json

import { createServer } from "node:http";
import { existsSync, readFileSync, writeFileSync, mkdirSync } from "node:fs";
import path from "node:path";
import { randomBytes } from "node:crypto";
import { generateKeyPair, exportJWK, importJWK, SignJWT } from "jose";

/** Who the dev issuer signs in as unless asked otherwise (the seeded demo org and its admin). */
export const DEV_SUBJECT = { org_id: "org_demo", user_id: "user_demo", role: "admin" };
/** The authorized party (`azp`) of dev tokens: the app's origin when served by `cargo xtask dev`. */
export const DEV_AUTHORIZED_PARTY = "http://127.0.0.1:8787";
/** How long a dev token lives; the app refreshes well before. */
const TOKEN_TTL_SECS = 300;

/** Loads the key pair from `file`, creating it on first use. */
export async function loadOrCreateKey(file) {
  if (existsSync(file)) {
    const saved = JSON.parse(readFileSync(file, "utf8"));
    return { kid: saved.kid, privateJwk: saved.private, publicJwk: saved.public };
  }
  const { publicKey, privateKey } = await generateKeyPair("RS256", { extractable: true, modulusLength: 2048 });
  const kid = `dev-${Date.now().toString(36)}`;
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg: "RS256", use: "sig" };
  const privateJwk = { ...(await exportJWK(privateKey)), kid, alg: "RS256" };
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify({ kid, private: privateJwk, public: publicJwk }), { mode: 0o600 });
  return { kid, privateJwk, publicJwk };
}

/** The JWKS document for a key. */
export function jwksOf(key) {
  return { keys: [key.publicJwk] };
}

/** Signs a Clerk-shaped (v2) session token. */
export async function signSessionToken(key, { issuer, org_id, user_id, role, azp = DEV_AUTHORIZED_PARTY, ttl = TOKEN_TTL_SECS }) {
  const signingKey = await importJWK(key.privateJwk, "RS256");
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ azp, sid: `sess_dev_${user_id}`, v: 2, o: { id: org_id, rol: role, slg: org_id } })
    .setProtectedHeader({ alg: "RS256", kid: key.kid, typ: "JWT" })
    .setIssuer(issuer)
    .setSubject(user_id)
    .setIssuedAt(now)
    .setNotBefore(now - 5)
    .setExpirationTime(now + ttl)
    .sign(signingKey);
}

function isLoopbackOrigin(origin) {
  try {
    const { hostname } = new URL(origin);
    return hostname === "127.0.0.1" || hostname === "localhost" || hostname === "[::1]";
  } catch {
    return false;
  }
}

/**
 * Serves the issuer on 127.0.0.1:`port` (0 picks a free port). `GET /token?org_id=&user_id=&role=`
 * answers `{ token, expires_at }`. Returns { url, issuer, close() }.
 */
export async function serveDevIssuer({ key, port = 0, authorizedParty = DEV_AUTHORIZED_PARTY }) {
  const server = createServer(async (req, res) => {
    const origin = req.headers.origin;
    const headers = { "Content-Type": "application/json", "Cache-Control": "no-store" };
    if (origin && isLoopbackOrigin(origin)) {
      headers["Access-Control-Allow-Origin"] = origin;
      headers.Vary = "Origin";
    }
    const url = new URL(req.url, "http://127.0.0.1");
    if (req.method === "GET" && url.pathname === "/.well-known/jwks.json") {
      res.writeHead(200, headers).end(JSON.stringify(jwksOf(key)));
      return;
    }
    if (req.method === "GET" && url.pathname === "/token") {
      const q = url.searchParams;
      const subject = {
        org_id: q.get("org_id") || DEV_SUBJECT.org_id,
        user_id: q.get("user_id") || DEV_SUBJECT.user_id,
        role: q.get("role") || DEV_SUBJECT.role,
      };
      const token = await signSessionToken(key, { issuer: handle.issuer, azp: authorizedParty, ...subject });
      res.writeHead(200, headers).end(JSON.stringify({ token, expires_at: Date.now() + TOKEN_TTL_SECS * 1000, ...subject }));
      return;
    }
    res.writeHead(404, headers).end(JSON.stringify({ error: { code: "not_found", message: "no such route" } }));
  });
  await new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", resolve);
  });
  const url = `http://127.0.0.1:${server.address().port}`;
  const handle = { url, issuer: url, server, close: () => new Promise((r) => server.close(r)) };
  return handle;
}

/**
 * The development settings the orchestrator runs with: the issuer's JWKS and URL, and local
 * secrets (the master key that encrypts org secrets, the Clerk and Stripe webhook secrets),
 * generated once and kept in the state directory so that data written today decrypts tomorrow.
 */
export async function devSettings(stateDir, issuerUrl) {
  const key = await loadOrCreateKey(path.join(stateDir, "dev_issuer_key.json"));
  const file = path.join(stateDir, "dev_secrets.json");
  let secrets;
  if (existsSync(file)) {
    secrets = JSON.parse(readFileSync(file, "utf8"));
  } else {
    secrets = {
      PARLEY_MASTER_KEY: randomBytes(32).toString("base64"),
      CLERK_WEBHOOK_SECRET: `whsec_${randomBytes(24).toString("base64")}`,
      STRIPE_WEBHOOK_SECRET: `whsec_${randomBytes(24).toString("hex")}`,
    };
    mkdirSync(stateDir, { recursive: true });
    writeFileSync(file, JSON.stringify(secrets), { mode: 0o600 });
  }
  return {
    CLERK_JWKS: JSON.stringify(jwksOf(key)),
    CLERK_ISSUER: issuerUrl,
    CLERK_AUTHORIZED_PARTIES: DEV_AUTHORIZED_PARTY,
    PARLEY_DEV_ISSUER_URL: issuerUrl,
    ...secrets,
  };
}

function arg(name, fallback) {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const command = process.argv[2];
  const stateDir = arg("--state", ".state");
  const port = Number(arg("--port", "8788"));
  if (command === "vars") {
    const settings = await devSettings(stateDir, `http://127.0.0.1:${port}`);
    process.stdout.write(Object.entries(settings).map(([k, v]) => `${k}=${v}\n`).join(""));
  } else if (command === "serve") {
    const key = await loadOrCreateKey(path.join(stateDir, "dev_issuer_key.json"));
    const issuer = await serveDevIssuer({ key, port });
    process.stderr.write(`dev issuer: ${issuer.url} (development only; signs in to the seeded demo org)\n`);
  } else {
    process.stderr.write("usage: dev_issuer.mjs vars|serve [--state DIR] [--port N]\n");
    process.exit(2);
  }
}
