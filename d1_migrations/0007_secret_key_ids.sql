-- The id of the master key that sealed each secret (`domain::master_key`, ADR 19), so a row is
-- opened with the right key during a rotation and the cron's reseal pass can find the rows still
-- under an old key. Rows written before this migration have none: they are tried with the
-- current key, then the previous one, and resealed (which records the id).
ALTER TABLE secrets ADD COLUMN key_id TEXT;
CREATE INDEX secrets_by_key ON secrets (key_id);
