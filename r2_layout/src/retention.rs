//! Which snapshots of one object to delete.

/// A snapshot still without a manifest this long after it started was abandoned (its writer
/// died or an upload failed); younger ones may still be being written.
pub const ABANDONED_AFTER_MS: i64 = 60 * 60 * 1000;

/// One snapshot found by listing an object's prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SnapshotListing {
    pub taken_at_ms: i64,
    /// Whether its manifest exists.
    pub complete: bool,
}

/// The snapshots to delete at `now_ms`: complete ones beyond the newest `keep` (at least one
/// is always kept), and abandoned incomplete ones. Returned oldest first.
pub fn prune(snapshots: &[SnapshotListing], keep: usize, now_ms: i64) -> Vec<i64> {
    let mut complete: Vec<i64> = snapshots.iter().filter(|s| s.complete).map(|s| s.taken_at_ms).collect();
    complete.sort_unstable_by(|a, b| b.cmp(a));
    let mut doomed: Vec<i64> = complete.into_iter().skip(keep.max(1)).collect();
    doomed.extend(snapshots.iter().filter(|s| !s.complete && now_ms.saturating_sub(s.taken_at_ms) >= ABANDONED_AFTER_MS).map(|s| s.taken_at_ms));
    doomed.sort_unstable();
    doomed.dedup();
    doomed
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn s(t: i64, complete: bool) -> SnapshotListing {
        SnapshotListing { taken_at_ms: t, complete }
    }

    #[test]
    fn the_newest_are_kept_and_abandoned_ones_go() {
        let now = 10 * ABANDONED_AFTER_MS;
        let list = [s(1, true), s(2, true), s(3, false), s(4, true), s(now - 5, false)];
        assert_eq!(prune(&list, 2, now), vec![1, 3], "the oldest complete one and the abandoned one; the young incomplete one may be in progress");
        assert_eq!(prune(&list, 0, now), vec![1, 2, 3], "at least one complete snapshot is always kept");
        assert_eq!(prune(&[], 3, now), Vec::<i64>::new());
    }

    proptest! {
        #[test]
        fn never_deletes_the_newest_complete_snapshots(list in proptest::collection::vec((0i64..1_000_000, any::<bool>()), 0..40), keep in 0usize..6, now in 0i64..10_000_000) {
            let snaps: Vec<_> = list.iter().map(|(t, c)| s(*t, *c)).collect();
            let doomed = prune(&snaps, keep, now);
            let mut complete: Vec<i64> = snaps.iter().filter(|x| x.complete).map(|x| x.taken_at_ms).collect();
            complete.sort_unstable_by(|a, b| b.cmp(a));
            complete.dedup();
            for kept in complete.iter().take(keep.max(1)) {
                prop_assert!(!doomed.contains(kept));
            }
            for d in &doomed {
                prop_assert!(snaps.iter().any(|x| x.taken_at_ms == *d));
            }
        }
    }
}
