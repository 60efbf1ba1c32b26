//! The agent's fixed tool set, as pure functions.
//!
//! - [`catalog`](mod@catalog): the tools declared to the model, their argument schemas, and parsing a
//!   model's raw call into a typed [`ToolCall`].
//! - [`schema`]: the small JSON-Schema subset those argument schemas are written in.
//! - [`slots`]: proposing meeting slots in a contact's business hours.
//! - [`chunk`]: splitting knowledge-base documents into overlapping chunks.
//!
//! Nothing here performs I/O or reads a clock: the shell passes in the time, the zone rules
//! and any configuration, and decides what to do with the results.

pub mod catalog;
pub mod chunk;
pub mod schema;
pub mod slots;

pub use catalog::{catalog, needs_approval, parse_call, ToolCall, ToolError};
pub use chunk::{chunk_document, validate_document, Chunk, DocumentError, MAX_DOCUMENT_BYTES};
pub use schema::{validate, SchemaViolation};
pub use slots::{parse_holidays, propose_meeting_slots, Busy, Slot, SlotError};
