//! Parley's functional core for chats.
//!
//! Everything here is deterministic: time, identifiers and randomness are passed in by the
//! shells (the orchestrator worker and the Durable Objects), which carry out the effects.

pub mod agent_protocol;
pub mod api_error;
pub mod budget;
pub mod chat;
pub mod civil;
pub mod context;
pub mod local_issuer;
pub mod master_key;
pub mod endpoint;
pub mod events;
pub mod ids;
pub mod inbound;
pub mod json_fields;
pub mod knowledge;
pub mod message;
pub mod ndjson;
pub mod paging;
pub mod routes;
pub mod schedule;
pub mod secret;
pub mod summary;
pub mod tool_protocol;
pub mod tool_steps;
pub mod turn;

pub use api_error::ApiError;
