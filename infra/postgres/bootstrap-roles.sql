-- The IshChat roles on Azure Database for PostgreSQL, the part of
-- containers/patroni/post-bootstrap.sql that still applies there: the service creates the
-- server, its administrator and the database; this creates the application, admin API, importer and
-- migrator roles.
-- The migration job's init container runs it as the server administrator (a member of
-- azure_pg_admin, not a superuser) before every migration; re-running it is harmless.
-- Passwords come from the environment (\getenv) as quoted literals, never from a command line.
\set ON_ERROR_STOP on
\getenv db                ISHCHAT_DATABASE
\getenv app_password      ISHCHAT_APP_PASSWORD
\getenv migrator_password ISHCHAT_MIGRATOR_PASSWORD
\getenv admin_password    ISHCHAT_ADMIN_PASSWORD
\getenv importer_password ISHCHAT_IMPORTER_PASSWORD
\set QUIET on

-- The API's role: owns nothing, cannot bypass row-level security.
SELECT 'CREATE ROLE ishchat_app'
 WHERE NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'ishchat_app') \gexec
ALTER ROLE ishchat_app WITH LOGIN NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS PASSWORD :'app_password';

-- The admin API's role: the instance directory (granted by the migrations) plus the app role's privileges.
SELECT 'CREATE ROLE ishchat_admin'
 WHERE NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'ishchat_admin') \gexec
ALTER ROLE ishchat_admin WITH LOGIN NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS INHERIT PASSWORD :'admin_password';
GRANT ishchat_app TO ishchat_admin;

-- The legacy import's bulk COPY role, the same definition as the local cluster's. Run by hand
-- (psql -f), \ir reads the file; the migration job's here-document has no file to be relative to,
-- so container-apps.bicep puts the file's text in place of this line.
\set importer_user ishchat_importer
\ir ../../containers/patroni/importer-role.sql

-- The migrator: owns the chat schema through CREATE on the database.
SELECT 'CREATE ROLE ishchat_migrator'
 WHERE NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'ishchat_migrator') \gexec
ALTER ROLE ishchat_migrator WITH LOGIN NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS PASSWORD :'migrator_password';

-- Only the IshChat roles (and the administrator) may connect to the chat database.
REVOKE ALL ON DATABASE :"db" FROM PUBLIC;
GRANT CONNECT ON DATABASE :"db" TO ishchat_app, ishchat_admin, ishchat_importer;
GRANT CONNECT, CREATE ON DATABASE :"db" TO ishchat_migrator;

-- pgaudit is preloaded and allow-listed by infra/modules/postgres.bicep; the extension makes it log.
\connect :"db"
CREATE EXTENSION IF NOT EXISTS pgaudit;
CREATE EXTENSION IF NOT EXISTS pg_stat_statements;
