//! The quality gate every draft passes before a person sees it as sendable.
//!
//! [`check`] returns a [`Verdict`] (pass, warn, fail), every [`Violation`] with a suggested
//! fix, and a risk score from 0 to 100 that the send policy reads.

mod cta;
mod sensitive;

use serde::Serialize;

/// Most words a draft may have.
pub const MAX_WORDS: usize = 200;

/// What the org adds to the built-in checks.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GateConfig {
    /// Words or phrases never to be sent (case-insensitive, whole words).
    pub forbidden_words: Vec<String>,
    /// Names of the org's other clients, which must not be mentioned to a prospect.
    pub other_clients: Vec<String>,
}

/// The gate's overall answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Pass,
    Warn,
    Fail,
}

/// How serious one finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Warn,
    Fail,
}

/// One finding, with what to do about it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Violation {
    pub code: &'static str,
    pub severity: Severity,
    pub message: String,
    pub suggested_fix: String,
}

/// The gate's full report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    pub verdict: Verdict,
    pub violations: Vec<Violation>,
    /// 0 (harmless) to 100 (must not go out).
    pub risk_score: u8,
    pub word_count: usize,
}

fn fail(code: &'static str, message: String, suggested_fix: &str) -> Violation {
    Violation { code, severity: Severity::Fail, message, suggested_fix: suggested_fix.to_owned() }
}

fn warn(code: &'static str, message: String, suggested_fix: &str) -> Violation {
    Violation { code, severity: Severity::Warn, message, suggested_fix: suggested_fix.to_owned() }
}

/// Checks a draft's text.
pub fn check(text: &str, config: &GateConfig) -> Report {
    let mut v = Vec::new();
    let word_count = text.split_whitespace().count();
    if word_count > MAX_WORDS {
        v.push(fail("too_long", format!("{word_count} words; the limit is {MAX_WORDS}"), "Cut it to the one point that matters and the ask."));
    }
    if text.trim().is_empty() {
        v.push(fail("empty", "the draft is empty".into(), "Write the message."));
    }
    match cta::count(text) {
        0 => v.push(fail("no_call_to_action", "no call to action".into(), "End with one clear ask, for example a question about a short call.")),
        1 => {}
        n => v.push(fail("several_calls_to_action", format!("{n} calls to action; exactly one is allowed"), "Keep the strongest ask and remove the others.")),
    }
    if text.contains('\u{2014}') {
        v.push(fail("em_dash", "contains an em-dash".into(), "Use a comma, a colon or a full stop instead."));
    }
    for finding in sensitive::scan(text) {
        v.push(fail(finding.code, finding.message, finding.fix));
    }
    let lower = text.to_lowercase();
    for word in &config.forbidden_words {
        if contains_phrase(&lower, &word.to_lowercase()) {
            v.push(fail("forbidden_word", format!("uses the forbidden word \"{word}\""), "Rephrase without it."));
        }
    }
    for client in &config.other_clients {
        if contains_phrase(&lower, &client.to_lowercase()) {
            v.push(fail("other_client_named", format!("names another client, \"{client}\""), "Remove the name; speak of \"a customer in your industry\" if needed."));
        }
    }
    let exclamations = text.matches('!').count();
    if exclamations > 1 {
        v.push(warn("exclamations", format!("{exclamations} exclamation marks"), "Keep at most one."));
    }
    let shouting = text.split_whitespace().filter(|w| w.chars().filter(|c| c.is_alphabetic()).count() >= 4 && w.chars().filter(|c| c.is_alphabetic()).all(|c| c.is_uppercase())).count();
    if shouting > 0 {
        v.push(warn("all_caps", format!("{shouting} word(s) in capitals"), "Write them in normal case."));
    }
    let risk_score = risk(&v);
    let verdict = v.iter().map(|x| if x.severity == Severity::Fail { Verdict::Fail } else { Verdict::Warn }).max().unwrap_or(Verdict::Pass);
    Report { verdict, violations: v, risk_score, word_count }
}

/// Each failure weighs more than any number of warnings up to the cap; personal data and other
/// clients' names weigh most, because sending them cannot be undone.
fn risk(v: &[Violation]) -> u8 {
    let total: u32 = v
        .iter()
        .map(|x| match (x.severity, x.code) {
            (Severity::Fail, "email_address" | "phone_number" | "card_number" | "other_client_named") => 60,
            (Severity::Fail, "amount" | "forbidden_word") => 45,
            (Severity::Fail, _) => 30,
            (Severity::Warn, _) => 10,
        })
        .sum();
    total.min(100) as u8
}

/// Whole-word (or whole-phrase) containment over lowercase text.
pub(crate) fn contains_phrase(haystack: &str, needle: &str) -> bool {
    let needle = needle.trim();
    if needle.is_empty() {
        return false;
    }
    haystack.match_indices(needle).any(|(i, _)| {
        let before = haystack[..i].chars().next_back();
        let after = haystack[i + needle.len()..].chars().next();
        !before.is_some_and(char::is_alphanumeric) && !after.is_some_and(char::is_alphanumeric)
    })
}

#[cfg(test)]
mod tests;
