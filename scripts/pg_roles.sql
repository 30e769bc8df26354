-- The two PostgreSQL roles of a deployment (README, "Row-level security and pgbouncer").
-- Run as a superuser, on the application's database, before or after `flask db upgrade`
-- (again after it if the database was migrated before the roles existed; it is idempotent):
--
--   psql -v owner=wuye_owner -v app=wuye_app -d wuye -f scripts/pg_roles.sql
--   psql -d wuye -c '\password wuye_app'      # and the owner's, unless local trust/peer auth
--
-- owner: owns the schema; migrations run as it (DATABASE_OWNER_URL). It has BYPASSRLS so that
--        migrations and operators' maintenance see every district.
-- app:   the web processes, workers, scheduler and CLI (DATABASE_URL). Owns nothing; reads and
--        writes rows only, held by the tenant_wall policies; cannot TRUNCATE, change the schema
--        or rewrite the audit trail (audit_event: SELECT and INSERT only).
\set ON_ERROR_STOP on
SELECT format('CREATE ROLE %I LOGIN BYPASSRLS', :'owner')
 WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'owner') \gexec
SELECT format('CREATE ROLE %I LOGIN NOSUPERUSER NOBYPASSRLS', :'app')
 WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'app') \gexec

SELECT format('ALTER DATABASE %I OWNER TO %I', current_database(), :'owner') \gexec
ALTER SCHEMA public OWNER TO :"owner";
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO :"app";
SELECT format('GRANT CONNECT, TEMPORARY ON DATABASE %I TO %I', current_database(), :'app') \gexec

-- Tables a previous run of the migrations left with another owner become the owner's.
SELECT format('ALTER TABLE %I OWNER TO %I', tablename, :'owner')
  FROM pg_tables WHERE schemaname = 'public' AND tableowner <> :'owner' \gexec

-- What exists now, and what later migrations (run as the owner) create.
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO :"app";
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO :"app";
ALTER DEFAULT PRIVILEGES FOR ROLE :"owner" IN SCHEMA public
  GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO :"app";
ALTER DEFAULT PRIVILEGES FOR ROLE :"owner" IN SCHEMA public
  GRANT USAGE, SELECT ON SEQUENCES TO :"app";

-- The audit trail is append-only for the application (nothing in it updates or deletes events):
-- the table and each of its partitions, which the GRANT … ON ALL TABLES above reaches by name
-- (a partition is not held by its parent's grants).
SELECT format('REVOKE UPDATE, DELETE ON %s FROM %I', relid::regclass, :'app')
  FROM pg_partition_tree(to_regclass('public.audit_event')) \gexec
