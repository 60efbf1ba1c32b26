//! D1 access for tenancy and billing, shared by the orchestrator and the Chat Controller
//! Durable Object (hosted by the chat worker); both bind the same D1 database as `DB`.
//!
//! Each module owns the SQL for one table family; decisions are made by the pure crates
//! (`billing`, `auth`, `domain`) and only carried out here.

pub mod active_turns;
pub mod budget;
pub mod metrics;
pub mod rate;
pub mod security_events;
pub mod secrets;
pub mod turn_record;
pub mod usage;
pub mod write_behind;

use domain::ApiError;
use wasm_bindgen::JsValue;
use worker::{D1Database, D1PreparedStatement, Env};

/// The `DB` binding.
pub fn db(env: &Env) -> Result<D1Database, ApiError> {
    env.d1("DB").map_err(unavailable)
}

/// Logs a D1 failure and reports D1 as unavailable.
pub fn unavailable(cause: impl std::fmt::Display) -> ApiError {
    worker::console_error!("d1 failed: {cause}");
    ApiError::Unavailable { dependency: "d1" }
}

/// A statement with its arguments bound.
pub fn stmt(db: &D1Database, sql: &str, args: &[JsValue]) -> Result<D1PreparedStatement, ApiError> {
    db.prepare(sql).bind(args).map_err(unavailable)
}

/// A text argument.
pub fn text(s: &str) -> JsValue {
    JsValue::from_str(s)
}

/// An integer argument (D1 numbers are doubles; every integer we store is well inside 2^53).
pub fn int(n: i64) -> JsValue {
    JsValue::from_f64(n as f64)
}

/// An optional text argument (`NULL` when absent).
pub fn opt_text(s: Option<&str>) -> JsValue {
    s.map_or(JsValue::NULL, JsValue::from_str)
}

/// An optional integer argument.
pub fn opt_int(n: Option<i64>) -> JsValue {
    n.map_or(JsValue::NULL, int)
}

/// Runs one statement.
pub async fn run(db: &D1Database, sql: &str, args: &[JsValue]) -> Result<(), ApiError> {
    stmt(db, sql, args)?.run().await.map_err(unavailable)?;
    Ok(())
}

/// Every row of a query.
pub async fn all<T: serde::de::DeserializeOwned>(db: &D1Database, sql: &str, args: &[JsValue]) -> Result<Vec<T>, ApiError> {
    stmt(db, sql, args)?.all().await.map_err(unavailable)?.results().map_err(unavailable)
}

/// The first row of a query, if any.
pub async fn first<T: serde::de::DeserializeOwned>(db: &D1Database, sql: &str, args: &[JsValue]) -> Result<Option<T>, ApiError> {
    stmt(db, sql, args)?.first(None).await.map_err(unavailable)
}
