//! [`pack`]: a turn's whole context (system prompt and org strategy, the rolling summary with
//! its pinned facts, retrieved knowledge, recent messages and the turn's tool steps) within a
//! token budget that is never exceeded, giving things up in a fixed order.

use super::{approx_tokens, truncate_to, ContextBudget, SYSTEM_PROMPT};
use crate::agent_protocol::ContextMessage;
use crate::message::{MessageView, Role};
use crate::summary::{pinned_block, Summary};
use serde::{Deserialize, Serialize};

/// A retrieved piece of a knowledge document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KnowledgeSnippet {
    pub document_id: String,
    pub chunk_id: String,
    pub title: String,
    pub text: String,
}

impl KnowledgeSnippet {
    /// The tag a reply cites the snippet by: `[doc:{document_id}#{chunk_id}]`.
    pub fn citation_tag(&self) -> String {
        format!("[doc:{}#{}]", self.document_id, self.chunk_id)
    }
}

/// Everything [`pack`] may put in a turn's context.
#[derive(Debug, Clone, Copy)]
pub struct ContextInputs<'a> {
    /// Always kept; truncated only as a last resort.
    pub system_prompt: &'a str,
    /// The org's instructions, appended to the system prompt.
    pub org_strategy: Option<&'a str>,
    /// The rolling summary: its text stands in for the messages up to its cursor, and its
    /// pinned facts are always kept.
    pub summary: Option<&'a Summary>,
    /// The conversation in reading order, ending with the message the turn answers (as from
    /// [`conversation_for`]). Messages the summary covers are left out, except the last.
    pub recent: &'a [MessageView],
    /// Retrieved knowledge, most relevant first.
    pub knowledge: &'a [KnowledgeSnippet],
    /// This turn's tool calls and results so far, in order; always kept.
    pub tool_steps: &'a [ContextMessage],
}

impl<'a> ContextInputs<'a> {
    /// Inputs with [`SYSTEM_PROMPT`], the given conversation and nothing else.
    pub fn new(recent: &'a [MessageView]) -> Self {
        ContextInputs { system_prompt: SYSTEM_PROMPT, org_strategy: None, summary: None, recent, knowledge: &[], tool_steps: &[] }
    }
}

const STRATEGY_HEADING: &str = "\n\nOrganisation strategy:\n";
const KNOWLEDGE_HEADING: &str = "Retrieved knowledge. When you use it, cite its source tag, e.g. [doc:ID#CHUNK].";
/// When even the kept messages must be truncated, each keeps up to this many tokens before
/// the pinned facts give way.
const MIN_SHARE_TOKENS: usize = 16;

/// [`approx_tokens`] of a text of `len` bytes.
fn tokens_for_len(len: usize) -> usize {
    len.div_ceil(4) + 4
}

/// The most bytes `want` may keep so that `overhead + bytes` costs at most `room` tokens; 0 if
/// not even one byte fits.
fn fit_bytes(room: usize, overhead: usize, want: usize) -> usize {
    let max_len = room.saturating_sub(4).saturating_mul(4);
    max_len.saturating_sub(overhead).min(want)
}

fn truncate_to_tokens(text: &str, tokens: usize) -> String {
    truncate_to(text, tokens.saturating_sub(4) * 4)
}

