//! Checking a backup before anything is restored from it. A restore goes ahead only with a
//! [`VerifiedSnapshot`]; everything else is a [`Refusal`] that names what is wrong.

use crate::snapshot::{Header, RowLine};
use crate::keys::{timestamp, ObjectKind, SnapshotKey};
use crate::manifest::{sha256_hex, Manifest, MANIFEST_FORMAT};
use domain::ids::OrgId;
use std::collections::BTreeMap;
use thiserror::Error;

/// Why a backup cannot be restored. Nothing has been touched when one of these is returned.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum Refusal {
    #[error("the snapshot has no manifest: it was never finished (or its manifest was removed)")]
    NoManifest,
    #[error("the manifest is unreadable: {0}")]
    BadManifest(String),
    #[error("the manifest is for {found}, not for {expected}")]
    WrongObject { expected: String, found: String },
    #[error("part {index} is missing")]
    MissingPart { index: u32 },
    #[error("part {index} does not match its checksum")]
    ChecksumMismatch { index: u32 },
    #[error("part {index} is {found} bytes, the manifest says {expected}")]
    SizeMismatch { index: u32, expected: u64, found: u64 },
    #[error("the rows do not match the manifest's counts: {0}")]
    CountMismatch(String),
}

impl Refusal {
    /// A stable code for the API and the restore script.
    pub fn code(&self) -> &'static str {
        match self {
            Refusal::NoManifest | Refusal::MissingPart { .. } => "backup_incomplete",
            Refusal::WrongObject { .. } => "backup_mismatch",
            Refusal::BadManifest(_) | Refusal::ChecksumMismatch { .. } | Refusal::SizeMismatch { .. } | Refusal::CountMismatch(_) => "backup_corrupt",
        }
    }
}

/// The object a restore is for: the org from the session, the rest from the backup id.
#[derive(Debug, Clone, Copy)]
pub struct Target<'a> {
    pub org: &'a OrgId,
    pub kind: ObjectKind,
    pub object_id: &'a str,
    pub taken_at_ms: i64,
}

/// A backup whose every part matched its checksum and whose rows match the manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedSnapshot {
    pub manifest: Manifest,
    /// The export to hand to the object: the header line, then every row line in order.
    pub export: String,
}

/// Reads a manifest (`None`: there is none) and checks that it describes `target` and keeps
/// its parts where the key scheme says, so a tampered manifest cannot point anywhere else.
pub fn read_manifest(bytes: Option<&[u8]>, target: &Target<'_>) -> Result<Manifest, Refusal> {
    let bytes = bytes.ok_or(Refusal::NoManifest)?;
    let manifest: Manifest = serde_json::from_slice(bytes).map_err(|e| Refusal::BadManifest(e.to_string()))?;
    if manifest.format != MANIFEST_FORMAT {
        return Err(Refusal::BadManifest(format!("unknown format {:?}", manifest.format)));
    }
    let expected = format!("{} {} of {} at {}", target.kind.as_str(), target.object_id, target.org.as_str(), timestamp(target.taken_at_ms));
    let found = format!("{} {} of {} at {}", manifest.kind, manifest.object_id, manifest.org, manifest.taken_at);
    if expected != found || manifest.taken_at_ms != target.taken_at_ms {
        return Err(Refusal::WrongObject { expected, found });
    }
    let key = SnapshotKey::new(target.org, target.kind, target.object_id, target.taken_at_ms).ok_or_else(|| Refusal::WrongObject { expected: expected.clone(), found })?;
    for (i, part) in manifest.parts.iter().enumerate() {
        if part.index as usize != i || part.key != key.part(part.index) {
            return Err(Refusal::BadManifest(format!("part {i} is not where the key scheme puts it")));
        }
    }
    Ok(manifest)
}

