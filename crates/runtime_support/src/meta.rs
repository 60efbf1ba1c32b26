//! The `meta` table every Durable Object keeps (schema version and identity), and versioned
//! migrations over it.

use serde::Deserialize;
use worker::{Result, SqlStorage};

pub fn meta_get(sql: &SqlStorage, key: &str) -> Result<Option<String>> {
    #[derive(Deserialize)]
    struct Row {
        value: String,
    }
    let rows: Vec<Row> = sql.exec("SELECT value FROM meta WHERE key = ?", vec![key.into()])?.to_array()?;
    Ok(rows.into_iter().next().map(|r| r.value))
}

pub fn meta_set(sql: &SqlStorage, key: &str, value: &str) -> Result<()> {
    sql.exec(
        "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        vec![key.into(), value.into()],
    )?;
    Ok(())
}

/// Creates `meta` and applies every migration after the stored `schema_version`, recording
/// each. Append-only: migration `i` upgrades version `i` to `i + 1`. Call inside a transaction.
pub fn migrate(sql: &SqlStorage, migrations: &[&str]) -> Result<()> {
    sql.exec("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)", None)?;
    let current = meta_get(sql, "schema_version")?.and_then(|v| v.parse::<usize>().ok()).unwrap_or(0);
    for (i, ddl) in migrations.iter().enumerate().skip(current) {
        sql.exec(ddl, None)?;
        meta_set(sql, "schema_version", &(i + 1).to_string())?;
    }
    Ok(())
}
