//! Running agent turns: one at a time, from the alarm, streaming the agents worker's reply to
//! every client as it arrives and storing the final message with the turn's end.

use super::{sockets, store, ChatController};
use runtime_support::transaction::transaction;
use domain::agent_protocol::{AgentEvent, TurnRequest, TurnSecret, TURN_PATH};
use domain::ids::{ChatId, OrgId};
use tenancy_store::secrets::MasterKey;
use domain::context::{assemble, conversation_for, ContextBudget};
use domain::events::{ChatEvent, PartialReply};
use domain::message::Role;
use domain::ndjson::LineBuffer;
use domain::schedule::{due, next_alarm, RUN_TURNS};
use domain::turn::{recover_interrupted, TurnEvent, TurnState};
use runtime_support::timeout;
use futures::StreamExt;
use std::time::Duration;
use worker::*;

/// How much of the log is read to assemble a turn's context.
const CONTEXT_LOG_LIMIT: u32 = 200;
/// Longest wait for the agents worker's response headers, then between two chunks.
const AGENT_IDLE_TIMEOUT: Duration = Duration::from_secs(90);

/// The org a turn runs for, with its D1.
struct Tenant {
    org: OrgId,
    chat: ChatId,
    db: D1Database,
}

/// How a turn ended.
struct Reply {
    content: String,
    model: String,
    tokens: (i64, i64),
}

struct Failure {
    code: &'static str,
    message: String,
}

fn failure(code: &'static str, message: impl Into<String>) -> Failure {
    Failure { code, message: message.into() }
}

/// Resets the draining flag however the drain ends.
struct DrainGuard<'a>(&'a std::cell::Cell<bool>);

impl Drop for DrainGuard<'_> {
    fn drop(&mut self) {
        self.0.set(false);
    }
}

impl ChatController {
    /// The alarm's work: run every due schedule entry, then re-arm for the earliest entry left
    /// (never for "now": due work is done in this invocation).
    pub(super) async fn run_due_work(&self) -> Result<()> {
        if !self.is_initialised()? || self.draining.get() {
            return Ok(());
        }
        let now = Self::now();
        let sql = self.state.storage().sql();
        let entries = store::schedule_all(&sql)?;
        let due = due(&entries, now);
        for entry in &due {
            store::schedule_remove(&sql, &entry.kind)?;
        }
        // Turns left queued or running by an instance that was evicted mid-drain are picked up
        // whether or not their schedule entry survived.
        if due.iter().any(|e| e.kind == RUN_TURNS) || store::has_unfinished_turns(&sql)? {
            self.drain_turns().await?;
        }
        if let Some(at) = next_alarm(&store::schedule_all(&sql)?) {
            self.state.storage().set_alarm(super::at(at.max(Self::now() + 1))).await?;
        }
        Ok(())
    }

    async fn drain_turns(&self) -> Result<()> {
        self.draining.set(true);
        let _guard = DrainGuard(&self.draining);
        self.recover_interrupted_turns()?;
        loop {
            let next = store::turns_in(&self.state.storage().sql(), TurnState::Queued, 1)?.into_iter().next();
            match next {
                Some(turn) => self.run_turn(turn).await?,
                None => return Ok(()),
            }
        }
    }

    /// Turns left `running` by an instance that no longer exists go back to the queue, or
    /// fail once they have used their attempts.
    fn recover_interrupted_turns(&self) -> Result<()> {
        let sql = self.state.storage().sql();
        for turn in store::turns_in(&sql, TurnState::Running, 100)? {
            let event = recover_interrupted(turn.attempts);
            let Ok(state) = turn.state().apply(event) else { continue };
            let error = (event == TurnEvent::Interrupt).then_some(("interrupted", "the chat was restarted while the turn ran, and it had no attempts left"));
            let update = store::TurnUpdate { state, attempts: turn.attempts, error, model: None, tokens: (turn.tokens_in, turn.tokens_out) };
            store::update_turn(&sql, &turn.id, update, Self::now())?;
            if let Some(row) = store::turn(&sql, &turn.id)? {
                sockets::broadcast(&self.state, &ChatEvent::Turn { turn: row.view() });
            }
        }
        Ok(())
    }

