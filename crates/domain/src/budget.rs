//! AI spending tiers: how much of an org's AI budget is spent decides which model a turn uses,
//! how much context it gets, and whether proactive work may run at all.
//!
//! Money is counted in micros of a US dollar (1 USD = 1 000 000 micros) and all arithmetic is
//! integer, so the tier boundaries are exact.

use crate::context::ContextBudget;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use thiserror::Error;

/// Micros in one US dollar.
pub const MICROS_PER_USD: u64 = 1_000_000;
/// Percentage of the budget spent from which a turn runs in [`Tier::Yellow`].
pub const YELLOW_FROM_PERCENT: u64 = 70;
/// Percentage of the budget spent from which a turn runs in [`Tier::Red`].
pub const RED_FROM_PERCENT: u64 = 90;
/// Smallest message window a reduced tier cuts the context to (unless the base is smaller).
pub const MIN_ROUTED_MESSAGES: usize = 6;
/// Smallest token budget a reduced tier cuts the context to (unless the base is smaller).
pub const MIN_ROUTED_TOKENS: usize = 1_000;

/// How much of its AI budget an org has spent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Tier {
    /// Below 70 % spent.
    Green,
    /// From 70 % (inclusive) to 90 % (exclusive) spent.
    Yellow,
    /// From 90 % spent, or no budget at all.
    Red,
}

impl Tier {
    pub fn as_str(self) -> &'static str {
        match self {
            Tier::Green => "GREEN",
            Tier::Yellow => "YELLOW",
            Tier::Red => "RED",
        }
    }

    pub fn parse(raw: &str) -> Option<Tier> {
        match raw {
            "GREEN" => Some(Tier::Green),
            "YELLOW" => Some(Tier::Yellow),
            "RED" => Some(Tier::Red),
            _ => None,
        }
    }
}

/// The tier for `spent_micros` out of `budget_micros`. A budget of 0 is [`Tier::Red`]: nothing
/// may be spent.
pub fn tier(spent_micros: u64, budget_micros: u64) -> Tier {
    if budget_micros == 0 {
        return Tier::Red;
    }
    // spent / budget >= p / 100  <=>  spent * 100 >= budget * p; u128 cannot overflow here.
    let spent = u128::from(spent_micros) * 100;
    let budget = u128::from(budget_micros);
    if spent >= budget * u128::from(RED_FROM_PERCENT) {
        Tier::Red
    } else if spent >= budget * u128::from(YELLOW_FROM_PERCENT) {
        Tier::Yellow
    } else {
        Tier::Green
    }
}

/// A model's list price, in micros of a dollar per million tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ModelPrice {
    pub input_per_million_micros: u64,
    pub output_per_million_micros: u64,
}

/// Price configuration that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PriceError {
    /// Not JSON, or not an object of models.
    #[error("price configuration is malformed: {0}")]
    Malformed(String),
    /// One model's entry is unusable.
    #[error("price for model `{model}` is invalid: {reason}")]
    InvalidModel { model: String, reason: String },
}

/// Parses price configuration: an object from model name to
/// `{"input": <USD per million input tokens>, "output": <USD per million output tokens>}`,
/// e.g. `{"gpt-4o": {"input": 2.5, "output": 10.0}}`.
///
/// Prices are stored in micros of a dollar per million tokens, rounded to the nearest micro.
/// Other keys in a model's object are ignored; a missing, negative, non-numeric or absurdly
/// large price is an error, as is an empty model name.
pub fn parse_prices(json: &str) -> Result<BTreeMap<String, ModelPrice>, PriceError> {
    let value: serde_json::Value = serde_json::from_str(json).map_err(|e| PriceError::Malformed(e.to_string()))?;
    let models = value.as_object().ok_or_else(|| PriceError::Malformed("expected an object of models".into()))?;
    let mut prices = BTreeMap::new();
    for (model, entry) in models {
        let invalid = |reason: String| PriceError::InvalidModel { model: model.clone(), reason };
        if model.trim().is_empty() {
            return Err(invalid("the model name is empty".into()));
        }
        let entry = entry.as_object().ok_or_else(|| invalid("expected an object with `input` and `output`".into()))?;
        let field = |name: &str| -> Result<u64, PriceError> {
            let raw = entry.get(name).ok_or_else(|| invalid(format!("`{name}` is missing")))?;
            let usd = raw.as_f64().ok_or_else(|| invalid(format!("`{name}` must be a number")))?;
            usd_to_micros(usd).ok_or_else(|| invalid(format!("`{name}` must be a finite, non-negative amount of USD")))
        };
        let price = ModelPrice { input_per_million_micros: field("input")?, output_per_million_micros: field("output")? };
        prices.insert(model.clone(), price);
    }
    Ok(prices)
}

