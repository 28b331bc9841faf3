-- The importer role, defined once for every place that bootstraps a server: this cluster's
-- post-bootstrap.sql (\ir, as the superuser) and Azure's infra/postgres/bootstrap-roles.sql (as
-- the server administrator, a member of azure_pg_admin; container-apps.bicep inlines the file,
-- because the migration job's init container reads its SQL from a here-document).
-- The including script sets :importer_user and :importer_password. Re-running it is harmless.
--
-- Importer: the legacy import's bulk writes only (docs/security.md, "The importer role"). BYPASSRLS
-- so that binary COPY goes straight into the chat tables, which PostgreSQL refuses under row-level
-- security; member of nothing, so it holds only what the migrations grant it directly
-- (0004_importer_role.sql): INSERT on the tables an import fills, SELECT on the ids its checks read,
-- no DELETE, no DDL (no CREATE anywhere), and never through PgBouncer (not in ishchat_pooled).
-- The tool names every row's instance itself.
SELECT format('CREATE ROLE %I', :'importer_user')
 WHERE NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = :'importer_user') \gexec
ALTER ROLE :"importer_user" WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOINHERIT
  PASSWORD :'importer_password';

-- BYPASSRLS, and the setting that switches the foreign keys' per-row triggers off for the role's own
-- COPY (the import checks a chunk's parents once, in one statement: the triggers were half the
-- server's work, docs/migration.md). A superuser can always grant both. A managed server's
-- administrator may not (Azure Database for PostgreSQL lets azure_pg_admin grant BYPASSRLS from
-- PostgreSQL 16 on; SET on a superuser parameter is the provider's to give): then the role stays
-- without it, with a warning, and the import tool, which checks for both, stages its messages as
-- ishchat_admin instead. Slower, never less safe: a failed grant must not stop the deployment.
SELECT format($grant$
DO $do$
BEGIN
    ALTER ROLE %1$I BYPASSRLS;
EXCEPTION WHEN insufficient_privilege THEN
    RAISE WARNING 'could not give %1$s BYPASSRLS (%%): legacy imports will stage their messages (slower)', SQLERRM;
END
$do$;
DO $do$
BEGIN
    GRANT SET ON PARAMETER session_replication_role TO %1$I;
EXCEPTION WHEN insufficient_privilege THEN
    RAISE WARNING 'could not grant %1$s SET on session_replication_role (%%): legacy imports will stage their messages (slower)', SQLERRM;
END
$do$
$grant$, :'importer_user') \gexec