/// Builds a turn's context from the prompt, summary, knowledge, conversation and tool steps.
///
/// The output, in order: the system prompt with the org strategy; the summary text ("Conversation
/// so far (summary vN)"); the pinned facts; the retrieved knowledge, each snippet tagged
/// `[doc:{document_id}#{chunk_id}] {title}`; the recent messages after the summary's cursor
/// (at most `budget.max_messages`, the newest always); this turn's tool steps.
///
/// The total of [`approx_tokens`] over the output never exceeds `budget.max_tokens`. To fit, it
/// drops, in this order: the oldest recent messages, knowledge snippets from the last, the
/// summary text (truncated, then left out), the strategy (likewise). The system prompt, the
/// pinned facts, the newest message and the tool steps are kept; only if they alone exceed the
/// budget are they truncated, the largest first (the pinned facts last). Under 4 tokens per kept
/// message, messages are left out, oldest tool steps first. Deterministic.
pub fn pack(inputs: &ContextInputs<'_>, budget: ContextBudget) -> Vec<ContextMessage> {
    let limit = budget.max_tokens;
    let prompt = inputs.system_prompt;
    let strategy = inputs.org_strategy.map(str::trim).unwrap_or("");
    let summary_heading = inputs.summary.map(|s| format!("Conversation so far (summary v{}):\n", s.version)).unwrap_or_default();
    let summary_text = inputs.summary.map_or("", |s| s.text.trim());
    let pinned = inputs.summary.and_then(|s| pinned_block(&s.pinned));
    let snippets: Vec<String> =
        inputs.knowledge.iter().map(|k| format!("\n\n{} {}\n{}", k.citation_tag(), k.title, k.text)).collect();
    let (newest, older): (Option<&MessageView>, Vec<&MessageView>) = match inputs.recent.split_last() {
        Some((newest, rest)) => {
            let cursor = inputs.summary.map_or(i64::MIN, |s| s.message_cursor);
            let mut older: Vec<&MessageView> = rest.iter().filter(|m| m.seq > cursor).collect();
            let keep = budget.max_messages.saturating_sub(1);
            older.drain(..older.len().saturating_sub(keep));
            (Some(newest), older)
        }
        None => (None, Vec::new()),
    };

    let system_cost = |strategy_bytes: usize| {
        tokens_for_len(prompt.len() + if strategy_bytes > 0 { STRATEGY_HEADING.len() + strategy_bytes } else { 0 })
    };
    let summary_cost = |bytes: usize| if bytes > 0 { tokens_for_len(summary_heading.len() + bytes) } else { 0 };
    let knowledge_cost = |count: usize| {
        if count == 0 {
            0
        } else {
            tokens_for_len(KNOWLEDGE_HEADING.len() + snippets[..count].iter().map(String::len).sum::<usize>())
        }
    };
    let fixed = pinned.as_deref().map_or(0, approx_tokens)
        + newest.map_or(0, |m| approx_tokens(&m.content))
        + inputs.tool_steps.iter().map(|m| approx_tokens(&m.content)).sum::<usize>();

    let mut strategy_bytes = strategy.len();
    let mut summary_bytes = summary_text.len();
    let mut knowledge = snippets.len();
    let mut older_kept = 0;
    let mut squeeze = false;
    let core = fixed + system_cost(strategy_bytes) + summary_cost(summary_bytes) + knowledge_cost(knowledge);
    if core <= limit {
        // 1. Recent messages, newest first, while they fit.
        let mut used = core;
        for m in older.iter().rev() {
            used += approx_tokens(&m.content);
            if used > limit {
                break;
            }
            older_kept += 1;
        }
    } else {
        // 2. The longest prefix of the knowledge that fits.
        let base = fixed + system_cost(strategy_bytes) + summary_cost(summary_bytes);
        knowledge = (0..=snippets.len()).rev().find(|&k| base + knowledge_cost(k) <= limit).unwrap_or(0);
        if base > limit {
            // 3. The summary text, truncated.
            let base = fixed + system_cost(strategy_bytes);
            summary_bytes = fit_bytes(limit.saturating_sub(base), summary_heading.len(), summary_bytes);
            if base > limit {
                // 4. The strategy, truncated.
                summary_bytes = 0;
                strategy_bytes = fit_bytes(limit.saturating_sub(fixed), prompt.len() + STRATEGY_HEADING.len(), strategy_bytes);
                // 5. Truncate what is always kept.
                squeeze = fixed + system_cost(strategy_bytes) > limit;
            }
        }
    }

    let strategy_kept = truncate_to(strategy, strategy_bytes);
    let system = if strategy_kept.is_empty() { prompt.to_owned() } else { format!("{prompt}{STRATEGY_HEADING}{strategy_kept}") };
    let system = ContextMessage { role: Role::System, content: system };
    let pinned = pinned.map(|content| ContextMessage { role: Role::System, content });
    let mut tail: Vec<ContextMessage> = newest.iter().map(|m| ContextMessage { role: m.role, content: m.content.clone() }).collect();
    tail.extend(inputs.tool_steps.iter().cloned());
    if squeeze {
        return squeeze_kept(system, pinned, tail, limit);
    }

    let mut context = vec![system];
    let summary_kept = truncate_to(summary_text, summary_bytes);
    if !summary_kept.is_empty() {
        context.push(ContextMessage { role: Role::System, content: format!("{summary_heading}{summary_kept}") });
    }
    context.extend(pinned);
    if knowledge > 0 {
        context.push(ContextMessage { role: Role::System, content: format!("{KNOWLEDGE_HEADING}{}", snippets[..knowledge].concat()) });
    }
    context.extend(older[older.len() - older_kept..].iter().map(|m| ContextMessage { role: m.role, content: m.content.clone() }));
    context.extend(tail);
    context
}

