//! Backups of a Durable Object's SQLite, the same for every kind of object.
//!
//! [`export`] reads every table in one synchronous pass (no `await`, so the rows are one
//! consistent point in time) and writes NDJSON: a header line with the object's kind and schema
//! version, then one `{"table","row"}` line per row in rowid order, so the same rows always
//! give the same bytes. FTS5 tables are exported through their columns, never their shadow
//! tables, and rebuilt by inserting.
//!
//! [`import`] replaces everything in one transaction: the header is checked first (kind,
//! schema version), then every table is dropped, the schema is rebuilt to the snapshot's
//! version, and each row goes in as it is read, its `meta` identity rows checked against the
//! object's; then the remaining migrations bring it up to date. A refusal or any failure rolls
//! all of it back, so the object is either exactly the snapshot or untouched. What the format
//! is and what an import accepts are decided in `r2_layout` (pure); this is the SQLite side.

use crate::meta::{meta_get, migrate};
use crate::transaction::transaction;
use r2_layout::{check_header, check_identity, parse_import_line, Header, ImportRefusal, IDENTITY_KEYS};
use serde::Deserialize;
use std::cell::RefCell;
use std::rc::Rc;
use worker::{Result, SqlStorage, Storage};

// Rows are turned into JSON and back by SQLite's own JSON functions, not by serde: the export
// and import are the same few lines for every table, and the wasm stays small.

#[derive(Deserialize)]
struct TableRow {
    name: String,
    sql: Option<String>,
}

#[derive(Deserialize)]
struct Text {
    t: Option<String>,
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
    let mut out = Header::new(kind, schema_version).line();
    out.push('\n');
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

/// Replaces the object's data with `export` (see the module documentation). `Ok(Err(_))` is a
/// refusal with nothing changed; `Ok(Ok(rows))` is how many rows were restored.
pub fn import(storage: &Storage, migrations: &'static [&'static str], kind: &str, export: &str) -> Result<std::result::Result<u64, ImportRefusal>> {
    let sql = storage.sql();
    let mut lines = export.lines();
    let version = match check_header(lines.next(), kind, migrations.len() as u32) {
        Ok(v) => v,
        Err(refusal) => return Ok(Err(refusal)),
    };
    let ours: Vec<(&'static str, Option<String>)> = IDENTITY_KEYS.iter().map(|k| Ok((*k, meta_get(&sql, k)?))).collect::<Result<_>>()?;
    let rows: Vec<String> = lines.filter(|l| !l.is_empty()).map(str::to_owned).collect();
    let count = rows.len() as u64;
    // A refusal found mid-way is kept here and the transaction aborted, so nothing stays.
    let refused: Rc<RefCell<Option<ImportRefusal>>> = Rc::new(RefCell::new(None));
    let refusal = refused.clone();
    let refuse = move |r: ImportRefusal| {
        let message = r.to_string();
        *refusal.borrow_mut() = Some(r);
        worker::Error::RustError(message)
    };
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
        for (i, line) in rows.iter().enumerate() {
            // Line 1 is the header.
            let row = parse_import_line(line, i + 2).map_err(&refuse)?;
            if let Some((key, theirs)) = &row.identity {
                let ours = ours.iter().find(|(k, _)| k == key).and_then(|(_, v)| v.as_deref());
                check_identity(key, theirs.as_deref(), ours).map_err(&refuse)?;
            }
            let statement = inserts.iter().find(|(name, _)| *name == row.table).map(|(_, s)| s.as_str());
            let statement = statement.ok_or_else(|| refuse(ImportRefusal::Malformed(format!("line {}: no table {:?} in this schema", i + 2, row.table))))?;
            sql.exec(statement, vec![line.as_str().into()])?;
        }
        migrate(&sql, migrations)?;
        Ok(())
    });
    let refusal = refused.borrow_mut().take();
    Ok(match (outcome, refusal) {
        (Ok(()), _) => Ok(count),
        (Err(_), Some(refusal)) => Err(refusal),
        (Err(e), None) => Err(ImportRefusal::Malformed(e.to_string())),
    })
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
            return crate::responses::error(&domain::ApiError::Unprocessable { code: refusal.code(), message: refusal.to_string() });
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
