//! Parley's observability core, pure: no I/O, no clock (times are passed in).
//!
//! - [`trace`]: the trace id every request carries across the workers, generated from random
//!   bytes or taken, strictly validated, from an incoming `x-parley-trace` or `traceparent`.
//! - [`log`]: one JSON log line per event, built only from typed fields (names, ids, numbers),
//!   so no message body or secret value has a way into a log line.
//! - [`metrics`]: the metric families, the increments a request or turn adds, and their
//!   rendering in the Prometheus text exposition format.
//! - [`write_behind`]: an isolate's unwritten metric and rate-limit counts, written in batches
//!   after the responses instead of one D1 write per request.

pub mod log;
pub mod metrics;
pub mod trace;
pub mod write_behind;

pub use log::{Level, LogLine};
pub use trace::{TraceId, TRACE_HEADER};
