//! The master keys that seal org secrets (ADR 19). The current key seals every write; the
//! previous key, present only during a rotation, opens rows sealed before it until the cron's
//! reseal pass has moved them to the current key. Each row records the id of the key that
//! sealed it (a fingerprint, never the key), so a row is opened with the right key at once and
//! the rows still under an old key can be found and counted.

use sha2::{Digest, Sha256};

/// Bytes in a master key (AES-256).
pub const KEY_BYTES: usize = 32;

/// One master key and its id.
#[derive(Clone, PartialEq, Eq)]
pub struct MasterKey {
    bytes: [u8; KEY_BYTES],
    id: String,
}

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "MasterKey({})", self.id)
    }
}

impl MasterKey {
    /// The key's bytes, for WebCrypto.
    pub fn bytes(&self) -> &[u8; KEY_BYTES] {
        &self.bytes
    }

    /// The key's id: 16 hex digits of a domain-separated SHA-256 of the key. It names the key in
    /// rows and logs; it reveals nothing usable about the key.
    pub fn id(&self) -> &str {
        &self.id
    }
}

/// Why the configured keys cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MasterKeyError {
    #[error("{0} must be {KEY_BYTES} bytes")]
    WrongLength(&'static str),
    #[error("the previous master key is the current one")]
    PreviousIsCurrent,
}

/// The current key and, during a rotation, the previous one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MasterKeys {
    current: MasterKey,
    previous: Option<MasterKey>,
}

fn key(bytes: &[u8], name: &'static str) -> Result<MasterKey, MasterKeyError> {
    let bytes: [u8; KEY_BYTES] = bytes.try_into().map_err(|_| MasterKeyError::WrongLength(name))?;
    let digest = Sha256::new().chain_update(b"parley-master-key-id/v1\0").chain_update(bytes).finalize();
    let id = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
    Ok(MasterKey { bytes, id })
}

impl MasterKeys {
    /// The keys from their decoded bytes (`PARLEY_MASTER_KEY`, `PARLEY_MASTER_KEY_PREVIOUS`).
    pub fn new(current: &[u8], previous: Option<&[u8]>) -> Result<MasterKeys, MasterKeyError> {
        let current = key(current, "PARLEY_MASTER_KEY")?;
        let previous = previous.map(|p| key(p, "PARLEY_MASTER_KEY_PREVIOUS")).transpose()?;
        if previous.as_ref().is_some_and(|p| p.id == current.id) {
            return Err(MasterKeyError::PreviousIsCurrent);
        }
        Ok(MasterKeys { current, previous })
    }

    /// The key every write is sealed with.
    pub fn current(&self) -> &MasterKey {
        &self.current
    }

    /// The key kept from before a rotation, if any.
    pub fn previous(&self) -> Option<&MasterKey> {
        self.previous.as_ref()
    }

    /// The keys to try, in order, on a row sealed under `key_id`: the key with that id (none if
    /// it is neither key, which the caller reports); for a row from before key ids were
    /// recorded (`None`), the current key and then the previous one.
    pub fn candidates(&self, key_id: Option<&str>) -> Vec<&MasterKey> {
        let all = std::iter::once(&self.current).chain(self.previous.as_ref());
        match key_id {
            Some(id) => all.filter(|k| k.id == id).collect(),
            None => all.collect(),
        }
    }

    /// The key id whose rows the reseal pass moves to the current key: the previous key's,
    /// during a rotation. Rows without an id are always taken too (they open with one of the
    /// keys); rows under any other id open with neither, so the pass leaves them alone and only
    /// counts them as remaining.
    pub fn reseal_source(&self) -> Option<&str> {
        self.previous.as_ref().map(|k| k.id.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: [u8; 32] = [7; 32];
    const B: [u8; 32] = [9; 32];

    #[test]
    fn ids_are_stable_distinct_and_not_the_key() {
        let a = MasterKeys::new(&A, None).unwrap();
        let again = MasterKeys::new(&A, None).unwrap();
        let b = MasterKeys::new(&B, None).unwrap();
        assert_eq!(a.current().id(), again.current().id());
        assert_ne!(a.current().id(), b.current().id());
        assert_eq!(a.current().id().len(), 16);
        assert!(a.current().id().bytes().all(|c| c.is_ascii_hexdigit()));
        assert!(!format!("{a:?}").contains("7, 7"), "debug output names keys by id only");
    }

    #[test]
    fn keys_must_be_32_bytes_and_the_previous_must_differ() {
        assert_eq!(MasterKeys::new(&[1; 16], None), Err(MasterKeyError::WrongLength("PARLEY_MASTER_KEY")));
        assert_eq!(MasterKeys::new(&A, Some(&[1; 33])), Err(MasterKeyError::WrongLength("PARLEY_MASTER_KEY_PREVIOUS")));
        assert_eq!(MasterKeys::new(&A, Some(&A)), Err(MasterKeyError::PreviousIsCurrent));
    }

    #[test]
    fn a_row_is_opened_with_the_key_it_names() {
        let rotating = MasterKeys::new(&B, Some(&A)).unwrap();
        let (a_id, b_id) = (MasterKeys::new(&A, None).unwrap().current().id().to_owned(), rotating.current().id().to_owned());
        assert_eq!(rotating.candidates(Some(&a_id)).iter().map(|k| k.bytes()).collect::<Vec<_>>(), vec![&A]);
        assert_eq!(rotating.candidates(Some(&b_id)).iter().map(|k| k.bytes()).collect::<Vec<_>>(), vec![&B]);
        assert!(rotating.candidates(Some("0123456789abcdef")).is_empty(), "a key no longer configured");
        // Rows from before ids were recorded: the current key first, then the previous.
        assert_eq!(rotating.candidates(None).iter().map(|k| k.bytes()).collect::<Vec<_>>(), vec![&B, &A]);
        assert_eq!(MasterKeys::new(&A, None).unwrap().candidates(None).len(), 1);
    }

    #[test]
    fn the_reseal_pass_takes_the_previous_keys_rows() {
        let rotating = MasterKeys::new(&B, Some(&A)).unwrap();
        let a_id = MasterKeys::new(&A, None).unwrap().current().id().to_owned();
        assert_eq!(rotating.reseal_source(), Some(a_id.as_str()));
        assert_eq!(MasterKeys::new(&B, None).unwrap().reseal_source(), None, "no rotation: only rows without an id");
    }
}
