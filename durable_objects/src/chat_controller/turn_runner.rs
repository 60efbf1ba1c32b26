//! Running agent turns: one at a time, from the alarm. A turn alternates model calls and tool
//! calls until the model answers, a tool call waits for a person, or the step limit is hit.
//! Each step is stored as it happens, so a turn interrupted by eviction continues from its
//! steps on the next wake (and a tool that was mid-call is never called again).

use super::model_call::{failure, Audience, Failure, ModelOutcome};
use super::{sockets, steps, store, ChatController};
use domain::agent_protocol::{TurnRequest, TurnSecret};
use domain::budget::{call_cost_micros, configured_prices, routing, tier, ModelChoice, ModelPrice, Tier};
use domain::agent_protocol::ContextSource;
use domain::context::{approx_tokens, conversation_for, ContextBudget};
use domain::events::{ChatEvent, PartialReply};
use domain::ids::{ChatId, OrgId};
use domain::message::Role;
use domain::schedule::{due, next_alarm, RUN_TURNS};
use domain::tool_steps::{next_action, NextAction, StepState};
use domain::turn::{recover_interrupted, TurnEvent, TurnState};
use runtime_support::transaction::transaction;
use worker::*;

/// How much of the log is read to assemble a turn's context.
const CONTEXT_LOG_LIMIT: u32 = 200;
/// The least context a turn gets, however many tokens its tool steps take.
const MIN_CONTEXT_TOKENS: usize = 400;
/// The schedule entry that expires approvals nobody decided.
pub(super) const EXPIRE_APPROVALS: &str = "expire_approvals";

/// The org a turn runs for, with its D1.
pub(super) struct Tenant {
    pub org: OrgId,
    pub chat: ChatId,
    pub db: D1Database,
}

/// Everything a running turn carries between its steps.
pub(super) struct TurnRun {
    pub turn_id: String,
    pub trigger_seq: i64,
    pub attempts: i64,
    pub org_id: String,
    pub chat_id: String,
    pub tenant: Option<Tenant>,
    pub secrets: Vec<TurnSecret>,
    /// Tokens used by this run's model calls.
    pub tokens: (i64, i64),
    /// What this run's model calls cost, in micro-dollars.
    pub cost_micros: u64,
    /// Tool calls this run made.
    pub tool_calls: i64,
    /// The org's budget tier when the turn started, and what it routes to.
    pub tier: Tier,
    pub cheaper_model: bool,
    pub context: ContextBudget,
    /// The configured model prices (`MODEL_PRICES`), read once per turn.
    pub prices: std::collections::BTreeMap<String, ModelPrice>,
    /// Metric increments this run adds (tool calls, then its outcome).
    pub metrics: Vec<telemetry::metrics::Increment>,
    /// The usage period the turn started in, which its usage is added to (`None` if D1 could
    /// not say when the turn started: it is read again at the end).
    pub period: Option<billing::Period>,
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
        if due.iter().any(|e| e.kind == EXPIRE_APPROVALS) {
            self.expire_approvals(now)?;
        }
        // Turns left queued or running by an instance that was evicted mid-drain are picked up
        // whether or not their schedule entry survived.
        if due.iter().any(|e| e.kind == RUN_TURNS) || store::has_unfinished_turns(&sql)? {
            self.drain_turns().await?;
            // The drain ran every queued turn it could, including any an expiry just resumed.
            store::schedule_remove(&sql, RUN_TURNS)?;
            // Summaries are written here, in the same alarm, rather than scheduled for "now".
            if let Err(e) = self.summarize_if_due().await {
                console_error!("summary: {e}");
            }
        }
        if let Some(at) = steps::next_expiry(&sql)? {
            store::schedule_set(&sql, EXPIRE_APPROVALS, at)?;
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
            let sql = self.state.storage().sql();
            // A turn waiting for a person holds the queue: turns stay serialised.
            if !store::turns_in(&sql, TurnState::AwaitingApproval, 1)?.is_empty() {
                return Ok(());
            }
            match store::turns_in(&sql, TurnState::Queued, 1)?.into_iter().next() {
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
            self.broadcast_turn(&turn.id)?;
        }
        Ok(())
    }

    pub(super) fn broadcast_turn(&self, turn_id: &str) -> Result<()> {
        if let Some(row) = store::turn(&self.state.storage().sql(), turn_id)? {
            sockets::broadcast(&self.state, &ChatEvent::Turn { turn: row.view() });
        }
        Ok(())
    }

