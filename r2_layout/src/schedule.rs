//! When a scheduled backup writes a new snapshot: the interval between backups, and whether an
//! object whose content has not changed may be skipped.

/// Hours between an object's scheduled backups unless `BACKUP_INTERVAL_HOURS` says otherwise.
pub const DEFAULT_INTERVAL_HOURS: i64 = 24;
/// An unchanged object still gets a fresh snapshot this many intervals after its newest, so
/// the newest snapshot's age always says the backups are running.
pub const REFRESH_AFTER_INTERVALS: i64 = 7;

/// The interval between scheduled backups, in milliseconds, from `BACKUP_INTERVAL_HOURS`
/// (1 hour to 30 days; anything else gives the default).
pub fn interval_ms(setting: Option<&str>) -> i64 {
    let hours = setting.and_then(|h| h.trim().parse::<i64>().ok()).filter(|h| (1..=24 * 30).contains(h)).unwrap_or(DEFAULT_INTERVAL_HOURS);
    hours * 3_600_000
}

/// The newest snapshot of an object, as the backup runs record it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LastSnapshot<'a> {
    pub taken_at_ms: i64,
    /// Its content digest (`SnapshotPlan::digest`).
    pub digest: &'a str,
}

/// Whether a scheduled backup with content `digest` at `now_ms` writes a new snapshot: yes,
/// unless the newest one holds the same content and is younger than
/// [`REFRESH_AFTER_INTERVALS`] intervals.
pub fn snapshot_needed(last: Option<LastSnapshot<'_>>, digest: &str, now_ms: i64, interval_ms: i64) -> bool {
    match last {
        Some(last) => last.digest != digest || now_ms - last.taken_at_ms >= REFRESH_AFTER_INTERVALS * interval_ms,
        None => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR: i64 = 3_600_000;

    #[test]
    fn the_interval_is_read_within_its_bounds() {
        assert_eq!(interval_ms(None), 24 * HOUR);
        assert_eq!(interval_ms(Some("6")), 6 * HOUR);
        assert_eq!(interval_ms(Some(" 720 ")), 720 * HOUR);
        for bad in ["0", "721", "-3", "daily", ""] {
            assert_eq!(interval_ms(Some(bad)), 24 * HOUR, "{bad}");
        }
    }

    #[test]
    fn an_unchanged_object_is_skipped_until_its_snapshot_is_seven_intervals_old() {
        let interval = 24 * HOUR;
        let last = |taken_at_ms| Some(LastSnapshot { taken_at_ms, digest: "abc" });
        assert!(snapshot_needed(None, "abc", 0, interval), "never backed up");
        assert!(snapshot_needed(last(0), "def", HOUR, interval), "changed content");
        assert!(!snapshot_needed(last(0), "abc", 7 * interval - 1, interval), "unchanged and recent");
        assert!(snapshot_needed(last(0), "abc", 7 * interval, interval), "unchanged but due a refresh");
    }
}
