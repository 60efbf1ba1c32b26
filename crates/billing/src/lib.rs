//! Parley's billing core. Pure: no I/O and no clock; times are passed in, in the unit each
//! function names (Clerk and Parley use milliseconds, Stripe uses seconds).
//!
//! - [`parse_clerk_event`] turns a verified Clerk webhook into an org, membership or user
//!   change; [`decide_mirror`] orders such changes, with deletion final.
//! - [`parse_stripe_event`] turns a verified Stripe webhook into a [`BillingChange`];
//!   [`apply_subscription_event`] folds subscription and invoice events into a
//!   [`StoredSubscription`] whatever order they arrive in.
//! - [`agent_access`] decides whether a member may use the agents under the org's
//!   subscription and seats; [`check_quotas`] whether one more turn fits the plan, counted
//!   over [`usage_period`] and [`utc_day`].
//!
//! Signature verification is not done here; the `webhooks` crate does it before parsing.

mod access;
mod clerk;
mod error;
mod json;
mod mirror;
mod period;
mod quota;
mod rate_limit;
mod status;
mod stripe_events;
mod subscription;

pub use access::{agent_access, AccessDenied, BillingState};
pub use domain::civil::DAY_MS;
pub use clerk::{parse_clerk_event, ClerkChange, ClerkEvent};
pub use error::EventError;
pub use mirror::{decide_mirror, next_mirror_state, MirrorDecision, MirrorState};
pub use period::{next_utc_midnight_ms, usage_period, utc_day, Period};
pub use rate_limit::{check_rate, rate_window, RateLimited, RateLimits, RateScope};
pub use quota::{check_quotas, PlanLimits, Quota, QuotaExceeded, UsageSnapshot, CONCURRENT_RETRY_SECS};
pub use status::SubscriptionStatus;
pub use stripe_events::{parse_stripe_event, BillingChange, StripeEvent, SubscriptionSnapshot};
pub use subscription::{apply_subscription_event, StoredSubscription, SubscriptionChange};
