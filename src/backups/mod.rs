//! Backups of Durable Objects to R2: taking a snapshot, listing them, reading one back,
//! restoring one, and pruning old ones. The decisions (parts, checksums, verification,
//! retention) are `r2_layout`'s; this module moves the bytes between the object and the bucket.
//!
//! A snapshot is written parts first, each uploaded with its SHA-256 so R2 itself refuses a
//! corrupted upload, and the manifest last: a snapshot without a manifest is incomplete and is
//! never restored. A restore reads and verifies every part before the object is touched.

mod object;
mod scheduled;
mod store;

pub use scheduled::{record, run_scheduled, Attempt};
pub use store::{list, read_manifest, read_part, restore, take};
