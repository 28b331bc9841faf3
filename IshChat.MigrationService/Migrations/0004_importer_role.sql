-- What the legacy import's bulk role may do (docs/security.md, "The importer role").
--
-- ishchat_importer (created by the cluster's bootstrap: LOGIN, BYPASSRLS, member of nothing, may set
-- session_replication_role) writes the messages of a legacy import with binary COPY straight into
-- chat.messages: PostgreSQL refuses COPY FROM into a table under row-level security, which is why the
-- admin role's path stages every row first. The tool puts the instance id into every row itself and
-- checks each chunk's sessions and senders in one statement, so the per-row policy and foreign-key
-- triggers have nothing left to check. Everything else an import does (the instance directory, the
-- checkpoint, devices, sessions, verify, sync) stays with ishchat_admin under row-level security.
--
-- Because it bypasses row-level security, what it is granted it holds for every instance: so it gets
-- INSERT only where an import writes, SELECT only on ids (never a name, a body or a reject's raw row),
-- and no UPDATE, DELETE, TRUNCATE or schema privilege at all.

-- A cluster bootstrapped before the role existed has none: its grants are skipped, with a warning, and the
-- import tool stages as before (docs/migration.md says how to add the role there).
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'ishchat_importer') THEN
        RAISE WARNING 'role ishchat_importer does not exist (cluster bootstrapped before it): import will stage its messages as ishchat_admin';
        RETURN;
    END IF;

    GRANT USAGE ON SCHEMA chat TO ishchat_importer;
    -- The messages of a chunk (COPY).
    GRANT INSERT ON chat.messages TO ishchat_importer;
    -- The chunk's foreign keys, checked once per parent: ids only.
    GRANT SELECT (instance_id, session_id) ON chat.sessions TO ishchat_importer;
    GRANT SELECT (instance_id, device_id) ON chat.devices TO ishchat_importer;
    -- The chunk's rejects and its record, in the chunk's own transaction (resuming depends on it).
    GRANT SELECT, INSERT ON chat.legacy_import_chunks TO ishchat_importer;
    GRANT INSERT ON chat.legacy_rejects TO ishchat_importer;
END
$$;
