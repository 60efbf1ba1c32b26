//! Counting calls to action. A heuristic, kept deliberately simple and documented:
//! a sentence is a call to action when it is a question about a next step (it ends with `?`
//! and mentions one, such as a call, a time or a demo), or when it starts with an imperative
//! that asks for one ("Book a slot...", "Let me know...", "Reply with...").

use crate::contains_phrase;

const NEXT_STEPS: &[&str] = &[
    "call", "chat", "meet", "meeting", "demo", "time", "open to", "interested", "worth", "free", "available", "calendar", "minutes", "talk", "connect", "book", "schedule", "explore", "try", "trial", "walk you through", "show you",
];

const IMPERATIVES: &[&str] = &[
    "book", "schedule", "reply", "click", "sign up", "register", "grab", "pick", "let me know", "let's", "lets", "join", "visit", "try", "reach out", "send me", "drop me", "hit reply",
];

/// The number of sentences that ask the reader to do something.
pub fn count(text: &str) -> usize {
    sentences(text)
        .into_iter()
        .filter(|(sentence, is_question)| {
            let lower = sentence.to_lowercase();
            let lower = lower.trim_start_matches(|c: char| !c.is_alphanumeric());
            let asks = *is_question && NEXT_STEPS.iter().any(|p| contains_phrase(lower, p));
            let tells = IMPERATIVES.iter().any(|p| lower.starts_with(p) && lower[p.len()..].chars().next().is_none_or(|c| !c.is_alphanumeric()));
            asks || tells
        })
        .count()
}

/// Sentences, each with whether it ended in a question mark.
fn sentences(text: &str) -> Vec<(String, bool)> {
    let mut out = Vec::new();
    let mut current = String::new();
    for c in text.chars() {
        match c {
            '.' | '!' | '?' | '\n' => {
                if !current.trim().is_empty() {
                    out.push((current.trim().to_owned(), c == '?'));
                }
                current.clear();
            }
            _ => current.push(c),
        }
    }
    if !current.trim().is_empty() {
        out.push((current.trim().to_owned(), false));
    }
    out
}
