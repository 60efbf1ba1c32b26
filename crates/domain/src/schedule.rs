//! The schedule behind a Durable Object's single alarm.
//!
//! An object has one alarm, so every kind of deferred work (running queued turns now; later
//! summaries, follow-ups, backups) is a row in a schedule table, and the alarm is set to the
//! earliest due row.

/// A row of the schedule table: a kind of work and when it is due (ms since the epoch).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduleEntry {
    pub kind: String,
    pub due_at: i64,
}

/// Kind of the schedule entry that drains the chat's turn queue.
pub const RUN_TURNS: &str = "run_turns";

/// When the alarm should fire next, if at all.
pub fn next_alarm(entries: &[ScheduleEntry]) -> Option<i64> {
    entries.iter().map(|e| e.due_at).min()
}

/// The entries an alarm firing at `now` should run, oldest first.
pub fn due(entries: &[ScheduleEntry], now: i64) -> Vec<&ScheduleEntry> {
    let mut due: Vec<_> = entries.iter().filter(|e| e.due_at <= now).collect();
    due.sort_by_key(|e| e.due_at);
    due
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(kind: &str, due_at: i64) -> ScheduleEntry {
        ScheduleEntry { kind: kind.into(), due_at }
    }

    #[test]
    fn alarm_is_the_earliest_entry_and_only_due_work_runs() {
        let entries = [e("b", 30), e("a", 10), e("c", 20)];
        assert_eq!(next_alarm(&entries), Some(10));
        assert_eq!(next_alarm(&[]), None);
        let kinds: Vec<_> = due(&entries, 20).iter().map(|e| e.kind.as_str()).collect();
        assert_eq!(kinds, ["a", "c"]);
    }
}
