//! Reading the worker's configuration: variables and secrets, by name. A missing or invalid
//! setting is reported by name only, never by value.

use domain::ApiError;
use worker::Env;

/// A setting from a Worker secret or a plain variable (secrets win), trimmed; `None` if unset
/// or empty.
pub fn setting(env: &Env, name: &str) -> Option<String> {
    let value = env.secret(name).ok().map(|s| s.to_string()).or_else(|| env.var(name).ok().map(|v| v.to_string()))?;
    let value = value.trim().to_owned();
    (!value.is_empty()).then_some(value)
}

/// A setting that the route cannot work without.
pub fn required(env: &Env, name: &'static str) -> Result<String, ApiError> {
    setting(env, name).ok_or(ApiError::Misconfigured(name))
}
