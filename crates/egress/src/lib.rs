//! The egress guard for the agent's configurable `http_request` tool.
//!
//! Every outbound request the agent makes is checked here first, and the shell only performs
//! requests this crate allows:
//!
//! - [`check`] parses the URL ([`Target::parse`]) and allows it only if it is https, its host is
//!   public ([`address`]) and on the org's allowlist ([`allowlist`]); see [`policy`] for the rules,
//!   the loopback-dev exception and why DNS answers are not (and cannot be) checked;
//! - [`check_request_body`] and [`check_response_size`] cap body sizes;
//! - the shell follows redirects by hand through [`next_hop`], which re-checks every hop;
//! - [`TokenBucket`] rate-limits each org.
//!
//! Every refusal is a [`Refusal`] with a stable [`Refusal::code`]. The crate is pure: no I/O, no
//! clock, no sockets.

pub mod address;
pub mod allowlist;
mod ip_literal;
pub mod policy;
mod rate;
mod redirect;
mod refusal;
mod target;

pub use address::{is_loopback_host, refusal_for_host, refusal_for_ip, refusal_for_name};
pub use allowlist::{AllowEntry, HostPattern};
pub use policy::{
    check, check_request_body, check_response_size, check_target, EgressPolicy,
    DEFAULT_MAX_BODY_BYTES,
};
pub use rate::TokenBucket;
pub use redirect::{next_hop, RedirectChain};
pub use refusal::Refusal;
pub use target::{Host, Scheme, Target, MAX_URL_LEN};
