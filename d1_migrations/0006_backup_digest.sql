-- The content digest of each object's newest snapshot (`r2_layout::SnapshotPlan::digest`): a
-- scheduled backup whose export has the same digest writes nothing new (`last_outcome`
-- 'unchanged'), so an idle chat's retained snapshots are not seven copies of one.
ALTER TABLE backup_runs ADD COLUMN last_digest TEXT;