/// Largest accepted price in USD per million tokens; anything above is surely a unit mistake
/// and would also come close to overflowing the micro arithmetic.
const MAX_USD_PER_MILLION: f64 = 1.0e9;

fn usd_to_micros(usd: f64) -> Option<u64> {
    // NaN and infinities fall outside the range too.
    if !(0.0..=MAX_USD_PER_MILLION).contains(&usd) {
        return None;
    }
    // In range by the check above: at most 1e15, well inside u64 and exact in f64.
    Some((usd * MICROS_PER_USD as f64).round() as u64)
}

/// What a turn cost, in micros, rounded up to the next micro; saturates instead of overflowing.
pub fn turn_cost_micros(price: &ModelPrice, input_tokens: u64, output_tokens: u64) -> u64 {
    // Each product fits in u128; only their sum can overflow.
    let scaled = (u128::from(price.input_per_million_micros) * u128::from(input_tokens))
        .saturating_add(u128::from(price.output_per_million_micros) * u128::from(output_tokens));
    u64::try_from(scaled.div_ceil(1_000_000)).unwrap_or(u64::MAX)
}

/// What one model call cost under `prices`: the model's own price, else the `default` entry,
/// else nothing (an unpriced model costs 0 rather than failing the turn). Negative token
/// counts (which a broken provider could report) count as 0.
pub fn call_cost_micros(prices: &BTreeMap<String, ModelPrice>, model: &str, tokens: (i64, i64)) -> u64 {
    prices
        .get(model)
        .or_else(|| prices.get("default"))
        .map_or(0, |p| turn_cost_micros(p, tokens.0.max(0) as u64, tokens.1.max(0) as u64))
}

/// The prices configured in `MODEL_PRICES`: none when unset, blank or invalid.
pub fn configured_prices(raw: Option<&str>) -> BTreeMap<String, ModelPrice> {
    raw.filter(|r| !r.trim().is_empty()).and_then(|r| parse_prices(r).ok()).unwrap_or_default()
}

/// Which of the org's configured models a turn uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ModelChoice {
    Primary,
    Cheaper,
}

/// How a turn runs in a tier.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TierRouting {
    pub model: ModelChoice,
    pub context: ContextBudget,
    /// Work nobody asked for in this moment (scheduled outreach, follow-ups) may run.
    pub proactive_allowed: bool,
    /// A turn triggered by a user's or contact's message may run.
    pub reply_allowed: bool,
}

/// The routing for a tier, starting from the org's normal context budget.
///
/// - GREEN: the primary model with the full context; everything runs.
/// - YELLOW: the cheaper model with half the context (never below [`MIN_ROUTED_MESSAGES`] /
///   [`MIN_ROUTED_TOKENS`], and never above the base); everything runs.
/// - RED: the cheaper model with a quarter of the context (same floors); replies to inbound
///   messages still run, proactive work does not.
pub fn routing(tier: Tier, base: ContextBudget) -> TierRouting {
    match tier {
        Tier::Green => TierRouting { model: ModelChoice::Primary, context: base, proactive_allowed: true, reply_allowed: true },
        Tier::Yellow => TierRouting { model: ModelChoice::Cheaper, context: shrink(base, 2), proactive_allowed: true, reply_allowed: true },
        Tier::Red => TierRouting { model: ModelChoice::Cheaper, context: shrink(base, 4), proactive_allowed: false, reply_allowed: true },
    }
}

fn shrink(base: ContextBudget, divisor: usize) -> ContextBudget {
    let cut = |value: usize, floor: usize| (value / divisor).max(floor).min(value);
    ContextBudget { max_messages: cut(base.max_messages, MIN_ROUTED_MESSAGES), max_tokens: cut(base.max_tokens, MIN_ROUTED_TOKENS) }
}

/// Why a turn would run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TurnKind {
    /// Answers a message from a user or contact.
    Reply,
    /// Started by the agent itself (a schedule, a follow-up).
    Proactive,
    /// Folds older messages into the rolling summary.
    Summary,
}

