//! Snapshots in the `BACKUPS` bucket.

use super::object;
use crate::error::unavailable;
use domain::ids::OrgId;
use domain::ApiError;
use std::collections::BTreeMap;
use r2_layout::{object_prefix, plan_snapshot, prune, sha256, timestamp, BackupId, Manifest, ObjectKind, PartEntry, SnapshotKey, SnapshotListing, SnapshotPlan, Target, MANIFEST_FORMAT, MAX_PART_BYTES};
use serde::Serialize;
use worker::{Bucket, Env, Method};

/// Complete snapshots kept per object unless `BACKUP_KEEP` says otherwise.
const DEFAULT_KEEP: usize = 7;

fn bucket(env: &Env) -> Result<Bucket, ApiError> {
    env.bucket("BACKUPS").map_err(|e| unavailable("r2", e))
}

fn key_for(org: &OrgId, kind: ObjectKind, object_id: &str, taken_at_ms: i64) -> Result<SnapshotKey, ApiError> {
    SnapshotKey::new(org, kind, object_id, taken_at_ms).ok_or(ApiError::NotFound)
}

/// Takes a snapshot of the object now: export, parts (each with its checksum), manifest last,
/// then prunes the object's old snapshots. Answers the manifest and the content digest.
pub async fn take(env: &Env, org: &OrgId, kind: ObjectKind, object_id: &str, now_ms: i64) -> Result<(Manifest, String), ApiError> {
    let plan = export_plan(env, org, kind, object_id).await?;
    let digest = plan.digest();
    Ok((write(env, org, kind, object_id, plan, now_ms).await?, digest))
}

/// As [`take`], if `needed` says so given the export's content digest
/// (`r2_layout::snapshot_needed`); otherwise nothing is written and the manifest is `None`.
pub async fn take_if(env: &Env, org: &OrgId, kind: ObjectKind, object_id: &str, now_ms: i64, needed: impl FnOnce(&str) -> bool) -> Result<(Option<Manifest>, String), ApiError> {
    let plan = export_plan(env, org, kind, object_id).await?;
    let digest = plan.digest();
    if !needed(&digest) {
        return Ok((None, digest));
    }
    Ok((Some(write(env, org, kind, object_id, plan, now_ms).await?), digest))
}

/// The object's export, checked and split into parts.
async fn export_plan(env: &Env, org: &OrgId, kind: ObjectKind, object_id: &str) -> Result<SnapshotPlan, ApiError> {
    let stub = object::stub(env, org, kind, object_id)?;
    let mut res = object::call(&stub, Method::Get, "/backup/export", None).await?;
    if res.status_code() != 200 {
        return Err(object::relay_error(res).await);
    }
    let export = res.text().await.map_err(|e| unavailable("durable object", e))?;
    plan_snapshot(&export, kind.as_str(), MAX_PART_BYTES).map_err(|e| unavailable("durable object export", e))
}

/// Writes a planned snapshot taken at `now_ms`: the parts, then the manifest; then prunes.
async fn write(env: &Env, org: &OrgId, kind: ObjectKind, object_id: &str, plan: SnapshotPlan, now_ms: i64) -> Result<Manifest, ApiError> {
    let key = key_for(org, kind, object_id, now_ms)?;
    let bucket = bucket(env)?;
    let mut parts = Vec::with_capacity(plan.parts.len());
    for (i, part) in plan.parts.into_iter().enumerate() {
        let index = i as u32;
        let bytes = part.content.into_bytes();
        let entry = PartEntry { index, key: key.part(index), bytes: bytes.len() as u64, rows: part.rows, sha256: part.sha256 };
        let digest = sha256(&bytes);
        bucket.put(&entry.key, bytes).sha256(digest.to_vec()).execute().await.map_err(|e| unavailable("r2", e))?;
        parts.push(entry);
    }
    let manifest = Manifest {
        format: MANIFEST_FORMAT.into(),
        org: org.as_str().into(),
        kind: kind.as_str().into(),
        object_id: object_id.into(),
        taken_at: timestamp(now_ms),
        taken_at_ms: now_ms,
        schema_version: plan.schema_version,
        tables: plan.tables,
        total_rows: plan.total_rows,
        parts,
    };
    let text = serde_json::to_vec_pretty(&manifest).map_err(|e| unavailable("manifest", e))?;
    bucket.put(key.manifest(), text).execute().await.map_err(|e| unavailable("r2", e))?;
    if let Err(e) = prune_object(env, org, kind, object_id, now_ms).await {
        // The snapshot itself is safe; pruning runs again after the next one.
        worker::console_warn!("backup retention failed: {}", e.code());
    }
    Ok(manifest)
}

