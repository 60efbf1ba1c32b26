//! The workspace's settings (the send policy's knobs and the quality gate's word lists):
//! reading them and changing them.

use domain::json_fields::parse_object;
use domain::message::MAX_BODY_BYTES;
use domain::ApiError;
use policy::{Mode, OrgSettings};
use quality_gate::GateConfig;
use serde_json::{json, Map, Value};

/// Everything an org configures in its workspace.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Settings {
    pub policy: OrgSettings,
    pub gate: GateConfig,
    /// Feature flags and their rollout percentages (see `crate::flags`).
    pub flags: std::collections::BTreeMap<String, u8>,
    /// The org's instructions for the agent (positioning, tone, what to offer), added to the
    /// system prompt of every turn.
    pub strategy: String,
    /// Where allowed sends go (see `crate::channel`).
    pub channel: crate::channel::Channel,
    /// The follow-up cadence (see `crate::followup`).
    pub followup: crate::followup::FollowupConfig,
}

/// The longest org strategy accepted, in characters.
pub const MAX_STRATEGY_CHARS: usize = 4000;

/// The settings as clients see them (and as the workspace stores them).
pub fn to_json(settings: &Settings) -> Value {
    let s = &settings.policy;
    json!({
        "feature_flags": settings.flags,
        "strategy": settings.strategy,
        "channel": settings.channel,
        "followup_preset": settings.followup.preset.as_str(),
        "followup_intervals_hours": settings.followup.intervals_hours,
        "followup_max_steps": settings.followup.max_steps,
        "forbidden_words": settings.gate.forbidden_words,
        "other_clients": settings.gate.other_clients,
        "mode": match s.mode { Mode::DraftOnly => "DRAFT_ONLY", Mode::SendAllowed => "SEND_ALLOWED" },
        "kill_switch": s.kill_switch,
        "sunday_hold": s.sunday_hold,
        "default_time_zone": s.default_zone,
        "daily_quota": s.daily_quota,
        "weekly_quota": s.weekly_quota,
        "contact_weekly_cap": s.contact_weekly_cap,
        "min_confidence": s.min_confidence,
        "max_risk": s.max_risk,
        "guardrails": {
            "blocked_industries": s.guardrails.blocked_industries,
            "allowed_stages": s.guardrails.allowed_stages,
            "min_employees": s.guardrails.min_employees,
            "max_employees": s.guardrails.max_employees,
        },
    })
}

/// Reads stored settings; anything missing or unreadable keeps its default.
pub fn from_stored(stored: Option<&str>) -> Settings {
    let mut s = Settings::default();
    if let Some(Ok(Value::Object(obj))) = stored.map(serde_json::from_str::<Value>) {
        let _ = apply(&mut s, &obj);
    }
    s
}

/// Applies a `PUT /v1/workspace/settings` body (any subset of the fields) to `current`.
/// All or nothing: on any invalid field, `current` is unchanged. The zone's existence is
/// checked by the shell.
pub fn patch(current: &Settings, body: &[u8]) -> Result<Settings, ApiError> {
    if body.len() > MAX_BODY_BYTES {
        return Err(ApiError::PayloadTooLarge { what: "request body", limit: MAX_BODY_BYTES });
    }
    let obj = parse_object(body)?;
    let mut next = current.clone();
    apply(&mut next, &obj)?;
    Ok(next)
}

fn invalid(field: &'static str, reason: &str) -> ApiError {
    ApiError::InvalidField { field, reason: reason.to_owned() }
}

