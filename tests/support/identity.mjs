// Sign-in for the tests: a throwaway RS256 key pair per test process, served through the same
// development issuer `cargo xtask dev` runs (so the browser app can sign in), and tokens minted
// with `jose` for any org, user and role. Webhook secrets and the master key are random per run.

import { randomBytes } from "node:crypto";
import { generateKeyPair, exportJWK, importJWK, SignJWT } from "jose";
import { serveDevIssuer, DEV_AUTHORIZED_PARTY } from "../../tools/dev_issuer.mjs";

let shared;

async function keyPair(kid = `test-${randomBytes(4).toString("hex")}`) {
  const { publicKey, privateKey } = await generateKeyPair("RS256", { extractable: true });
  return {
    kid,
    publicJwk: { ...(await exportJWK(publicKey)), kid, alg: "RS256", use: "sig" },
    privateJwk: { ...(await exportJWK(privateKey)), kid, alg: "RS256" },
  };
}

/**
 * The per-process keys, issuer and secrets (created on first use). `key` signs by default;
 * `next` is also in the JWKS (a key rotation in progress); `forged` shares `key`'s kid but is
 * not in the JWKS.
 */
export async function testIdentity() {
  if (shared) return shared;
  const key = await keyPair();
  const next = await keyPair();
  const forged = await keyPair(key.kid);
  const issuer = await serveDevIssuer({ key });
  issuer.server.unref(); // the tests end when their stacks do, whatever the issuer is doing
  shared = {
    key,
    next,
    forged,
    issuer,
    secrets: {
      PARLEY_MASTER_KEY: randomBytes(32).toString("base64"),
      CLERK_WEBHOOK_SECRET: `whsec_${randomBytes(24).toString("base64")}`,
      STRIPE_WEBHOOK_SECRET: `whsec_test_${randomBytes(16).toString("hex")}`,
    },
  };
  return shared;
}

/** The orchestrator variables that configure sign-in, webhooks and secrets for the tests. */
export async function authVars() {
  const id = await testIdentity();
  return {
    CLERK_JWKS: JSON.stringify({ keys: [id.key.publicJwk, id.next.publicJwk] }),
    CLERK_ISSUER: id.issuer.url,
    CLERK_AUTHORIZED_PARTIES: DEV_AUTHORIZED_PARTY,
    PARLEY_DEV_ISSUER_URL: id.issuer.url,
    ...id.secrets,
  };
}

/**
 * A Clerk-shaped session token. Defaults: the seeded demo org's admin, valid for an hour.
 * Any claim can be overridden or removed (`undefined`) to build bad tokens; `key` names the
 * signing key ("key", "next" or "forged"); `header` overrides the protected header.
 */
export async function mintToken({ org_id = "org_demo", user_id = "user_demo", role = "admin", ttl = 3600, claims = {}, key = "key", header = {} } = {}) {
  const id = await testIdentity();
  const signingJwk = id[key].privateJwk;
  const now = Math.floor(Date.now() / 1000);
  const payload = {
    iss: id.issuer.url,
    sub: user_id,
    azp: DEV_AUTHORIZED_PARTY,
    sid: `sess_${user_id}`,
    iat: now,
    nbf: now - 5,
    exp: now + ttl,
    v: 2,
    o: { id: org_id, rol: role, slg: org_id },
    ...claims,
  };
  for (const k of Object.keys(payload)) if (payload[k] === undefined) delete payload[k];
  return new SignJWT(payload)
    .setProtectedHeader({ alg: "RS256", kid: signingJwk.kid, typ: "JWT", ...header })
    .sign(await importJWK(signingJwk, "RS256"));
}
