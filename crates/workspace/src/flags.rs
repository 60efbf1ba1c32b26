//! Feature flags with deterministic percentage rollout: a flag at p % is on for a subject
//! (a lead, a chat, a user) when the subject's bucket for that flag is below p. The bucket is a
//! hash of the flag and the subject, so the same subject always gets the same answer, raising
//! the percentage only ever turns a flag on for more subjects, and flags roll out independently.

use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// Flag names: 1-64 lowercase letters, digits, `_` or `-`.
pub fn valid_name(name: &str) -> bool {
    !name.is_empty() && name.len() <= 64 && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
}

/// The subject's bucket for a flag, 0-99.
pub fn bucket(flag: &str, subject: &str) -> u8 {
    let digest = Sha256::digest(format!("{flag}\u{0}{subject}").as_bytes());
    (u64::from_be_bytes(digest[..8].try_into().expect("8 bytes")) % 100) as u8
}

/// Whether `flag` is on for `subject` under the rollout percentages (absent flags are off).
pub fn is_enabled(flags: &BTreeMap<String, u8>, flag: &str, subject: &str) -> bool {
    flags.get(flag).is_some_and(|p| bucket(flag, subject) < *p)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn zero_is_off_and_a_hundred_is_on_for_everyone() {
        let flags: BTreeMap<String, u8> = [("off".to_string(), 0), ("on".to_string(), 100)].into();
        for i in 0..500 {
            let s = format!("lead_{i}");
            assert!(!is_enabled(&flags, "off", &s));
            assert!(is_enabled(&flags, "on", &s));
            assert!(!is_enabled(&flags, "absent", &s));
        }
    }

    #[test]
    fn the_share_is_close_to_the_percentage() {
        let flags: BTreeMap<String, u8> = [("half".to_string(), 50)].into();
        let on = (0..10_000).filter(|i| is_enabled(&flags, "half", &format!("subject-{i}"))).count();
        assert!((4_700..=5_300).contains(&on), "{on}");
    }

    proptest! {
        #[test]
        fn raising_the_percentage_never_turns_a_subject_off(subject in "[a-z0-9_]{1,20}", low in 0u8..=100, extra in 0u8..=100) {
            let high = low.saturating_add(extra).min(100);
            let at = |p: u8| is_enabled(&[("f".to_string(), p)].into(), "f", &subject);
            prop_assert!(!at(low) || at(high));
        }
    }

    #[test]
    fn names() {
        assert!(valid_name("new_inbox-v2"));
        assert!(!valid_name("Bad Name"));
        assert!(!valid_name(""));
    }
}
