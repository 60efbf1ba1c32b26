//! Choosing and configuring the model provider from the worker's variables and secrets.

/// Variables the agents worker reads (all optional).
pub const VAR_API_KEY: &str = "OPENAI_API_KEY";
pub const VAR_BASE_URL: &str = "OPENAI_BASE_URL";
pub const VAR_MODEL: &str = "OPENAI_MODEL";
pub const VAR_FALLBACK_MODEL: &str = "OPENAI_FALLBACK_MODEL";
/// The cheaper model the YELLOW and RED budget tiers use (the primary model if unset).
pub const VAR_CHEAP_MODEL: &str = "OPENAI_CHEAP_MODEL";
pub const VAR_TIMEOUT_MS: &str = "OPENAI_TIMEOUT_MS";
pub const VAR_MAX_RETRIES: &str = "OPENAI_MAX_RETRIES";

pub const DEFAULT_BASE_URL: &str = "https://api.openai.com/v1";
pub const DEFAULT_MODEL: &str = "gpt-4o-mini";
pub const DEFAULT_TIMEOUT_MS: u64 = 30_000;
pub const DEFAULT_MAX_RETRIES: u32 = 2;

/// How to reach an OpenAI-compatible chat-completions API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderConfig {
    pub api_key: String,
    /// Base URL without the trailing `/chat/completions`.
    pub base_url: String,
    pub model: String,
    /// Tried once the primary model has failed all its attempts.
    pub fallback_model: Option<String>,
    /// Used instead of `model` when the org's budget tier asks for the cheaper model.
    pub cheap_model: Option<String>,
    /// Time allowed for the response headers and then between stream chunks.
    pub timeout_ms: u64,
    /// Retries per model after the first attempt, on 429, 5xx and timeouts.
    pub max_retries: u32,
}

impl ProviderConfig {
    /// The model a turn starts with: the cheaper one when the budget tier asks for it.
    pub fn first_model(&self, cheaper: bool) -> &str {
        match (&self.cheap_model, cheaper) {
            (Some(cheap), true) => cheap,
            _ => &self.model,
        }
    }

    /// The chat-completions endpoint.
    pub fn completions_url(&self) -> String {
        format!("{}/chat/completions", self.base_url.trim_end_matches('/'))
    }
}

/// Which model answers turns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProviderChoice {
    /// No key configured: the built-in deterministic model.
    Offline,
    OpenAiCompatible(ProviderConfig),
}

/// Reads the configuration through `get` (the worker's vars and secrets). Unparseable numbers
/// fall back to their defaults rather than failing every turn.
pub fn choose(get: impl Fn(&str) -> Option<String>) -> ProviderChoice {
    let non_empty = |name: &str| get(name).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
    let Some(api_key) = non_empty(VAR_API_KEY) else {
        return ProviderChoice::Offline;
    };
    ProviderChoice::OpenAiCompatible(ProviderConfig {
        api_key,
        base_url: non_empty(VAR_BASE_URL).unwrap_or_else(|| DEFAULT_BASE_URL.to_owned()),
        model: non_empty(VAR_MODEL).unwrap_or_else(|| DEFAULT_MODEL.to_owned()),
        fallback_model: non_empty(VAR_FALLBACK_MODEL),
        cheap_model: non_empty(VAR_CHEAP_MODEL),
        timeout_ms: non_empty(VAR_TIMEOUT_MS).and_then(|v| v.parse().ok()).unwrap_or(DEFAULT_TIMEOUT_MS),
        max_retries: non_empty(VAR_MAX_RETRIES).and_then(|v| v.parse().ok()).unwrap_or(DEFAULT_MAX_RETRIES),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn from(pairs: &[(&str, &str)]) -> ProviderChoice {
        let map: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        choose(|k| map.get(k).cloned())
    }

    #[test]
    fn no_key_means_offline() {
        assert_eq!(from(&[]), ProviderChoice::Offline);
        assert_eq!(from(&[(VAR_API_KEY, "  "), (VAR_MODEL, "x")]), ProviderChoice::Offline);
    }

    #[test]
    fn key_enables_the_client_with_defaults_and_overrides() {
        let ProviderChoice::OpenAiCompatible(c) = from(&[(VAR_API_KEY, "sk"), (VAR_BASE_URL, "http://127.0.0.1:9/v1/"), (VAR_TIMEOUT_MS, "bad"), (VAR_FALLBACK_MODEL, "small")]) else { panic!() };
        assert_eq!(c.completions_url(), "http://127.0.0.1:9/v1/chat/completions");
        assert_eq!(c.model, DEFAULT_MODEL);
        assert_eq!(c.timeout_ms, DEFAULT_TIMEOUT_MS);
        assert_eq!(c.fallback_model.as_deref(), Some("small"));
        assert_eq!(c.first_model(true), DEFAULT_MODEL, "no cheaper model configured: the primary");
    }

    #[test]
    fn the_budget_tier_can_ask_for_the_cheaper_model() {
        let ProviderChoice::OpenAiCompatible(c) = from(&[(VAR_API_KEY, "sk"), (VAR_MODEL, "big"), (VAR_CHEAP_MODEL, "small")]) else { panic!() };
        assert_eq!(c.first_model(false), "big");
        assert_eq!(c.first_model(true), "small");
    }
}
