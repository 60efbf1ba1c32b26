//! The trace id a request carries between Parley's workers (`x-parley-trace`), read strictly:
//! anything but a well-formed id is ignored, so nothing a caller sends reaches a log line.

use telemetry::{TraceId, TRACE_HEADER};
use worker::{Date, Headers, Request};

/// The request's trace id, if it carries a valid one.
pub fn of(req: &Request) -> Option<String> {
    let raw = req.headers().get(TRACE_HEADER).ok().flatten()?;
    TraceId::parse(&raw).map(|t| t.as_str().to_owned())
}

/// Sets the trace header on headers for a call to another worker.
pub fn pass_on(headers: &Headers, trace: Option<&str>) {
    if let Some(t) = trace {
        let _ = headers.set(TRACE_HEADER, t);
    }
}

/// Milliseconds since the Unix epoch, for log lines.
pub fn now_ms() -> i64 {
    Date::now().as_millis() as i64
}
