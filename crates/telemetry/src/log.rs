//! Structured log lines: one JSON object per event, with `ts` (Unix time in milliseconds: the
//! cheapest to write in a size-constrained worker, and what log pipelines sort on), `level`,
//! `trace_id`, `org`,
//! `chat` or `lead` when known, `event` and `duration_ms` when meaningful.
//!
//! There is deliberately no field for free text. Event and field names are `&'static str`
//! (written in the code, never read from input); every other string goes through [`token`],
//! which keeps only short identifier-shaped values (ids, route names, codes, host names) and
//! replaces anything else with `"~"`. A message body, a prompt or a secret value therefore has
//! no way into a log line, and no value needs JSON escaping.

/// Longest value a log field keeps; ids, codes and host names fit.
pub const MAX_TOKEN_LEN: usize = 64;
/// What a field shows when its value is not an identifier-shaped token.
pub const REDACTED: &str = "~";

/// How severe an event is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Info,
    Warn,
    Error,
}

impl Level {
    fn as_str(self) -> &'static str {
        match self {
            Level::Info => "info",
            Level::Warn => "warn",
            Level::Error => "error",
        }
    }
}

/// A log line being built; [`LogLine::render`] finishes the JSON text. Fields are written as
/// they are added (no intermediate structure: this runs in size-constrained workers).
pub struct LogLine {
    out: String,
}

/// `value` if it is identifier-shaped (at most [`MAX_TOKEN_LEN`] characters of ASCII letters,
/// digits and `_ - . : / @ { }`: ids, codes, hosts, route templates), else [`REDACTED`].
pub fn token(value: &str) -> &str {
    let ok = !value.is_empty()
        && value.len() <= MAX_TOKEN_LEN
        && value.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b':' | b'/' | b'@' | b'{' | b'}'));
    if ok {
        value
    } else {
        REDACTED
    }
}

impl LogLine {
    /// A line for `event` (a fixed name such as `"turn.finished"`) at `ts_ms`.
    pub fn new(ts_ms: i64, level: Level, event: &'static str) -> LogLine {
        let mut out = String::with_capacity(192);
        out.push_str("{\"ts\":");
        out.push_str(&ts_ms.to_string());
        out.push_str(",\"level\":\"");
        out.push_str(level.as_str());
        out.push_str("\",\"event\":\"");
        out.push_str(token(event));
        out.push('"');
        LogLine { out }
    }

    /// The request's trace id, when there is one.
    pub fn trace(self, trace_id: Option<&str>) -> LogLine {
        self.text("trace_id", trace_id)
    }

    /// The org, when known.
    pub fn org(self, org: Option<&str>) -> LogLine {
        self.text("org", org)
    }

    /// The chat, when known.
    pub fn chat(self, chat: Option<&str>) -> LogLine {
        self.text("chat", chat)
    }

    /// The lead, when known.
    pub fn lead(self, lead: Option<&str>) -> LogLine {
        self.text("lead", lead)
    }

    /// How long the event took.
    pub fn duration_ms(self, ms: i64) -> LogLine {
        self.number("duration_ms", ms)
    }

    fn name(&mut self, name: &'static str) {
        self.out.push_str(",\"");
        self.out.push_str(token(name));
        self.out.push_str("\":");
    }

    fn quoted(&mut self, value: &str) {
        self.out.push('"');
        self.out.push_str(token(value));
        self.out.push('"');
    }

    /// Another identifier-shaped field (route, outcome, code, tool, host); omitted when `None`.
    pub fn text(mut self, name: &'static str, value: Option<&str>) -> LogLine {
        if let Some(v) = value {
            self.name(name);
            self.quoted(v);
        }
        self
    }

    /// A list of identifier-shaped values (for example the names of the secrets a turn may use).
    pub fn list(mut self, name: &'static str, values: &[&str]) -> LogLine {
        self.name(name);
        self.out.push('[');
        for (i, v) in values.iter().enumerate() {
            if i > 0 {
                self.out.push(',');
            }
            self.quoted(v);
        }
        self.out.push(']');
        self
    }

