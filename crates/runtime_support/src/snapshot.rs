//! Backups of a Durable Object's SQLite, the same for every kind of object.
//!
//! [`export`] reads every table in one synchronous pass (no `await`, so the rows are one
//! consistent point in time) and writes NDJSON: a header line with the object's kind and schema
//! version, then one `{"table","row"}` line per row in rowid order, so the same rows always
//! give the same bytes. FTS5 tables are exported through their columns, never their shadow
//! tables, and rebuilt by inserting.
//!
//! [`import`] replaces everything in one transaction: the snapshot is parsed and checked first
//! (kind, schema version, identity, table and column names), then every table is dropped, the
//! schema is rebuilt to the snapshot's version, the rows go in, and the remaining migrations
//! bring it up to date. Any failure rolls all of it back, so the object is either exactly the
//! snapshot or untouched.

use crate::meta::{meta_get, migrate};
use crate::transaction::transaction;
use serde::Deserialize;
use worker::{Result, SqlStorage, Storage};

// Rows are turned into JSON and back by SQLite's own JSON functions, not by serde: the export
// and import are the same few lines for every table, and the wasm stays small.

/// `meta` keys that name the object; a snapshot holding a different value is another object's.
const IDENTITY_KEYS: [&str; 2] = ["org_id", "chat_id"];

#[derive(Deserialize)]
struct Header {
    snapshot: String,
    kind: String,
    schema_version: u32,
}

#[derive(Deserialize)]
struct TableRow {
    name: String,
    sql: Option<String>,
}

#[derive(Deserialize)]
struct Text {
    t: Option<String>,
}

/// Why a snapshot was not imported (nothing was changed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImportRefusal {
    /// Not a snapshot this code can read; the reason says where.
    Malformed(String),
    /// A snapshot of another kind of object.
    WrongKind(String),
    /// Taken under a schema newer than this code knows.
    SchemaTooNew { snapshot: u32, current: u32 },
    /// Its `meta` names another object.
    WrongObject(&'static str),
}

impl ImportRefusal {
    /// The code and message for the API.
    pub fn describe(&self) -> (&'static str, String) {
        match self {
            ImportRefusal::Malformed(why) => ("backup_corrupt", format!("the snapshot is unreadable: {why}")),
            ImportRefusal::WrongKind(kind) => ("backup_mismatch", format!("the snapshot is of a {kind} object")),
            ImportRefusal::SchemaTooNew { snapshot, current } => {
                ("backup_mismatch", format!("the snapshot has schema version {snapshot}, which this object (at {current}) cannot take"))
            }
            ImportRefusal::WrongObject(key) => ("backup_mismatch", format!("the snapshot's `{key}` names another object")),
        }
    }
}

fn is_virtual(t: &TableRow) -> bool {
    t.sql.as_deref().is_some_and(|s| s.starts_with("CREATE VIRTUAL TABLE"))
}

/// The tables a snapshot covers, in name order: ordinary and virtual tables, without SQLite's,
/// the runtime's (any name starting with `_`: `_cf_...` in production, `__miniflare...` in
/// local development) or the shadow tables behind a virtual table.
fn tables(sql: &SqlStorage) -> Result<Vec<TableRow>> {
    let all: Vec<TableRow> = sql.exec("SELECT name, sql FROM sqlite_master WHERE type = 'table' ORDER BY name", None)?.to_array()?;
    let shadow_prefixes: Vec<String> = all.iter().filter(|t| is_virtual(t)).map(|t| format!("{}_", t.name)).collect();
    Ok(all
        .into_iter()
        .filter(|t| !t.name.starts_with("sqlite_") && !t.name.starts_with('_'))
        .filter(|t| !shadow_prefixes.iter().any(|prefix| t.name.starts_with(prefix.as_str())))
        .collect())
}

/// A table's column names, in schema order.
fn columns(sql: &SqlStorage, table: &str) -> Result<Vec<String>> {
    let rows: Vec<Text> = sql.exec("SELECT name AS t FROM pragma_table_info(?)", vec![table.into()])?.to_array()?;
    Ok(rows.into_iter().filter_map(|r| r.t).collect())
}

/// The object's rows as NDJSON (see the module documentation).
pub fn export(sql: &SqlStorage, kind: &str) -> Result<String> {
    let schema_version: u32 = meta_get(sql, "schema_version")?.and_then(|v| v.parse().ok()).unwrap_or(0);
    let mut out = format!("{{\"snapshot\":\"parley\",\"kind\":\"{kind}\",\"schema_version\":{schema_version}}}\n");
    for table in tables(sql)? {
        let pairs: Vec<String> = columns(sql, &table.name)?.iter().map(|c| format!("'{c}', \"{c}\"")).collect();
        let query = format!("SELECT json_object('table', '{0}', 'row', json_object({1})) AS t FROM \"{0}\" ORDER BY rowid", table.name, pairs.join(", "));
        for line in sql.exec(&query, None)?.to_array::<Text>()?.into_iter().filter_map(|r| r.t) {
            out.push_str(&line);
            out.push('\n');
        }
    }
    Ok(out)
}

