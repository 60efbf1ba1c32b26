//! [`ZoneRules`] backed by the compiled-in IANA database of `chrono-tz`, for tests and native
//! tools. Workers do not reference it (they ask the runtime's `Intl`), so it adds nothing to
//! their wasm.

use crate::local_time::ZoneRules;
use crate::Millis;
use chrono::{DateTime, Offset, TimeZone};

/// The `chrono-tz` database.
#[derive(Debug, Clone, Copy, Default)]
pub struct ChronoTz;

impl ZoneRules for ChronoTz {
    fn offset_seconds(&self, zone: &str, utc_ms: Millis) -> Option<i32> {
        let tz: chrono_tz::Tz = zone.parse().ok()?;
        let utc = DateTime::from_timestamp_millis(utc_ms)?;
        Some(tz.offset_from_utc_datetime(&utc.naive_utc()).fix().local_minus_utc())
    }
}