    /// A numeric field (status, count, attempt).
    pub fn number(mut self, name: &'static str, value: i64) -> LogLine {
        self.name(name);
        self.out.push_str(&value.to_string());
        self
    }

    /// The JSON object on one line.
    pub fn render(mut self) -> String {
        self.out.push('}');
        self.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn parse(line: &str) -> serde_json::Value {
        serde_json::from_str(line).expect("a log line is JSON")
    }

    #[test]
    fn renders_the_common_fields_in_order() {
        let line = LogLine::new(1_795_000_000_123, Level::Info, "turn.finished")
            .trace(Some("4bf92f3577b34da6a3ce929d0e0e4736"))
            .org(Some("org_demo"))
            .chat(Some("c_01J"))
            .lead(None)
            .duration_ms(42)
            .text("outcome", Some("completed"))
            .number("status", 201)
            .render();
        assert_eq!(
            line,
            r#"{"ts":1795000000123,"level":"info","event":"turn.finished","trace_id":"4bf92f3577b34da6a3ce929d0e0e4736","org":"org_demo","chat":"c_01J","duration_ms":42,"outcome":"completed","status":201}"#
        );
        assert_eq!(parse(&line)["duration_ms"], 42);
    }

    #[test]
    fn free_text_and_secret_values_never_appear() {
        let body = "Hi, my card is 4111 1111 1111 1111 and \"quotes\" \\ too";
        let secret = "sk-live-4f9a7c2e1b3d5f6a8c0e2b4d6f8a0c2e4b6d8f0a2c4e6b8d0f2a4c6e8b0d2f4a";
        let master_key = "q1Yw2Z6m0rJ9s4K3k1+f8e/Jb2cXv5LQ0u7yHh1pN8o=";
        let line = LogLine::new(0, Level::Warn, "tool.failed")
            .org(Some(body))
            .chat(Some(secret))
            .lead(Some(master_key))
            .text("code", Some("line\nbreak"))
            .list("secrets", &["A_CRM_KEY", secret])
            .render();
        for leaked in [body, secret, master_key, "4111", "line\nbreak"] {
            assert!(!line.contains(leaked), "{leaked:?} leaked into {line}");
        }
        let v = parse(&line);
        assert_eq!(v["org"], REDACTED);
        assert_eq!(v["chat"], REDACTED);
        assert_eq!(v["lead"], REDACTED);
        assert_eq!(v["secrets"], serde_json::json!(["A_CRM_KEY", REDACTED]));
    }

    #[test]
    fn tokens_keep_ids_codes_and_hosts() {
        for ok in ["org_2abc", "api.example.com:8443", "provider_unavailable", "01J8ZX4T6Q", "user@org", "/v1/chats/{chat_id}/messages"] {
            assert_eq!(token(ok), ok);
        }
        for bad in ["", "two words", "a\"b", "a\\b", "é", &"x".repeat(65)] {
            assert_eq!(token(bad), REDACTED, "{bad:?}");
        }
    }

    proptest! {
        /// Whatever goes into any field, the line is one line of valid JSON, and any value with
        /// a character outside the token alphabet (every message with a space, every base64
        /// key with `+`, `/` or `=` padding) does not appear in it.
        #[test]
        fn any_input_gives_one_json_line_without_free_text(values in proptest::collection::vec("\\PC{0,100}", 5), n in any::<i64>(), ts in -10_000_000_000_000i64..10_000_000_000_000) {
            let line = LogLine::new(ts, Level::Error, "event.name")
                .trace(Some(&values[0])).org(Some(&values[1])).chat(Some(&values[2])).lead(Some(&values[3]))
                .text("code", Some(&values[4])).number("n", n).render();
            prop_assert!(!line.contains('\n'));
            let v = parse(&line);
            for (field, raw) in ["trace_id", "org", "chat", "lead", "code"].iter().zip(&values) {
                let shown = v[*field].as_str().unwrap();
                prop_assert!(shown == REDACTED || shown == raw.as_str());
                if raw.contains([' ', '"', '\\', '+', '=', '\n']) {
                    prop_assert_eq!(shown, REDACTED);
                }
            }
            prop_assert_eq!(v["n"].as_i64(), Some(n));
        }
    }
}