/// The last resort of [`pack`]: only the system prompt, the pinned facts, the newest message and
/// the tool steps (`tail`) are left, and together they exceed `limit`.
fn squeeze_kept(system: ContextMessage, pinned: Option<ContextMessage>, mut tail: Vec<ContextMessage>, limit: usize) -> Vec<ContextMessage> {
    // Every message costs at least 4 tokens, even empty; leave out what cannot fit at all,
    // keeping the last message longest.
    let mut system = Some(system);
    let mut pinned = pinned;
    while 4 * (usize::from(system.is_some()) + usize::from(pinned.is_some()) + tail.len()) > limit {
        if tail.len() > 1 {
            tail.remove(0);
        } else if system.is_some() {
            system = None;
        } else if pinned.is_some() {
            pinned = None;
        } else {
            tail.clear();
        }
    }
    let has_system = system.is_some();
    let mut others: Vec<ContextMessage> = system.into_iter().chain(tail).collect();
    let costs: Vec<usize> = others.iter().map(|m| approx_tokens(&m.content)).collect();
    // The pinned facts keep all they can once each other message has its minimal share.
    let reserve: usize = costs.iter().map(|&c| c.min(MIN_SHARE_TOKENS)).sum();
    let pinned_tokens = pinned.as_ref().map_or(0, |p| {
        let cost = approx_tokens(&p.content);
        if cost + reserve <= limit {
            cost
        } else {
            limit.saturating_sub(reserve).max(4).min(cost)
        }
    });
    // The others share the rest: the largest are cut down to a common cap.
    let room = limit - pinned_tokens;
    let fits = |cap: usize| costs.iter().map(|&c| c.min(cap)).sum::<usize>() <= room;
    let (mut low, mut high) = (4, costs.iter().copied().max().unwrap_or(4).max(4));
    while low < high {
        let mid = (low + high).div_ceil(2);
        if fits(mid) {
            low = mid;
        } else {
            high = mid - 1;
        }
    }
    for (m, &cost) in others.iter_mut().zip(&costs) {
        if cost > low {
            m.content = truncate_to_tokens(&m.content, low);
        }
    }
    if let Some(p) = pinned.as_mut() {
        if approx_tokens(&p.content) > pinned_tokens {
            p.content = truncate_to_tokens(&p.content, pinned_tokens);
        }
    }
    // Back in order: system, pinned facts, newest message, tool steps.
    let split = usize::from(has_system);
    let rest = others.split_off(split);
    others.extend(pinned);
    others.extend(rest);
    others
}

#[cfg(test)]
mod tests;
