//! The manifest: the last object a backup writes, and the only proof that it is complete.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// The manifest format this code writes and reads.
pub const MANIFEST_FORMAT: &str = "parley-backup/1";

/// One part of a snapshot: NDJSON rows, with the checksum of its exact bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartEntry {
    pub index: u32,
    pub key: String,
    pub bytes: u64,
    pub rows: u64,
    /// Lowercase hex SHA-256 of the part's bytes.
    pub sha256: String,
}

/// What a snapshot holds and how to check it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub format: String,
    pub org: String,
    pub kind: String,
    pub object_id: String,
    /// The snapshot's time as in its keys (`YYYYMMDDTHHMMSSmmmZ`).
    pub taken_at: String,
    pub taken_at_ms: i64,
    /// The object's SQLite schema version when the snapshot was taken.
    pub schema_version: u32,
    /// Rows per table.
    pub tables: BTreeMap<String, u64>,
    pub total_rows: u64,
    pub parts: Vec<PartEntry>,
}

/// The SHA-256 digest (R2 checks an upload against it).
pub fn sha256(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

/// Lowercase hex SHA-256.
pub fn sha256_hex(bytes: &[u8]) -> String {
    sha256(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_matches_the_known_answer() {
        assert_eq!(sha256_hex(b"abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        assert_eq!(sha256_hex(b""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    }
}