    async fn run_turn(&self, turn: store::TurnRow) -> Result<()> {
        let sql = self.state.storage().sql();
        let Ok(running) = turn.state().apply(TurnEvent::Start) else { return Ok(()) };
        let attempts = turn.attempts + 1;
        store::update_turn(&sql, &turn.id, store::TurnUpdate { state: running, attempts, error: None, model: None, tokens: (turn.tokens_in, turn.tokens_out) }, Self::now())?;
        self.broadcast_turn(&turn.id)?;
        let org_id = store::meta_get(&sql, "org_id")?.unwrap_or_default();
        let chat_id = store::meta_get(&sql, "chat_id")?.unwrap_or_default();
        let tenant = self.tenant(&org_id, &chat_id);
        let mut run = TurnRun {
            turn_id: turn.id.clone(),
            trigger_seq: turn.trigger_seq,
            attempts,
            org_id,
            chat_id,
            tenant,
            secrets: Vec::new(),
            tokens: (0, 0),
            cost_micros: 0,
            tool_calls: 0,
            tier: Tier::Green,
            cheaper_model: false,
            context: ContextBudget::default(),
            prices: configured_prices(self.env.var("MODEL_PRICES").ok().map(|v| v.to_string()).as_deref()),
            metrics: Vec::new(),
            period: None,
        };
        *self.trace.borrow_mut() = turn.trace_id.clone();
        let started = Self::now();
        if let Some(t) = &run.tenant {
            // Three independent D1 calls, made at the same time.
            let (marked, secrets, spend) = futures::join!(
                tenancy_store::active_turns::begin(&t.db, &t.org, t.chat.as_str(), &run.turn_id, Self::now()),
                self.granted_secrets(t, &run.turn_id),
                tenancy_store::budget::spend(&t.db, &t.org, Self::now()),
            );
            if let Err(e) = marked {
                console_error!("turn {}: could not mark the turn active: {e}", run.turn_id);
            }
            run.secrets = secrets;
            // The budget tier picks the model and the context size for the whole turn.
            match spend {
                Ok(s) => {
                    run.tier = tier(s.spent, s.budget);
                    run.period = Some(s.period);
                }
                Err(e) => console_error!("turn {}: budget unavailable, staying GREEN: {e}", run.turn_id),
            }
        }
        let route = routing(run.tier, ContextBudget::default());
        run.cheaper_model = route.model == ModelChoice::Cheaper;
        run.context = route.context;
        store::set_turn_tier(&sql, &run.turn_id, run.tier.as_str())?;
        let ended = self.step_until_settled(&mut run).await;
        *self.partial.borrow_mut() = None;
        let parked = matches!(ended, Ok(None));
        let outcome = match &ended {
            Ok(Some(Ok(_))) => "completed",
            Ok(Some(Err(f))) => f.code,
            Ok(None) => "parked",
            Err(_) => "internal",
        };
        match ended {
            Ok(Some(outcome)) => self.finish_turn(&run, outcome)?,
            Ok(None) => {}
            Err(e) => {
                console_error!("turn {}: {e}", run.turn_id);
                self.finish_turn(&run, Err(failure("internal", "the turn could not be stored")))?;
            }
        }
        let line = telemetry::LogLine::new(Self::now(), telemetry::Level::Info, "turn.finished").trace(turn.trace_id.as_deref()).org(Some(&run.org_id)).chat(Some(&run.chat_id));
        console_log!("{}", line.text("turn", Some(&run.turn_id)).text("outcome", Some(outcome)).duration_ms(Self::now() - started).render());
        run.metrics.push(telemetry::metrics::count(telemetry::metrics::TURNS, &[("outcome", outcome)]));
        self.record(&run, parked).await;
        Ok(())
    }

