//! The offline deterministic model: answers every turn without a network or a key, so a
//! fresh `cargo xtask dev` has a working agent. Its replies always say what it is.

use domain::agent_protocol::{AgentEvent, ContextMessage};
use domain::context::approx_tokens;
use domain::message::Role;

/// The model name reported for offline replies.
pub const MODEL_NAME: &str = "parley-offline-1";
/// Every offline reply starts with this label.
pub const LABEL: &str = "[Offline model: no provider key is configured, so this reply is generated locally and deterministically.]";

/// The full reply for a context: the same context always gives the same reply.
pub fn reply(context: &[ContextMessage]) -> String {
    let last = context.iter().rev().find(|m| m.role == Role::User).map(|m| m.content.trim()).unwrap_or("");
    let words = last.split_whitespace().count();
    let quoted: String = last.chars().take(160).collect();
    let ellipsis = if last.chars().count() > 160 { "..." } else { "" };
    let turns = context.iter().filter(|m| m.role == Role::User).count();
    format!(
        "{LABEL} You wrote {words} word{} in message {turns} of this conversation: \"{quoted}{ellipsis}\". \
Set OPENAI_API_KEY for the agents worker to get real answers.",
        if words == 1 { "" } else { "s" }
    )
}

/// The events of an offline turn: the reply streamed a word at a time, usage, then done.
pub fn events(context: &[ContextMessage]) -> Vec<AgentEvent> {
    let text = reply(context);
    let mut events: Vec<AgentEvent> = split_keeping_spaces(&text).map(|t| AgentEvent::Delta { text: t.to_owned() }).collect();
    let input_tokens = context.iter().map(|m| approx_tokens(&m.content) as u64).sum();
    events.push(AgentEvent::Usage { input_tokens, output_tokens: approx_tokens(&text) as u64 });
    events.push(AgentEvent::Done { content: text, model: MODEL_NAME.to_owned(), finish_reason: "stop".to_owned() });
    events
}

/// Splits after each run of spaces, so concatenating the pieces gives back the text.
fn split_keeping_spaces(text: &str) -> impl Iterator<Item = &str> {
    let mut rest = text;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let word_end = rest.find(' ').unwrap_or(rest.len());
        let end = rest[word_end..].find(|c| c != ' ').map_or(rest.len(), |n| word_end + n);
        let (piece, tail) = rest.split_at(end);
        rest = tail;
        Some(piece)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ctx(text: &str) -> Vec<ContextMessage> {
        vec![ContextMessage { role: Role::System, content: "sys".into() }, ContextMessage { role: Role::User, content: text.into() }]
    }

    #[test]
    fn labelled_deterministic_and_streamed() {
        let events = events(&ctx("Hello there"));
        let AgentEvent::Done { content, model, .. } = events.last().unwrap() else { panic!() };
        assert!(content.starts_with(LABEL));
        assert!(content.contains("\"Hello there\""));
        assert_eq!(model, MODEL_NAME);
        let streamed: String = events.iter().filter_map(|e| match e { AgentEvent::Delta { text } => Some(text.as_str()), _ => None }).collect();
        assert_eq!(&streamed, content);
        assert!(events.iter().filter(|e| matches!(e, AgentEvent::Delta { .. })).count() > 10);
        assert_eq!(reply(&ctx("Hello there")), *content);
    }

    proptest! {
        #[test]
        fn pieces_rebuild_the_text(text in "[a-z ]{0,60}") {
            let rebuilt: String = split_keeping_spaces(&text).collect();
            prop_assert_eq!(rebuilt, text);
        }
    }
}
