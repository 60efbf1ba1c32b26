//! The agents worker. `POST /v1/turns` takes a [`TurnRequest`] and answers with its events as
//! NDJSON, streamed as the model produces them. `GET /health` answers when the worker is up.

mod breakers;
mod channel;
mod context;
mod http_tool;
mod metrics;
mod tools_api;
mod offline;
mod openai_client;

use domain::agent_protocol::{AgentEvent, TurnRequest, TURN_PATH};
use domain::tool_protocol::{PLAN_PATH, RUN_PATH};
use futures::channel::mpsc;
use futures::StreamExt;

use provider::config::{choose, ProviderChoice};
use runtime_support::trace;
use telemetry::{Level, LogLine};
use worker::*;

#[event(fetch)]
async fn fetch(mut req: Request, env: Env, _ctx: Context) -> Result<Response> {
    match (req.method(), req.path().as_str()) {
        (Method::Get, "/health") => Response::from_json(&serde_json::json!({ "status": "ok", "provider": provider_name(&env) })),
        (Method::Post, TURN_PATH) => {
            let mut request: TurnRequest = match req.json().await {
                Ok(r) => r,
                Err(e) => return error(400, "malformed_json", &e.to_string()),
            };
            let trace = trace::of(&req);
            // Names only: which secrets this turn may use, for on-call and for the isolation tests.
            let names: Vec<&str> = request.secrets.iter().map(|s| s.name.as_str()).collect();
            console_log!("{}", turn_line(&request, trace.as_deref(), trace::now_ms(), "turn.received").list("secrets", &names).render());
            if request.use_tools && request.tools.is_empty() {
                request.tools = tools::catalog();
            }
            if let Some(source) = request.context.take() {
                request.messages = context::assemble(&env, &request.org_id, &source).await;
            }
            run_turn(request, &env, trace)
        }
        (Method::Post, PLAN_PATH) => tools_api::plan(req, &env).await,
        (Method::Post, RUN_PATH) => tools_api::run(req, &env).await,
        (Method::Post, "/v1/channel/deliver") => channel::deliver(req, &env).await,
        (Method::Get, "/v1/metrics") => metrics::get(&req, &env).await,
        _ => error(404, "not_found", "no such route"),
    }
}

fn error(status: u16, code: &str, message: &str) -> Result<Response> {
    Ok(Response::from_json(&serde_json::json!({ "error": { "code": code, "message": message } }))?.with_status(status))
}

fn provider_choice(env: &Env) -> ProviderChoice {
    choose(|name| env.secret(name).ok().map(|s| s.to_string()).or_else(|| env.var(name).ok().map(|v| v.to_string())))
}

fn provider_name(env: &Env) -> &'static str {
    match provider_choice(env) {
        ProviderChoice::Offline => "offline",
        ProviderChoice::OpenAiCompatible(_) => "openai_compatible",
    }
}

/// A log line about a turn: its trace, org, chat and id.
fn turn_line(request: &TurnRequest, trace: Option<&str>, at_ms: i64, event: &'static str) -> LogLine {
    LogLine::new(at_ms, Level::Info, event).trace(trace).org(Some(&request.org_id)).chat(Some(&request.chat_id)).text("turn", Some(&request.turn_id))
}

/// Logs how a model call for a turn ended (`completed` or the error code) and how long it took.
fn log_finished(request: &TurnRequest, trace: Option<&str>, started_ms: i64, outcome: &str) {
    let now = trace::now_ms();
    console_log!("{}", turn_line(request, trace, now, "turn.model_call").text("outcome", Some(outcome)).duration_ms(now - started_ms).render());
}

/// Starts the turn and returns its event stream. The provider runs in a task that feeds a
/// channel; the response body drains it, so events reach the caller as they happen.
fn run_turn(request: TurnRequest, env: &Env, trace: Option<String>) -> Result<Response> {
    let (tx, rx) = mpsc::unbounded::<AgentEvent>();
    let started = trace::now_ms();
    match provider_choice(env) {
        ProviderChoice::Offline => {
            offline::run(&request, &tx);
            log_finished(&request, trace.as_deref(), started, "completed");
        }
        ProviderChoice::OpenAiCompatible(config) => {
            let breaker = breakers::config(env);
            wasm_bindgen_futures::spawn_local(async move {
                let outcome = openai_client::run(&config, &breaker, trace.as_deref(), &request, &tx).await;
                log_finished(&request, trace.as_deref(), started, outcome);
            });
        }
    }
    let body = rx.map(|event| Ok::<Vec<u8>, Error>(event.to_line().into_bytes()));
    let headers = Headers::new();
    headers.set("Content-Type", "application/x-ndjson")?;
    Ok(Response::from_stream(body)?.with_headers(headers))
}
