//! Authenticating `/v1` requests with Clerk session tokens (JWTs signed with RS256).
//!
//! Checking a token is split between this pure crate and the worker shell:
//!
//! 1. [`session_token`] finds the token: `Authorization: Bearer ...`, else the `__session`
//!    cookie;
//! 2. [`parse_token`] splits and decodes it, refusing anything but `alg: RS256` (so `none` and
//!    `HS256` key-confusion tricks never reach a key);
//! 3. [`select_key`] picks the signing key from the issuer's JWKS (read with [`parse_jwks`]) by
//!    the header's `kid`;
//! 4. **the shell** imports that [`Jwk`] with `crypto.subtle.importKey("jwk", ...)` as
//!    RSASSA-PKCS1-v1_5 / SHA-256 and calls `crypto.subtle.verify` over
//!    [`TokenParts::signing_input`] and [`TokenParts::signature`], answering
//!    [`AuthError::BadSignature`] when it fails;
//! 5. [`check_claims`] checks expiry, issuer, authorized party and the active organisation at
//!    a time passed in, and returns the [`Session`].
//!
//! The signature check is left to WebCrypto on purpose: the runtime's implementation is
//! audited and constant-time, it is already present in every Worker, and not compiling an RSA
//! and big-integer implementation into the wasm keeps the bundle small.
//!
//! ```
//! use auth::{check_claims, parse_token, select_key, AuthError, Jwk, Jwks, Session, SessionPolicy};
//!
//! /// The shape of the shell's flow; `verify` stands for the (async) WebCrypto call.
//! fn authenticate(
//!     token: &str,
//!     jwks: &Jwks,
//!     policy: &SessionPolicy,
//!     now_secs: i64,
//!     verify: impl Fn(&Jwk, &[u8], &[u8]) -> bool,
//! ) -> Result<Session, AuthError> {
//!     let parts = parse_token(token)?;
//!     let key = select_key(jwks, parts.header.kid.as_deref())?;
//!     if !verify(key, parts.signing_input.as_bytes(), &parts.signature) {
//!         return Err(AuthError::BadSignature);
//!     }
//!     check_claims(&parts.claims, policy, now_secs)
//! }
//! ```
//!
//! [`ticket`] holds the single-use tickets that authenticate WebSocket upgrades, which cannot
//! carry an `Authorization` header.

mod claims;
mod credentials;
mod error;
mod jwks;
mod role;
pub mod ticket;
mod token;
mod verified;

pub use claims::{check_claims, Session, SessionPolicy};
pub use credentials::{session_token, SESSION_COOKIE};
pub use error::AuthError;
pub use jwks::{parse_jwks, select_key, Jwk, Jwks};
pub use role::Role;
pub use ticket::{looks_like_ticket, ticket_from_bytes, ticket_hash, TICKET_TTL_MS};
pub use verified::{VerifiedTokens, VERIFIED_CAPACITY, VERIFIED_TTL_SECS};
pub use token::{parse_token, JoseHeader, OrgClaim, SessionClaims, TokenParts, ALGORITHM, MAX_TOKEN_LEN};
