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
