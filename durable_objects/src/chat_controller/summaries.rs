//! Rolling summaries. When the messages after the last summary pass a threshold, the alarm
//! runs a summary turn: the model folds them (all but the most recent few) into the previous
//! summary, and the new summary is stored with its `summary_version` and `message_cursor`.
//! Pinned facts (the contact's name, an opt-out, a promised follow-up) are extracted by rule
//! and carried forward, so the context never loses them.

use super::model_call::{Audience, ModelOutcome};
use super::{steps, store, ChatController};
use domain::agent_protocol::TurnRequest;
use domain::summary::{apply_summary, extract_pinned, needs_summary, summary_request};
use worker::*;

/// Unsummarised messages (beyond the [`KEEP_RECENT`] kept verbatim) that trigger a summary,
/// unless `SUMMARY_THRESHOLD` says otherwise.
const DEFAULT_THRESHOLD: usize = 30;
/// Messages left verbatim after a summary.
const KEEP_RECENT: usize = 10;
/// How much of the log one summary turn reads.
const SUMMARY_LOG_LIMIT: u32 = 400;

impl ChatController {
    pub(super) async fn summarize_if_due(&self) -> Result<()> {
        let threshold = self.env.var("SUMMARY_THRESHOLD").ok().and_then(|v| v.to_string().parse::<usize>().ok()).filter(|t| *t > 0).unwrap_or(DEFAULT_THRESHOLD);
        let sql = self.state.storage().sql();
        let previous = steps::latest_summary(&sql)?;
        let cursor = previous.as_ref().map_or(0, |s| s.message_cursor);
        // The most recent messages always stay verbatim, so the threshold counts beyond them:
        // each summary folds at least `threshold` messages.
        if !needs_summary(store::last_seq(&sql)?, cursor, threshold + KEEP_RECENT) {
            return Ok(());
        }
        let log = store::messages_after(&sql, cursor, SUMMARY_LOG_LIMIT)?;
        let Some(request) = summary_request(&log, previous.as_ref(), KEEP_RECENT) else { return Ok(()) };
        let version = previous.as_ref().map_or(1, |s| s.version + 1);
        let turn = TurnRequest {
            turn_id: format!("summary_v{version}"),
            org_id: store::meta_get(&sql, "org_id")?.unwrap_or_default(),
            chat_id: store::meta_get(&sql, "chat_id")?.unwrap_or_default(),
            messages: request.messages,
            tools: Vec::new(),
            secrets: Vec::new(),
            tool_steps: Vec::new(),
            cheaper_model: true,
            use_tools: false,
            context: None,
        };
        let (outcome, _) = self.call_agent(&turn, Audience::Nobody).await;
        let text = match outcome {
            Ok(ModelOutcome::Reply { content, .. }) => content,
            Ok(ModelOutcome::ToolCalls { .. }) => return Ok(()),
            Err(f) => {
                // The code only: a failure message may quote the provider, which may quote the chat.
                console_warn!("summary v{version} failed ({})", f.code);
                return Ok(());
            }
        };
        let folded: Vec<_> = log.iter().filter(|m| m.seq <= request.covers_through).cloned().collect();
        let pinned = extract_pinned(&folded, previous.as_ref().map_or(&[][..], |s| &s.pinned[..]));
        let summary = apply_summary(previous.as_ref(), request.covers_through, text, pinned);
        steps::insert_summary(&self.state.storage().sql(), &summary, Self::now())
    }

    /// `GET /summary`: the newest rolling summary.
    pub(super) fn latest_summary(&self) -> Result<Response> {
        runtime_support::responses::json(200, &serde_json::json!({ "summary": steps::latest_summary(&self.state.storage().sql())? }))
    }
}
