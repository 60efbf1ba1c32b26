//! Who is calling: a Clerk session token (the `Authorization: Bearer` header or the
//! `__session` cookie), verified as RS256 against the configured JWKS.
//!
//! The pure `auth` crate parses the token, picks the key by `kid` and checks the claims; this
//! shell reads the configuration and asks WebCrypto whether the signature holds. The org and
//! role come from the token's org claims. Tokens from the local development issuer take the
//! same path, and `domain::local_issuer` keeps them from being accepted anywhere but loopback.

use crate::config::{required, setting};
use auth::{AuthError, Role, SessionPolicy};
use domain::ids::OrgId;
use domain::local_issuer;
use domain::ApiError;
use runtime_support::webcrypto;
use std::cell::RefCell;
use worker::{Env, Request};

thread_local! {
    /// Signatures already verified by this isolate (the claims are still checked every time).
    static VERIFIED: RefCell<auth::VerifiedTokens> = RefCell::new(auth::VerifiedTokens::new());
}

/// Tolerated clock difference between Clerk and the worker.
const CLOCK_SKEW_SECS: i64 = 30;

/// The authenticated caller.
#[derive(Debug, Clone)]
pub struct Identity {
    pub org: OrgId,
    pub user_id: String,
    pub role: Role,
}

/// Maps a refusal to the API's error, keeping its code; the token itself is never included.
pub fn refused(e: AuthError) -> ApiError {
    match e.status() {
        403 => ApiError::Forbidden { code: e.code(), message: e.to_string() },
        _ => ApiError::AuthRefused { code: e.code(), message: e.to_string() },
    }
}

/// Authenticates a request from its session token.
pub async fn authenticate(req: &Request, env: &Env, now_secs: i64) -> Result<Identity, ApiError> {
    let headers = req.headers();
    let authorization = headers.get("Authorization").ok().flatten();
    let cookie = headers.get("Cookie").ok().flatten();
    let token = auth::session_token(authorization.as_deref(), cookie.as_deref()).ok_or(ApiError::Unauthenticated)?;
    let host = runtime_support::query::host(req);
    verify(token, env, &host, now_secs).await
}

async fn verify(token: &str, env: &Env, host: &str, now_secs: i64) -> Result<Identity, ApiError> {
    let policy = SessionPolicy {
        issuer: required(env, "CLERK_ISSUER")?,
        authorized_parties: setting(env, "CLERK_AUTHORIZED_PARTIES")
            .map(|list| list.split(',').map(|p| p.trim().to_owned()).filter(|p| !p.is_empty()).collect())
            .unwrap_or_default(),
        skew_secs: CLOCK_SKEW_SECS,
    };
    if !local_issuer::issuer_allowed(&policy.issuer, host) {
        return Err(refused(AuthError::WrongIssuer));
    }
    let cached = VERIFIED.with(|v| v.borrow().get(token, now_secs).cloned());
    let claims = match cached {
        Some(claims) => claims,
        None => {
            let claims = verify_signature(token, env).await?;
            VERIFIED.with(|v| v.borrow_mut().insert(token, claims.clone(), now_secs));
            claims
        }
    };
    let session = auth::check_claims(&claims, &policy, now_secs).map_err(refused)?;
    Ok(Identity { org: session.org, user_id: session.user_id, role: session.role })
}

/// Parses `token` and checks its RS256 signature against the configured JWKS with WebCrypto;
/// the claims it returns are not yet checked.
async fn verify_signature(token: &str, env: &Env) -> Result<auth::SessionClaims, ApiError> {
    let jwks = auth::parse_jwks(&required(env, "CLERK_JWKS")?).map_err(|_| ApiError::Misconfigured("CLERK_JWKS"))?;
    let parts = auth::parse_token(token).map_err(refused)?;
    let key = auth::select_key(&jwks, parts.header.kid.as_deref()).map_err(refused)?;
    let jwk = serde_json::to_string(key).map_err(|_| ApiError::Misconfigured("CLERK_JWKS"))?;
    let valid = webcrypto::verify_rs256(&jwk, parts.signing_input.as_bytes(), &parts.signature).await.unwrap_or_else(|e| {
        // An unusable key (or signature of the wrong length) is a refusal, not an outage.
        worker::console_warn!("session token signature check failed: {e}");
        false
    });
    if !valid {
        return Err(refused(AuthError::BadSignature));
    }
    Ok(parts.claims)
}
