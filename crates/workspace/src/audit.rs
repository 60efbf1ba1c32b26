//! The audit log's hash chain. Each entry's hash covers its fields and the previous entry's
//! hash, so changing, removing or reordering any entry breaks every hash after it.

use sha2::{Digest, Sha256};

/// The `prev_hash` of the first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// One audit entry as stored.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AuditEntry {
    pub seq: i64,
    pub at: i64,
    pub actor: String,
    pub action: String,
    pub lead_id: Option<String>,
    /// JSON text.
    pub detail: String,
    pub prev_hash: String,
    pub hash: String,
}

/// The hash of an entry's fields chained to `prev_hash` (lowercase hex SHA-256). Fields are
/// length-prefixed so no two different entries can encode to the same bytes.
pub fn hash(prev_hash: &str, seq: i64, at: i64, actor: &str, action: &str, lead_id: Option<&str>, detail: &str) -> String {
    let mut h = Sha256::new();
    for field in [prev_hash, &seq.to_string(), &at.to_string(), actor, action, lead_id.unwrap_or(""), detail] {
        h.update((field.len() as u64).to_be_bytes());
        h.update(field.as_bytes());
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// The sequence number of the first entry whose chain is broken, if any.
pub fn first_broken(entries: &[AuditEntry]) -> Option<i64> {
    let mut prev = GENESIS.to_owned();
    for e in entries {
        let expected = hash(&prev, e.seq, e.at, &e.actor, &e.action, e.lead_id.as_deref(), &e.detail);
        if e.prev_hash != prev || e.hash != expected {
            return Some(e.seq);
        }
        prev = e.hash.clone();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(n: i64) -> Vec<AuditEntry> {
        let mut prev = GENESIS.to_owned();
        (1..=n)
            .map(|seq| {
                let detail = format!("{{\"n\":{seq}}}");
                let h = hash(&prev, seq, seq * 10, "user_demo", "lead.stage_changed", Some("lead_x"), &detail);
                let e = AuditEntry { seq, at: seq * 10, actor: "user_demo".into(), action: "lead.stage_changed".into(), lead_id: Some("lead_x".into()), detail, prev_hash: prev.clone(), hash: h.clone() };
                prev = h;
                e
            })
            .collect()
    }

    #[test]
    fn an_intact_chain_verifies_and_any_tampering_is_found() {
        let good = chain(5);
        assert_eq!(first_broken(&good), None);
        let mut edited = good.clone();
        edited[2].detail = "{\"n\":99}".into();
        assert_eq!(first_broken(&edited), Some(3));
        let mut removed = good.clone();
        removed.remove(1);
        assert_eq!(first_broken(&removed), Some(3));
        let mut swapped = good.clone();
        swapped.swap(0, 1);
        assert_eq!(first_broken(&swapped), Some(2));
    }

    #[test]
    fn fields_cannot_bleed_into_each_other() {
        assert_ne!(hash(GENESIS, 1, 1, "ab", "c", None, "{}"), hash(GENESIS, 1, 1, "a", "bc", None, "{}"));
    }
}

/// Filters for reading the audit log: `?lead_id=&action=&from=&to=&after=&limit=`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditQuery {
    pub lead_id: Option<String>,
    pub action: Option<String>,
    /// Inclusive bounds on `at` (ms since the epoch).
    pub from: Option<i64>,
    pub to: Option<i64>,
    /// Entries with `seq > after`.
    pub after: i64,
    pub limit: u32,
}

pub const MAX_AUDIT_PAGE: u32 = 1_000;

impl AuditQuery {
    pub fn from_query<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Result<Self, domain::ApiError> {
        let int = |param: &'static str, v: &str| v.parse::<i64>().ok().filter(|n| *n >= 0).ok_or(domain::ApiError::InvalidQuery { param, reason: "must be a non-negative integer".into() });
        let mut q = AuditQuery { lead_id: None, action: None, from: None, to: None, after: 0, limit: 100 };
        for (k, v) in pairs {
            match k {
                "lead_id" => q.lead_id = Some(v.to_owned()),
                "action" => q.action = Some(v.to_owned()),
                "from" => q.from = Some(int("from", v)?),
                "to" => q.to = Some(int("to", v)?),
                "after" => q.after = int("after", v)?,
                "limit" => {
                    q.limit = v.parse::<u32>().ok().filter(|l| (1..=MAX_AUDIT_PAGE).contains(l)).ok_or(domain::ApiError::InvalidQuery { param: "limit", reason: format!("must be from 1 to {MAX_AUDIT_PAGE}") })?
                }
                _ => {}
            }
        }
        Ok(q)
    }

    pub fn matches(&self, e: &AuditEntry) -> bool {
        e.seq > self.after
            && self.lead_id.as_deref().is_none_or(|l| e.lead_id.as_deref() == Some(l))
            && self.action.as_deref().is_none_or(|a| e.action == a)
            && self.from.is_none_or(|f| e.at >= f)
            && self.to.is_none_or(|t| e.at <= t)
    }
}

/// The entries as CSV (RFC 4180), with a header row.
pub fn to_csv(entries: &[AuditEntry]) -> String {
    let field = |s: &str| {
        if s.contains([',', '"', '\n', '\r']) {
            format!("\"{}\"", s.replace('"', "\"\""))
        } else {
            s.to_owned()
        }
    };
    let mut out = String::from("seq,at,actor,action,lead_id,detail,prev_hash,hash\r\n");
    for e in entries {
        let cells = [e.seq.to_string(), e.at.to_string(), field(&e.actor), field(&e.action), field(e.lead_id.as_deref().unwrap_or("")), field(&e.detail), e.prev_hash.clone(), e.hash.clone()];
        out.push_str(&cells.join(","));
        out.push_str("\r\n");
    }
    out
}

#[cfg(test)]
mod query_tests {
    use super::*;

    fn entry(seq: i64, at: i64, lead: &str, action: &str) -> AuditEntry {
        AuditEntry { seq, at, actor: "u".into(), action: action.into(), lead_id: Some(lead.into()), detail: "{\"a\":\"x,y\"}".into(), prev_hash: GENESIS.into(), hash: GENESIS.into() }
    }

    #[test]
    fn filters_combine() {
        let q = AuditQuery::from_query([("lead_id", "l1"), ("action", "send.decided"), ("from", "10"), ("to", "20")]).unwrap();
        assert!(q.matches(&entry(1, 15, "l1", "send.decided")));
        assert!(!q.matches(&entry(2, 25, "l1", "send.decided")));
        assert!(!q.matches(&entry(3, 15, "l2", "send.decided")));
        assert!(!q.matches(&entry(4, 15, "l1", "draft.created")));
        assert!(AuditQuery::from_query([("limit", "0")]).is_err());
        assert!(AuditQuery::from_query([("from", "-1")]).is_err());
    }

    #[test]
    fn csv_quotes_what_needs_it() {
        let csv = to_csv(&[entry(1, 5, "l1", "send.decided")]);
        let lines: Vec<&str> = csv.split("\r\n").collect();
        assert_eq!(lines[0], "seq,at,actor,action,lead_id,detail,prev_hash,hash");
        assert!(lines[1].starts_with("1,5,u,send.decided,l1,\"{\"\"a\"\":\"\"x,y\"\"}\","));
    }
}