/// One value of `line` read by SQLite (`path` like `$.table`).
fn json_text(sql: &SqlStorage, line: &str, path: &str) -> Result<Option<String>> {
    let rows: Vec<Text> = sql.exec("SELECT CAST(json_extract(?, ?) AS TEXT) AS t", vec![line.into(), path.into()])?.to_array()?;
    Ok(rows.into_iter().next().and_then(|r| r.t))
}

fn header(export: &str, kind: &str, current: u32) -> std::result::Result<u32, ImportRefusal> {
    let header: Header = export.lines().next().and_then(|l| serde_json::from_str(l).ok()).ok_or_else(|| ImportRefusal::Malformed("no header line".into()))?;
    if header.snapshot != "parley" {
        return Err(ImportRefusal::Malformed("not a Parley snapshot".into()));
    }
    if header.kind != kind {
        return Err(ImportRefusal::WrongKind(header.kind));
    }
    if header.schema_version > current || header.schema_version == 0 {
        return Err(ImportRefusal::SchemaTooNew { snapshot: header.schema_version, current });
    }
    Ok(header.schema_version)
}

/// Replaces the object's data with `export` (see the module documentation). `Ok(Err(_))` is a
/// refusal with nothing changed; `Ok(Ok(rows))` is how many rows were restored.
pub fn import(storage: &Storage, migrations: &'static [&'static str], kind: &str, export: &str) -> Result<std::result::Result<u64, ImportRefusal>> {
    let sql = storage.sql();
    let version = match header(export, kind, migrations.len() as u32) {
        Ok(v) => v,
        Err(refusal) => return Ok(Err(refusal)),
    };
    let lines: Vec<String> = export.lines().skip(1).filter(|l| !l.is_empty()).map(str::to_owned).collect();
    for line in &lines {
        if json_text(&sql, line, "$.table")?.as_deref() != Some("meta") {
            continue;
        }
        let key = json_text(&sql, line, "$.row.key")?.unwrap_or_default();
        if let Some(identity) = IDENTITY_KEYS.iter().find(|k| **k == key) {
            let theirs = json_text(&sql, line, "$.row.value")?;
            if meta_get(&sql, identity)?.is_some_and(|ours| Some(ours) != theirs) {
                return Ok(Err(ImportRefusal::WrongObject(identity)));
            }
        }
    }
    let rows = lines.len() as u64;
    // A row SQLite cannot read or insert aborts the transaction; its message says which.
    let outcome = transaction(storage, move || {
        let (virtual_tables, plain): (Vec<_>, Vec<_>) = tables(&sql)?.into_iter().partition(is_virtual);
        // Virtual tables first: dropping one drops its shadow tables.
        for table in virtual_tables.iter().chain(&plain) {
            sql.exec(&format!("DROP TABLE \"{}\"", table.name), None)?;
        }
        migrate(&sql, &migrations[..version as usize])?;
        let mut inserts: Vec<(String, String)> = Vec::new();
        for t in tables(&sql)? {
            let cols = columns(&sql, &t.name)?;
            let values: Vec<String> = cols.iter().map(|c| format!("json_extract(?1, '$.row.{c}')")).collect();
            inserts.push((t.name.clone(), format!("INSERT OR REPLACE INTO \"{}\" (\"{}\") VALUES ({})", t.name, cols.join("\",\""), values.join(", "))));
        }
        for (i, line) in lines.iter().enumerate() {
            let table = json_text(&sql, line, "$.table")?.unwrap_or_default();
            let statement = inserts.iter().find(|(name, _)| *name == table).map(|(_, s)| s.as_str());
            let statement = statement.ok_or_else(|| worker::Error::RustError(format!("row {}: no table {table:?} in this schema", i + 1)))?;
            sql.exec(statement, vec![line.as_str().into()])?;
        }
        migrate(&sql, migrations)?;
        Ok(())
    });
    Ok(outcome.map(|()| rows).map_err(|e| ImportRefusal::Malformed(e.to_string())))
}

/// `GET /backup/export`: the object's snapshot as NDJSON.
pub fn serve_export(storage: &Storage, kind: &str) -> Result<worker::Response> {
    let mut response = worker::Response::ok(export(&storage.sql(), kind)?)?;
    response.headers_mut().set("Content-Type", "application/x-ndjson")?;
    Ok(response)
}

/// `POST /backup/import`: replaces the object's data with the snapshot in `body`, then arms the
/// alarm for whatever the restored schedule holds (the alarm of the replaced data is moot).
pub async fn serve_import(storage: &Storage, migrations: &'static [&'static str], kind: &str, body: &str) -> Result<worker::Response> {
    let rows = match import(storage, migrations, kind, body)? {
        Ok(rows) => rows,
        Err(refusal) => {
            let (code, message) = refusal.describe();
            return crate::responses::error(&domain::ApiError::Unprocessable { code, message });
        }
    };
    match domain::schedule::next_alarm(&crate::schedule::all(&storage.sql())?) {
        Some(at) => storage.set_alarm(crate::alarm_at(at)).await?,
        None => storage.delete_alarm().await?,
    }
    let mut response = worker::Response::ok(format!("{{\"rows\":{rows}}}"))?;
    response.headers_mut().set("Content-Type", "application/json")?;
    Ok(response)
}
