//! Checking a token's claims against the deployment's policy and the current time, and turning
//! them into the [`Session`] a request acts as.

use crate::error::AuthError;
use crate::role::Role;
use crate::token::SessionClaims;
use domain::ids::OrgId;
use serde::{Deserialize, Serialize};

/// What a session token must satisfy for this deployment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionPolicy {
    /// The exact `iss` expected: the Clerk instance's frontend API URL.
    pub issuer: String,
    /// The origins a token's `azp` may name. Empty: `azp` is not checked.
    pub authorized_parties: Vec<String>,
    /// Seconds of clock difference tolerated on `exp`, `nbf` and `iat`. Negative counts as 0.
    pub skew_secs: i64,
}

/// An authenticated user acting in their active organisation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    /// The Clerk user id (`sub`).
    pub user_id: String,
    /// The active organisation: the tenant every request is scoped to.
    pub org: OrgId,
    /// The user's role in that organisation.
    pub role: Role,
    /// The Clerk session id (`sid`), when present.
    pub session_id: Option<String>,
    /// When the token expires (`exp`), seconds since the Unix epoch.
    pub expires_at: i64,
}

/// Checks the claims of a token whose signature the shell has verified, at `now_secs` (seconds
/// since the Unix epoch), in this order:
///
/// 1. `exp`: expired once `now_secs >= exp + skew` ([`AuthError::Expired`]);
/// 2. `nbf` and `iat`: refused while `now_secs + skew < nbf` (or `< iat`)
///    ([`AuthError::NotYetValid`]);
/// 3. `iss` must equal the policy's issuer exactly ([`AuthError::WrongIssuer`]);
/// 4. `azp`, when the policy lists authorized parties, must be present and listed
///    ([`AuthError::WrongAuthorizedParty`]);
/// 5. the active organisation: Clerk v2's `o` claim if present, else v1's `org_id` and
///    `org_role` ([`AuthError::NoActiveOrg`] if neither; [`AuthError::Malformed`] if the id is
///    not a valid [`OrgId`]). A v1 org without `org_role` gets [`Role::Member`].
pub fn check_claims(claims: &SessionClaims, policy: &SessionPolicy, now_secs: i64) -> Result<Session, AuthError> {
    let skew = policy.skew_secs.max(0);
    if now_secs >= claims.exp.saturating_add(skew) {
        return Err(AuthError::Expired);
    }
    let earliest = now_secs.saturating_add(skew);
    if claims.nbf.is_some_and(|nbf| earliest < nbf) || claims.iat.is_some_and(|iat| earliest < iat) {
        return Err(AuthError::NotYetValid);
    }
    if claims.iss != policy.issuer {
        return Err(AuthError::WrongIssuer);
    }
    if !policy.authorized_parties.is_empty() {
        let listed = claims.azp.as_ref().is_some_and(|azp| policy.authorized_parties.contains(azp));
        if !listed {
            return Err(AuthError::WrongAuthorizedParty);
        }
    }
    let (org_id, role) = match (&claims.o, &claims.org_id) {
        (Some(o), _) => (o.id.as_str(), o.rol.as_str()),
        (None, Some(id)) => (id.as_str(), claims.org_role.as_deref().unwrap_or("")),
        (None, None) => return Err(AuthError::NoActiveOrg),
    };
    let org = OrgId::parse(org_id).ok_or_else(|| AuthError::malformed("the organisation id is not valid"))?;
    if claims.sub.is_empty() {
        return Err(AuthError::malformed("empty claim `sub`"));
    }
    Ok(Session {
        user_id: claims.sub.clone(),
        org,
        role: Role::parse_clerk(role),
        session_id: claims.sid.clone(),
        expires_at: claims.exp,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::token::OrgClaim;

    const NOW: i64 = 1_700_000_000;
    const ISSUER: &str = "https://clerk.parley.example";
    const APP: &str = "https://app.parley.example";

    fn policy() -> SessionPolicy {
        SessionPolicy { issuer: ISSUER.into(), authorized_parties: vec![APP.into()], skew_secs: 5 }
    }

    fn claims() -> SessionClaims {
        SessionClaims {
            sub: "user_2abc".into(),
            iss: ISSUER.into(),
            exp: NOW + 60,
            nbf: Some(NOW - 10),
            iat: Some(NOW - 10),
            azp: Some(APP.into()),
            sid: Some("sess_2xyz".into()),
            org_id: None,
            org_role: None,
            org_slug: None,
            o: Some(OrgClaim { id: "org_2abcXYZ".into(), rol: "admin".into(), slg: Some("acme".into()) }),
        }
    }

    fn v1(org_id: &str, role: Option<&str>) -> SessionClaims {
        SessionClaims {
            o: None,
            org_id: Some(org_id.into()),
            org_role: role.map(str::to_owned),
            org_slug: Some("acme".into()),
            ..claims()
        }
    }

    #[test]
    fn a_valid_v2_session() {
        assert_eq!(check_claims(&claims(), &policy(), NOW), Ok(Session {
            user_id: "user_2abc".into(),
            org: OrgId::parse("org_2abcXYZ").unwrap(),
            role: Role::Admin,
            session_id: Some("sess_2xyz".into()),
            expires_at: NOW + 60,
        }));
    }

    #[test]
    fn v2_roles_have_no_prefix() {
        for (rol, role) in [("admin", Role::Admin), ("member", Role::Member), ("basic_member", Role::Member),
            ("billing", Role::Member), ("org:admin", Role::Admin)] {
            let mut c = claims();
            c.o.as_mut().unwrap().rol = rol.into();
            assert_eq!(check_claims(&c, &policy(), NOW).unwrap().role, role, "{rol}");
        }
    }

    #[test]
    fn v1_org_claims() {
        let s = check_claims(&v1("org_2v1ORG", Some("org:admin")), &policy(), NOW).unwrap();
        assert_eq!((s.org.as_str(), s.role), ("org_2v1ORG", Role::Admin));
        let s = check_claims(&v1("org_2v1ORG", Some("org:member")), &policy(), NOW).unwrap();
        assert_eq!(s.role, Role::Member);
        let s = check_claims(&v1("org_2v1ORG", Some("org:custom_role")), &policy(), NOW).unwrap();
        assert_eq!(s.role, Role::Member);
        let s = check_claims(&v1("org_2v1ORG", None), &policy(), NOW).unwrap();
        assert_eq!(s.role, Role::Member, "no role claim: least privilege");
    }

    #[test]
    fn v2_wins_over_v1() {
        let mut c = v1("org_v1", Some("org:admin"));
        c.o = Some(OrgClaim { id: "org_v2".into(), rol: "member".into(), slg: None });
        let s = check_claims(&c, &policy(), NOW).unwrap();
        assert_eq!((s.org.as_str(), s.role), ("org_v2", Role::Member));
    }

    #[test]
    fn no_active_org() {
        let mut c = claims();
        c.o = None;
        assert_eq!(check_claims(&c, &policy(), NOW), Err(AuthError::NoActiveOrg));
        c.org_role = Some("org:admin".into());
        c.org_slug = Some("acme".into());
        assert_eq!(check_claims(&c, &policy(), NOW), Err(AuthError::NoActiveOrg), "a role without an org id is no org");
        assert_eq!(AuthError::NoActiveOrg.status(), 403);
    }

    #[test]
    fn org_ids_must_be_valid() {
        for bad in ["", "org/1", "org 1", "org_é", &"o".repeat(65)] {
            let expected = Err(AuthError::Malformed("the organisation id is not valid".into()));
            assert_eq!(check_claims(&v1(bad, Some("org:admin")), &policy(), NOW), expected, "v1 {bad:?}");
            let mut c = claims();
            c.o.as_mut().unwrap().id = bad.to_owned();
            assert_eq!(check_claims(&c, &policy(), NOW), expected, "v2 {bad:?}");
        }
    }

    #[test]
    fn expiry_boundary_with_skew() {
        let c = claims(); // exp = NOW + 60, skew 5: valid while now < NOW + 65.
        assert!(check_claims(&c, &policy(), NOW + 64).is_ok());
        assert_eq!(check_claims(&c, &policy(), NOW + 65), Err(AuthError::Expired));
        assert_eq!(check_claims(&c, &policy(), NOW + 66), Err(AuthError::Expired));
        let strict = SessionPolicy { skew_secs: 0, ..policy() };
        assert!(check_claims(&c, &strict, NOW + 59).is_ok());
        assert_eq!(check_claims(&c, &strict, NOW + 60), Err(AuthError::Expired), "exp itself is already expired");
    }

    #[test]
    fn not_before_boundary_with_skew() {
        let mut c = claims();
        c.nbf = Some(NOW + 100);
        c.iat = None;
        c.exp = NOW + 1000;
        // skew 5: accepted once now + 5 >= nbf, i.e. from NOW + 95.
        assert_eq!(check_claims(&c, &policy(), NOW + 94), Err(AuthError::NotYetValid));
        assert!(check_claims(&c, &policy(), NOW + 95).is_ok());
        let strict = SessionPolicy { skew_secs: 0, ..policy() };
        assert_eq!(check_claims(&c, &strict, NOW + 99), Err(AuthError::NotYetValid));
        assert!(check_claims(&c, &strict, NOW + 100).is_ok(), "valid at nbf itself");
    }

    #[test]
    fn issued_in_the_future_is_not_yet_valid() {
        let mut c = claims();
        c.nbf = None;
        c.iat = Some(NOW + 100);
        c.exp = NOW + 1000;
        assert_eq!(check_claims(&c, &policy(), NOW + 94), Err(AuthError::NotYetValid));
        assert!(check_claims(&c, &policy(), NOW + 95).is_ok());
    }

    #[test]
    fn optional_times_may_be_absent() {
        let mut c = claims();
        c.nbf = None;
        c.iat = None;
        assert!(check_claims(&c, &policy(), NOW).is_ok());
    }

    #[test]
    fn negative_skew_counts_as_zero() {
        let c = claims();
        let odd = SessionPolicy { skew_secs: -30, ..policy() };
        assert!(check_claims(&c, &odd, NOW + 59).is_ok());
        assert_eq!(check_claims(&c, &odd, NOW + 60), Err(AuthError::Expired));
    }

    #[test]
    fn extreme_times_do_not_overflow() {
        let mut c = claims();
        c.exp = i64::MAX;
        c.nbf = Some(i64::MIN);
        c.iat = Some(i64::MIN);
        let wide = SessionPolicy { skew_secs: i64::MAX, ..policy() };
        assert!(check_claims(&c, &wide, NOW).is_ok());
        assert!(check_claims(&c, &wide, i64::MIN).is_ok());
        assert_eq!(check_claims(&c, &wide, i64::MAX), Err(AuthError::Expired));
        c.exp = i64::MIN;
        assert!(check_claims(&c, &policy(), i64::MIN).is_ok(), "still within the skew");
        assert_eq!(check_claims(&c, &policy(), i64::MIN + 5), Err(AuthError::Expired));
    }

    #[test]
    fn issuer_must_match_exactly() {
        for iss in ["https://clerk.parley.example/", "http://clerk.parley.example", "https://CLERK.parley.example",
            "https://clerk.parley.example.evil", "https://evil.example", ""] {
            let c = SessionClaims { iss: iss.into(), ..claims() };
            assert_eq!(check_claims(&c, &policy(), NOW), Err(AuthError::WrongIssuer), "{iss}");
        }
    }

    #[test]
    fn authorized_party() {
        let two = SessionPolicy { authorized_parties: vec![APP.into(), "http://localhost:5173".into()], ..policy() };
        let local = SessionClaims { azp: Some("http://localhost:5173".into()), ..claims() };
        assert!(check_claims(&local, &two, NOW).is_ok());
        assert_eq!(check_claims(&local, &policy(), NOW), Err(AuthError::WrongAuthorizedParty));

        for azp in [None, Some("https://evil.example"), Some("https://app.parley.example/"), Some("")] {
            let c = SessionClaims { azp: azp.map(str::to_owned), ..claims() };
            assert_eq!(check_claims(&c, &policy(), NOW), Err(AuthError::WrongAuthorizedParty), "{azp:?}");
        }

        let open = SessionPolicy { authorized_parties: vec![], ..policy() };
        for azp in [None, Some("https://anything.example")] {
            let c = SessionClaims { azp: azp.map(str::to_owned), ..claims() };
            assert!(check_claims(&c, &open, NOW).is_ok(), "{azp:?}");
        }
    }

    #[test]
    fn empty_subject_is_malformed() {
        let c = SessionClaims { sub: String::new(), ..claims() };
        assert_eq!(check_claims(&c, &policy(), NOW), Err(AuthError::Malformed("empty claim `sub`".into())));
    }

    #[test]
    fn session_id_is_optional() {
        let c = SessionClaims { sid: None, ..claims() };
        assert_eq!(check_claims(&c, &policy(), NOW).unwrap().session_id, None);
    }

    #[test]
    fn session_serialises_plainly() {
        let s = check_claims(&claims(), &policy(), NOW).unwrap();
        let json = serde_json::to_value(&s).unwrap();
        assert_eq!(json, serde_json::json!({
            "user_id": "user_2abc", "org": "org_2abcXYZ", "role": "admin",
            "session_id": "sess_2xyz", "expires_at": NOW + 60
        }));
        assert_eq!(serde_json::from_value::<Session>(json).unwrap(), s);
    }
}