    /// Writes what the turn leaves in D1 (metrics, usage, the end of its in-flight mark) in one
    /// batch, with the counts waiting in this instance (the alarm's). It is bookkeeping: a
    /// failure is logged, never fatal.
    async fn record(&self, run: &TurnRun, parked: bool) {
        let Some(t) = &run.tenant else { return };
        let period = match run.period {
            Some(p) => p,
            None => match tenancy_store::usage::current_period(&t.db, &t.org, Self::now()).await {
                Ok(p) => p,
                Err(e) => return console_error!("turn {}: usage and metrics not recorded: {e}", run.turn_id),
            },
        };
        // Taken only now: if the period could not be read, the alarm still counts itself.
        let metrics: Vec<_> = run.metrics.iter().cloned().chain(self.unrecorded.take()).collect();
        let record = tenancy_store::turn_record::TurnRecord {
            chat_id: t.chat.as_str(),
            turn_id: &run.turn_id,
            period,
            used: tenancy_store::usage::Increment { messages: 0, tokens: run.tokens, tool_calls: run.tool_calls, cost_micros: run.cost_micros as i64 },
            metrics: &metrics,
            parked,
        };
        if let Err(e) = tenancy_store::turn_record::write(&t.db, &t.org, &record).await {
            console_error!("turn {}: usage and metrics not recorded: {e}", run.turn_id);
        }
    }

    /// Runs steps until the turn has its outcome (`Some`) or parks for a person (`None`).
    async fn step_until_settled(&self, run: &mut TurnRun) -> Result<Option<std::result::Result<(String, String), Failure>>> {
        loop {
            let sql = self.state.storage().sql();
            let rows = steps::steps_of(&sql, &run.turn_id)?;
            let states: Vec<(u32, StepState)> = rows.iter().map(|r| (r.step as u32, r.state())).collect();
            let model_steps = steps::model_steps(&sql, &run.turn_id)? as u32;
            match next_action(&states, model_steps) {
                NextAction::MarkInterrupted(n) => self.mark_interrupted(run, i64::from(n))?,
                NextAction::Handle(n) => self.handle_step(run, i64::from(n)).await?,
                NextAction::RunApproved(n) => self.run_step(run, i64::from(n), None).await?,
                NextAction::Park => {
                    self.park(run)?;
                    return Ok(None);
                }
                NextAction::StepLimit => {
                    return Ok(Some(Err(failure("step_limit", format!("the turn stopped after {model_steps} model calls without a final answer")))));
                }
                NextAction::AskModel => {
                    let request = self.request_for(run, &rows)?;
                    *self.partial.borrow_mut() = Some(PartialReply { turn_id: run.turn_id.clone(), deltas: 0, text: String::new() });
                    let (outcome, tokens) = self.call_agent(&request, Audience::Clients).await;
                    run.tokens = (run.tokens.0 + tokens.0, run.tokens.1 + tokens.1);
                    let model = match &outcome {
                        Ok(ModelOutcome::Reply { model, .. } | ModelOutcome::ToolCalls { model, .. }) => model.as_str(),
                        Err(_) => "",
                    };
                    let cost = call_cost_micros(&run.prices, model, tokens);
                    run.cost_micros = run.cost_micros.saturating_add(cost);
                    store::add_turn_usage(&sql, &run.turn_id, tokens, cost)?;
                    match outcome {
                        Ok(ModelOutcome::Reply { content, model }) => return Ok(Some(Ok((content, model)))),
                        Ok(ModelOutcome::ToolCalls { calls, .. }) => {
                            let (id, now) = (run.turn_id.clone(), Self::now());
                            transaction(&self.state.storage(), move || {
                                let model_step = steps::count_model_step(&sql, &id)? - 1;
                                steps::insert_calls(&sql, &id, model_step, &calls, now)
                            })?;
                        }
                        Err(f) => return Ok(Some(Err(f))),
                    }
                }
            }
        }
    }

    /// The model request for the turn's next call: what its context is assembled from (the
    /// conversation, the rolling summary with its pinned facts, the tier's budget less what
    /// the turn's tool steps take, and the message to retrieve knowledge for), the tool set,
    /// and the tool steps so far. The agents worker retrieves and packs.
    fn request_for(&self, run: &TurnRun, rows: &[steps::StepRow]) -> Result<TurnRequest> {
        let sql = self.state.storage().sql();
        let log = store::recent_messages(&sql, CONTEXT_LOG_LIMIT)?;
        let tool_steps: Vec<_> = rows.iter().filter(|r| r.state().is_settled()).map(steps::StepRow::exchange).collect();
        let steps_cost: usize = tool_steps.iter().map(|t| approx_tokens(&t.arguments) + approx_tokens(&t.result)).sum();
        let conversation = conversation_for(&log, run.trigger_seq);
        let retrieve_for = conversation.last().map(|m| m.content.clone());
        let context = ContextSource {
            conversation,
            summary: steps::latest_summary(&sql)?,
            max_messages: run.context.max_messages,
            max_tokens: run.context.max_tokens.saturating_sub(steps_cost).max(MIN_CONTEXT_TOKENS),
            retrieve_for,
        };
        Ok(TurnRequest {
            turn_id: run.turn_id.clone(),
            org_id: run.org_id.clone(),
            chat_id: run.chat_id.clone(),
            messages: Vec::new(),
            tools: Vec::new(),
            secrets: run.secrets.clone(),
            tool_steps,
            cheaper_model: run.cheaper_model,
            use_tools: true,
            context: Some(context),
        })
    }

