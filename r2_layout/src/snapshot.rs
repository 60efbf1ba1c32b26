//! The snapshot format itself: what an object's export looks like and what an import accepts.
//! Every reader and writer goes through here: the objects' export and import
//! (`runtime_support::snapshot`), splitting an export into parts ([`crate::plan_snapshot`]) and
//! verifying a backup ([`crate::verify`]).
//!
//! ```text
//! {"snapshot":"parley","kind":"chat","schema_version":2}
//! {"table":"messages","row":{"seq":1,...}}
//! ```

use serde::Deserialize;
use thiserror::Error;

/// How every export's first line starts.
pub const HEADER_LINE_PREFIX: &str = "{\"snapshot\":\"parley\"";

/// `meta` keys that name the object; a snapshot holding a different value is another object's.
pub const IDENTITY_KEYS: [&str; 2] = ["org_id", "chat_id"];

/// The export's first line: which kind of object, under which schema version.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Header {
    snapshot: String,
    pub kind: String,
    pub schema_version: u32,
}

impl Header {
    pub fn new(kind: &str, schema_version: u32) -> Header {
        Header { snapshot: "parley".to_owned(), kind: kind.to_owned(), schema_version }
    }

    /// The header line, without its newline.
    pub fn line(&self) -> String {
        format!("{HEADER_LINE_PREFIX},\"kind\":\"{}\",\"schema_version\":{}}}", self.kind, self.schema_version)
    }

    /// Reads a header line; `None` when it is not a Parley snapshot's.
    pub fn parse(line: &str) -> Option<Header> {
        serde_json::from_str::<Header>(line).ok().filter(|h| h.snapshot == "parley")
    }
}

/// A row line: its table, and the row, which must be an object.
#[derive(Deserialize)]
pub(crate) struct RowLine {
    pub table: String,
    /// Never read here, but required: a line whose row is not an object is refused.
    #[allow(dead_code)]
    pub row: serde_json::Map<String, serde_json::Value>,
}

/// Why a snapshot was not imported (nothing was changed).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ImportRefusal {
    /// Not a snapshot this code can read; the reason says where.
    #[error("the snapshot is unreadable: {0}")]
    Malformed(String),
    /// A snapshot of another kind of object.
    #[error("the snapshot is of a {0} object")]
    WrongKind(String),
    /// Taken under a schema newer than this code knows (or a version that never existed).
    #[error("the snapshot has schema version {snapshot}, which this object (at {current}) cannot take")]
    SchemaTooNew { snapshot: u32, current: u32 },
    /// Its `meta` names another object.
    #[error("the snapshot's `{0}` names another object")]
    WrongObject(&'static str),
}

impl ImportRefusal {
    /// The stable code for the API.
    pub fn code(&self) -> &'static str {
        match self {
            ImportRefusal::Malformed(_) => "backup_corrupt",
            ImportRefusal::WrongKind(_) | ImportRefusal::SchemaTooNew { .. } | ImportRefusal::WrongObject(_) => "backup_mismatch",
        }
    }
}

/// Checks an export's first line before a `kind` object at schema version `current` imports
/// it; answers the snapshot's schema version.
pub fn check_header(first_line: Option<&str>, kind: &str, current: u32) -> Result<u32, ImportRefusal> {
    let line = first_line.ok_or_else(|| ImportRefusal::Malformed("no header line".into()))?;
    let header = Header::parse(line).ok_or_else(|| ImportRefusal::Malformed("not a Parley snapshot".into()))?;
    if header.kind != kind {
        return Err(ImportRefusal::WrongKind(header.kind));
    }
    if header.schema_version > current || header.schema_version == 0 {
        return Err(ImportRefusal::SchemaTooNew { snapshot: header.schema_version, current });
    }
    Ok(header.schema_version)
}

/// A row line as an import reads it: the table it goes in, and whether it names the object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportLine {
    pub table: String,
    /// For a `meta` row holding an identity key: the key and the value it holds.
    pub identity: Option<(&'static str, Option<String>)>,
}

// The import side reads lines without a generic JSON value (which would add about 12 kB to
// each object's wasm): the table, the row skipped, and a `meta` row read a second time.
#[derive(Deserialize)]
struct TableOnly {
    table: String,
    #[allow(dead_code)]
    row: serde::de::IgnoredAny,
}

#[derive(Deserialize)]
struct MetaLine {
    row: MetaRow,
}

/// `meta` holds text keys and values (SQLite renders them as JSON strings).
#[derive(Deserialize)]
struct MetaRow {
    key: Option<String>,
    value: Option<String>,
}

