-- Database roles of the back-office. Run by the RDS master user (ansible/db_roles.yml)
-- in the application's database; idempotent, so it runs again safely.
--
--   backoffice_migrator  owns the schema: runs migrations (and the one-off legacy import,
--                        which drops and re-adds constraints). Logs in with an IAM token
--                        that only the deploy identity may mint.
--   backoffice_app       what the web servers connect as: reads and writes rows, cannot
--                        change the schema, cannot create roles or databases. Logs in with
--                        an IAM token minted from the app servers' instance profile.
-- Neither has a password: on RDS membership of rds_iam makes PostgreSQL ask IAM instead.

DO $roles$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'backoffice_migrator') THEN
        CREATE ROLE backoffice_migrator LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE;
    END IF;
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'backoffice_app') THEN
        CREATE ROLE backoffice_app LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE;
    END IF;
    IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'rds_iam') THEN
        GRANT rds_iam TO backoffice_migrator, backoffice_app;
    END IF;
    -- The master user acts for the migrator below (ownership, default privileges).
    EXECUTE format('GRANT backoffice_migrator TO %I', current_user);
    -- Nobody else may create objects or temporary tables in this database.
    EXECUTE format('REVOKE CREATE, TEMPORARY ON DATABASE %I FROM PUBLIC', current_database());
    EXECUTE format('GRANT CONNECT ON DATABASE %I TO backoffice_migrator, backoffice_app', current_database());
    EXECUTE format('GRANT TEMPORARY ON DATABASE %I TO backoffice_migrator', current_database());
END
$roles$;

-- Extensions the migrations use (the search indexes' trigram operators). Creating one is
-- the master user's job: the migrator has no CREATE on the database, and the migrations'
-- own CREATE EXTENSION IF NOT EXISTS then finds it in place.
CREATE EXTENSION IF NOT EXISTS pg_trgm;

-- A runaway request must not hold a connection (and its locks) for ever; 20 app servers
-- share max_connections, see docs/deploy.md.
ALTER ROLE backoffice_app SET statement_timeout = '60s';
ALTER ROLE backoffice_app SET idle_in_transaction_session_timeout = '60s';
ALTER ROLE backoffice_app CONNECTION LIMIT 150;

REVOKE CREATE ON SCHEMA public FROM PUBLIC;
GRANT USAGE, CREATE ON SCHEMA public TO backoffice_migrator;
GRANT USAGE ON SCHEMA public TO backoffice_app;

-- Objects made before the migrator existed (by the master user) become the migrator's.
-- Sequences that belong to a column follow their table.
DO $owners$
DECLARE
    object record;
BEGIN
    FOR object IN
        SELECT c.oid::regclass AS name,
               CASE c.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW'
                              WHEN 'S' THEN 'SEQUENCE' WHEN 'f' THEN 'FOREIGN TABLE' ELSE 'TABLE' END AS kind
        FROM pg_class c
        JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'public'
          AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
          AND c.relowner <> 'backoffice_migrator'::regrole
          AND NOT (c.relkind = 'S' AND EXISTS (
                SELECT FROM pg_depend d
                WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype IN ('a', 'i')))
    LOOP
        EXECUTE format('ALTER %s %s OWNER TO backoffice_migrator', object.kind, object.name);
    END LOOP;
    FOR object IN
        SELECT p.oid::regprocedure AS name
        FROM pg_proc p
        JOIN pg_namespace n ON n.oid = p.pronamespace
        WHERE n.nspname = 'public' AND p.proowner <> 'backoffice_migrator'::regrole
          AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e')
    LOOP
        EXECUTE format('ALTER FUNCTION %s OWNER TO backoffice_migrator', object.name);
    END LOOP;
END
$owners$;

-- Rows, not schema: what exists now and whatever the migrator creates later.
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO backoffice_app;
GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO backoffice_app;
ALTER DEFAULT PRIVILEGES FOR ROLE backoffice_migrator IN SCHEMA public
    GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO backoffice_app;
ALTER DEFAULT PRIVILEGES FOR ROLE backoffice_migrator IN SCHEMA public
    GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO backoffice_app;
