//! Everything about how Parley keeps backups in R2, without touching R2: the key scheme
//! ([`SnapshotKey`]), the ids operators use ([`BackupId`]), the [`Manifest`], splitting an
//! object's export into checksummed parts ([`plan_snapshot`]), the export format and what an
//! import accepts ([`Header`], [`check_header`], [`parse_import_line`]), checking a backup before a
//! restore ([`verify`]), and which snapshots to prune ([`prune`]). See `SPEC.md` beside this
//! crate. The orchestrator's backup routes are the shell that moves these bytes.

mod backup_id;
mod export;
mod keys;
mod manifest;
mod retention;
mod schedule;
mod snapshot;
mod verify;

pub use backup_id::BackupId;
pub use export::{plan_snapshot, ExportError, PlannedPart, SnapshotPlan, MAX_PART_BYTES};
pub use snapshot::{check_header, check_identity, parse_import_line, Header, ImportLine, ImportRefusal, HEADER_LINE_PREFIX, IDENTITY_KEYS};
pub use keys::{object_prefix, timestamp, ObjectKind, SnapshotKey, READY_PROBE_KEY};
pub use manifest::{sha256, sha256_hex, Manifest, PartEntry, MANIFEST_FORMAT};
pub use retention::{prune, SnapshotListing, ABANDONED_AFTER_MS};
pub use schedule::{interval_ms, snapshot_needed, LastSnapshot, DEFAULT_INTERVAL_HOURS, REFRESH_AFTER_INTERVALS};
pub use verify::{read_manifest, verify, Refusal, Target, VerifiedSnapshot};
