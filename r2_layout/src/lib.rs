//! Builds every R2 key Parley uses. See `SPEC.md` beside this crate for the scheme.

use domain::ids::OrgId;

/// The key `GET /ready` reads to prove the bucket answers (it need not exist).
pub const READY_PROBE_KEY: &str = "health/ready-probe";

/// What kind of Durable Object a backup holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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
        let valid = !object_id.is_empty() && object_id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        valid.then(|| SnapshotKey {
            prefix: format!("backups/{}/{}/{}/{}", org.as_str(), kind.as_str(), object_id, timestamp(taken_at_ms)),
        })
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

/// UTC `YYYYMMDDTHHMMSSmmmZ`, from days-since-epoch arithmetic (no clock, no time zone data).
fn timestamp(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let millis = ms.rem_euclid(1000);
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!("{y:04}{m:02}{d:02}T{:02}{:02}{:02}{millis:03}Z", sod / 3600, sod % 3600 / 60, sod % 60)
}

/// Howard Hinnant's days-to-civil algorithm.
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_follow_the_spec() {
        let org = OrgId::parse("org_demo").unwrap();
        // 2026-11-22T08:44:20.123Z
        let key = SnapshotKey::new(&org, ObjectKind::Chat, "chat_abc", 1_795_337_060_123).unwrap();
        assert_eq!(key.manifest(), "backups/org_demo/chat/chat_abc/20261122T084420123Z/manifest.json");
        assert_eq!(key.part(3), "backups/org_demo/chat/chat_abc/20261122T084420123Z/parts/00003.ndjson");
        assert!(key.manifest().starts_with(&object_prefix(&org, ObjectKind::Chat, "chat_abc")));
        assert!(SnapshotKey::new(&org, ObjectKind::Workspace, "../x", 0).is_none());
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
}