/// One snapshot as listed.
#[derive(Debug, Clone, Serialize)]
pub struct SnapshotInfo {
    pub id: String,
    pub kind: &'static str,
    pub object_id: String,
    pub taken_at: String,
    pub taken_at_ms: i64,
    /// False while (or if) the manifest is missing: such a snapshot is never restored.
    pub complete: bool,
}

/// Every key under the object's prefix, grouped by snapshot time stamp (oldest first): one
/// listing serves both the snapshot list and pruning.
async fn keys_by_snapshot(bucket: &Bucket, prefix: &str) -> Result<BTreeMap<String, Vec<String>>, ApiError> {
    let mut found: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut request = bucket.list().prefix(prefix.to_owned()).limit(1000);
        if let Some(c) = cursor.take() {
            request = request.cursor(c);
        }
        let page = request.execute().await.map_err(|e| unavailable("r2", e))?;
        for object in page.objects() {
            let key = object.key();
            let Some((stamp, _)) = key.strip_prefix(prefix).and_then(|r| r.split_once('/')) else { continue };
            found.entry(stamp.to_owned()).or_default().push(key.clone());
        }
        match (page.truncated(), page.cursor()) {
            (true, Some(c)) => cursor = Some(c),
            _ => break,
        }
    }
    Ok(found)
}

fn is_manifest(key: &str) -> bool {
    key.ends_with("/manifest.json")
}

/// The snapshots in a listing (`keys_by_snapshot`), oldest first.
fn snapshots(kind: ObjectKind, object_id: &str, found: &BTreeMap<String, Vec<String>>) -> Vec<SnapshotInfo> {
    found
        .iter()
        .filter_map(|(stamp, keys)| {
            let id = BackupId::parse(&format!("{}.{object_id}.{stamp}", kind.as_str()))?;
            let complete = keys.iter().any(|k| is_manifest(k));
            Some(SnapshotInfo { id: id.as_string(), kind: kind.as_str(), object_id: object_id.to_owned(), taken_at: stamp.clone(), taken_at_ms: id.taken_at_ms, complete })
        })
        .collect()
}

/// Every snapshot of the object, oldest first.
pub async fn list(env: &Env, org: &OrgId, kind: ObjectKind, object_id: &str) -> Result<Vec<SnapshotInfo>, ApiError> {
    let found = keys_by_snapshot(&bucket(env)?, &object_prefix(org, kind, object_id)).await?;
    Ok(snapshots(kind, object_id, &found))
}

async fn get_bytes(bucket: &Bucket, key: &str) -> Result<Option<Vec<u8>>, ApiError> {
    let Some(object) = bucket.get(key).execute().await.map_err(|e| unavailable("r2", e))? else { return Ok(None) };
    match object.body() {
        Some(body) => Ok(Some(body.bytes().await.map_err(|e| unavailable("r2", e))?)),
        None => Ok(None),
    }
}

fn target<'a>(org: &'a OrgId, id: &'a BackupId) -> Target<'a> {
    Target { org, kind: id.kind, object_id: &id.object_id, taken_at_ms: id.taken_at_ms }
}

/// The snapshot's manifest, checked to be this object's.
pub async fn read_manifest(env: &Env, org: &OrgId, id: &BackupId) -> Result<Manifest, ApiError> {
    let key = key_for(org, id.kind, &id.object_id, id.taken_at_ms)?;
    let bytes = get_bytes(&bucket(env)?, &key.manifest()).await?;
    r2_layout::read_manifest(bytes.as_deref(), &target(org, id)).map_err(refused)
}