fn apply(settings: &mut Settings, obj: &Map<String, Value>) -> Result<(), ApiError> {
    let s = &mut settings.policy;
    for (key, value) in obj {
        match key.as_str() {
            "forbidden_words" => settings.gate.forbidden_words = strings(value, "forbidden_words")?,
            "feature_flags" => {
                let map = value.as_object().ok_or(invalid("feature_flags", "must be an object of flag name to percentage"))?;
                let mut flags = std::collections::BTreeMap::new();
                for (name, pct) in map {
                    if !crate::flags::valid_name(name) {
                        return Err(invalid("feature_flags", &format!("bad flag name `{name}`")));
                    }
                    flags.insert(name.clone(), percent(pct, "feature_flags")?);
                }
                settings.flags = flags;
            }
            "other_clients" => settings.gate.other_clients = strings(value, "other_clients")?,
            "channel" => settings.channel = crate::channel::Channel::parse(value)?,
            "followup_preset" => settings.followup.preset = crate::followup::parse_preset(value)?,
            "followup_intervals_hours" => settings.followup.intervals_hours = crate::followup::parse_intervals(value)?,
            "followup_max_steps" => settings.followup.max_steps = crate::followup::parse_max_steps(value)?,
            "strategy" => {
                let text = value.as_str().ok_or(invalid("strategy", "must be a string"))?.trim();
                if text.chars().count() > MAX_STRATEGY_CHARS {
                    return Err(invalid("strategy", &format!("must be at most {MAX_STRATEGY_CHARS} characters")));
                }
                settings.strategy = text.to_owned();
            }
            "mode" => {
                s.mode = match value.as_str() {
                    Some("DRAFT_ONLY") => Mode::DraftOnly,
                    Some("SEND_ALLOWED") => Mode::SendAllowed,
                    _ => return Err(invalid("mode", "must be DRAFT_ONLY or SEND_ALLOWED")),
                }
            }
            "kill_switch" => s.kill_switch = value.as_bool().ok_or(invalid("kill_switch", "must be a boolean"))?,
            "sunday_hold" => s.sunday_hold = value.as_bool().ok_or(invalid("sunday_hold", "must be a boolean"))?,
            "default_time_zone" => s.default_zone = value.as_str().filter(|z| !z.trim().is_empty()).ok_or(invalid("default_time_zone", "must be an IANA zone name"))?.to_owned(),
            "daily_quota" => s.daily_quota = count(value, "daily_quota")?,
            "weekly_quota" => s.weekly_quota = count(value, "weekly_quota")?,
            "contact_weekly_cap" => s.contact_weekly_cap = count(value, "contact_weekly_cap")?,
            "min_confidence" => s.min_confidence = percent(value, "min_confidence")?,
            "max_risk" => s.max_risk = percent(value, "max_risk")?,
            "guardrails" => {
                let g = value.as_object().ok_or(invalid("guardrails", "must be an object"))?;
                for (gk, gv) in g {
                    match gk.as_str() {
                        "blocked_industries" => s.guardrails.blocked_industries = strings(gv, "guardrails")?,
                        "allowed_stages" => s.guardrails.allowed_stages = strings(gv, "guardrails")?,
                        "min_employees" => s.guardrails.min_employees = optional_count(gv)?,
                        "max_employees" => s.guardrails.max_employees = optional_count(gv)?,
                        _ => return Err(invalid("guardrails", &format!("unknown field `{gk}`"))),
                    }
                }
            }
            other => return Err(ApiError::InvalidField { field: "settings", reason: format!("unknown field `{other}`") }),
        }
    }
    Ok(())
}

fn count(v: &Value, field: &'static str) -> Result<u32, ApiError> {
    v.as_u64().and_then(|n| u32::try_from(n).ok()).ok_or(invalid(field, "must be a non-negative integer"))
}

fn optional_count(v: &Value) -> Result<Option<u32>, ApiError> {
    if v.is_null() {
        return Ok(None);
    }
    count(v, "guardrails").map(Some)
}

fn percent(v: &Value, field: &'static str) -> Result<u8, ApiError> {
    v.as_u64().filter(|n| *n <= 100).map(|n| n as u8).ok_or(invalid(field, "must be an integer from 0 to 100"))
}

