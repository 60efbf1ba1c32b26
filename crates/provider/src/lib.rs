//! The model-provider core used by the agents worker.
//!
//! The worker shell does the HTTP; everything it decides (which provider, what to send, how to
//! read the stream, whether to retry and how long to wait) is here, tested without a network.

pub mod breaker;
pub mod config;
pub mod offline;
pub mod openai;
pub mod retry;
pub mod sse;

pub use config::{ProviderConfig, ProviderChoice};
