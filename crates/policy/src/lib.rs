//! The send policy: one function, [`decide`], that every outbound message passes, whoever wrote
//! it. It reads the request, the contact's history, the org's settings and the current time,
//! and returns allow, deny, defer until a named time, or strategy review, with reason codes and
//! a `rule_trace` of every rule it evaluated.
//!
//! A channel can only send with a [`SendPermit`], and only [`decide`] can make one.

mod decision;
mod engine;
mod local_time;
mod rules;
mod settings;
pub mod tzdb;

pub use decision::{Decision, ReasonCode, RuleId, RuleOutcome, RuleTrace, SendPermit, Verdict};
pub use engine::decide;
pub use local_time::{ContactZone, ZoneRules};
pub use settings::{Contact, ContactHistory, Guardrails, HistoryEvent, Mode, OrgSettings, Origin, SendRequest};

/// Milliseconds since the Unix epoch, UTC.
pub type Millis = i64;

pub const HOUR: Millis = 3_600_000;
pub const DAY: Millis = 24 * HOUR;
