-- IshChat database, roles and PgBouncer auth function.
--
-- Run once by ishchat-post-bootstrap (Patroni's bootstrap.post_bootstrap hook) as the
-- superuser, connected to the "postgres" database of the brand-new cluster.
-- Re-running it is harmless: objects are created only if missing and role
-- attributes and passwords are re-asserted, so a rerun converges on this state.
--
-- Names and passwords come from the environment via \getenv and are only ever
-- interpolated as :'literal' or :"identifier", never concatenated into SQL text,
-- so any password is quoted correctly.

\set ON_ERROR_STOP on

\getenv db               ISHCHAT_DATABASE
\getenv app_user         ISHCHAT_APP_USER
\getenv app_password     ISHCHAT_APP_PASSWORD
\getenv admin_user       ISHCHAT_ADMIN_USER
\getenv admin_password   ISHCHAT_ADMIN_PASSWORD
\getenv importer_user    ISHCHAT_IMPORTER_USER
\getenv importer_password ISHCHAT_IMPORTER_PASSWORD
\getenv migrator_user    ISHCHAT_MIGRATOR_USER
\getenv migrator_password ISHCHAT_MIGRATOR_PASSWORD
\getenv monitor_user     ISHCHAT_MONITOR_USER
\getenv monitor_password ISHCHAT_MONITOR_PASSWORD
\getenv bouncer_user     ISHCHAT_PGBOUNCER_AUTH_USER
\getenv bouncer_password ISHCHAT_PGBOUNCER_AUTH_PASSWORD
\getenv repl_user        PATRONI_REPLICATION_USERNAME
\getenv rewind_user      PATRONI_REWIND_USERNAME

-- Keep passwords out of the server log: neither a log_statement setting nor an
-- error report (which logs the failing statement) may echo an ALTER ROLE.
SET log_statement = 'none';
SET log_min_error_statement = 'panic';
-- pgaudit's ROLE class would log them too.
SET pgaudit.log = 'none';
-- PgBouncer's auth_query pass-through needs SCRAM secrets, never md5.
SET password_encryption = 'scram-sha-256';

-------------------------------------------------------------------------------
-- Roles: created if missing, then attributes and password (re)asserted.
-------------------------------------------------------------------------------

-- Application: plain DML through PgBouncer; never bypasses row-level security.
SELECT format('CREATE ROLE %I', :'app_user')
 WHERE NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = :'app_user') \gexec
ALTER ROLE :"app_user" WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS
  PASSWORD :'app_password';

-- Admin: the admin API and the legacy import tool. Inherits the app role (tenant data, still under
-- row-level security) and alone may list and create instances and issue and revoke keys (migrations).
SELECT format('CREATE ROLE %I', :'admin_user')
 WHERE NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = :'admin_user') \gexec
ALTER ROLE :"admin_user" WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS INHERIT
  PASSWORD :'admin_password';
GRANT :"app_user" TO :"admin_user";

-- Importer: the legacy import's bulk COPY role, defined in its own file (Azure's bootstrap uses it too).
\ir importer-role.sql

-- Migrator: owns the chat schema (via CREATE on the database, granted below).
SELECT format('CREATE ROLE %I', :'migrator_user')
 WHERE NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = :'migrator_user') \gexec
ALTER ROLE :"migrator_user" WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS
  PASSWORD :'migrator_password';

-- Monitor: read-only access to statistics views (pg_stat_*, pg_stat_statements).
SELECT format('CREATE ROLE %I', :'monitor_user')
 WHERE NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = :'monitor_user') \gexec
ALTER ROLE :"monitor_user" WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS
  PASSWORD :'monitor_password';
GRANT pg_monitor TO :"monitor_user";

-- PgBouncer auth user: may only call pgbouncer.get_auth (below), nothing else.
SELECT format('CREATE ROLE %I', :'bouncer_user')
 WHERE NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = :'bouncer_user') \gexec
ALTER ROLE :"bouncer_user" WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS
  PASSWORD :'bouncer_password';

-- The roles that may log in through PgBouncer (ClusterRoles.PooledRoles): get_auth hands out the
-- SCRAM verifier of its members only. It holds no privilege: membership is only the allowlist.
SELECT 'CREATE ROLE ishchat_pooled NOLOGIN'
 WHERE NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'ishchat_pooled') \gexec
GRANT ishchat_pooled TO :"app_user", :"admin_user", :"migrator_user", :"monitor_user";

-- Audit (pgaudit, preloaded; DDL and role changes are logged for everyone by the server settings):
-- every write by the API's roles too, with the instance in application_name (log_line_prefix %a).
ALTER ROLE :"app_user" SET pgaudit.log = 'write, ddl, role';
ALTER ROLE :"admin_user" SET pgaudit.log = 'write, ddl, role';
ALTER ROLE :"importer_user" SET pgaudit.log = 'write, ddl, role';

