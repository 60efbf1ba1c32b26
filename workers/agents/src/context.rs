//! Assembling a turn's context from what the Chat Controller sent, plus the org's strategy and
//! its knowledge for the message the turn answers (both from its Workspace object), packed into
//! the budget by `context::pack`.

use crate::tools_api::{org_strategy, search_knowledge};
use domain::agent_protocol::{ContextMessage, ContextSource};
use domain::context::{pack, ContextBudget, ContextInputs, KnowledgeSnippet, SYSTEM_PROMPT};
use worker::Env;

/// Passages retrieved for a turn.
const RETRIEVED: u32 = 3;

pub async fn assemble(env: &Env, org_id: &str, source: &ContextSource) -> Vec<ContextMessage> {
    // Two independent reads of the org's Workspace, made at the same time.
    let knowledge = async {
        let Some(text) = &source.retrieve_for else { return Vec::new() };
        search_knowledge(env, org_id, text, RETRIEVED).await.unwrap_or_else(|e| {
            // The cause may quote the workspace's answer, so only the event is logged.
            let _ = e;
            worker::console_warn!("{}", telemetry::LogLine::new(runtime_support::trace::now_ms(), telemetry::Level::Warn, "context.knowledge_skipped").org(Some(org_id)).render());
            Vec::new()
        })
    };
    let (knowledge, strategy): (Vec<KnowledgeSnippet>, _) = futures::join!(knowledge, org_strategy(env, org_id));
    let inputs = ContextInputs {
        system_prompt: SYSTEM_PROMPT,
        org_strategy: strategy.as_deref().filter(|s| !s.is_empty()),
        summary: source.summary.as_ref(),
        recent: &source.conversation,
        knowledge: &knowledge,
        tool_steps: &[],
    };
    pack(&inputs, ContextBudget { max_messages: source.max_messages, max_tokens: source.max_tokens })
}
