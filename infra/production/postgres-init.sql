-- monitorlink's production PostgreSQL: one database and one login role per use, nothing shared.
--
--   database              owner (login role)       used by
--   airflow               airflow                  Airflow's metadata (AIRFLOW__DATABASE__SQL_ALCHEMY_CONN)
--   superset              superset                 Superset's metadata (MONITORLINK_SUPERSET_METADATA_URI)
--   ducklake_published    ducklake_published       the published tier's DuckLake catalog (writer: the build)
--   ducklake_analysts     ducklake_analysts        the analysts tier's DuckLake catalog
--   ducklake_restricted   ducklake_restricted      the restricted tier's DuckLake catalog
--   monitorlink_locks     monitorlink_locks        advisory locks of the landers (MONITORLINK_LOCK_DSN)
--
-- plus `ducklake_published_reader`: may connect to ducklake_published and SELECT its tables (today's and
-- those the catalog creates later), nothing else: the login the dashboards read the published tier with.
--
-- Every database is private: CONNECT is revoked from PUBLIC, so one tier's credentials never open
-- another tier's catalog. Passwords are never in this file: psql reads them from the environment
-- (POSTGRES_INIT_*_PASSWORD, see production.env.example) and the script stops if one is missing.
--
-- Run by the postgres image on its first start (/docker-entrypoint-initdb.d/), or by hand against any
-- PostgreSQL 15+ as a superuser; it can be run again (creates what is missing, resets the passwords):
--   set -a; . infra/production/production.env; set +a
--   psql -v ON_ERROR_STOP=1 -h HOST -U postgres -d postgres -f infra/production/postgres-init.sql
-- psql 15 or newer is needed for \getenv.

\set ON_ERROR_STOP on

\getenv pw_airflow POSTGRES_INIT_AIRFLOW_PASSWORD
\getenv pw_superset POSTGRES_INIT_SUPERSET_PASSWORD
\getenv pw_published POSTGRES_INIT_DUCKLAKE_PUBLISHED_PASSWORD
\getenv pw_analysts POSTGRES_INIT_DUCKLAKE_ANALYSTS_PASSWORD
\getenv pw_restricted POSTGRES_INIT_DUCKLAKE_RESTRICTED_PASSWORD
\getenv pw_reader POSTGRES_INIT_DUCKLAKE_READER_PASSWORD
\getenv pw_locks POSTGRES_INIT_LOCKS_PASSWORD

-- A missing or empty password stops the script before anything is created.
SELECT :{?pw_airflow} AND :{?pw_superset} AND :{?pw_published} AND :{?pw_analysts}
   AND :{?pw_restricted} AND :{?pw_reader} AND :{?pw_locks} AS passwords_defined \gset
\if :passwords_defined
SELECT least(length(:'pw_airflow'), length(:'pw_superset'), length(:'pw_published'),
             length(:'pw_analysts'), length(:'pw_restricted'), length(:'pw_reader'),
             length(:'pw_locks')) > 0 AS passwords_set \gset
\else
\set passwords_set false
\endif
\if :passwords_set
\else
DO $$ BEGIN
  RAISE EXCEPTION 'every POSTGRES_INIT_*_PASSWORD must be set and non-empty (infra/production/production.env.example)';
END $$;
\endif

-- Login roles: created when missing, password (re)set from the environment every run.
SELECT format('CREATE ROLE %I LOGIN', name) FROM (VALUES ('airflow'), ('superset'), ('ducklake_published'),
    ('ducklake_analysts'), ('ducklake_restricted'), ('ducklake_published_reader'), ('monitorlink_locks'))
    AS wanted(name)
 WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = wanted.name) \gexec
ALTER ROLE airflow LOGIN PASSWORD :'pw_airflow';
ALTER ROLE superset LOGIN PASSWORD :'pw_superset';
ALTER ROLE ducklake_published LOGIN PASSWORD :'pw_published';
ALTER ROLE ducklake_analysts LOGIN PASSWORD :'pw_analysts';
ALTER ROLE ducklake_restricted LOGIN PASSWORD :'pw_restricted';
ALTER ROLE ducklake_published_reader LOGIN PASSWORD :'pw_reader';
ALTER ROLE monitorlink_locks LOGIN PASSWORD :'pw_locks';

-- Databases, each owned by its role (the owner may create its tables in schema public).
SELECT format('CREATE DATABASE %I OWNER %I ENCODING %L', name, name, 'UTF8')
  FROM (VALUES ('airflow'), ('superset'), ('ducklake_published'), ('ducklake_analysts'),
               ('ducklake_restricted'), ('monitorlink_locks')) AS wanted(name)
 WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = wanted.name) \gexec

-- Private databases: only the owner (and roles granted CONNECT below) may connect.
REVOKE CONNECT, TEMPORARY ON DATABASE airflow, superset, ducklake_published, ducklake_analysts,
    ducklake_restricted, monitorlink_locks FROM PUBLIC;

-- The published catalog's reader: connect and read, never write (the catalog's tables appear when the
-- build first attaches the DuckLake, after this script: hence the default privileges).
GRANT CONNECT ON DATABASE ducklake_published TO ducklake_published_reader;
\connect ducklake_published
ALTER SCHEMA public OWNER TO ducklake_published;
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO ducklake_published_reader;
GRANT SELECT ON ALL TABLES IN SCHEMA public TO ducklake_published_reader;
ALTER DEFAULT PRIVILEGES FOR ROLE ducklake_published IN SCHEMA public
    GRANT SELECT ON TABLES TO ducklake_published_reader;

-- Each database's schema public belongs to the database's role (PostgreSQL 15+ gives it to the database
-- owner already; before 15 it belonged to postgres and every role could create in it).
\connect ducklake_analysts
ALTER SCHEMA public OWNER TO ducklake_analysts;
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
\connect ducklake_restricted
ALTER SCHEMA public OWNER TO ducklake_restricted;
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
\connect monitorlink_locks
ALTER SCHEMA public OWNER TO monitorlink_locks;
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
\connect airflow
ALTER SCHEMA public OWNER TO airflow;
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
\connect superset
ALTER SCHEMA public OWNER TO superset;
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
