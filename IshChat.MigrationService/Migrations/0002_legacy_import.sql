-- What ishchat-migrate (IshChat.Migrate, docs/migration.md) keeps while moving a legacy SQLite
-- database into an instance: its checkpoint, the legacy id → new id mapping, the rejects.
-- Same rules as 0001: instance_id leads every key, row-level security FORCEd, and the tool
-- runs as ishchat_app, scoped to the one instance it imports.

-- One row per imported instance: the resume point and the high-water marks the import took.
CREATE TABLE chat.legacy_imports (
    instance_id        uuid        PRIMARY KEY REFERENCES chat.instances ON DELETE CASCADE,
    source             text        NOT NULL,
    devices_high_water bigint      NOT NULL,
    sessions_high_water bigint     NOT NULL,
    messages_high_water bigint     NOT NULL,
    -- Phases commit with their checkpoint, so a crash or failover loses a phase or a chunk, never half of one.
    devices_done       boolean     NOT NULL DEFAULT false,
    sessions_done      boolean     NOT NULL DEFAULT false,
    -- Messages go in fixed ranges of legacy ids, (k × chunk_size, (k + 1) × chunk_size], written by
    -- several sessions at once; a resumed import keeps the first run's size, so the ranges match.
    chunk_size         bigint      NOT NULL CHECK (chunk_size > 0),
    started_at         timestamptz NOT NULL DEFAULT now(),
    finished_at        timestamptz,
    last_sync_at       timestamptz,
    frozen_at          timestamptz
);

-- The message ranges committed, each in the transaction that wrote its messages.
CREATE TABLE chat.legacy_import_chunks (
    instance_id uuid   NOT NULL REFERENCES chat.instances ON DELETE CASCADE,
    chunk       bigint NOT NULL,
    PRIMARY KEY (instance_id, chunk)
);

-- Legacy id → new id for devices and sessions; row_hash is the legacy row's fingerprint at
-- import, which is how sync finds rows edited since. Messages need no row here: a message is
-- found by (session_id, client_message_id), both a function of the legacy row (the session
-- through this map, the client id kept or derived from the legacy id), and a map row per
-- message would double what the import writes (docs/migration.md has the figures).
CREATE TABLE chat.legacy_id_map (
    instance_id  uuid   NOT NULL REFERENCES chat.instances ON DELETE CASCADE,
    legacy_table text   NOT NULL CHECK (legacy_table IN ('devices', 'sessions')),
    legacy_id    text   NOT NULL,
    legacy_rowid bigint NOT NULL,
    new_id       uuid   NOT NULL,
    row_hash     bytea  NOT NULL,
    PRIMARY KEY (instance_id, legacy_table, legacy_id)
);
-- verify and sync join chat rows back to their legacy ids through this.
CREATE UNIQUE INDEX legacy_id_map_by_new_id ON chat.legacy_id_map (instance_id, legacy_table, new_id);

-- Every legacy row not imported, with the rule it breaks: nothing is dropped without a trace.
CREATE TABLE chat.legacy_rejects (
    instance_id  uuid        NOT NULL REFERENCES chat.instances ON DELETE CASCADE,
    legacy_table text        NOT NULL,
    legacy_rowid bigint      NOT NULL,
    legacy_id    text        NOT NULL,
    reason_code  text        NOT NULL,
    reason       text        NOT NULL,
    raw_row      text        NOT NULL,
    row_hash     bytea       NOT NULL,
    rejected_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (instance_id, legacy_table, legacy_rowid)
);

ALTER TABLE chat.legacy_imports ENABLE ROW LEVEL SECURITY;
ALTER TABLE chat.legacy_imports FORCE ROW LEVEL SECURITY;
ALTER TABLE chat.legacy_import_chunks ENABLE ROW LEVEL SECURITY;
ALTER TABLE chat.legacy_import_chunks FORCE ROW LEVEL SECURITY;
ALTER TABLE chat.legacy_id_map  ENABLE ROW LEVEL SECURITY;
ALTER TABLE chat.legacy_id_map  FORCE ROW LEVEL SECURITY;
ALTER TABLE chat.legacy_rejects ENABLE ROW LEVEL SECURITY;
ALTER TABLE chat.legacy_rejects FORCE ROW LEVEL SECURITY;

CREATE POLICY instance_isolation ON chat.legacy_imports TO ishchat_app
    USING (instance_id = chat.current_instance_id()) WITH CHECK (instance_id = chat.current_instance_id());
