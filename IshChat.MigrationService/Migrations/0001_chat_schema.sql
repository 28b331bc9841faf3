-- The chat schema (seed "Option 1: shared database with instance separation").
--
-- Every table carries instance_id and every key starts with it, so a table could later be
-- sharded by instance_id without changing a key. Row-level security is FORCEd and the
-- application role (ishchat_app) owns nothing, so it sees only the instance its transaction
-- names with set_config('ishchat.instance_id', ..., true).

-- The instance a transaction is scoped to; NULL (no rows at all) when none is set.
-- STABLE and SQL, so the planner inlines it and can use it as an index condition.
CREATE FUNCTION chat.current_instance_id() RETURNS uuid
LANGUAGE sql STABLE PARALLEL SAFE
AS $fn$ SELECT nullif(current_setting('ishchat.instance_id', true), '')::uuid $fn$;

CREATE TABLE chat.instances (
    instance_id   uuid        PRIMARY KEY,
    name          text        NOT NULL CHECK (char_length(name) BETWEEN 1 AND 100),
    instance_type text        NOT NULL CHECK (instance_type IN ('trial', 'standard', 'enterprise')),
    created_at    timestamptz NOT NULL DEFAULT now()
);

-- Only SHA-256 hashes of API keys; the key itself is shown once, when issued.
-- The one table read before an instance is known: it is the routing directory and stays global.
CREATE TABLE chat.api_keys (
    key_hash    bytea       PRIMARY KEY CHECK (octet_length(key_hash) = 32),
    instance_id uuid        NOT NULL REFERENCES chat.instances ON DELETE CASCADE,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX api_keys_by_instance ON chat.api_keys (instance_id);

CREATE TABLE chat.devices (
    instance_id uuid        NOT NULL REFERENCES chat.instances ON DELETE CASCADE,
    device_id   uuid        NOT NULL,
    name        text        NOT NULL CHECK (char_length(name) BETWEEN 1 AND 100),
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (instance_id, device_id)
);

CREATE TABLE chat.sessions (
    instance_id      uuid        NOT NULL,
    session_id       uuid        NOT NULL,
    device_id        uuid        NOT NULL,
    state            text        NOT NULL DEFAULT 'active' CHECK (state IN ('active', 'ended')),
    started_at       timestamptz NOT NULL DEFAULT now(),
    ended_at         timestamptz,
    -- The last message's sequence number: messages are numbered under this row's lock,
    -- so the count is exact and ordering has no gaps.
    message_count    bigint      NOT NULL DEFAULT 0,
    last_message_at  timestamptz,
    -- Written off the request path, in batches (not indexed, so the updates stay HOT).
    last_activity_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (instance_id, session_id),
    FOREIGN KEY (instance_id, device_id) REFERENCES chat.devices ON DELETE CASCADE,
    CHECK ((state = 'ended') = (ended_at IS NOT NULL))
);
-- Sessions of a device, and the foreign key's lookups when a device goes.
CREATE INDEX sessions_by_device ON chat.sessions (instance_id, device_id);
-- "List active sessions": only the live rows, newest first (session ids are UUIDv7, time-ordered).
CREATE INDEX sessions_active ON chat.sessions (instance_id, session_id DESC) WHERE state = 'active';

CREATE TABLE chat.messages (
    instance_id       uuid        NOT NULL,
    session_id        uuid        NOT NULL,
    seq               bigint      NOT NULL CHECK (seq > 0),
    client_message_id uuid        NOT NULL,
    sender_device_id  uuid        NOT NULL,
    body              text        NOT NULL CHECK (char_length(body) BETWEEN 1 AND 4000),
    created_at        timestamptz NOT NULL DEFAULT now(),
    -- Keyset pagination (newest first, or since a cursor) walks this key in either direction.
    PRIMARY KEY (instance_id, session_id, seq),
    -- Posting is idempotent: a retried post finds its message here instead of adding another.
    UNIQUE (instance_id, session_id, client_message_id),
    FOREIGN KEY (instance_id, session_id) REFERENCES chat.sessions ON DELETE CASCADE,
    FOREIGN KEY (instance_id, sender_device_id) REFERENCES chat.devices ON DELETE CASCADE
);
-- Messages by sender, and the foreign key's lookups when a device goes.
CREATE INDEX messages_by_sender ON chat.messages (instance_id, sender_device_id);

-------------------------------------------------------------------------------
-- Row-level security. FORCE: the owner is subject to it too; its only policies serve the two
-- SECURITY DEFINER functions below, which need to look across instances.
-------------------------------------------------------------------------------

ALTER TABLE chat.instances ENABLE ROW LEVEL SECURITY;
ALTER TABLE chat.instances FORCE ROW LEVEL SECURITY;
ALTER TABLE chat.api_keys  ENABLE ROW LEVEL SECURITY;
ALTER TABLE chat.api_keys  FORCE ROW LEVEL SECURITY;
ALTER TABLE chat.devices   ENABLE ROW LEVEL SECURITY;
ALTER TABLE chat.devices   FORCE ROW LEVEL SECURITY;
ALTER TABLE chat.sessions  ENABLE ROW LEVEL SECURITY;
ALTER TABLE chat.sessions  FORCE ROW LEVEL SECURITY;
ALTER TABLE chat.messages  ENABLE ROW LEVEL SECURITY;
ALTER TABLE chat.messages  FORCE ROW LEVEL SECURITY;

CREATE POLICY instance_isolation ON chat.instances TO ishchat_app
    USING (instance_id = chat.current_instance_id()) WITH CHECK (instance_id = chat.current_instance_id());
CREATE POLICY instance_isolation ON chat.devices TO ishchat_app
    USING (instance_id = chat.current_instance_id()) WITH CHECK (instance_id = chat.current_instance_id());
CREATE POLICY instance_isolation ON chat.sessions TO ishchat_app
    USING (instance_id = chat.current_instance_id()) WITH CHECK (instance_id = chat.current_instance_id());
CREATE POLICY instance_isolation ON chat.messages TO ishchat_app
    USING (instance_id = chat.current_instance_id()) WITH CHECK (instance_id = chat.current_instance_id());
-- The app may add a key to its scoped instance but never read keys back.
CREATE POLICY issue_key ON chat.api_keys FOR INSERT TO ishchat_app
    WITH CHECK (instance_id = chat.current_instance_id());

CREATE POLICY owner_directory ON chat.instances FOR SELECT TO ishchat_migrator USING (true);
CREATE POLICY owner_directory ON chat.api_keys  FOR SELECT TO ishchat_migrator USING (true);

-- Which instance an API key belongs to: the one question asked before any scope exists.
CREATE FUNCTION chat.find_instance_by_key(p_key_hash bytea)
RETURNS TABLE (instance_id uuid, instance_type text)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog
AS $fn$
    SELECT i.instance_id, i.instance_type
      FROM chat.api_keys AS k JOIN chat.instances AS i ON i.instance_id = k.instance_id
     WHERE k.key_hash = p_key_hash
$fn$;

-- Every instance, for the admin API (the admin key is checked by the application).
CREATE FUNCTION chat.list_instances(p_after uuid, p_limit int)
RETURNS TABLE (instance_id uuid, name text, instance_type text, created_at timestamptz)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog
AS $fn$
    SELECT i.instance_id, i.name, i.instance_type, i.created_at
      FROM chat.instances AS i
     WHERE p_after IS NULL OR i.instance_id > p_after
     ORDER BY i.instance_id
     LIMIT least(greatest(p_limit, 1), 1000)
$fn$;

-------------------------------------------------------------------------------
-- Privileges: the app gets DML on the scoped tables, INSERT only on keys, the two functions.
-------------------------------------------------------------------------------

REVOKE ALL ON ALL TABLES IN SCHEMA chat FROM PUBLIC;
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA chat FROM PUBLIC;
GRANT USAGE ON SCHEMA chat TO ishchat_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON chat.instances, chat.devices, chat.sessions, chat.messages TO ishchat_app;
GRANT INSERT ON chat.api_keys TO ishchat_app;
GRANT EXECUTE ON FUNCTION chat.current_instance_id(), chat.find_instance_by_key(bytea), chat.list_instances(uuid, int) TO ishchat_app;