/// Whether a turn of `kind` may run under `routing`. Summaries always may: they shrink the
/// context of every later turn.
pub fn allowed(routing: &TierRouting, kind: TurnKind) -> bool {
    match kind {
        TurnKind::Reply => routing.reply_allowed,
        TurnKind::Proactive => routing.proactive_allowed,
        TurnKind::Summary => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tier_boundaries_are_exact() {
        let cases = [
            (0, 100, Tier::Green),
            (69, 100, Tier::Green),
            (70, 100, Tier::Yellow),
            (89, 100, Tier::Yellow),
            (90, 100, Tier::Red),
            (100, 100, Tier::Red),
            (250, 100, Tier::Red),
            (699_999, 1_000_000, Tier::Green),
            (700_000, 1_000_000, Tier::Yellow),
            (899_999, 1_000_000, Tier::Yellow),
            (900_000, 1_000_000, Tier::Red),
            // 70 % of 3 is 2.1 and 90 % is 2.7: 2 is still green, 3 is red.
            (2, 3, Tier::Green),
            (3, 3, Tier::Red),
            // 70 % of 10 micros is exactly 7, 90 % exactly 9.
            (6, 10, Tier::Green),
            (7, 10, Tier::Yellow),
            (8, 10, Tier::Yellow),
            (9, 10, Tier::Red),
            (0, 0, Tier::Red),
            (5, 0, Tier::Red),
            (0, u64::MAX, Tier::Green),
            (u64::MAX, u64::MAX, Tier::Red),
            (u64::MAX / 10 * 7, u64::MAX / 10 * 10, Tier::Yellow),
            (u64::MAX / 10 * 7 - 1, u64::MAX / 10 * 10, Tier::Green),
            (u64::MAX / 10 * 9, u64::MAX / 10 * 10, Tier::Red),
            (u64::MAX / 10 * 9 - 1, u64::MAX / 10 * 10, Tier::Yellow),
        ];
        for (spent, budget, expected) in cases {
            assert_eq!(tier(spent, budget), expected, "{spent} of {budget}");
        }
    }

    #[test]
    fn tiers_serialise_in_uppercase() {
        for t in [Tier::Green, Tier::Yellow, Tier::Red] {
            assert_eq!(serde_json::to_string(&t).unwrap(), format!("\"{}\"", t.as_str()));
            assert_eq!(serde_json::from_str::<Tier>(&format!("\"{}\"", t.as_str())).unwrap(), t);
            assert_eq!(Tier::parse(t.as_str()), Some(t));
        }
        assert_eq!(Tier::parse("green"), None);
    }

    #[test]
    fn prices_are_read_in_micros() {
        let prices = parse_prices(r#"{"gpt-4o": {"input": 2.5, "output": 10.0}, "mini": {"input": 0.15, "output": 0.6, "note": "x"}, "free": {"input": 0, "output": 0}}"#).unwrap();
        assert_eq!(prices["gpt-4o"], ModelPrice { input_per_million_micros: 2_500_000, output_per_million_micros: 10_000_000 });
        assert_eq!(prices["mini"], ModelPrice { input_per_million_micros: 150_000, output_per_million_micros: 600_000 });
        assert_eq!(prices["free"], ModelPrice { input_per_million_micros: 0, output_per_million_micros: 0 });
        assert!(parse_prices("{}").unwrap().is_empty());
    }

    #[test]
    fn bad_prices_are_refused() {
        assert!(matches!(parse_prices("not json"), Err(PriceError::Malformed(_))));
        assert!(matches!(parse_prices("[1]"), Err(PriceError::Malformed(_))));
        let invalid = [
            r#"{"m": 3}"#,
            r#"{"m": {"input": 1}}"#,
            r#"{"m": {"output": 1}}"#,
            r#"{"m": {"input": "1", "output": 1}}"#,
            r#"{"m": {"input": -1, "output": 1}}"#,
            r#"{"m": {"input": 1, "output": 1e300}}"#,
            r#"{"": {"input": 1, "output": 1}}"#,
        ];
        for json in invalid {
            assert!(matches!(parse_prices(json), Err(PriceError::InvalidModel { .. })), "{json}");
        }
    }

    #[test]
    fn a_call_is_priced_by_its_model_then_the_default_then_free() {
        let prices = configured_prices(Some(r#"{"big": {"input": 10, "output": 20}, "default": {"input": 1, "output": 1}}"#));
        assert_eq!(call_cost_micros(&prices, "big", (1_000_000, 1_000_000)), 30_000_000);
        assert_eq!(call_cost_micros(&prices, "other", (1_000_000, 0)), 1_000_000);
        assert_eq!(call_cost_micros(&prices, "big", (-5, -5)), 0);
        assert!(configured_prices(None).is_empty());
        assert!(configured_prices(Some("  ")).is_empty());
        assert!(configured_prices(Some("not json")).is_empty());
        assert_eq!(call_cost_micros(&configured_prices(None), "big", (10, 10)), 0);
    }

    #[test]
    fn turn_cost_rounds_up_and_saturates() {
        let price = ModelPrice { input_per_million_micros: 2_500_000, output_per_million_micros: 10_000_000 };
        assert_eq!(turn_cost_micros(&price, 0, 0), 0);
        assert_eq!(turn_cost_micros(&price, 1_000_000, 0), 2_500_000);
        assert_eq!(turn_cost_micros(&price, 1_000, 100), 2_500 + 1_000);
        // 1 input token costs 2.5 micros: rounded up to 3.
        assert_eq!(turn_cost_micros(&price, 1, 0), 3);
        let cheap = ModelPrice { input_per_million_micros: 1, output_per_million_micros: 1 };
        assert_eq!(turn_cost_micros(&cheap, 1, 0), 1);
        assert_eq!(turn_cost_micros(&cheap, 999_999, 1), 1);
        assert_eq!(turn_cost_micros(&cheap, 1_000_000, 1), 2);
        let dear = ModelPrice { input_per_million_micros: u64::MAX, output_per_million_micros: u64::MAX };
        assert_eq!(turn_cost_micros(&dear, u64::MAX, u64::MAX), u64::MAX);
    }

    #[test]
    fn routing_per_tier() {
        let base = ContextBudget { max_messages: 40, max_tokens: 6_000 };
        let green = routing(Tier::Green, base);
        assert_eq!(green, TierRouting { model: ModelChoice::Primary, context: base, proactive_allowed: true, reply_allowed: true });
        let yellow = routing(Tier::Yellow, base);
        assert_eq!(yellow, TierRouting { model: ModelChoice::Cheaper, context: ContextBudget { max_messages: 20, max_tokens: 3_000 }, proactive_allowed: true, reply_allowed: true });
        let red = routing(Tier::Red, base);
        assert_eq!(red, TierRouting { model: ModelChoice::Cheaper, context: ContextBudget { max_messages: 10, max_tokens: 1_500 }, proactive_allowed: false, reply_allowed: true });
    }

    #[test]
    fn reduced_contexts_keep_a_floor_but_never_grow() {
        let small = ContextBudget { max_messages: 10, max_tokens: 2_400 };
        assert_eq!(routing(Tier::Yellow, small).context, ContextBudget { max_messages: MIN_ROUTED_MESSAGES, max_tokens: 1_200 });
        assert_eq!(routing(Tier::Red, small).context, ContextBudget { max_messages: MIN_ROUTED_MESSAGES, max_tokens: MIN_ROUTED_TOKENS });
        let tiny = ContextBudget { max_messages: 3, max_tokens: 500 };
        assert_eq!(routing(Tier::Yellow, tiny).context, tiny);
        assert_eq!(routing(Tier::Red, tiny).context, tiny);
    }

    #[test]
    fn every_tier_and_kind() {
        use TurnKind::*;
        let expected = [
            (Tier::Green, Reply, true),
            (Tier::Green, Proactive, true),
            (Tier::Green, Summary, true),
            (Tier::Yellow, Reply, true),
            (Tier::Yellow, Proactive, true),
            (Tier::Yellow, Summary, true),
            (Tier::Red, Reply, true),
            (Tier::Red, Proactive, false),
            (Tier::Red, Summary, true),
        ];
        for (t, kind, ok) in expected {
            assert_eq!(allowed(&routing(t, ContextBudget::default()), kind), ok, "{t:?} {kind:?}");
        }
        // Summaries run even when a shell has switched replies off.
        let off = TierRouting { reply_allowed: false, proactive_allowed: false, ..routing(Tier::Red, ContextBudget::default()) };
        assert!(!allowed(&off, Reply));
        assert!(allowed(&off, Summary));
    }
}