fn strings(v: &Value, field: &'static str) -> Result<Vec<String>, ApiError> {
    v.as_array()
        .and_then(|a| a.iter().map(|x| x.as_str().map(str::to_owned)).collect::<Option<Vec<_>>>())
        .ok_or(invalid(field, "lists must hold strings"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_channel_is_set_and_kept() {
        let s = patch(&Settings::default(), br#"{"channel": {"kind": "webhook", "url": "https://hooks.example.com/x"}}"#).unwrap();
        assert_eq!(from_stored(Some(&to_json(&s).to_string())).channel, s.channel);
        assert_eq!(patch(&s, br#"{"channel": {"kind": "pigeon"}}"#).unwrap_err().code(), "invalid_field");
        assert_eq!(Settings::default().channel.name(), "outbox");
    }

    #[test]
    fn the_org_strategy_is_kept_trimmed_and_bounded() {
        let s = patch(&Settings::default(), br#"{"strategy": "  Lead with onboarding speed.  "}"#).unwrap();
        assert_eq!(s.strategy, "Lead with onboarding speed.");
        assert_eq!(from_stored(Some(&to_json(&s).to_string())).strategy, "Lead with onboarding speed.");
        let long = format!(r#"{{"strategy": "{}"}}"#, "x".repeat(MAX_STRATEGY_CHARS + 1));
        assert_eq!(patch(&s, long.as_bytes()).unwrap_err().code(), "invalid_field");
        assert_eq!(patch(&s, br#"{"strategy": 5}"#).unwrap_err().code(), "invalid_field");
    }

    #[test]
    fn follow_up_settings_are_set_kept_cleared_and_all_or_nothing() {
        let d = to_json(&Settings::default());
        assert_eq!((d["followup_preset"].as_str(), d["followup_max_steps"].as_u64()), (Some("standard"), Some(3)));
        assert!(d["followup_intervals_hours"].is_null());
        let s = patch(&Settings::default(), br#"{"followup_preset":"gentle","followup_intervals_hours":[1,2],"followup_max_steps":5}"#).unwrap();
        assert_eq!(from_stored(Some(&to_json(&s).to_string())), s);
        assert_eq!(s.followup.intervals_hours, Some(vec![1, 2]));
        assert_eq!(patch(&s, br#"{"followup_intervals_hours":null}"#).unwrap().followup.intervals_hours, None);
        let e = patch(&s, br#"{"followup_preset":"aggressive","followup_intervals_hours":[0]}"#).unwrap_err();
        assert_eq!(e.code(), "invalid_field");
        assert!(patch(&s, br#"{"mode":"SEND_ALLOWED","followup_max_steps":99}"#).is_err(), "one bad field refuses the whole patch");
    }

    #[test]
    fn defaults_are_draft_only_with_the_sunday_hold() {
        let v = to_json(&from_stored(None));
        assert_eq!(v["mode"], "DRAFT_ONLY");
        assert_eq!(v["sunday_hold"], true);
        assert_eq!(v["kill_switch"], false);
    }

    #[test]
    fn patches_round_trip_through_storage() {
        let s = patch(&Settings::default(), br#"{"mode":"SEND_ALLOWED","kill_switch":true,"daily_quota":5,"guardrails":{"blocked_industries":["gambling"],"max_employees":500},"forbidden_words":["guarantee"],"feature_flags":{"new_inbox":25}}"#).unwrap();
        assert_eq!(s.flags.get("new_inbox"), Some(&25));
        let stored = to_json(&s).to_string();
        assert_eq!(from_stored(Some(&stored)), s);
        assert_eq!(s.policy.guardrails.max_employees, Some(500));
        assert_eq!(s.gate.forbidden_words, vec!["guarantee".to_string()]);
    }

    #[test]
    fn a_bad_field_changes_nothing() {
        let current = Settings::default();
        for body in [&br#"{"mode":"YOLO"}"#[..], br#"{"kill_switch":"yes"}"#, br#"{"max_risk":101}"#, br#"{"sunday_hold":false,"surprise":1}"#, b"[]"] {
            assert!(patch(&current, body).is_err(), "{}", String::from_utf8_lossy(body));
        }
    }
}
