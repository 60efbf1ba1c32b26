//! The OpenAI-compatible chat-completions client: one streamed completion per turn, with
//! timeouts, retries with backoff on 429, 5xx and timeouts, and a fallback model. Every
//! decision comes from the `provider` crate; this file does the HTTP.

use crate::breakers::{self, Dependency};
use provider::breaker::BreakerConfig;
use runtime_support::{sleep, timeout};
use domain::agent_protocol::{AgentEvent, TurnRequest};
use futures::channel::mpsc::UnboundedSender;
use futures::StreamExt;
use provider::openai::{completion_body, StreamAccumulator, StreamError};
use provider::retry::{parse_retry_after, Failure, Next, RetryState};
use provider::sse::SseDecoder;
use provider::ProviderConfig;
use std::time::Duration;
use worker::*;

/// Longest provider error body quoted in a turn error.
const MAX_ERROR_QUOTE: usize = 300;

/// Why an attempt ended without a completion.
enum AttemptError {
    /// Nothing was passed on yet: the call may be retried.
    Retryable { failure: Failure, retry_after_ms: Option<u64>, detail: String },
    /// Text was already streamed; a retry would repeat it, so the turn fails.
    AfterOutput { code: &'static str, detail: String },
}

/// Runs the turn to its end, sending every event to `tx`, then closes the channel. Every
/// attempt passes the provider's circuit breaker: while it is open the turn fails at once with
/// `provider_unavailable`. Returns how the turn ended: `completed` or the error code.
pub async fn run(config: &ProviderConfig, breaker: &BreakerConfig, trace: Option<&str>, request: &TurnRequest, tx: &UnboundedSender<AgentEvent>) -> &'static str {
    let mut retry = RetryState::new();
    let mut model = config.first_model(request.cheaper_model).to_owned();
    let outcome = loop {
        if let Err(secs) = breakers::admit(breaker, Dependency::Provider) {
            let message = format!("the model provider is failing; its circuit is open, retry in {secs} s");
            let _ = tx.unbounded_send(AgentEvent::Error { code: "provider_unavailable".into(), message });
            break "provider_unavailable";
        }
        let result = attempt(config, &model, request, tx).await;
        breakers::record(breaker, Dependency::Provider, provider_up(&result), trace);
        match result {
            Ok(()) => break "completed",
            Err(AttemptError::AfterOutput { code, detail }) => {
                let _ = tx.unbounded_send(AgentEvent::Error { code: code.into(), message: detail });
                break code;
            }
            Err(AttemptError::Retryable { failure, retry_after_ms, detail }) => {
                match retry.after_failure(config, failure, retry_after_ms, js_sys::Math::random()) {
                    Next::Retry { model: next, delay_ms } => {
                        sleep(delay_ms).await;
                        model = next;
                    }
                    Next::GiveUp => {
                        let _ = tx.unbounded_send(AgentEvent::Error { code: error_code(failure).into(), message: detail });
                        break error_code(failure);
                    }
                }
            }
        }
    };
    tx.close_channel();
    outcome
}

/// Whether an attempt shows the provider working: a completion, a rate limit or a refusal of
/// the request (4xx) do; a 5xx, a timeout, a network error or a broken stream do not.
fn provider_up(result: &std::result::Result<(), AttemptError>) -> bool {
    match result {
        Ok(()) => true,
        Err(AttemptError::Retryable { failure: Failure::Status(status), .. }) => *status < 500,
        Err(_) => false,
    }
}

fn error_code(failure: Failure) -> &'static str {
    match failure {
        Failure::Timeout => "provider_timeout",
        Failure::Status(429) => "provider_rate_limited",
        Failure::Status(_) => "provider_error",
        Failure::Network => "provider_unreachable",
        Failure::Stream => "provider_malformed_stream",
    }
}

async fn attempt(config: &ProviderConfig, model: &str, request: &TurnRequest, tx: &UnboundedSender<AgentEvent>) -> std::result::Result<(), AttemptError> {
    let limit = Duration::from_millis(config.timeout_ms);
    let retryable = |failure, detail: String| AttemptError::Retryable { failure, retry_after_ms: None, detail };
    let req = build_request(config, model, request).map_err(|e| retryable(Failure::Network, e.to_string()))?;
    let mut response = match timeout(Fetch::Request(req).send(), limit).await {
        None => return Err(retryable(Failure::Timeout, format!("no response from the provider within {} ms", config.timeout_ms))),
        Some(Err(e)) => return Err(retryable(Failure::Network, e.to_string())),
        Some(Ok(r)) => r,
    };
    let status = response.status_code();
    if status != 200 {
        let retry_after_ms = parse_retry_after(response.headers().get("Retry-After").ok().flatten().as_deref());
        let text = response.text().await.unwrap_or_default();
        let quote: String = text.chars().take(MAX_ERROR_QUOTE).collect();
        return Err(AttemptError::Retryable { failure: Failure::Status(status), retry_after_ms, detail: format!("provider answered {status} for model {model}: {quote}") });
    }
    let mut body = response.stream().map_err(|e| retryable(Failure::Network, e.to_string()))?;
    let mut decoder = SseDecoder::new();
    let mut acc = StreamAccumulator::new();
    loop {
        let events = match timeout(body.next(), limit).await {
            None => return Err(stream_failure(&acc, Failure::Timeout, "provider_timeout", "the provider's stream stalled".into())),
            Some(Some(Err(e))) => return Err(stream_failure(&acc, Failure::Network, "provider_unreachable", e.to_string())),
            Some(Some(Ok(chunk))) => decoder.push(&chunk),
            Some(None) => break,
        };
        for event in events {
            let out = acc.on_data(&event.data).map_err(|e| stream_error(&acc, e))?;
            for e in out {
                let _ = tx.unbounded_send(e);
            }
        }
    }
    for event in decoder.finish() {
        let out = acc.on_data(&event.data).map_err(|e| stream_error(&acc, e))?;
        for e in out {
            let _ = tx.unbounded_send(e);
        }
    }
    let has_output = acc.has_output();
    let tail = acc.finish(model).map_err(|e| {
        let code = if matches!(e, StreamError::Provider(_)) { "provider_error" } else { "provider_malformed_stream" };
        if has_output {
            AttemptError::AfterOutput { code, detail: e.to_string() }
        } else {
            retryable(Failure::Stream, e.to_string())
        }
    })?;
    for e in tail {
        let _ = tx.unbounded_send(e);
    }
    Ok(())
}

fn stream_error(acc: &StreamAccumulator, e: StreamError) -> AttemptError {
    let code = if matches!(e, StreamError::Provider(_)) { "provider_error" } else { "provider_malformed_stream" };
    stream_failure(acc, Failure::Stream, code, e.to_string())
}

fn stream_failure(acc: &StreamAccumulator, failure: Failure, code: &'static str, detail: String) -> AttemptError {
    if acc.has_output() {
        AttemptError::AfterOutput { code, detail }
    } else {
        AttemptError::Retryable { failure, retry_after_ms: None, detail }
    }
}

fn build_request(config: &ProviderConfig, model: &str, request: &TurnRequest) -> Result<Request> {
    let body = completion_body(model, &request.messages, &request.tools, &request.tool_steps).to_string();
    let headers = Headers::new();
    headers.set("Content-Type", "application/json")?;
    headers.set("Accept", "text/event-stream")?;
    headers.set("Authorization", &format!("Bearer {}", config.api_key))?;
    let mut init = RequestInit::new();
    init.with_method(Method::Post).with_headers(headers).with_body(Some(body.into()));
    Request::new_with_init(&config.completions_url(), &init)
}
