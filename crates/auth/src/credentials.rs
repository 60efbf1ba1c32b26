//! Finding the session token a request carries.
//!
//! API clients send `Authorization: Bearer <token>`; the browser app on the same site sends
//! Clerk's `__session` cookie. The header wins when both are present.

/// The name of the cookie Clerk keeps the session token in.
pub const SESSION_COOKIE: &str = "__session";

/// The session token from the `Authorization` header (`Bearer`, scheme case-insensitive) or,
/// failing that, from the `__session` cookie of the `Cookie` header. Only a non-empty token
/// counts: an empty bearer credential or cookie value falls through. The result is not
/// validated; see [`crate::parse_token`].
pub fn session_token<'a>(authorization: Option<&'a str>, cookie: Option<&'a str>) -> Option<&'a str> {
    authorization.and_then(bearer).or_else(|| cookie.and_then(session_cookie))
}

/// The credential of a `Bearer` authorization header value.
fn bearer(value: &str) -> Option<&str> {
    let (scheme, rest) = value.trim().split_once([' ', '\t'])?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return None;
    }
    let token = rest.trim();
    (!token.is_empty()).then_some(token)
}

/// The value of the first non-empty `__session` cookie in a `Cookie` header value
/// (`name=value; name2=value2`). Names match exactly; double quotes around a value are removed.
fn session_cookie(header: &str) -> Option<&str> {
    header
        .split(';')
        .filter_map(|pair| pair.split_once('='))
        .filter(|(name, _)| name.trim() == SESSION_COOKIE)
        .map(|(_, value)| unquote(value.trim()))
        .find(|value| !value.is_empty())
}

fn unquote(value: &str) -> &str {
    value
        .strip_prefix('"')
        .and_then(|v| v.strip_suffix('"'))
        .unwrap_or(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn bearer_header() {
        assert_eq!(session_token(Some("Bearer abc.def.ghi"), None), Some("abc.def.ghi"));
        assert_eq!(session_token(Some("bearer abc"), None), Some("abc"));
        assert_eq!(session_token(Some("BEARER abc"), None), Some("abc"));
        assert_eq!(session_token(Some("BeArEr   abc  "), None), Some("abc"));
        assert_eq!(session_token(Some("  Bearer\tabc"), None), Some("abc"));
    }

    #[test]
    fn other_schemes_and_empty_credentials_are_ignored() {
        for value in ["Basic dXNlcjpwYXNz", "Bearer", "Bearer ", "Bearer    ", "Bearerabc", "abc", "", "Token abc",
            "Bearer: abc"] {
            assert_eq!(session_token(Some(value), None), None, "{value:?}");
        }
    }

    #[test]
    fn header_wins_over_cookie() {
        assert_eq!(session_token(Some("Bearer from-header"), Some("__session=from-cookie")), Some("from-header"));
    }

    #[test]
    fn cookie_when_header_absent_or_unusable() {
        assert_eq!(session_token(None, Some("__session=from-cookie")), Some("from-cookie"));
        assert_eq!(session_token(Some("Basic xyz"), Some("__session=from-cookie")), Some("from-cookie"));
        assert_eq!(session_token(Some("Bearer "), Some("__session=from-cookie")), Some("from-cookie"));
    }

    #[test]
    fn cookie_parsing() {
        let cases = [
            ("__session=tok", Some("tok")),
            ("a=b; __session=tok; c=d", Some("tok")),
            ("a=b;__session=tok;c=d", Some("tok")),
            ("  __session  =  tok  ", Some("tok")),
            ("__session=\"tok\"", Some("tok")),
            ("__session=a.b.c", Some("a.b.c")),
            ("__session=tok==", Some("tok==")),
            ("__session_xyz=other; __session=tok", Some("tok")),
            ("__session=first; __session=second", Some("first")),
            ("__session=; __session=second", Some("second")),
            ("__session_xyz=other", None),
            ("x__session=other", None),
            ("__Session=other", None),
            ("__session", None),
            ("__session=", None),
            ("__session=\"\"", None),
            ("a=__session=tok", None),
            ("a=b", None),
            ("", None),
            (";;;", None),
            ("=tok", None),
        ];
        for (header, expected) in cases {
            assert_eq!(session_token(None, Some(header)), expected, "{header:?}");
        }
    }

    #[test]
    fn nothing_sent() {
        assert_eq!(session_token(None, None), None);
    }

    proptest! {
        #[test]
        fn never_panics_and_returns_a_substring(a in "\\PC*", c in "\\PC*") {
            if let Some(token) = session_token(Some(&a), Some(&c)) {
                prop_assert!(!token.is_empty());
                prop_assert!(a.contains(token) || c.contains(token));
            }
        }
    }
}
