-- Least privilege for the instance directory, and API keys that can be revoked and expire.
--
-- ishchat_admin (created by the cluster's bootstrap, a member of ishchat_app) is the admin API's
-- role: it alone lists and creates instances and issues and revokes keys. The tenant role
-- (ishchat_app) keeps only what a request scoped to one instance needs: its own instance row
-- (read), its devices, sessions and messages, and the key lookup.

-- Keys: an id to name one by (revocation), an optional expiry, and when it was revoked.
ALTER TABLE chat.api_keys
    ADD COLUMN key_id     uuid        NOT NULL DEFAULT gen_random_uuid(),
    ADD COLUMN expires_at timestamptz,
    ADD COLUMN revoked_at timestamptz;
ALTER TABLE chat.api_keys ADD CONSTRAINT api_keys_key_id_unique UNIQUE (key_id);

-- The key lookup ignores revoked and expired keys, and says when a key expires so a cache never
-- keeps one past its expiry.
DROP FUNCTION chat.find_instance_by_key(bytea);
CREATE FUNCTION chat.find_instance_by_key(p_key_hash bytea)
RETURNS TABLE (instance_id uuid, instance_type text, expires_at timestamptz)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog
AS $fn$
    SELECT i.instance_id, i.instance_type, k.expires_at
      FROM chat.api_keys AS k JOIN chat.instances AS i ON i.instance_id = k.instance_id
     WHERE k.key_hash = p_key_hash
       AND k.revoked_at IS NULL
       AND (k.expires_at IS NULL OR k.expires_at > now())
$fn$;

-------------------------------------------------------------------------------
-- The tenant role loses the directory.
-------------------------------------------------------------------------------

DROP POLICY issue_key ON chat.api_keys;
REVOKE ALL ON chat.api_keys FROM ishchat_app;
REVOKE INSERT, UPDATE, DELETE ON chat.instances FROM ishchat_app;
-- Functions are created executable by PUBLIC unless the default privileges say otherwise: from now
-- on the migrator's are not (the cluster's bootstrap says so too; this covers Azure), and the
-- existing ones lose it.
ALTER DEFAULT PRIVILEGES REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA chat FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION chat.list_instances(uuid, int) FROM ishchat_app;
GRANT EXECUTE ON FUNCTION chat.find_instance_by_key(bytea) TO ishchat_app;

-------------------------------------------------------------------------------
-- The admin role gains it: every instance and every key, and nothing to delete.
-------------------------------------------------------------------------------

GRANT SELECT, INSERT ON chat.instances TO ishchat_admin;
GRANT SELECT, INSERT, UPDATE (revoked_at) ON chat.api_keys TO ishchat_admin;
GRANT EXECUTE ON FUNCTION chat.list_instances(uuid, int) TO ishchat_admin;
CREATE POLICY admin_directory ON chat.instances TO ishchat_admin USING (true) WITH CHECK (true);
CREATE POLICY admin_directory ON chat.api_keys TO ishchat_admin USING (true) WITH CHECK (true);