/// Checks every part (given in the manifest's order; `None` when missing) against its size
/// and checksum, then every row against the manifest's counts.
pub fn verify(manifest: Manifest, parts: &[Option<Vec<u8>>]) -> Result<VerifiedSnapshot, Refusal> {
    if parts.len() != manifest.parts.len() {
        return Err(Refusal::CountMismatch(format!("{} parts listed, {} given", manifest.parts.len(), parts.len())));
    }
    for (entry, bytes) in manifest.parts.iter().zip(parts) {
        let bytes = bytes.as_ref().ok_or(Refusal::MissingPart { index: entry.index })?;
        if bytes.len() as u64 != entry.bytes {
            return Err(Refusal::SizeMismatch { index: entry.index, expected: entry.bytes, found: bytes.len() as u64 });
        }
        if sha256_hex(bytes) != entry.sha256 {
            return Err(Refusal::ChecksumMismatch { index: entry.index });
        }
    }
    let mut export = Header::new(&manifest.kind, manifest.schema_version).line();
    export.push('\n');
    let mut tables: BTreeMap<String, u64> = BTreeMap::new();
    for (entry, bytes) in manifest.parts.iter().zip(parts.iter().flatten()) {
        let text = std::str::from_utf8(bytes).map_err(|_| Refusal::CountMismatch(format!("part {} is not UTF-8", entry.index)))?;
        let mut rows = 0;
        for line in text.lines().filter(|l| !l.is_empty()) {
            let row: RowLine = serde_json::from_str(line).map_err(|e| Refusal::CountMismatch(format!("part {}: {e}", entry.index)))?;
            *tables.entry(row.table).or_insert(0) += 1;
            rows += 1;
        }
        if rows != entry.rows {
            return Err(Refusal::CountMismatch(format!("part {} holds {rows} rows, the manifest says {}", entry.index, entry.rows)));
        }
        export.push_str(text);
    }
    if tables != manifest.tables || tables.values().sum::<u64>() != manifest.total_rows {
        return Err(Refusal::CountMismatch("rows per table differ from the manifest".into()));
    }
    Ok(VerifiedSnapshot { manifest, export })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::export::plan_snapshot;
    use crate::manifest::PartEntry;

    const T: i64 = 1_795_337_060_123;

    fn org() -> OrgId {
        OrgId::parse("org_demo").unwrap()
    }

    /// A snapshot of `n` rows split into small parts, as the backup route would write it.
    fn snapshot(n: usize) -> (Manifest, Vec<Option<Vec<u8>>>) {
        let mut export = String::from("{\"snapshot\":\"parley\",\"kind\":\"chat\",\"schema_version\":2}\n");
        for i in 0..n {
            export.push_str(&format!("{{\"table\":\"{}\",\"row\":{{\"seq\":{i},\"content\":\"hello {i}\"}}}}\n", if i % 4 == 0 { "turns" } else { "messages" }));
        }
        let plan = plan_snapshot(&export, "chat", 120).unwrap();
        let key = SnapshotKey::new(&org(), ObjectKind::Chat, "chat_abc", T).unwrap();
        let manifest = Manifest {
            format: MANIFEST_FORMAT.into(),
            org: "org_demo".into(),
            kind: "chat".into(),
            object_id: "chat_abc".into(),
            taken_at: timestamp(T),
            taken_at_ms: T,
            schema_version: plan.schema_version,
            tables: plan.tables.clone(),
            total_rows: plan.total_rows,
            parts: plan.parts.iter().enumerate().map(|(i, p)| PartEntry { index: i as u32, key: key.part(i as u32), bytes: p.content.len() as u64, rows: p.rows, sha256: p.sha256.clone() }).collect(),
        };
        (manifest, plan.parts.into_iter().map(|p| Some(p.content.into_bytes())).collect())
    }

    fn target() -> Target<'static> {
        static ORG: std::sync::OnceLock<OrgId> = std::sync::OnceLock::new();
        Target { org: ORG.get_or_init(org), kind: ObjectKind::Chat, object_id: "chat_abc", taken_at_ms: T }
    }

    fn bytes(m: &Manifest) -> Vec<u8> {
        serde_json::to_vec(m).unwrap()
    }

    #[test]
    fn a_whole_backup_verifies_and_gives_back_the_export() {
        let (manifest, parts) = snapshot(10);
        assert!(manifest.parts.len() > 2);
        let read = read_manifest(Some(&bytes(&manifest)), &target()).unwrap();
        let verified = verify(read, &parts).unwrap();
        let replanned = plan_snapshot(&verified.export, "chat", 120).unwrap();
        assert_eq!(replanned.tables, manifest.tables);
        assert_eq!(replanned.parts.iter().map(|p| p.sha256.clone()).collect::<Vec<_>>(), manifest.parts.iter().map(|p| p.sha256.clone()).collect::<Vec<_>>());
    }

    #[test]
    fn a_missing_manifest_or_part_is_incomplete() {
        assert_eq!(read_manifest(None, &target()), Err(Refusal::NoManifest));
        let (manifest, mut parts) = snapshot(10);
        parts[1] = None;
        let refusal = verify(manifest, &parts).unwrap_err();
        assert_eq!(refusal, Refusal::MissingPart { index: 1 });
        assert_eq!(refusal.code(), "backup_incomplete");
    }

    #[test]
    fn a_changed_byte_is_corrupt() {
        let (manifest, mut parts) = snapshot(10);
        let part = parts[2].as_mut().unwrap();
        part[5] ^= 1;
        let refusal = verify(manifest.clone(), &parts).unwrap_err();
        assert_eq!(refusal, Refusal::ChecksumMismatch { index: 2 });
        assert_eq!(refusal.code(), "backup_corrupt");
        let (_, mut short) = snapshot(10);
        short[0].as_mut().unwrap().pop();
        assert!(matches!(verify(manifest, &short), Err(Refusal::SizeMismatch { index: 0, .. })));
    }

    #[test]
    fn counts_that_disagree_are_corrupt_even_with_good_checksums() {
        let (mut manifest, parts) = snapshot(10);
        *manifest.tables.get_mut("turns").unwrap() += 1;
        manifest.total_rows += 1;
        assert!(matches!(verify(manifest, &parts), Err(Refusal::CountMismatch(_))));
        let (mut manifest, parts) = snapshot(10);
        manifest.parts[0].rows += 1;
        assert!(matches!(verify(manifest, &parts), Err(Refusal::CountMismatch(_))));
    }

    #[test]
    fn a_manifest_for_another_object_or_pointing_elsewhere_is_refused() {
        let (manifest, _) = snapshot(3);
        let other = Target { object_id: "chat_other", ..target() };
        assert_eq!(read_manifest(Some(&bytes(&manifest)), &other).unwrap_err().code(), "backup_mismatch");
        let mut other_org = manifest.clone();
        other_org.org = "org_else".into();
        assert_eq!(read_manifest(Some(&bytes(&other_org)), &target()).unwrap_err().code(), "backup_mismatch");
        let mut moved = manifest.clone();
        moved.parts[0].key = "backups/org_else/chat/chat_abc/20261122T084420123Z/parts/00000.ndjson".into();
        assert_eq!(read_manifest(Some(&bytes(&moved)), &target()).unwrap_err().code(), "backup_corrupt");
        let mut format = manifest;
        format.format = "parley-backup/9".into();
        assert!(matches!(read_manifest(Some(&bytes(&format)), &target()), Err(Refusal::BadManifest(_))));
        assert!(matches!(read_manifest(Some(b"{not json"), &target()), Err(Refusal::BadManifest(_))));
    }
}
