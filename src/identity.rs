//! Who is calling. Until Clerk sign-in lands, the only identity is the development identity,
//! which `domain::dev_identity` allows only for loopback requests to a worker started with
//! `PARLEY_DEV_IDENTITY=local-only`.

use domain::dev_identity;
use domain::ids::OrgId;
use domain::ApiError;
use worker::{Env, Request};

/// The authenticated caller.
#[derive(Debug, Clone)]
pub struct Identity {
    pub org: OrgId,
    pub user_id: String,
}

pub fn authenticate(req: &Request, env: &Env) -> Result<Identity, ApiError> {
    let flag = env.var("PARLEY_DEV_IDENTITY").ok().map(|v| v.to_string());
    let host = req.url().ok().and_then(|u| u.host_str().map(str::to_owned)).unwrap_or_default();
    if dev_identity::allowed(flag.as_deref(), &host) {
        let org = OrgId::parse(dev_identity::DEV_ORG).ok_or(ApiError::Unauthenticated)?;
        return Ok(Identity { org, user_id: dev_identity::DEV_USER.to_owned() });
    }
    Err(ApiError::Unauthenticated)
}
