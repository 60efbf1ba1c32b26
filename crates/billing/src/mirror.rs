//! Ordering for mirrored objects. Webhooks arrive late, twice, and out of order, so each
//! mirrored row remembers the version that last wrote it and whether it was deleted.

/// What the mirror holds for one object, as far as ordering is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct MirrorState {
    /// The highest version written (see [`crate::ClerkChange::version`]).
    pub version: i64,
    /// Whether the object has been deleted. Deletion is final.
    pub deleted: bool,
}

/// Whether to apply an incoming change to the mirror.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MirrorDecision {
    /// Write it.
    Apply,
    /// An upsert no newer than what is stored: a late or repeated delivery.
    SkipStale,
    /// The object is already deleted; nothing brings it back.
    SkipDeleted,
}

/// Decides whether an incoming upsert or delete applies to the stored state.
///
/// Clerk never reuses ids, so a deletion is final whatever versions arrive later; an upsert
/// applies only when strictly newer, so a repeated delivery is a no-op; a delete applies
/// unless the object is already deleted, even if its version is older, because an older
/// delete still means the object is gone.
pub fn decide_mirror(stored: Option<&MirrorState>, incoming_version: i64, incoming_is_delete: bool) -> MirrorDecision {
    match stored {
        Some(state) if state.deleted => MirrorDecision::SkipDeleted,
        Some(_) if incoming_is_delete => MirrorDecision::Apply,
        Some(state) if incoming_version <= state.version => MirrorDecision::SkipStale,
        _ => MirrorDecision::Apply,
    }
}

/// The state to record after an incoming change, or `None` when [`decide_mirror`] skips it.
/// The recorded version never goes down (a delete older than the last upsert keeps the
/// upsert's version).
pub fn next_mirror_state(stored: Option<&MirrorState>, incoming_version: i64, incoming_is_delete: bool) -> Option<MirrorState> {
    match decide_mirror(stored, incoming_version, incoming_is_delete) {
        MirrorDecision::Apply => Some(MirrorState {
            version: stored.map_or(incoming_version, |s| s.version.max(incoming_version)),
            deleted: incoming_is_delete,
        }),
        MirrorDecision::SkipStale | MirrorDecision::SkipDeleted => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIVE: MirrorState = MirrorState { version: 10, deleted: false };
    const GONE: MirrorState = MirrorState { version: 10, deleted: true };

    #[test]
    fn first_sight_applies() {
        assert_eq!(decide_mirror(None, 5, false), MirrorDecision::Apply);
        assert_eq!(decide_mirror(None, 5, true), MirrorDecision::Apply);
        assert_eq!(next_mirror_state(None, 5, true), Some(MirrorState { version: 5, deleted: true }));
    }

    #[test]
    fn upserts_need_a_strictly_newer_version() {
        assert_eq!(decide_mirror(Some(&LIVE), 9, false), MirrorDecision::SkipStale);
        assert_eq!(decide_mirror(Some(&LIVE), 10, false), MirrorDecision::SkipStale);
        assert_eq!(decide_mirror(Some(&LIVE), 11, false), MirrorDecision::Apply);
    }

    #[test]
    fn deletes_apply_whatever_their_version_and_keep_the_highest() {
        assert_eq!(decide_mirror(Some(&LIVE), 3, true), MirrorDecision::Apply);
        assert_eq!(next_mirror_state(Some(&LIVE), 3, true), Some(MirrorState { version: 10, deleted: true }));
        assert_eq!(next_mirror_state(Some(&LIVE), 30, true), Some(MirrorState { version: 30, deleted: true }));
    }

    #[test]
    fn nothing_undeletes() {
        assert_eq!(decide_mirror(Some(&GONE), 99, false), MirrorDecision::SkipDeleted);
        assert_eq!(decide_mirror(Some(&GONE), 99, true), MirrorDecision::SkipDeleted);
        assert_eq!(next_mirror_state(Some(&GONE), 99, false), None);
    }
}
