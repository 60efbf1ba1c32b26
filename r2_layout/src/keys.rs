//! The R2 key scheme (see `SPEC.md`).

use domain::civil::{civil_from_days, days_from_civil, DAY_MS};
use domain::ids::OrgId;

/// The key `GET /ready` reads to prove the bucket answers (it need not exist).
pub const READY_PROBE_KEY: &str = "health/ready-probe";

/// What kind of Durable Object a backup holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ObjectKind {
    Chat,
    Workspace,
}

impl ObjectKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ObjectKind::Chat => "chat",
            ObjectKind::Workspace => "workspace",
        }
    }

    /// The kind named `raw`, if any.
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "chat" => Some(ObjectKind::Chat),
            "workspace" => Some(ObjectKind::Workspace),
            _ => None,
        }
    }
}

/// Whether `id` can be an object id in a key: 1 to 64 letters, digits, `_` and `-`.
pub(crate) fn valid_object_id(id: &str) -> bool {
    (1..=64).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// One snapshot of one object: the prefix all its keys share.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotKey {
    prefix: String,
}

impl SnapshotKey {
    /// `taken_at_ms` is milliseconds since the Unix epoch. `object_id` must be a token of
    /// letters, digits, `_` and `-` (chat and workspace ids are); anything else is refused.
    pub fn new(org: &OrgId, kind: ObjectKind, object_id: &str, taken_at_ms: i64) -> Option<Self> {
        valid_object_id(object_id).then(|| SnapshotKey {
            prefix: format!("{}{}", object_prefix(org, kind, object_id), timestamp(taken_at_ms)),
        })
    }

    /// Every key of the snapshot starts with this (no trailing slash).
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    pub fn manifest(&self) -> String {
        format!("{}/manifest.json", self.prefix)
    }

    pub fn part(&self, index: u32) -> String {
        format!("{}/parts/{index:05}.ndjson", self.prefix)
    }
}

/// The listing prefix for every snapshot of one object.
pub fn object_prefix(org: &OrgId, kind: ObjectKind, object_id: &str) -> String {
    format!("backups/{}/{}/{}/", org.as_str(), kind.as_str(), object_id)
}

/// UTC `YYYYMMDDTHHMMSSmmmZ`: sorts lexically in time order for years 0 to 9999.
pub fn timestamp(ms: i64) -> String {
    let days = ms.div_euclid(DAY_MS);
    let in_day = ms.rem_euclid(DAY_MS);
    let (y, m, d) = civil_from_days(days);
    let (secs, millis) = (in_day / 1000, in_day % 1000);
    format!("{y:04}{m:02}{d:02}T{:02}{:02}{:02}{millis:03}Z", secs / 3600, secs % 3600 / 60, secs % 60)
}

/// The milliseconds a [`timestamp`] stands for; `None` unless it is exactly that shape with a
/// real date and time.
pub fn parse_timestamp(raw: &str) -> Option<i64> {
    let b = raw.as_bytes();
    if b.len() != 19 || b[8] != b'T' || b[18] != b'Z' {
        return None;
    }
    let digits = |r: std::ops::Range<usize>| -> Option<i64> {
        raw.get(r).filter(|s| s.bytes().all(|c| c.is_ascii_digit())).and_then(|s| s.parse().ok())
    };
    let (y, mo, d) = (digits(0..4)?, digits(4..6)?, digits(6..8)?);
    let (h, mi, s, ms) = (digits(9..11)?, digits(11..13)?, digits(13..15)?, digits(15..18)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || s > 59 {
        return None;
    }
    let days = days_from_civil(y, mo as u32, d as u32);
    // 31 February and friends: the date must survive the round trip.
    if civil_from_days(days) != (y, mo as u32, d as u32) {
        return None;
    }
    Some(days * DAY_MS + ((h * 60 + mi) * 60 + s) * 1000 + ms)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn keys_follow_the_spec() {
        let org = OrgId::parse("org_demo").unwrap();
        // 2026-11-22T08:44:20.123Z
        let key = SnapshotKey::new(&org, ObjectKind::Chat, "chat_abc", 1_795_337_060_123).unwrap();
        assert_eq!(key.manifest(), "backups/org_demo/chat/chat_abc/20261122T084420123Z/manifest.json");
        assert_eq!(key.part(3), "backups/org_demo/chat/chat_abc/20261122T084420123Z/parts/00003.ndjson");
        assert!(key.manifest().starts_with(&object_prefix(&org, ObjectKind::Chat, "chat_abc")));
        assert!(SnapshotKey::new(&org, ObjectKind::Workspace, "../x", 0).is_none());
        assert!(SnapshotKey::new(&org, ObjectKind::Workspace, "", 0).is_none());
    }

    #[test]
    fn timestamps_sort_in_time_order() {
        let times = [0_i64, 999, 1_000, 86_399_999, 951_782_400_000, 1_795_337_060_123, 4_102_444_800_000];
        let stamps: Vec<_> = times.iter().map(|t| timestamp(*t)).collect();
        let mut sorted = stamps.clone();
        sorted.sort();
        assert_eq!(stamps, sorted);
        assert_eq!(timestamp(951_782_400_000), "20000229T000000000Z");
    }

    #[test]
    fn malformed_timestamps_are_refused() {
        for bad in ["", "20261122T084420123", "20261322T084420123Z", "20260231T000000000Z", "20261122T244420123Z", "2026112xT084420123Z", "20261122X084420123Z", "+0261122T084420123Z"] {
            assert_eq!(parse_timestamp(bad), None, "{bad}");
        }
    }

    proptest! {
        #[test]
        fn timestamps_round_trip(ms in 0i64..253_402_300_799_999) {
            prop_assert_eq!(parse_timestamp(&timestamp(ms)), Some(ms));
        }
    }
}
