//! Per-request observability: the request's trace id (taken from a valid incoming
//! `x-parley-trace` or `traceparent`, else fresh), handed to the Durable Objects and returned
//! in `x-parley-trace`; one structured log line per request; and the request's metrics,
//! added to the isolate's write-behind counts (`crate::write_behind`), which reach D1 in a
//! batch after the response, so the hot path gains no D1 write.

use domain::ids::OrgId;
use domain::routes::{RouteName, ROUTES};
use telemetry::metrics::{self, Increment};
use telemetry::{Level, LogLine, TraceId, TRACE_HEADER};
use std::future::Future;
use std::pin::Pin;
use worker::{Context, Date, Env, Headers, Request, Response};

/// What the request revealed on its way through, for its log line and metrics.
pub struct Observed {
    pub trace: TraceId,
    pub started_ms: i64,
    pub route: Option<RouteName>,
    /// The signed-in caller's org: its metrics are counted there.
    pub org: Option<OrgId>,
    /// More increments than the request's own (an approval, a policy decision).
    pub extra: Vec<Increment>,
    /// Work the request leaves for after its response (counting a stored message's usage).
    pub after: Option<Pin<Box<dyn Future<Output = ()>>>>,
}

/// Starts observing a request.
pub fn start(req: &Request) -> Observed {
    let header = |name: &str| req.headers().get(name).ok().flatten();
    // The runtime always has crypto; without it every request would share the id ...01.
    let random = runtime_support::random::bytes16().unwrap_or_default();
    let trace = TraceId::for_request(header(TRACE_HEADER).as_deref(), header("traceparent").as_deref(), random);
    Observed { trace, started_ms: now_ms(), route: None, org: None, extra: Vec::new(), after: None }
}

fn now_ms() -> i64 {
    Date::now().as_millis() as i64
}

/// Headers for a request to a Durable Object, carrying the trace id.
pub fn trace_headers(trace: &TraceId) -> Headers {
    let headers = Headers::new();
    let _ = headers.set(TRACE_HEADER, trace.as_str());
    headers
}

/// Logs the request, schedules its metrics and returns the response with `x-parley-trace`.
pub fn finish(response: Response, obs: Observed, env: &Env, ctx: &Context) -> Response {
    let now = now_ms();
    let status = response.status_code();
    let duration = (now - obs.started_ms).max(0);
    // The route as the table spells it, e.g. `POST` and `/v1/chats/{chat_id}/messages`.
    let (method, template) = ROUTES.iter().find(|(_, _, name)| Some(*name) == obs.route).map_or(("", "unmatched"), |(m, t, _)| (*m, *t));
    let route = [method, " ", template].concat();
    let org = obs.org.as_ref().map(OrgId::as_str);
    let level = if status >= 500 { Level::Error } else { Level::Info };
    worker::console_log!(
        "{}",
        LogLine::new(now, level, "http.request").trace(Some(obs.trace.as_str())).org(org).text("method", Some(method)).text("route", Some(template)).number("status", i64::from(status)).duration_ms(duration).render()
    );
    // Series are counted per org. Signed webhook deliveries have no session: they are counted
    // platform-wide (org ''), by route and status; other requests without one are not counted,
    // so unauthenticated traffic cannot make D1 writes.
    let webhook = matches!(obs.route, Some(RouteName::ClerkWebhook | RouteName::StripeWebhook | RouteName::Inbound));
    let mut increments = if obs.org.is_some() || webhook { metrics::request(&route, status, duration as u64) } else { Vec::new() };
    increments.extend(obs.extra);
    crate::write_behind::count_metrics(org.unwrap_or(""), &increments);
    crate::write_behind::schedule(env, ctx, now);
    if let Some(after) = obs.after {
        ctx.wait_until(after);
    }
    let headers = response.headers().clone();
    let _ = headers.set(TRACE_HEADER, obs.trace.as_str());
    response.with_headers(headers)
}