/// One part's bytes, exactly as stored (the restore script checks them itself).
pub async fn read_part(env: &Env, org: &OrgId, id: &BackupId, index: u32) -> Result<Vec<u8>, ApiError> {
    let key = key_for(org, id.kind, &id.object_id, id.taken_at_ms)?;
    get_bytes(&bucket(env)?, &key.part(index)).await?.ok_or(ApiError::NotFound)
}

fn refused(r: r2_layout::Refusal) -> ApiError {
    ApiError::Unprocessable { code: r.code(), message: r.to_string() }
}

/// Verifies the whole snapshot, then hands it to the object, which replaces its data with it
/// in one transaction. Returns the manifest and the number of rows restored.
pub async fn restore(env: &Env, org: &OrgId, id: &BackupId) -> Result<(Manifest, u64), ApiError> {
    // The object must exist before anything is read (an unknown chat is a 404, not a refusal).
    let stub = object::stub(env, org, id.kind, &id.object_id)?;
    let bucket = bucket(env)?;
    let manifest = match read_manifest(env, org, id).await {
        // Nothing at all under the snapshot's prefix: not an unfinished backup, just none.
        Err(ApiError::Unprocessable { code: "backup_incomplete", .. }) if !exists(&bucket, org, id).await? => return Err(ApiError::NotFound),
        other => other?,
    };
    let mut parts = Vec::with_capacity(manifest.parts.len());
    for entry in &manifest.parts {
        parts.push(get_bytes(&bucket, &entry.key).await?);
    }
    let verified = r2_layout::verify(manifest, &parts).map_err(refused)?;
    drop(parts);
    let mut res = object::call(&stub, Method::Post, "/backup/import", Some(verified.export)).await?;
    if res.status_code() != 200 {
        return Err(object::relay_error(res).await);
    }
    #[derive(serde::Deserialize)]
    struct Restored {
        rows: u64,
    }
    let restored: Restored = res.json().await.map_err(|e| unavailable("durable object", e))?;
    Ok((verified.manifest, restored.rows))
}

/// Whether anything of the snapshot is in the bucket.
async fn exists(bucket: &Bucket, org: &OrgId, id: &BackupId) -> Result<bool, ApiError> {
    let prefix = format!("{}/", key_for(org, id.kind, &id.object_id, id.taken_at_ms)?.prefix());
    let page = bucket.list().prefix(prefix).limit(1).execute().await.map_err(|e| unavailable("r2", e))?;
    Ok(!page.objects().is_empty())
}

fn keep(env: &Env) -> usize {
    crate::config::setting(env, "BACKUP_KEEP").and_then(|v| v.parse::<usize>().ok()).filter(|n| (1..=1000).contains(n)).unwrap_or(DEFAULT_KEEP)
}

/// Deletes the object's snapshots that retention no longer keeps (see `r2_layout::prune`),
/// from one listing of the object's keys.
async fn prune_object(env: &Env, org: &OrgId, kind: ObjectKind, object_id: &str, now_ms: i64) -> Result<(), ApiError> {
    let bucket = bucket(env)?;
    let mut found = keys_by_snapshot(&bucket, &object_prefix(org, kind, object_id)).await?;
    let listing: Vec<SnapshotListing> = snapshots(kind, object_id, &found).iter().map(|s| SnapshotListing { taken_at_ms: s.taken_at_ms, complete: s.complete }).collect();
    for taken_at_ms in prune(&listing, keep(env), now_ms) {
        let Some(keys) = found.remove(&timestamp(taken_at_ms)) else { continue };
        // The manifest goes first, so a half-deleted snapshot is never mistaken for a whole one.
        let (manifests, parts): (Vec<String>, Vec<String>) = keys.into_iter().partition(|k| is_manifest(k));
        for batch in [manifests, parts] {
            // R2 deletes up to 1,000 keys in one call.
            for chunk in batch.chunks(1000).filter(|c| !c.is_empty()) {
                bucket.delete_multiple(chunk.to_vec()).await.map_err(|e| unavailable("r2", e))?;
            }
        }
    }
    Ok(())
}
