//! Turning a Durable Object's export into the parts of a snapshot.
//!
//! An object exports itself as NDJSON in one synchronous pass (so the rows are one consistent
//! point in time): a header line, then one line per row ([`crate::snapshot`]).
//!
//! The rows are split, whole lines only, into parts of at most [`MAX_PART_BYTES`]; each part is
//! checksummed. The header is not stored as a part: the manifest carries what it says.

use crate::manifest::sha256_hex;
use crate::snapshot::{Header, RowLine};
use std::collections::BTreeMap;
use thiserror::Error;

/// A part holds at most this many bytes (a single longer row gets a part of its own).
pub const MAX_PART_BYTES: usize = 1 << 20;

/// An export that cannot become a snapshot.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ExportError {
    #[error("the export has no header line")]
    MissingHeader,
    #[error("the export is of a {found} object, not a {expected}")]
    WrongKind { expected: String, found: String },
    #[error("line {line} of the export is not a row: {reason}")]
    BadLine { line: usize, reason: String },
}

/// One part, ready to upload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedPart {
    pub content: String,
    pub rows: u64,
    pub sha256: String,
}

/// What to upload for one snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotPlan {
    pub schema_version: u32,
    pub tables: BTreeMap<String, u64>,
    pub total_rows: u64,
    pub parts: Vec<PlannedPart>,
}

impl SnapshotPlan {
    /// The snapshot's content digest: the schema version, then every part's checksum. Exports
    /// with the same rows give the same parts (the split depends only on the rows), so two
    /// snapshots with one digest hold the same data.
    pub fn digest(&self) -> String {
        let mut text = format!("{}\n", self.schema_version);
        for part in &self.parts {
            text.push_str(&part.sha256);
            text.push('\n');
        }
        sha256_hex(text.as_bytes())
    }
}

/// Checks an export of a `kind` object and splits its rows into parts of at most
/// `max_part_bytes` (at least one byte; a row longer than that gets a part alone). An export
/// with no rows gives no parts.
pub fn plan_snapshot(export: &str, kind: &str, max_part_bytes: usize) -> Result<SnapshotPlan, ExportError> {
    let mut lines = export.lines();
    let header = lines.next().and_then(Header::parse).ok_or(ExportError::MissingHeader)?;
    if header.kind != kind {
        return Err(ExportError::WrongKind { expected: kind.to_owned(), found: header.kind });
    }
    let mut tables = BTreeMap::new();
    let mut parts = Vec::new();
    let (mut content, mut rows) = (String::new(), 0u64);
    for (i, line) in lines.enumerate().filter(|(_, l)| !l.is_empty()) {
        let row: RowLine = serde_json::from_str(line).map_err(|e| ExportError::BadLine { line: i + 2, reason: e.to_string() })?;
        *tables.entry(row.table).or_insert(0) += 1;
        if !content.is_empty() && content.len() + line.len() + 1 > max_part_bytes.max(1) {
            parts.push(finish(std::mem::take(&mut content), rows));
            rows = 0;
        }
        content.push_str(line);
        content.push('\n');
        rows += 1;
    }
    if !content.is_empty() {
        parts.push(finish(content, rows));
    }
    Ok(SnapshotPlan { schema_version: header.schema_version, total_rows: tables.values().sum(), tables, parts })
}

fn finish(content: String, rows: u64) -> PlannedPart {
    PlannedPart { sha256: sha256_hex(content.as_bytes()), content, rows }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn export(rows: &[(&str, i64)]) -> String {
        let mut s = String::from("{\"snapshot\":\"parley\",\"kind\":\"chat\",\"schema_version\":2}\n");
        for (t, n) in rows {
            s.push_str(&format!("{{\"table\":\"{t}\",\"row\":{{\"n\":{n}}}}}\n"));
        }
        s
    }

    #[test]
    fn rows_are_counted_per_table_and_split_by_size() {
        let plan = plan_snapshot(&export(&[("messages", 1), ("messages", 2), ("turns", 3)]), "chat", 80).unwrap();
        assert_eq!(plan.schema_version, 2);
        assert_eq!(plan.tables, BTreeMap::from([("messages".to_owned(), 2), ("turns".to_owned(), 1)]));
        assert_eq!(plan.total_rows, 3);
        assert_eq!(plan.parts.len(), 2, "two 37-byte lines fit in 80 bytes, the third does not");
        assert_eq!(plan.parts[0].rows, 2);
        assert_eq!(plan.parts[0].sha256, sha256_hex(plan.parts[0].content.as_bytes()));
    }

    #[test]
    fn the_digest_changes_with_any_row_or_the_schema_version() {
        let text = export(&[("messages", 1), ("turns", 3)]);
        let plan = |t: &str| plan_snapshot(t, "chat", 80).unwrap();
        assert_eq!(plan(&text).digest(), plan(&text).digest(), "the same rows, the same digest");
        assert_ne!(plan(&text).digest(), plan(&export(&[("messages", 1), ("turns", 4)])).digest());
        assert_ne!(plan(&text).digest(), plan(&export(&[("messages", 1)])).digest());
        let newer = text.replace("\"schema_version\":2", "\"schema_version\":3");
        assert_ne!(plan(&text).digest(), plan(&newer).digest());
        assert_eq!(plan(&export(&[])).digest().len(), 64);
    }

    #[test]
    fn an_empty_object_has_no_parts() {
        let plan = plan_snapshot(&export(&[]), "chat", MAX_PART_BYTES).unwrap();
        assert!(plan.parts.is_empty());
        assert_eq!(plan.total_rows, 0);
    }

    #[test]
    fn bad_exports_are_refused() {
        assert_eq!(plan_snapshot("", "chat", 10), Err(ExportError::MissingHeader));
        assert_eq!(plan_snapshot("{\"table\":\"x\",\"row\":{}}", "chat", 10), Err(ExportError::MissingHeader));
        assert!(matches!(plan_snapshot(&export(&[]), "workspace", 10), Err(ExportError::WrongKind { .. })));
        let bad = format!("{}not json\n", export(&[("m", 1)]));
        assert!(matches!(plan_snapshot(&bad, "chat", 100), Err(ExportError::BadLine { line: 3, .. })));
        let no_row = format!("{}{{\"table\":\"m\"}}\n", export(&[]));
        assert!(matches!(plan_snapshot(&no_row, "chat", 100), Err(ExportError::BadLine { line: 2, .. })));
    }

    proptest! {
        /// The parts hold every row line, in order, whole, each part within the limit unless
        /// it is a single line, and the counts add up.
        #[test]
        fn parts_cover_the_rows_in_order(ns in proptest::collection::vec(0i64..1_000_000_000, 0..200), limit in 1usize..400) {
            let rows: Vec<(&str, i64)> = ns.iter().map(|n| (if n % 3 == 0 { "a" } else { "b" }, *n)).collect();
            let text = export(&rows);
            let plan = plan_snapshot(&text, "chat", limit).unwrap();
            let joined: String = plan.parts.iter().map(|p| p.content.as_str()).collect();
            let expected: String = text.lines().skip(1).map(|l| format!("{l}\n")).collect();
            prop_assert_eq!(joined, expected);
            prop_assert_eq!(plan.parts.iter().map(|p| p.rows).sum::<u64>(), ns.len() as u64);
            prop_assert_eq!(plan.total_rows, ns.len() as u64);
            for p in &plan.parts {
                prop_assert!(p.content.len() <= limit || p.rows == 1);
            }
        }
    }
}