    async fn run_turn(&self, turn: store::TurnRow) -> Result<()> {
        let sql = self.state.storage().sql();
        let Ok(running) = turn.state().apply(TurnEvent::Start) else { return Ok(()) };
        let attempts = turn.attempts + 1;
        store::update_turn(&sql, &turn.id, store::TurnUpdate { state: running, attempts, error: None, model: None, tokens: (0, 0) }, Self::now())?;
        if let Some(row) = store::turn(&sql, &turn.id)? {
            sockets::broadcast(&self.state, &ChatEvent::Turn { turn: row.view() });
        }
        *self.partial.borrow_mut() = Some(PartialReply { turn_id: turn.id.clone(), deltas: 0, text: String::new() });

        let log = store::recent_messages(&sql, CONTEXT_LOG_LIMIT)?;
        let org_id = store::meta_get(&sql, "org_id")?.unwrap_or_default();
        let chat_id = store::meta_get(&sql, "chat_id")?.unwrap_or_default();
        let tenant = self.tenant(&org_id, &chat_id);
        if let Some(t) = &tenant {
            if let Err(e) = tenancy_store::active_turns::begin(&t.db, &t.org, chat_id.as_str(), &turn.id, Self::now()).await {
                console_error!("turn {}: could not mark the turn active: {e}", turn.id);
            }
        }
        let secrets = match &tenant {
            Some(t) => self.granted_secrets(t, &turn.id).await,
            None => Vec::new(),
        };
        let request = TurnRequest {
            turn_id: turn.id.clone(),
            org_id,
            chat_id: chat_id.clone(),
            messages: assemble(&conversation_for(&log, turn.trigger_seq), ContextBudget::default()),
            tools: Vec::new(),
            secrets,
        };
        let outcome = self.call_agent(&request).await;
        *self.partial.borrow_mut() = None;
        let tokens = outcome.as_ref().map(|r| r.tokens).unwrap_or((0, 0));
        self.finish_turn(&turn.id, attempts, outcome)?;
        if let Some(t) = &tenant {
            // Usage and the in-flight mark are bookkeeping: a failure is logged, never fatal.
            if let Err(e) = tenancy_store::usage::add_turn(&t.db, &t.org, Self::now(), tokens, 0).await {
                console_error!("turn {}: could not record usage: {e}", turn.id);
            }
            if let Err(e) = tenancy_store::active_turns::end(&t.db, &t.org, chat_id.as_str(), &turn.id).await {
                console_error!("turn {}: could not clear the active mark: {e}", turn.id);
            }
        }
        Ok(())
    }

    /// The chat's org and D1, for usage, quotas and secrets.
    fn tenant(&self, org_id: &str, chat_id: &str) -> Option<Tenant> {
        let org = OrgId::parse(org_id)?;
        let chat = ChatId::parse(chat_id)?;
        let db = self.env.d1("DB").ok()?;
        Some(Tenant { org, chat, db })
    }

    /// The secrets granted to this chat, decrypted for the agents worker. Without a master
    /// key, or on a D1 failure, the turn runs without secrets (and says so in the log).
    async fn granted_secrets(&self, t: &Tenant, turn_id: &str) -> Vec<TurnSecret> {
        let key = match MasterKey::from_env(&self.env) {
            Ok(key) => key,
            Err(_) => return Vec::new(),
        };
        match tenancy_store::secrets::granted_for_chat(&t.db, &key, &t.org, &t.chat, &format!("turn:{turn_id}"), Self::now()).await {
            Ok(list) => list,
            Err(e) => {
                console_error!("turn {turn_id}: could not load secrets: {e}");
                Vec::new()
            }
        }
    }

    /// Stores the outcome: the reply and the turn's end together, or the failure.
    fn finish_turn(&self, turn_id: &str, attempts: i64, outcome: std::result::Result<Reply, Failure>) -> Result<()> {
        let sql = self.state.storage().sql();
        let now = Self::now();
        let id = turn_id.to_owned();
        let stored = transaction(&self.state.storage(), move || {
            let Some(current) = store::turn(&sql, &id)? else { return Ok(None) };
            let event = if outcome.is_ok() { TurnEvent::Finish } else { TurnEvent::Fail };
            let Ok(state) = current.state().apply(event) else { return Ok(None) };
            let message = match &outcome {
                Ok(reply) => {
                    let m = store::append_message(&sql, Role::Assistant, &reply.content, None, &id, now)?;
                    let update = store::TurnUpdate { state, attempts, error: None, model: Some(&reply.model), tokens: reply.tokens };
                    store::update_turn(&sql, &id, update, now)?;
                    Some(m)
                }
                Err(f) => {
                    let update = store::TurnUpdate { state, attempts, error: Some((f.code, &f.message)), model: None, tokens: (0, 0) };
                    store::update_turn(&sql, &id, update, now)?;
                    None
                }
            };
            Ok(Some((message, store::turn(&sql, &id)?)))
        })?;
        if let Some((message, turn)) = stored {
            if let Some(message) = message {
                sockets::broadcast(&self.state, &ChatEvent::Message { message });
            }
            if let Some(turn) = turn {
                sockets::broadcast(&self.state, &ChatEvent::Turn { turn: turn.view() });
            }
        }
        Ok(())
    }

