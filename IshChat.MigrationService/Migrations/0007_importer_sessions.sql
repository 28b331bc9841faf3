-- The importer role writes a legacy import's sessions too (docs/security.md, "The importer role"): binary COPY
-- straight into chat.sessions and their rows of chat.legacy_id_map, in one transaction with their rejects and
-- a record in chat.legacy_import_chunks (chunk -1), like a chunk of messages. Staged as ishchat_admin, the
-- sessions went through the stage, the policy's WITH CHECK and the device foreign key row by row (1.5 s of a
-- 1 M import, 17 s at 10 M). The tool checks the sessions' devices once for the whole phase instead.
-- INSERT only: the role still reads no session but its id, and changes or removes nothing.
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'ishchat_importer') THEN
        RAISE WARNING 'role ishchat_importer does not exist (cluster bootstrapped before it): import will stage its sessions as ishchat_admin';
        RETURN;
    END IF;

    GRANT INSERT ON chat.sessions TO ishchat_importer;
    GRANT INSERT ON chat.legacy_id_map TO ishchat_importer;
END
$$;
