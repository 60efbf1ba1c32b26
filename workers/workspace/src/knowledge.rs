//! The org's knowledge base: text and markdown documents, chunked on paragraph boundaries
//! with overlap (`tools::chunk_document`), indexed with SQLite FTS5 and searched by BM25.
//! Results carry their document and chunk ids so answers can cite their sources.

use crate::lead_actions::actor;
use crate::Workspace;
use domain::json_fields::{optional_str, parse_object, required_str};
use domain::knowledge::fts_query;
use domain::ApiError;
use runtime_support::random;
use runtime_support::responses::{error, json};
use runtime_support::transaction::transaction;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use worker::*;

/// Target chunk size and overlap, in characters.
const CHUNK_TARGET: usize = 1200;
const CHUNK_OVERLAP: usize = 200;
/// Most results a search returns.
const MAX_RESULTS: u32 = 10;

struct NewDocument {
    title: String,
    text: String,
}

fn parse_document(body: &[u8]) -> std::result::Result<NewDocument, ApiError> {
    let obj = parse_object(body)?;
    let title = required_str(&obj, "title")?.trim().to_owned();
    let text = required_str(&obj, "text")?.to_owned();
    if let Some(format) = optional_str(&obj, "format")? {
        if !matches!(format, "text" | "markdown") {
            return Err(ApiError::InvalidField { field: "format", reason: "must be `text` or `markdown`".into() });
        }
    }
    tools::validate_document(&title, &text).map_err(|e| match e {
        tools::DocumentError::TooLarge { .. } => ApiError::PayloadTooLarge { what: "document", limit: tools::MAX_DOCUMENT_BYTES },
        other => ApiError::InvalidField { field: "text", reason: other.to_string() },
    })?;
    Ok(NewDocument { title, text })
}

#[derive(Serialize, Deserialize)]
struct DocumentRow {
    id: String,
    title: String,
    bytes: i64,
    chunks: i64,
    created_by: String,
    created_at: i64,
}

#[derive(Serialize, Deserialize)]
struct Hit {
    document_id: String,
    chunk_id: String,
    title: String,
    text: String,
    score: f64,
}

impl Workspace {
    /// `POST /knowledge` with `{ title, text, format? }`.
    pub(crate) async fn ingest_document(&self, mut req: Request) -> Result<Response> {
        let who = actor(&req);
        let bytes = req.bytes().await?;
        let doc = match parse_document(&bytes) {
            Ok(d) => d,
            Err(e) => return error(&e),
        };
        let Some(rand) = random::bytes16() else { return error(&ApiError::Unavailable { dependency: "crypto" }) };
        let id = format!("doc_{}", rand.iter().map(|b| format!("{b:02x}")).collect::<String>());
        let chunks = tools::chunk_document(&doc.text, CHUNK_TARGET, CHUNK_OVERLAP);
        let (sql, now) = (self.state.storage().sql(), Self::now());
        let row = DocumentRow { id: id.clone(), title: doc.title.clone(), bytes: doc.text.len() as i64, chunks: chunks.len() as i64, created_by: who, created_at: now };
        let (title, doc_id) = (doc.title.clone(), id.clone());
        let (rid, rtitle, rbytes, rchunks, rby) = (row.id.clone(), row.title.clone(), row.bytes, row.chunks, row.created_by.clone());
        transaction(&self.state.storage(), move || {
            sql.exec(
                "INSERT INTO knowledge_documents (id, title, bytes, chunks, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?)",
                vec![rid.into(), rtitle.into(), rbytes.into(), rchunks.into(), rby.into(), now.into()],
            )?;
            for c in &chunks {
                sql.exec(
                    "INSERT INTO knowledge_chunks (title, text, document_id, chunk_id) VALUES (?, ?, ?, ?)",
                    vec![title.as_str().into(), c.text.as_str().into(), doc_id.as_str().into(), format!("c{}", c.index).into()],
                )?;
            }
            Ok(())
        })?;
        json(201, &row)
    }

    /// `GET /knowledge`: the documents, newest first.
    pub(crate) fn list_documents(&self) -> Result<Response> {
        let rows: Vec<DocumentRow> = self.state.storage().sql().exec("SELECT id, title, bytes, chunks, created_by, created_at FROM knowledge_documents ORDER BY created_at DESC, id LIMIT 500", None)?.to_array()?;
        json(200, &json!({ "documents": rows }))
    }

    /// `GET /knowledge/search?q=&limit=` or `POST /knowledge/search` with `{ query, limit }`:
    /// the best chunks by BM25, each with its document and chunk id.
    pub(crate) async fn search_knowledge(&self, mut req: Request) -> Result<Response> {
        let (query, limit) = if req.method() == Method::Post {
            let v: Value = serde_json::from_slice(&req.bytes().await?).unwrap_or_default();
            (v["query"].as_str().unwrap_or_default().to_owned(), v["limit"].as_u64().unwrap_or(5) as u32)
        } else {
            let get = |k: &str| crate::request::query_param(&req, k);
            (get("q").unwrap_or_default(), get("limit").and_then(|l| l.parse().ok()).unwrap_or(5))
        };
        if query.trim().is_empty() {
            return error(&ApiError::InvalidQuery { param: "q", reason: "is required".into() });
        }
        let limit = limit.clamp(1, MAX_RESULTS);
        let Some(expr) = fts_query(&query) else { return json(200, &json!({ "query": query, "results": [] })) };
        let hits: Vec<Hit> = self
            .state
            .storage()
            .sql()
            .exec(
                "SELECT document_id, chunk_id, title, text, bm25(knowledge_chunks) AS score FROM knowledge_chunks WHERE knowledge_chunks MATCH ? ORDER BY score LIMIT ?",
                vec![expr.into(), i64::from(limit).into()],
            )?
            .to_array()?;
        json(200, &json!({ "query": query, "results": hits }))
    }
}
