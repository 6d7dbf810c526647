-- tunelake on Snowflake: one-time account setup.
--
-- Run once, top to bottom, as a user who holds ACCOUNTADMIN (it switches to SYSADMIN and
-- SECURITYADMIN where those are enough). Every statement is idempotent (IF NOT EXISTS), so a
-- re-run after an interruption is safe. Before running, replace the ${...} placeholders (see
-- infra/README.md) and paste the three service users' public keys where it says '<paste>'.
--
-- Order of the whole setup, AWS and Snowflake together (infra/README.md has the commands):
--   1. AWS: create the IAM role for Snowflake with infra/aws/snowflake-s3-access-policy.json
--      attached and, for now, any trust policy (the real one needs values from step 3).
--   2. Snowflake: run this script. Section 6 creates the storage integration TUNELAKE_S3 for
--      that role and runs DESC INTEGRATION.
--   3. From the DESC INTEGRATION output, copy STORAGE_AWS_IAM_USER_ARN and
--      STORAGE_AWS_EXTERNAL_ID into infra/aws/snowflake-storage-integration-role.json
--      (${SnowflakeIamUserArn}, ${SnowflakeExternalId}) and set it as the role's trust policy.
--   4. Snowflake: run the check at the end of this script (section 8) again; it lists the
--      staging prefix through the integration once the trust policy is in place.
-- Never CREATE OR REPLACE the integration: a new integration gets a new external id, and the
-- trust policy of step 3 would no longer match.
--
-- What runs as whom afterwards:
--   TUNELAKE_LOADER       dlt (the warehouse pipeline): creates and merges the raw tables in
--                         SPOTIFY, its merge staging tables in SPOTIFY_STAGING, and loads them
--                         with COPY INTO from the external stage TUNELAKE_STAGE.
--   TUNELAKE_TRANSFORMER  dbt: reads SPOTIFY, builds views in STAGING and tables in MARTS
--                         (profiles.example.yml, target `snowflake`).
--   TUNELAKE_READER       BI tools: read MARTS, nothing else.


-- 1. Resource monitor ---------------------------------------------------------------------
-- Caps what TUNELAKE_WH may spend per month: notify at 80 %, suspend after running queries
-- finish at 100 %, cancel them at 110 %. Only ACCOUNTADMIN creates and assigns monitors. It
-- covers the warehouse only: serverless work (automatic clustering of the daily facts, which
-- the dbt models cluster by date) is billed outside it. Adjust CREDIT_QUOTA to your budget.
USE ROLE ACCOUNTADMIN;

CREATE RESOURCE MONITOR IF NOT EXISTS TUNELAKE_MONITOR
    WITH CREDIT_QUOTA = 20
    FREQUENCY = MONTHLY
    START_TIMESTAMP = IMMEDIATELY
    TRIGGERS
        ON 80 PERCENT DO NOTIFY
        ON 100 PERCENT DO SUSPEND
        ON 110 PERCENT DO SUSPEND_IMMEDIATE;


-- 2. Warehouse, database and schemas (owned by SYSADMIN) ----------------------------------
-- One extra-small warehouse for loading, transforming and BI alike: it starts on the first
-- query (AUTO_RESUME), stops after 60 idle seconds and costs nothing until first used.
USE ROLE SYSADMIN;

CREATE WAREHOUSE IF NOT EXISTS TUNELAKE_WH
    WITH WAREHOUSE_SIZE = 'XSMALL'
    AUTO_SUSPEND = 60
    AUTO_RESUME = TRUE
    INITIALLY_SUSPENDED = TRUE
    COMMENT = 'tunelake: dlt loads, dbt builds and BI queries';

CREATE DATABASE IF NOT EXISTS TUNELAKE
    COMMENT = 'tunelake: Spotify analytics';

-- SPOTIFY: the raw tables, as the dlt warehouse pipeline loads them from the raw zone (dataset
-- `spotify`; dlt upper-cases identifiers on Snowflake). dbt's sources read it.
CREATE SCHEMA IF NOT EXISTS TUNELAKE.SPOTIFY
    COMMENT = 'Raw Spotify tables, loaded by dlt';