/// Reads row line number `number` (1 is the header) of an export. The row's own values are
/// read by SQLite as it is inserted; the backup's verification has already required each row to
/// be an object.
pub fn parse_import_line(line: &str, number: usize) -> Result<ImportLine, ImportRefusal> {
    let bad = |e: serde_json::Error| ImportRefusal::Malformed(format!("line {number}: {e}"));
    let row: TableOnly = serde_json::from_str(line).map_err(bad)?;
    let identity = if row.table == "meta" {
        let meta: MetaLine = serde_json::from_str(line).map_err(bad)?;
        let key = meta.row.key.as_deref().and_then(|k| IDENTITY_KEYS.iter().copied().find(|i| *i == k));
        key.map(|k| (k, meta.row.value))
    } else {
        None
    };
    Ok(ImportLine { table: row.table, identity })
}

/// Whether an identity row of a snapshot (`key` holding `theirs`) fits the object it is being
/// imported into (holding `ours`; `None` when the object has no identity yet, as a new one).
pub fn check_identity(key: &'static str, theirs: Option<&str>, ours: Option<&str>) -> Result<(), ImportRefusal> {
    match ours {
        Some(ours) if Some(ours) != theirs => Err(ImportRefusal::WrongObject(key)),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_header_line_round_trips() {
        let h = Header::new("chat", 3);
        assert_eq!(h.line(), r#"{"snapshot":"parley","kind":"chat","schema_version":3}"#);
        assert!(h.line().starts_with(HEADER_LINE_PREFIX));
        assert_eq!(Header::parse(&h.line()), Some(h));
        assert_eq!(Header::parse(r#"{"snapshot":"other","kind":"chat","schema_version":3}"#), None);
        assert_eq!(Header::parse("not json"), None);
    }

    #[test]
    fn an_import_checks_the_kind_and_the_schema_version() {
        let line = Header::new("chat", 2).line();
        assert_eq!(check_header(Some(&line), "chat", 3), Ok(2), "an older snapshot is taken and migrated");
        assert_eq!(check_header(Some(&line), "chat", 2), Ok(2));
        assert_eq!(check_header(Some(&line), "workspace", 8), Err(ImportRefusal::WrongKind("chat".into())));
        assert_eq!(check_header(Some(&line), "chat", 1), Err(ImportRefusal::SchemaTooNew { snapshot: 2, current: 1 }));
        assert!(matches!(check_header(Some(&Header::new("chat", 0).line()), "chat", 3), Err(ImportRefusal::SchemaTooNew { .. })));
        assert!(matches!(check_header(None, "chat", 3), Err(ImportRefusal::Malformed(_))));
        assert!(matches!(check_header(Some("{}"), "chat", 3), Err(ImportRefusal::Malformed(_))));
        assert_eq!(ImportRefusal::WrongKind("x".into()).code(), "backup_mismatch");
        assert_eq!(ImportRefusal::Malformed("x".into()).code(), "backup_corrupt");
    }

    #[test]
    fn row_lines_name_their_table_and_meta_rows_their_identity() {
        let msg = parse_import_line(r#"{"table":"messages","row":{"seq":1,"content":"hi"}}"#, 2).unwrap();
        assert_eq!(msg, ImportLine { table: "messages".into(), identity: None });
        let chat = parse_import_line(r#"{"table":"meta","row":{"key":"chat_id","value":"chat_1"}}"#, 3).unwrap();
        assert_eq!(chat.identity, Some(("chat_id", Some("chat_1".into()))));
        let other = parse_import_line(r#"{"table":"meta","row":{"key":"title","value":"x"}}"#, 4).unwrap();
        assert_eq!(other.identity, None, "only identity keys");
        let empty = parse_import_line(r#"{"table":"meta","row":{"key":"org_id","value":null}}"#, 5).unwrap();
        assert_eq!(empty.identity, Some(("org_id", None)));
        for bad in ["not json", r#"{"table":"m"}"#, r#"{"row":{}}"#, r#"{"table":"meta","row":{"key":5}}"#, r#"{"table":"meta","row":{"key":"org_id","value":7}}"#] {
            assert!(matches!(parse_import_line(bad, 9), Err(ImportRefusal::Malformed(m)) if m.starts_with("line 9")), "{bad}");
        }
    }

    #[test]
    fn a_snapshot_of_another_object_is_refused() {
        assert_eq!(check_identity("chat_id", Some("a"), Some("a")), Ok(()));
        assert_eq!(check_identity("chat_id", Some("b"), Some("a")), Err(ImportRefusal::WrongObject("chat_id")));
        assert_eq!(check_identity("chat_id", None, Some("a")), Err(ImportRefusal::WrongObject("chat_id")));
        assert_eq!(check_identity("org_id", Some("b"), None), Ok(()), "an object with no identity yet takes any");
    }
}