-------------------------------------------------------------------------------
-- PgBouncer auth_query support, in the "postgres" database (PgBouncer's auth_dbname).
-------------------------------------------------------------------------------

CREATE SCHEMA IF NOT EXISTS pgbouncer AUTHORIZATION CURRENT_USER;
REVOKE ALL ON SCHEMA pgbouncer FROM PUBLIC;
GRANT USAGE ON SCHEMA pgbouncer TO :"bouncer_user";

-- SECURITY DEFINER so the unprivileged auth user can read one SCRAM secret from
-- pg_authid (superuser-only). Only members of ishchat_pooled are handed out; superusers,
-- replication-capable roles and Patroni's replication and rewind users never are, even if
-- someone adds them to the group, so they cannot log in through PgBouncer; expired roles are
-- refused early. search_path is pinned to pg_catalog
-- so no object planted by another role can hijack the definer's privileges.
-- The two Patroni role names are baked in with format(%L) because psql does not
-- interpolate variables inside the dollar-quoted body.
SELECT format($create$
CREATE OR REPLACE FUNCTION pgbouncer.get_auth(p_usename text)
RETURNS TABLE (usename name, passwd text)
LANGUAGE sql
STABLE
SECURITY DEFINER
SET search_path = pg_catalog
AS $body$
  SELECT a.rolname, a.rolpassword
    FROM pg_catalog.pg_authid AS a
   WHERE a.rolname = p_usename
     AND a.rolcanlogin
     AND NOT a.rolsuper
     AND NOT a.rolreplication
     AND a.rolname NOT IN (%L, %L)
     AND pg_catalog.pg_has_role(a.oid, 'ishchat_pooled', 'MEMBER')
     AND (a.rolvaliduntil IS NULL OR a.rolvaliduntil > now())
$body$
$create$, :'repl_user', :'rewind_user') \gexec
ALTER FUNCTION pgbouncer.get_auth(text) OWNER TO CURRENT_USER;
REVOKE ALL ON FUNCTION pgbouncer.get_auth(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgbouncer.get_auth(text) TO :"bouncer_user";

CREATE EXTENSION IF NOT EXISTS pg_stat_statements;
-- pgaudit's event triggers name the objects a DDL statement touched.
CREATE EXTENSION IF NOT EXISTS pgaudit;

-------------------------------------------------------------------------------
-- The IshChat database.
-------------------------------------------------------------------------------

SELECT format('CREATE DATABASE %I OWNER %I', :'db', current_user)
 WHERE NOT EXISTS (SELECT FROM pg_catalog.pg_database WHERE datname = :'db') \gexec

-- Only the IshChat roles may connect (PUBLIC would otherwise get CONNECT and TEMP
-- by default, making the explicit grants meaningless).
REVOKE ALL ON DATABASE :"db" FROM PUBLIC;
GRANT CONNECT ON DATABASE :"db" TO :"app_user", :"monitor_user";
GRANT CONNECT ON DATABASE :"db" TO :"admin_user", :"importer_user";
-- CREATE lets the migrator create (and so own) the chat schema; it then grants the
-- app user USAGE and table privileges in its migrations.
GRANT CONNECT, CREATE ON DATABASE :"db" TO :"migrator_user";

-- The name is a validated plain identifier (entrypoint), so no quoting is needed here.
\connect :db
SET log_statement = 'none';
SET pgaudit.log = 'none';
CREATE EXTENSION IF NOT EXISTS pg_stat_statements;
CREATE EXTENSION IF NOT EXISTS pgaudit;

-- Functions are executable by PUBLIC unless said otherwise: new ones, whoever creates them in
-- this database (the migrator's migrations, an administrator), are not. Each grant is explicit.
ALTER DEFAULT PRIVILEGES FOR ROLE :"migrator_user" REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;
ALTER DEFAULT PRIVILEGES FOR ROLE CURRENT_USER REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;

-------------------------------------------------------------------------------
-- Scheduled maintenance (pg_cron, docs/operations.md). Jobs live in this database and run only
-- on the leader: pg_cron's launcher idles while the node is in recovery, and cron.job is
-- replicated, so after a failover the new leader runs the same jobs. Times are UTC (cron.timezone).
-- cron.schedule with a name replaces an existing job of that name, so a rerun converges.
-------------------------------------------------------------------------------

CREATE EXTENSION IF NOT EXISTS pg_cron;
-- Weekly, Sunday 03:00: reclaim dead rows and refresh the planner's statistics everywhere
-- (autovacuum does most of it; this catches what its thresholds left behind).
SELECT cron.schedule('ishchat-weekly-vacuum-analyze', '0 3 * * 0', 'VACUUM (ANALYZE)');
-- Monthly, the 1st at 03:30: rebuild the chat schema's indexes without blocking writes.
SELECT cron.schedule('ishchat-monthly-reindex', '30 3 1 * *', 'REINDEX SCHEMA CONCURRENTLY chat');
-- The monitor role reads the jobs and their runs for the "last maintenance" metrics.
-- pg_cron shows each role only its own jobs (row-level security on cron.job and its runs), so
-- the monitor reads the maintenance jobs through this function, which sees them as their owner.
CREATE OR REPLACE FUNCTION public.ishchat_maintenance_jobs()
  RETURNS TABLE (job_name text, seconds_since_success double precision, recent_failures bigint)
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
  SELECT j.jobname::text,
         EXTRACT(EPOCH FROM now() - max(d.end_time) FILTER (WHERE d.status = 'succeeded'))::double precision,
         count(d.runid) FILTER (WHERE d.status = 'failed' AND d.start_time > now() - interval '35 days')
    FROM cron.job AS j
    LEFT JOIN cron.job_run_details AS d ON d.jobid = j.jobid
   WHERE j.jobname LIKE 'ishchat-%'
   GROUP BY j.jobname
$$;
REVOKE ALL ON FUNCTION public.ishchat_maintenance_jobs() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION public.ishchat_maintenance_jobs() TO :"monitor_user";