    /// Parks the turn on its pending approvals and schedules their expiry.
    fn park(&self, run: &TurnRun) -> Result<()> {
        let sql = self.state.storage().sql();
        let id = run.turn_id.clone();
        let now = Self::now();
        transaction(&self.state.storage(), move || {
            let Some(current) = store::turn(&sql, &id)? else { return Ok(()) };
            let Ok(state) = current.state().apply(TurnEvent::Park) else { return Ok(()) };
            store::update_turn(&sql, &id, store::TurnUpdate { state, attempts: current.attempts, error: None, model: None, tokens: (current.tokens_in, current.tokens_out) }, now)?;
            if let Some(at) = steps::next_expiry(&sql)? {
                store::schedule_set(&sql, EXPIRE_APPROVALS, at)?;
            }
            Ok(())
        })?;
        self.broadcast_turn(&run.turn_id)
    }

    /// Stores the outcome: the reply and the turn's end together, or the failure.
    fn finish_turn(&self, run: &TurnRun, outcome: std::result::Result<(String, String), Failure>) -> Result<()> {
        let sql = self.state.storage().sql();
        let now = Self::now();
        let id = run.turn_id.clone();
        let attempts = run.attempts;
        let stored = transaction(&self.state.storage(), move || {
            let Some(current) = store::turn(&sql, &id)? else { return Ok(None) };
            let event = if outcome.is_ok() { TurnEvent::Finish } else { TurnEvent::Fail };
            let Ok(state) = current.state().apply(event) else { return Ok(None) };
            let tokens = (current.tokens_in, current.tokens_out);
            let message = match &outcome {
                Ok((content, model)) => {
                    let m = store::append_message(&sql, Role::Assistant, content, None, &id, now)?;
                    store::update_turn(&sql, &id, store::TurnUpdate { state, attempts, error: None, model: Some(model), tokens }, now)?;
                    Some(m)
                }
                Err(f) => {
                    store::update_turn(&sql, &id, store::TurnUpdate { state, attempts, error: Some((f.code, &f.message)), model: None, tokens }, now)?;
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

    /// Adds metric increments to the chat's org's counts in D1; a failure is logged, never
    /// fatal.
    pub(super) async fn count(&self, increments: &[telemetry::metrics::Increment]) {
        let sql = self.state.storage().sql();
        let meta = |k: &str| store::meta_get(&sql, k).ok().flatten().unwrap_or_default();
        if let Some(t) = self.tenant(&meta("org_id"), &meta("chat_id")) {
            if let Err(e) = tenancy_store::metrics::add(&t.db, t.org.as_str(), increments).await {
                console_error!("metrics not recorded: {e}");
            }
        }
    }

    /// The chat's org and D1, for usage, quotas, secrets and endpoints.
    fn tenant(&self, org_id: &str, chat_id: &str) -> Option<Tenant> {
        let org = OrgId::parse(org_id)?;
        let chat = ChatId::parse(chat_id)?;
        let db = self.env.d1("DB").ok()?;
        Some(Tenant { org, chat, db })
    }

    /// The secrets granted to this chat, decrypted for the agents worker. Without a master
    /// key, or on a D1 failure, the turn runs without secrets (and says so in the log).
    async fn granted_secrets(&self, t: &Tenant, turn_id: &str) -> Vec<TurnSecret> {
        let keys = match tenancy_store::secrets::master_keys(&self.env) {
            Ok(keys) => keys,
            Err(e) => {
                console_error!("turn {turn_id}: no secrets: {e}");
                return Vec::new();
            }
        };
        match tenancy_store::secrets::granted_for_chat(&t.db, &keys, &t.org, &t.chat, &format!("turn:{turn_id}"), Self::now()).await {
            Ok(list) => list,
            Err(e) => {
                console_error!("turn {turn_id}: could not load secrets: {e}");
                Vec::new()
            }
        }
    }
}
