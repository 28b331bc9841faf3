-- Autovacuum for chat.messages, which only grows: rows are inserted, rarely updated, deleted only
-- with their session. PostgreSQL's defaults wait for 20 % new rows before an insert-driven vacuum
-- and 10 % before an analyze; on a table of 50 million messages that is 10 million rows in one go,
-- with the visibility map (index-only scans) and the statistics of the newest rows stale until then.
-- Small, frequent passes instead: every 1 % (at least 10 000 rows) of inserts, a vacuum that
-- marks pages all-visible and freezes them early (so no anti-wraparound scan of the whole table
-- ever comes due at once), and an analyze every 1 % so plans see the newest sessions' rows.
-- Other tables are small and keep the defaults; the weekly VACUUM (ANALYZE) (pg_cron, see
-- docs/operations.md) catches whatever the thresholds leave behind.
ALTER TABLE chat.messages SET (
    autovacuum_vacuum_insert_scale_factor = 0.01,
    autovacuum_vacuum_insert_threshold = 10000,
    autovacuum_vacuum_scale_factor = 0.05,
    autovacuum_analyze_scale_factor = 0.01,
    autovacuum_freeze_min_age = 0
);