CREATE POLICY instance_isolation ON chat.legacy_import_chunks TO ishchat_app
    USING (instance_id = chat.current_instance_id()) WITH CHECK (instance_id = chat.current_instance_id());
CREATE POLICY instance_isolation ON chat.legacy_id_map TO ishchat_app
    USING (instance_id = chat.current_instance_id()) WITH CHECK (instance_id = chat.current_instance_id());
CREATE POLICY instance_isolation ON chat.legacy_rejects TO ishchat_app
    USING (instance_id = chat.current_instance_id()) WITH CHECK (instance_id = chat.current_instance_id());

-------------------------------------------------------------------------------
-- Staging for binary COPY. PostgreSQL refuses COPY FROM into a table under row-level security
-- ("COPY FROM not supported with row-level security"), and the app role may not create temporary
-- tables (post-bootstrap revokes TEMP). So the import COPYs into these UNLOGGED tables and moves
-- the rows into the chat tables with one INSERT … SELECT, where the policies' WITH CHECK applies,
-- in the same transaction: the move deletes them, so no staged row is ever committed and no other
-- session ever sees one. The CHECK keeps even an uncommitted row inside the importer's instance.
-- Messages have one table per concurrent writer (slot 0-3), each locked by its chunk's
-- transaction and emptied with TRUNCATE: a DELETE would leave a million dead rows that every
-- later chunk's scan would walk until autovacuum came by.
-------------------------------------------------------------------------------

-- In a schema of their own: every table of the chat schema forces row-level security (a test
-- asserts it), and these can't.
CREATE SCHEMA chat_staging AUTHORIZATION CURRENT_USER;
REVOKE ALL ON SCHEMA chat_staging FROM PUBLIC;
GRANT USAGE ON SCHEMA chat_staging TO ishchat_app;

CREATE UNLOGGED TABLE chat_staging.legacy_stage_messages_0 (
    instance_id       uuid   NOT NULL CHECK (instance_id = chat.current_instance_id()),
    session_id        uuid   NOT NULL,
    seq               bigint NOT NULL,
    client_message_id uuid   NOT NULL,
    sender_device_id  uuid   NOT NULL,
    body              text   NOT NULL,
    created_at        timestamptz NOT NULL
);
CREATE UNLOGGED TABLE chat_staging.legacy_stage_messages_1 (LIKE chat_staging.legacy_stage_messages_0 INCLUDING ALL);
CREATE UNLOGGED TABLE chat_staging.legacy_stage_messages_2 (LIKE chat_staging.legacy_stage_messages_0 INCLUDING ALL);
CREATE UNLOGGED TABLE chat_staging.legacy_stage_messages_3 (LIKE chat_staging.legacy_stage_messages_0 INCLUDING ALL);

CREATE UNLOGGED TABLE chat_staging.legacy_stage_rows (
    instance_id  uuid   NOT NULL CHECK (instance_id = chat.current_instance_id()),
    legacy_table text   NOT NULL,
    legacy_id    text   NOT NULL,
    legacy_rowid bigint NOT NULL,
    new_id       uuid   NOT NULL,
    parent_id    uuid,
    name         text,
    started_at   timestamptz,
    ended_at     timestamptz,
    message_count bigint,
    last_message_at timestamptz,
    row_hash     bytea  NOT NULL
);

REVOKE ALL ON chat.legacy_imports, chat.legacy_import_chunks, chat.legacy_id_map, chat.legacy_rejects, chat_staging.legacy_stage_rows,
    chat_staging.legacy_stage_messages_0, chat_staging.legacy_stage_messages_1, chat_staging.legacy_stage_messages_2, chat_staging.legacy_stage_messages_3 FROM PUBLIC;
GRANT SELECT, INSERT, UPDATE ON chat.legacy_imports TO ishchat_app;
GRANT SELECT, INSERT ON chat.legacy_import_chunks TO ishchat_app;
GRANT SELECT, INSERT, UPDATE ON chat.legacy_id_map TO ishchat_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON chat.legacy_rejects TO ishchat_app;
-- COPY needs INSERT; the move needs SELECT and DELETE (TRUNCATE, which also allows the LOCK). No UPDATE.
GRANT SELECT, INSERT, DELETE ON chat_staging.legacy_stage_rows TO ishchat_app;
GRANT SELECT, INSERT, TRUNCATE ON chat_staging.legacy_stage_messages_0, chat_staging.legacy_stage_messages_1, chat_staging.legacy_stage_messages_2, chat_staging.legacy_stage_messages_3 TO ishchat_app;