    /// Calls the agents worker and follows its event stream to the end.
    async fn call_agent(&self, request: &TurnRequest) -> std::result::Result<Reply, Failure> {
        let agents = self.env.service("AGENTS").map_err(|e| failure("agents_unavailable", e.to_string()))?;
        let body = serde_json::to_string(request).map_err(|e| failure("internal", e.to_string()))?;
        let headers = Headers::new();
        let _ = headers.set("Content-Type", "application/json");
        let mut init = RequestInit::new();
        init.with_method(Method::Post).with_headers(headers).with_body(Some(body.into()));
        let req = Request::new_with_init(&format!("https://agents{TURN_PATH}"), &init).map_err(|e| failure("internal", e.to_string()))?;
        let mut response = match timeout(agents.fetch_request(req), AGENT_IDLE_TIMEOUT).await {
            Some(Ok(r)) => r,
            Some(Err(e)) => return Err(failure("agents_unavailable", e.to_string())),
            None => return Err(failure("agents_timeout", "the agents worker did not answer in time")),
        };
        if response.status_code() != 200 {
            let text = response.text().await.unwrap_or_default();
            return Err(failure("agents_error", format!("agents worker answered {}: {}", response.status_code(), text.chars().take(200).collect::<String>())));
        }
        let mut stream = response.stream().map_err(|e| failure("agents_error", e.to_string()))?;
        let mut lines = LineBuffer::new();
        let mut reply = StreamState::default();
        loop {
            let chunk = match timeout(stream.next(), AGENT_IDLE_TIMEOUT).await {
                Some(Some(Ok(bytes))) => bytes,
                Some(Some(Err(e))) => return Err(failure("agents_stream_failed", e.to_string())),
                Some(None) => return Err(failure("agents_stream_ended", "the agent's stream ended without a final message")),
                None => return Err(failure("agents_timeout", "the agent's stream stalled")),
            };
            for line in lines.push(&chunk) {
                if line.trim().is_empty() {
                    continue;
                }
                let event: AgentEvent = serde_json::from_str(&line).map_err(|e| failure("agents_protocol", e.to_string()))?;
                if let Some(end) = self.on_agent_event(&request.turn_id, &mut reply, event) {
                    return end;
                }
            }
        }
    }

    /// Applies one agent event; returns the outcome when the event is terminal.
    fn on_agent_event(&self, turn_id: &str, reply: &mut StreamState, event: AgentEvent) -> Option<std::result::Result<Reply, Failure>> {
        match event {
            AgentEvent::Delta { text } => {
                let index = {
                    let mut partial = self.partial.borrow_mut();
                    let p = partial.get_or_insert_with(|| PartialReply { turn_id: turn_id.to_owned(), deltas: 0, text: String::new() });
                    p.text.push_str(&text);
                    p.deltas += 1;
                    p.deltas - 1
                };
                sockets::broadcast(&self.state, &ChatEvent::Delta { turn_id: turn_id.to_owned(), index, text });
                None
            }
            AgentEvent::ToolCall { name, .. } => {
                reply.unsupported_tool = Some(name);
                None
            }
            AgentEvent::Usage { input_tokens, output_tokens } => {
                reply.tokens = (input_tokens as i64, output_tokens as i64);
                None
            }
            AgentEvent::Done { content, model, .. } => Some(match reply.unsupported_tool.take() {
                Some(name) => Err(failure("tool_unavailable", format!("the model asked for tool `{name}`, but this chat has no tools"))),
                None => Ok(Reply { content, model, tokens: reply.tokens }),
            }),
            AgentEvent::Error { code, message } => Some(Err(Failure { code: agent_error_code(&code), message: format!("{code}: {message}") })),
        }
    }
}

#[derive(Default)]
struct StreamState {
    tokens: (i64, i64),
    unsupported_tool: Option<String>,
}

/// Error codes from the agents worker are relayed under one stable turn error code family.
fn agent_error_code(code: &str) -> &'static str {
    match code {
        "provider_timeout" => "provider_timeout",
        "provider_rate_limited" => "provider_rate_limited",
        "provider_malformed_stream" => "provider_malformed_stream",
        _ => "provider_error",
    }
}