-- SPOTIFY_STAGING: every raw table is loaded with write_disposition "merge", and dlt merges
-- through a staging dataset named after the dataset (`staging_dataset_name_layout`, default
-- "%s_staging"). Created here so the loader needs no CREATE SCHEMA on the database.
CREATE SCHEMA IF NOT EXISTS TUNELAKE.SPOTIFY_STAGING
    COMMENT = 'dlt merge staging tables (transient content, rewritten every load)';

-- STAGING and MARTS: the dbt layers (dbt_project.yml `+schema`; macros/generate_schema_name.sql
-- uses the names as they are, without the target schema as a prefix).
CREATE SCHEMA IF NOT EXISTS TUNELAKE.STAGING
    COMMENT = 'dbt staging views';

CREATE SCHEMA IF NOT EXISTS TUNELAKE.MARTS
    COMMENT = 'dbt marts: dimensions and daily facts for BI';


-- 3. Put the warehouse under the resource monitor (assigning one needs ACCOUNTADMIN) -------
USE ROLE ACCOUNTADMIN;

ALTER WAREHOUSE TUNELAKE_WH SET RESOURCE_MONITOR = TUNELAKE_MONITOR;


-- 4. Roles and their privileges (SECURITYADMIN: creates roles, holds MANAGE GRANTS) --------
-- The three roles are granted to SYSADMIN, so the object owner can see and manage what they
-- create (Snowflake's recommended role hierarchy).
USE ROLE SECURITYADMIN;

CREATE ROLE IF NOT EXISTS TUNELAKE_LOADER
    COMMENT = 'dlt: loads the raw tables into TUNELAKE.SPOTIFY';
CREATE ROLE IF NOT EXISTS TUNELAKE_TRANSFORMER
    COMMENT = 'dbt: reads TUNELAKE.SPOTIFY, builds TUNELAKE.STAGING and TUNELAKE.MARTS';
CREATE ROLE IF NOT EXISTS TUNELAKE_READER
    COMMENT = 'BI: reads TUNELAKE.MARTS';

GRANT ROLE TUNELAKE_LOADER TO ROLE SYSADMIN;
GRANT ROLE TUNELAKE_TRANSFORMER TO ROLE SYSADMIN;
GRANT ROLE TUNELAKE_READER TO ROLE SYSADMIN;

-- 4a. TUNELAKE_LOADER (dlt). CREATE TABLE covers dlt's tables, its ALTER TABLE ADD COLUMN and
-- TRUNCATE (it owns what it creates) and the temporary tables of its delete-insert merge. It
-- creates no stage (section 7 does) and no file format: dlt's COPY INTO carries its own
-- FILE_FORMAT = (TYPE = 'JSON' | 'PARQUET' ...) inline (dlt/destinations/impl/snowflake/utils.py,
-- gen_copy_sql), so no named file format is needed either. USAGE on the stage (section 7) is
-- all it needs to COPY from it; USAGE on the integration is only needed to create stages.
GRANT USAGE ON WAREHOUSE TUNELAKE_WH TO ROLE TUNELAKE_LOADER;
GRANT USAGE ON DATABASE TUNELAKE TO ROLE TUNELAKE_LOADER;
GRANT USAGE, CREATE TABLE ON SCHEMA TUNELAKE.SPOTIFY TO ROLE TUNELAKE_LOADER;
GRANT USAGE, CREATE TABLE ON SCHEMA TUNELAKE.SPOTIFY_STAGING TO ROLE TUNELAKE_LOADER;

-- 4b. TUNELAKE_TRANSFORMER (dbt). Reads every raw table, present and future (dlt creates new
-- ones as the schema grows). Creates views (STAGING, and the temporary views of incremental
-- runs) and tables (MARTS; dbt-snowflake creates them transient); as their owner it may
-- replace, alter (cluster by, comments from persist_docs) and drop them.
GRANT USAGE ON WAREHOUSE TUNELAKE_WH TO ROLE TUNELAKE_TRANSFORMER;
GRANT USAGE ON DATABASE TUNELAKE TO ROLE TUNELAKE_TRANSFORMER;
GRANT USAGE ON SCHEMA TUNELAKE.SPOTIFY TO ROLE TUNELAKE_TRANSFORMER;
GRANT SELECT ON ALL TABLES IN SCHEMA TUNELAKE.SPOTIFY TO ROLE TUNELAKE_TRANSFORMER;
GRANT SELECT ON FUTURE TABLES IN SCHEMA TUNELAKE.SPOTIFY TO ROLE TUNELAKE_TRANSFORMER;
GRANT USAGE, CREATE TABLE, CREATE VIEW ON SCHEMA TUNELAKE.STAGING TO ROLE TUNELAKE_TRANSFORMER;
GRANT USAGE, CREATE TABLE, CREATE VIEW ON SCHEMA TUNELAKE.MARTS TO ROLE TUNELAKE_TRANSFORMER;

-- 4c. TUNELAKE_READER (BI). SELECT on the marts as they are and as dbt recreates them: every
-- `dbt build` replaces the mart tables, and the future grants apply to each new one.
GRANT USAGE ON WAREHOUSE TUNELAKE_WH TO ROLE TUNELAKE_READER;
GRANT USAGE ON DATABASE TUNELAKE TO ROLE TUNELAKE_READER;
GRANT USAGE ON SCHEMA TUNELAKE.MARTS TO ROLE TUNELAKE_READER;
GRANT SELECT ON ALL TABLES IN SCHEMA TUNELAKE.MARTS TO ROLE TUNELAKE_READER;
GRANT SELECT ON ALL VIEWS IN SCHEMA TUNELAKE.MARTS TO ROLE TUNELAKE_READER;
GRANT SELECT ON FUTURE TABLES IN SCHEMA TUNELAKE.MARTS TO ROLE TUNELAKE_READER;
GRANT SELECT ON FUTURE VIEWS IN SCHEMA TUNELAKE.MARTS TO ROLE TUNELAKE_READER;


-- 5. Service users, key-pair authentication only ------------------------------------------
-- TYPE = SERVICE: no password, no MFA prompts, no interactive login. Generate each key pair
-- with openssl (infra/README.md) and paste the public key's base64 body, without the
-- BEGIN/END lines, in place of '<paste>'. DEFAULT_SECONDARY_ROLES = () keeps every session to
-- its one role. Rotate later with ALTER USER ... SET RSA_PUBLIC_KEY_2 = '...'.
--   dlt:  destination.snowflake.credentials.username = "TUNELAKE_LOADER_SVC",
--         role = "TUNELAKE_LOADER", warehouse = "TUNELAKE_WH", database = "TUNELAKE",
--         private_key_path = ... (DESTINATION__SNOWFLAKE__CREDENTIALS__* in the environment).
--   dbt:  SNOWFLAKE_USER=TUNELAKE_TRANSFORMER_SVC; role, warehouse and database default to
--         TUNELAKE_TRANSFORMER, TUNELAKE_WH and TUNELAKE in profiles.example.yml.
--   BI:   TUNELAKE_BI_SVC with TUNELAKE_READER.
CREATE USER IF NOT EXISTS TUNELAKE_LOADER_SVC
    TYPE = SERVICE
    RSA_PUBLIC_KEY = '<paste>'
    DEFAULT_ROLE = TUNELAKE_LOADER
    DEFAULT_SECONDARY_ROLES = ()
    DEFAULT_WAREHOUSE = TUNELAKE_WH
    DEFAULT_NAMESPACE = TUNELAKE.SPOTIFY
    COMMENT = 'tunelake dlt warehouse pipeline';

CREATE USER IF NOT EXISTS TUNELAKE_TRANSFORMER_SVC
    TYPE = SERVICE
    RSA_PUBLIC_KEY = '<paste>'
    DEFAULT_ROLE = TUNELAKE_TRANSFORMER
    DEFAULT_SECONDARY_ROLES = ()
    DEFAULT_WAREHOUSE = TUNELAKE_WH
    DEFAULT_NAMESPACE = TUNELAKE.MARTS
    COMMENT = 'tunelake dbt';

CREATE USER IF NOT EXISTS TUNELAKE_BI_SVC
    TYPE = SERVICE
    RSA_PUBLIC_KEY = '<paste>'
    DEFAULT_ROLE = TUNELAKE_READER
    DEFAULT_SECONDARY_ROLES = ()
    DEFAULT_WAREHOUSE = TUNELAKE_WH
    DEFAULT_NAMESPACE = TUNELAKE.MARTS
    COMMENT = 'tunelake BI tools (read-only)';

GRANT ROLE TUNELAKE_LOADER TO USER TUNELAKE_LOADER_SVC;
GRANT ROLE TUNELAKE_TRANSFORMER TO USER TUNELAKE_TRANSFORMER_SVC;
GRANT ROLE TUNELAKE_READER TO USER TUNELAKE_BI_SVC;

-- Every tunelake session in UTC: a second guard beside the models' own conversion to UTC
-- (dbt_project/macros/timestamps.sql). An account that sets no TIMEZONE runs sessions in
-- America/Los_Angeles, where a TIMESTAMP_LTZ of 02:00 UTC cast to a DATE is the day before.
-- ALTER, not a property of CREATE USER IF NOT EXISTS, so users made by an older script get it too.
ALTER USER TUNELAKE_LOADER_SVC SET TIMEZONE = 'UTC';
ALTER USER TUNELAKE_TRANSFORMER_SVC SET TIMEZONE = 'UTC';
ALTER USER TUNELAKE_BI_SVC SET TIMEZONE = 'UTC';


-- 6. Storage integration (ACCOUNTADMIN only) ----------------------------------------------
-- Lets Snowflake read the dlt staging prefix by assuming the IAM role of infra/aws (policy:
-- snowflake-s3-access-policy.json, read and list only: dlt clears old staging files itself,
-- with the pipeline's own AWS credentials, and issues no REMOVE against an external stage).
-- STORAGE_ALLOWED_LOCATIONS is exactly the staging prefix, `tunelake.staging_url` (the bucket_url of dlt's
-- filesystem staging destination). After this block, DESC INTEGRATION shows
-- STORAGE_AWS_IAM_USER_ARN and STORAGE_AWS_EXTERNAL_ID: put them into the role's trust policy
-- (infra/aws/snowflake-storage-integration-role.json) before anything loads.
USE ROLE ACCOUNTADMIN;

CREATE STORAGE INTEGRATION IF NOT EXISTS TUNELAKE_S3
    TYPE = EXTERNAL_STAGE
    STORAGE_PROVIDER = 'S3'
    ENABLED = TRUE
    STORAGE_AWS_ROLE_ARN = 'arn:aws:iam::${AccountId}:role/${SnowflakeRoleName}'
    STORAGE_ALLOWED_LOCATIONS = ('s3://${StagingBucket}/${StagingPrefix}/')
    COMMENT = 'tunelake: dlt staging files for COPY INTO';

DESC INTEGRATION TUNELAKE_S3;

-- SYSADMIN owns the schema the stage lives in; it needs USAGE on the integration to create it.
GRANT USAGE ON INTEGRATION TUNELAKE_S3 TO ROLE SYSADMIN;


-- 7. External stage for dlt ---------------------------------------------------------------
-- dlt loads with COPY INTO ... FROM @<stage_name> FILES = ('<path>') when the dlt config key
-- `destination.snowflake.stage_name` (DESTINATION__SNOWFLAKE__STAGE_NAME) names a stage; dlt
-- writes the name after the `@` as given, so set it fully qualified:
--     destination.snowflake.stage_name = "TUNELAKE.SPOTIFY.TUNELAKE_STAGE"
-- Without it dlt would need the S3 keys in its COPY statements (CREDENTIALS = (...)).
-- The stage URL must be the staging `bucket_url` itself: dlt strips that URL's path from each
-- file's key to make <path> relative to the stage (gen_copy_sql in
-- dlt/destinations/impl/snowflake/utils.py).
USE ROLE SYSADMIN;

CREATE STAGE IF NOT EXISTS TUNELAKE.SPOTIFY.TUNELAKE_STAGE
    URL = 's3://${StagingBucket}/${StagingPrefix}/'
    STORAGE_INTEGRATION = TUNELAKE_S3
    COMMENT = 'dlt staging files (parquet or jsonl) for COPY INTO';

USE ROLE SECURITYADMIN;

GRANT USAGE ON STAGE TUNELAKE.SPOTIFY.TUNELAKE_STAGE TO ROLE TUNELAKE_LOADER;


-- 8. Check the integration ------------------------------------------------------------------
-- Lists the staging prefix as Snowflake's IAM user. It fails until the trust policy of step 3
-- is in place; run it again afterwards.
USE ROLE ACCOUNTADMIN;

SELECT SYSTEM$VALIDATE_STORAGE_INTEGRATION(
    'TUNELAKE_S3', 's3://${StagingBucket}/${StagingPrefix}/', 'tunelake_validate.txt', 'list'
);
