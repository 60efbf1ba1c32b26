//! The OpenAI chat-completions wire format, streaming flavour.

pub mod request;
pub mod stream;

pub use request::completion_body;
pub use stream::{StreamAccumulator, StreamError};
