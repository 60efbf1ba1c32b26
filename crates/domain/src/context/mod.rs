//! Assembling what the model sees for a turn within a token budget: [`assemble`] takes the
//! system prompt and the most recent window of the log; [`pack`] adds the org strategy, the
//! rolling summary with its pinned facts, retrieved knowledge and the turn's tool steps.

mod pack;

pub use pack::{pack, ContextInputs, KnowledgeSnippet};

use crate::agent_protocol::ContextMessage;
use crate::message::{MessageView, Role};
use crate::turn::trigger_of;

/// The system prompt every Parley agent starts from.
pub const SYSTEM_PROMPT: &str = "You are Parley, an assistant for a sales team. Be concise and \
truthful. Never claim to have sent a message or changed anything outside this chat.";

/// Limits for the recent window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ContextBudget {
    /// Most messages taken from the log.
    pub max_messages: usize,
    /// Approximate token budget for the whole context, system prompt included.
    pub max_tokens: usize,
}

impl Default for ContextBudget {
    fn default() -> Self {
        ContextBudget { max_messages: 40, max_tokens: 6_000 }
    }
}

/// A cheap, deterministic token estimate: about four bytes per token, plus a little per
/// message for the role markup. Errs on the high side for English text.
pub fn approx_tokens(text: &str) -> usize {
    text.len().div_ceil(4) + 4
}

/// Builds the context for a turn from the log, oldest first.
///
/// `log` must be in sequence order and end with the turn's trigger message; the newest message
/// is always kept (truncated if it alone exceeds the budget) so the model sees what it answers.
pub fn assemble(log: &[MessageView], budget: ContextBudget) -> Vec<ContextMessage> {
    let mut used = approx_tokens(SYSTEM_PROMPT);
    let mut window: Vec<ContextMessage> = Vec::new();
    for m in log.iter().rev().take(budget.max_messages) {
        let cost = approx_tokens(&m.content);
        if used + cost > budget.max_tokens {
            if window.is_empty() {
                let room = budget.max_tokens.saturating_sub(used + 4) * 4;
                window.push(ContextMessage { role: m.role, content: truncate_to(&m.content, room) });
            }
            break;
        }
        used += cost;
        window.push(ContextMessage { role: m.role, content: m.content.clone() });
    }
    window.reverse();
    let mut context = Vec::with_capacity(window.len() + 1);
    context.push(ContextMessage { role: Role::System, content: SYSTEM_PROMPT.to_owned() });
    context.extend(window);
    context
}

/// The conversation a turn answers, in reading order: user messages up to and including its
/// trigger, and each earlier turn's reply placed right after the message it answered. Replies
/// can be stored after later user messages (messages queue while a turn runs), so log order
/// alone would show the model an answer after a question it never saw answered.
pub fn conversation_for(log: &[MessageView], trigger_seq: i64) -> Vec<MessageView> {
    let anchor = |m: &MessageView| -> Option<(i64, i64)> {
        match m.role {
            Role::Assistant => {
                let t = m.turn_id.as_deref().and_then(trigger_of)?;
                (t < trigger_seq).then_some((t, m.seq))
            }
            _ => (m.seq <= trigger_seq).then_some((m.seq, 0)),
        }
    };
    let mut picked: Vec<((i64, i64), &MessageView)> = log.iter().filter_map(|m| anchor(m).map(|a| (a, m))).collect();
    picked.sort_by_key(|(a, _)| *a);
    picked.into_iter().map(|(_, m)| m.clone()).collect()
}

/// `text` cut to at most `max_bytes`, on a character boundary.
pub(crate) fn truncate_to(text: &str, max_bytes: usize) -> String {
    let mut end = max_bytes.min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn msg(seq: i64, content: &str) -> MessageView {
        MessageView { seq, role: if seq % 2 == 1 { Role::User } else { Role::Assistant }, content: content.into(), client_id: None, turn_id: None, created_at: 0 }
    }

    proptest! {
        #[test]
        fn never_exceeds_the_budget_and_keeps_the_newest(contents in proptest::collection::vec(".{0,400}", 1..60), max_tokens in 60usize..3000) {
            let log: Vec<_> = contents.iter().enumerate().map(|(i, c)| msg(i as i64 + 1, c)).collect();
            let budget = ContextBudget { max_messages: 40, max_tokens };
            let ctx = assemble(&log, budget);
            let total: usize = ctx.iter().map(|m| approx_tokens(&m.content)).sum();
            prop_assert!(total <= max_tokens);
            prop_assert_eq!(ctx[0].role, Role::System);
            prop_assert!(ctx.len() >= 2);
            prop_assert!(log.last().unwrap().content.starts_with(&ctx.last().unwrap().content));
            prop_assert_eq!(assemble(&log, budget), ctx, "deterministic");
        }
    }

    #[test]
    fn replies_follow_the_question_they_answer() {
        let u = |seq: i64| MessageView { seq, role: Role::User, content: format!("u{seq}"), client_id: None, turn_id: Some(format!("turn_{seq}")), created_at: 0 };
        let a = |seq: i64, t: i64| MessageView { seq, role: Role::Assistant, content: format!("a{t}"), client_id: None, turn_id: Some(format!("turn_{t}")), created_at: 0 };
        // u1 and u2 were posted before turn_1's reply was stored as seq 3.
        let log = vec![u(1), u(2), a(3, 1), u(4), a(5, 2)];
        let names = |v: Vec<MessageView>| v.into_iter().map(|m| m.content).collect::<Vec<_>>();
        assert_eq!(names(conversation_for(&log, 1)), ["u1"]);
        assert_eq!(names(conversation_for(&log, 2)), ["u1", "a1", "u2"]);
        assert_eq!(names(conversation_for(&log, 4)), ["u1", "a1", "u2", "a2", "u4"]);
    }

    #[test]
    fn keeps_order_and_window() {
        let log: Vec<_> = (1..=50).map(|i| msg(i, &format!("m{i}"))).collect();
        let ctx = assemble(&log, ContextBudget::default());
        assert_eq!(ctx.len(), 41);
        assert_eq!(ctx[1].content, "m11");
        assert_eq!(ctx[40].content, "m50");
    }
}
