//! The id an operator (and the restore script) names a snapshot by:
//! `{kind}.{object_id}.{taken_at}`, for example `chat.chat_abc.20261122T084420123Z`. The org is
//! never part of it: it always comes from the caller's session.

use crate::keys::{parse_timestamp, timestamp, valid_object_id, ObjectKind, SnapshotKey};
use domain::ids::OrgId;

/// One snapshot of one object of the caller's org.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupId {
    pub kind: ObjectKind,
    pub object_id: String,
    pub taken_at_ms: i64,
}

impl BackupId {
    /// Parses `{kind}.{object_id}.{taken_at}`; `None` for anything else.
    pub fn parse(raw: &str) -> Option<Self> {
        let mut parts = raw.split('.');
        let (kind, object_id, stamp) = (parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() || !valid_object_id(object_id) {
            return None;
        }
        Some(BackupId { kind: ObjectKind::parse(kind)?, object_id: object_id.to_owned(), taken_at_ms: parse_timestamp(stamp)? })
    }

    /// The canonical text form.
    pub fn as_string(&self) -> String {
        format!("{}.{}.{}", self.kind.as_str(), self.object_id, timestamp(self.taken_at_ms))
    }

    /// Where the snapshot lives for `org`.
    pub fn key(&self, org: &OrgId) -> Option<SnapshotKey> {
        SnapshotKey::new(org, self.kind, &self.object_id, self.taken_at_ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_and_name_their_keys() {
        let id = BackupId::parse("chat.chat_abc.20261122T084420123Z").unwrap();
        assert_eq!(id.kind, ObjectKind::Chat);
        assert_eq!(id.taken_at_ms, 1_795_337_060_123);
        assert_eq!(id.as_string(), "chat.chat_abc.20261122T084420123Z");
        let org = OrgId::parse("org_demo").unwrap();
        assert_eq!(id.key(&org).unwrap().manifest(), "backups/org_demo/chat/chat_abc/20261122T084420123Z/manifest.json");
    }

    #[test]
    fn malformed_ids_are_refused() {
        for bad in [
            "",
            "chat",
            "chat.chat_abc",
            "table.chat_abc.20261122T084420123Z",
            "chat..20261122T084420123Z",
            "chat.chat/abc.20261122T084420123Z",
            "chat.chat_abc.20261122T084420123Z.x",
            "chat.chat_abc.yesterday",
        ] {
            assert_eq!(BackupId::parse(bad), None, "{bad}");
        }
    }
}
