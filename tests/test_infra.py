"""Offline checks of infra/: the IAM policies, the Snowflake setup script and how they fit the code.

Nothing here calls AWS or Snowflake. What these tests cannot prove (that AWS accepts a policy,
that Athena asks Glue for exactly these actions, that Snowflake runs every statement) is said
in infra/README.md and in the reasons below.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import botocore.session
import pytest
import sqlglot
import yaml
from dlt.common.destination.client import DestinationClientDwhWithStagingConfiguration
from sqlglot import exp
from sqlglot.tokens import Token, TokenType

from ingestion.pipeline import DATASET

ROOT = Path(__file__).resolve().parents[1]
INFRA = ROOT / "infra"
AWS_DIR = INFRA / "aws"
SETUP_SQL = INFRA / "snowflake" / "setup.sql"
README = INFRA / "README.md"

IDENTITY_POLICIES = ("athena-iam-policy.json", "snowflake-s3-access-policy.json")
TRUST_POLICIES = ("snowflake-storage-integration-role.json",)
ATHENA_POLICY = "athena-iam-policy.json"
SNOWFLAKE_S3_POLICY = "snowflake-s3-access-policy.json"

PLACEHOLDER = re.compile(r"\$\{([A-Za-z][A-Za-z0-9]*)\}")

# Actions that AWS only authorizes on `"Resource": "*"`. None: every action in these policies
# supports resource-level permissions. The one call the tools make that has no resource,
# sts:GetCallerIdentity (dbt-athena's _get_aws_account_id), needs no permission at all.
ACTIONS_REQUIRING_RESOURCE_STAR: dict[str, str] = {}

# IAM actions whose name is not an API operation name, and the operation each authorizes
# (Service Authorization Reference for Amazon S3). All other actions are checked by name.
IAM_ACTION_TO_OPERATION = {
    "s3:ListBucket": "ListObjectsV2",  # also ListObjects and HeadBucket
    "s3:ListBucketMultipartUploads": "ListMultipartUploads",
    "s3:ListMultipartUploadParts": "ListParts",
    "s3:GetObjectVersion": "GetObject",  # GetObject with a VersionId
}

# What Snowflake's storage integration may do with the staging prefix: read and list. dlt
# sends no REMOVE for files on an external stage (only for files it PUT to a table stage,
# dlt/destinations/impl/snowflake/snowflake.py), and it clears old staging files itself with
# the pipeline's AWS credentials, so the integration needs no delete.
SNOWFLAKE_READ_ACTIONS = {"s3:GetObject", "s3:GetObjectVersion", "s3:ListBucket", "s3:GetBucketLocation"}

# Managed-policy and role-trust-policy size quotas (characters, whitespace not counted).
MANAGED_POLICY_MAX_CHARS = 6144
TRUST_POLICY_MAX_CHARS = 2048

# Values of realistic length, to check the policies once the placeholders are filled in.
EXAMPLE_VALUES = {
    "AccountId": "123456789012",
    "Region": "eu-west-1",
    "WorkGroup": "tunelake-production",
    "RawZoneBucket": "acme-tunelake-raw-zone-eu-west-1",
    "RawZonePrefix": "raw",
    "StagingBucket": "acme-tunelake-warehouse-eu-west-1",
    "StagingPrefix": "raw/_warehouse",
    "AthenaResultsBucket": "acme-tunelake-athena-results-eu-west-1",
    "AthenaResultsPrefix": "athena-results",
    "DbtDataBucket": "acme-tunelake-warehouse-eu-west-1",
    "DbtDataPrefix": "dbt-data",
    "SnowflakeRoleName": "tunelake-snowflake-s3",
    "SnowflakeIamUserArn": "arn:aws:iam::210987654321:user/abc1-b-self1234",
    "SnowflakeExternalId": "AB12345_SFCRole=2_abcdefghijklmnopqrstuvwxyz0=",
}


# --- IAM policies -----------------------------------------------------------------------------


@cache
def policy(name: str) -> dict[str, Any]:
    return json.loads((AWS_DIR / name).read_text())


def statements(name: str) -> list[dict[str, Any]]:
    return policy(name)["Statement"]


def as_list(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else value


def test_every_policy_file_is_checked() -> None:
    assert sorted(p.name for p in AWS_DIR.glob("*.json")) == sorted((*IDENTITY_POLICIES, *TRUST_POLICIES))


@pytest.mark.parametrize("name", [*IDENTITY_POLICIES, *TRUST_POLICIES])
def test_policy_is_json_with_the_current_language_version(name: str) -> None:
    document = policy(name)
    assert document["Version"] == "2012-10-17"
    assert document["Statement"], "a policy without statements"
    sids = [s.get("Sid") for s in document["Statement"]]
    assert all(sids), "every statement has a Sid, so a denied call can be traced to it"
    assert len(sids) == len(set(sids)), f"duplicate Sid in {sids}"
    for statement in document["Statement"]:
        assert statement["Effect"] == "Allow"
        # Negated elements grant everything they do not name.
        assert not {"NotAction", "NotResource", "NotPrincipal"} & statement.keys(), statement["Sid"]


@pytest.mark.parametrize("name", [*IDENTITY_POLICIES, *TRUST_POLICIES])
def test_no_action_has_a_wildcard(name: str) -> None:
    wild = [a for s in statements(name) for a in as_list(s["Action"]) if "*" in a or "?" in a]
    assert not wild


@pytest.mark.parametrize("name", IDENTITY_POLICIES)
def test_no_resource_star_and_every_resource_is_scoped(name: str) -> None:
    for statement in statements(name):
        resources = as_list(statement["Resource"])
        if "*" in resources:
            unjustified = set(as_list(statement["Action"])) - ACTIONS_REQUIRING_RESOURCE_STAR.keys()
            assert not unjustified, f"{statement['Sid']}: Resource '*' for {sorted(unjustified)}"
            continue
        for arn in resources:
            assert arn.startswith("arn:aws:"), arn
            assert PLACEHOLDER.search(arn), f"{arn}: not scoped to the account's resources"
            # A wildcard only as the last path segment: objects under a prefix, tables in a database.
            assert "*" not in arn or (arn.endswith("/*") and arn.count("*") == 1), arn


@pytest.mark.parametrize("name", IDENTITY_POLICIES)
def test_resources_belong_to_the_service_of_the_actions(name: str) -> None:
    for statement in statements(name):
        services = {a.split(":", 1)[0] for a in as_list(statement["Action"])}
        assert len(services) == 1, f"{statement['Sid']}: one service per statement"
        service = services.pop()
        for arn in as_list(statement["Resource"]):
            assert arn.split(":")[2] == service, f"{statement['Sid']}: {arn} is not a {service} resource"


@pytest.mark.parametrize("name", IDENTITY_POLICIES)
def test_bucket_listing_is_limited_to_a_prefix(name: str) -> None:
    for statement in statements(name):
        if "s3:ListBucket" in as_list(statement["Action"]):
            prefixes = statement["Condition"]["StringLike"]["s3:prefix"]
            assert prefixes, statement["Sid"]
            assert all(PLACEHOLDER.match(p) for p in prefixes), f"{statement['Sid']}: {prefixes}"


@cache
def operations(service: str) -> frozenset[str]:
    return frozenset(botocore.session.get_session().get_service_model(service).operation_names)


@pytest.mark.parametrize("name", [*IDENTITY_POLICIES, *TRUST_POLICIES])
def test_every_action_exists_in_its_service(name: str) -> None:
    unknown = []
    for action in sorted({a for s in statements(name) for a in as_list(s["Action"])}):
        service, _, action_name = action.partition(":")
        operation = IAM_ACTION_TO_OPERATION.get(action, action_name)
        if operation not in operations(service):
            unknown.append(f"{action} (no operation {operation} in botocore's {service} model)")
    assert not unknown


def test_trust_policy_admits_only_snowflakes_user_with_the_external_id() -> None:
    (statement,) = statements("snowflake-storage-integration-role.json")
    assert statement["Principal"] == {"AWS": "${SnowflakeIamUserArn}"}
    assert statement["Action"] == "sts:AssumeRole"
    assert statement["Condition"] == {"StringEquals": {"sts:ExternalId": "${SnowflakeExternalId}"}}
    assert "Resource" not in statement, "a trust policy has no Resource"


def test_snowflake_only_reads_the_staging_prefix() -> None:
    actions = {a for s in statements(SNOWFLAKE_S3_POLICY) for a in as_list(s["Action"])}
    assert actions <= SNOWFLAKE_READ_ACTIONS, sorted(actions - SNOWFLAKE_READ_ACTIONS)
    resources = {r for s in statements(SNOWFLAKE_S3_POLICY) for r in as_list(s["Resource"])}
    assert resources == {"arn:aws:s3:::${StagingBucket}/${StagingPrefix}/*", "arn:aws:s3:::${StagingBucket}"}


def test_glue_databases_are_the_ones_dlt_and_dbt_use() -> None:
    staging_layout = DestinationClientDwhWithStagingConfiguration().staging_dataset_name_layout
    expected = {"default", DATASET, staging_layout % DATASET, *dbt_custom_schemas()}
    arns = {r for s in statements(ATHENA_POLICY) for r in as_list(s["Resource"]) if ":glue:" in r}
    databases = {arn.rsplit(":database/", 1)[1] for arn in arns if ":database/" in arn}
    table_databases = {arn.rsplit(":table/", 1)[1].removesuffix("/*") for arn in arns if ":table/" in arn}
    assert databases == expected
    # Athena itself needs only GetDatabase/CreateDatabase on `default`, no tables.
    assert table_databases == expected - {"default"}


WELL_FORMED_ARN = re.compile(r"arn:aws:s3:::[a-z0-9.-]{3,63}(/.+)?|arn:aws:(glue|athena):[a-z0-9-]+:\d{12}:.+")


def fill(text: str, values: dict[str, str]) -> str:
    return PLACEHOLDER.sub(lambda m: values[m.group(1)], text)


@pytest.mark.parametrize("name", [*IDENTITY_POLICIES, *TRUST_POLICIES])
def test_policy_is_well_formed_once_filled_in(name: str) -> None:
    filled = fill((AWS_DIR / name).read_text(), EXAMPLE_VALUES)
    document = json.loads(filled)
    limit = TRUST_POLICY_MAX_CHARS if name in TRUST_POLICIES else MANAGED_POLICY_MAX_CHARS
    assert len(re.sub(r"\s", "", filled)) <= limit
    for statement in document["Statement"]:
        for arn in as_list(statement.get("Resource", [])):
            assert "//" not in arn, arn
            assert WELL_FORMED_ARN.fullmatch(arn), arn


# --- placeholders -----------------------------------------------------------------------------


def placeholders_used() -> set[str]:
    files = [*AWS_DIR.glob("*.json"), SETUP_SQL]
    return {name for f in files for name in PLACEHOLDER.findall(f.read_text())}


def test_every_placeholder_is_documented_and_every_documented_one_is_used() -> None:
    documented = set(PLACEHOLDER.findall(README.read_text()))
    used = placeholders_used()
    assert used - documented == set(), "placeholders missing from infra/README.md"
    assert documented - used == set(), "infra/README.md documents placeholders no file uses"
    assert used <= EXAMPLE_VALUES.keys(), "add an example value for each new placeholder"


# --- Snowflake setup script -------------------------------------------------------------------

# Statement kinds sqlglot (30.21, pinned below 30.22 in pyproject.toml) has no parser for: it
# keeps them as an unparsed exp.Command instead of raising. They are listed one by one, with
# what this file checks of them instead; any other statement must parse into a real
# expression. If sqlglot learns one of them, test_unparsed_kinds_are_still_unparsed says so.
UNPARSED_BY_SQLGLOT = {
    r"CREATE RESOURCE MONITOR ": "no parser for resource monitors; quota and triggers checked by regex",
    r"ALTER WAREHOUSE ": "ALTER WAREHOUSE ... SET is not parsed; the monitor assignment is checked by regex",
    r"CREATE ROLE ": "no parser for roles; role names read by regex",
    r"GRANT ROLE ": "role grants (GRANT ROLE r TO ROLE|USER x) are not parsed; read by regex",
    r"GRANT .+ ON ALL ": "GRANT ... ON ALL <objects> IN SCHEMA is not parsed; read by regex",
    r"GRANT .+ ON FUTURE ": "GRANT ... ON FUTURE <objects> IN SCHEMA is not parsed; read by regex",
    r"CREATE USER ": "no parser for users; TYPE, key and defaults read by regex",
    r"ALTER USER ": "ALTER USER ... SET is not parsed; the session TIMEZONE set is checked by regex",
}


def unparsed_kind(text: str) -> str | None:
    return next((kind for kind in UNPARSED_BY_SQLGLOT if re.match(kind, text)), None)


@dataclass(frozen=True)
class Statement:
    line: int
    text: str  # whitespace collapsed to single spaces
    expression: exp.Expression


def split_statements(sql: str) -> list[tuple[int, str]]:
    """Each statement's first line and text, split on the tokenizer's semicolons (not inside strings)."""
    chunks: list[list[Token]] = [[]]
    for token in sqlglot.Dialect.get_or_raise("snowflake").tokenize(sql):
        if token.token_type == TokenType.SEMICOLON:
            chunks.append([])
        else:
            chunks[-1].append(token)
    return [(c[0].line, " ".join(sql[c[0].start : c[-1].end + 1].split())) for c in chunks if c]


def parse(text: str) -> exp.Expression:
    return sqlglot.parse_one(text, read="snowflake", error_level=sqlglot.ErrorLevel.RAISE)


@cache
def setup_statements() -> tuple[Statement, ...]:
    return tuple(Statement(line, text, parse(text)) for line, text in split_statements(SETUP_SQL.read_text()))


SETUP_SQL_STATEMENTS = split_statements(SETUP_SQL.read_text())


def test_setup_sql_has_statements() -> None:
    assert len(SETUP_SQL_STATEMENTS) > 40


@pytest.mark.parametrize(("line", "text"), SETUP_SQL_STATEMENTS, ids=[f"line {n}" for n, _ in SETUP_SQL_STATEMENTS])
def test_statement_parses_or_is_a_listed_unparsed_kind(line: int, text: str) -> None:
    expression = parse(text)
    if isinstance(expression, exp.Command):
        assert unparsed_kind(text), f"sqlglot could not parse line {line}: {text[:60]}"
    # What sqlglot parsed renders back to SQL that parses to the same thing.
    rendered = expression.sql(dialect="snowflake")
    assert parse(rendered).sql(dialect="snowflake") == rendered


def test_unparsed_kinds_are_still_unparsed() -> None:
    for kind, reason in UNPARSED_BY_SQLGLOT.items():
        matching = [s for s in setup_statements() if unparsed_kind(s.text) == kind]
        assert matching, f"{kind}: no statement of this kind any more, remove it from the list"
        parsed = [s.line for s in matching if not isinstance(s.expression, exp.Command)]
        assert not parsed, f"{kind} ({reason}): sqlglot parses it now (lines {parsed}); check it from the AST"


def created(kind: str) -> list[exp.Create]:
    return [
        s.expression
        for s in setup_statements()
        if isinstance(s.expression, exp.Create) and s.expression.args["kind"] == kind
    ]


def name_of(node: exp.Expression) -> str:
    return node.sql(dialect="snowflake")


def properties(create: exp.Create) -> dict[str, str]:
    """NAME = value options; COMMENT and other dedicated property nodes left out."""
    props = create.args["properties"].expressions
    return {p.name.upper(): p.args["value"].sql(dialect="snowflake") for p in props if type(p) is exp.Property}


def commands(pattern: str) -> list[re.Match[str]]:
    return [m for s in setup_statements() if (m := re.fullmatch(pattern, s.text))]


def created_roles() -> set[str]:
    return {m.group(1) for m in commands(r"CREATE ROLE IF NOT EXISTS (\w+)( COMMENT = '[^']*')?")}


def grants() -> set[tuple[str, str, str]]:
    """(role, privilege, object) for every grant to a role, parsed or not."""
    result = set()
    for s in setup_statements():
        if isinstance(s.expression, exp.Grant):
            target = f"{s.expression.args['kind']} {name_of(s.expression.args['securable'])}"
            for principal in s.expression.args["principals"]:
                for privilege in s.expression.args["privileges"]:
                    result.add((principal.name, privilege.this.name, target))
    pattern = r"GRANT (.+) ON ((?:ALL|FUTURE) (?:TABLES|VIEWS) IN SCHEMA \S+) TO ROLE (\w+)"
    for m in commands(pattern):
        result |= {(m.group(3), p.strip(), m.group(2)) for p in m.group(1).split(",")}
    return result


def test_warehouse_is_extra_small_suspends_after_a_minute_and_has_a_monitor() -> None:
    (warehouse,) = created("WAREHOUSE")
    assert name_of(warehouse.this) == "TUNELAKE_WH"
    assert properties(warehouse) == {
        "WAREHOUSE_SIZE": "'XSMALL'",
        "AUTO_SUSPEND": "60",
        "AUTO_RESUME": "TRUE",
        "INITIALLY_SUSPENDED": "TRUE",
    }
    (monitor,) = commands(r"CREATE RESOURCE MONITOR IF NOT EXISTS (\w+) WITH CREDIT_QUOTA = (\d+) .*")
    assert int(monitor.group(2)) > 0
    assert "DO SUSPEND" in monitor.group(0)
    assert commands(rf"ALTER WAREHOUSE TUNELAKE_WH SET RESOURCE_MONITOR = {monitor.group(1)}")


def test_database_and_schemas_for_dlt_and_dbt() -> None:
    assert [name_of(d.this) for d in created("DATABASE")] == ["TUNELAKE"]
    staging_layout = DestinationClientDwhWithStagingConfiguration().staging_dataset_name_layout
    # dlt upper-cases identifiers on Snowflake; dbt's unquoted schema names resolve upper-case.
    expected = {DATASET, staging_layout % DATASET, *dbt_custom_schemas(), dbt_source_schema()}
    assert {name_of(s.this) for s in created("SCHEMA")} == {f"TUNELAKE.{n.upper()}" for n in expected}


def test_roles_get_what_their_tool_needs_and_nothing_else() -> None:
    assert created_roles() == {"TUNELAKE_LOADER", "TUNELAKE_TRANSFORMER", "TUNELAKE_READER"}
    raw, raw_staging = f"TUNELAKE.{DATASET.upper()}", f"TUNELAKE.{DATASET.upper()}_STAGING"
    compute = {"WAREHOUSE TUNELAKE_WH", "DATABASE TUNELAKE"}
    expected_objects = {
        "TUNELAKE_LOADER": compute
        | {f"SCHEMA {raw}", f"SCHEMA {raw_staging}", "STAGE TUNELAKE.SPOTIFY.TUNELAKE_STAGE"},
        "TUNELAKE_TRANSFORMER": compute
        | {f"SCHEMA {raw}", f"ALL TABLES IN SCHEMA {raw}", f"FUTURE TABLES IN SCHEMA {raw}"}
        | {"SCHEMA TUNELAKE.STAGING", "SCHEMA TUNELAKE.MARTS"},
        "TUNELAKE_READER": compute
        | {"SCHEMA TUNELAKE.MARTS"}
        | {f"{scope} {kind} IN SCHEMA TUNELAKE.MARTS" for scope in ("ALL", "FUTURE") for kind in ("TABLES", "VIEWS")},
        "SYSADMIN": {"INTEGRATION TUNELAKE_S3"},  # to create the stage
    }
    for role, objects in expected_objects.items():
        assert {o for r, _, o in grants() if r == role} == objects, role
    assert {
        ("TUNELAKE_LOADER", "CREATE TABLE", f"SCHEMA {raw}"),
        ("TUNELAKE_LOADER", "CREATE TABLE", f"SCHEMA {raw_staging}"),
        ("TUNELAKE_LOADER", "USAGE", "STAGE TUNELAKE.SPOTIFY.TUNELAKE_STAGE"),
    } <= grants()
    reader_privileges = {p for r, p, _ in grants() if r == "TUNELAKE_READER"}
    assert reader_privileges == {"USAGE", "SELECT"}


def test_service_users_use_key_pairs_and_existing_roles() -> None:
    users = commands(r"CREATE USER IF NOT EXISTS (\w+) (.*)")
    assert len(users) == 3
    for m in users:
        options = dict(re.findall(r"(\w+) = ('[^']*'|\(\)|\S+)", m.group(2)))
        assert options["TYPE"] == "SERVICE", m.group(1)
        assert options["RSA_PUBLIC_KEY"] == "'<paste>'", m.group(1)
        assert "PASSWORD" not in options, m.group(1)
        assert options["DEFAULT_ROLE"] in created_roles(), m.group(1)
        assert options["DEFAULT_WAREHOUSE"] == "TUNELAKE_WH", m.group(1)
        assert commands(rf"GRANT ROLE {options['DEFAULT_ROLE']} TO USER {m.group(1)}"), m.group(1)
        # Sessions in UTC, so a zoned timestamp cast to a date is its UTC day.
        assert commands(rf"ALTER USER {m.group(1)} SET TIMEZONE = 'UTC'"), m.group(1)


def test_integration_is_described_before_the_stage_and_both_point_at_the_staging_prefix() -> None:
    staging_url = "'s3://${StagingBucket}/${StagingPrefix}/'"
    (integration,) = created("STORAGE INTEGRATION")
    assert name_of(integration.this) == "TUNELAKE_S3"
    assert properties(integration)["STORAGE_ALLOWED_LOCATIONS"] == f"({staging_url})"
    assert properties(integration)["STORAGE_AWS_ROLE_ARN"] == "'arn:aws:iam::${AccountId}:role/${SnowflakeRoleName}'"
    assert not integration.args.get("replace"), "CREATE OR REPLACE would issue a new external id"
    (stage,) = created("STAGE")
    assert name_of(stage.this) == "TUNELAKE.SPOTIFY.TUNELAKE_STAGE"
    assert properties(stage) == {"URL": staging_url, "STORAGE_INTEGRATION": "TUNELAKE_S3"}
    order = [s.text for s in setup_statements()]
    create_at = next(i for i, t in enumerate(order) if t.startswith("CREATE STORAGE INTEGRATION"))
    assert order[create_at + 1] == "DESC INTEGRATION TUNELAKE_S3"
    assert create_at < next(i for i, t in enumerate(order) if t.startswith("CREATE STAGE"))
    # The dlt config key that makes dlt COPY from this stage is named where the stage is made.
    assert 'destination.snowflake.stage_name = "TUNELAKE.SPOTIFY.TUNELAKE_STAGE"' in SETUP_SQL.read_text()


# Which system role each kind of statement runs under (Snowflake's documented split: only
# ACCOUNTADMIN handles integrations and resource monitors; SYSADMIN owns warehouses, databases
# and their objects; SECURITYADMIN creates roles and users and holds MANAGE GRANTS).
REQUIRED_ROLE = (
    (r"CREATE RESOURCE MONITOR |ALTER WAREHOUSE .* SET RESOURCE_MONITOR ", "ACCOUNTADMIN"),
    (r"CREATE STORAGE INTEGRATION |DESC INTEGRATION |GRANT USAGE ON INTEGRATION ", "ACCOUNTADMIN"),
    (r"SELECT SYSTEM\$VALIDATE_STORAGE_INTEGRATION", "ACCOUNTADMIN"),
    (r"CREATE (WAREHOUSE|DATABASE|SCHEMA|STAGE) ", "SYSADMIN"),
    (r"CREATE (ROLE|USER) |ALTER USER |GRANT ", "SECURITYADMIN"),
)


def test_each_statement_runs_under_the_role_that_may_run_it() -> None:
    role = None
    for s in setup_statements():
        if isinstance(s.expression, exp.Use):
            role = s.expression.this.name
            continue
        required = next((r for pattern, r in REQUIRED_ROLE if re.match(pattern, s.text)), None)
        assert required, f"line {s.line}: no rule for {s.text[:50]}"
        assert role == required, f"line {s.line}: runs as {role}, needs {required}"


# --- the dbt project and profile --------------------------------------------------------------


def env_var_default(text: str) -> str:
    m = re.fullmatch(r"\{\{\s*env_var\('\w+',\s*'([^']*)'\)\s*\}\}", text.strip())
    assert m, f"not an env_var with a default: {text}"
    return m.group(1)


def dbt_custom_schemas() -> set[str]:
    def walk(node: Any) -> Iterator[str]:
        if isinstance(node, dict):
            for key, value in node.items():
                yield from [value] if key == "+schema" else walk(value)

    return set(walk(yaml.safe_load((ROOT / "dbt_project" / "dbt_project.yml").read_text())["models"]))


def dbt_source_schema() -> str:
    path = ROOT / "dbt_project" / "models" / "staging" / "spotify" / "_spotify__sources.yml"
    (source,) = yaml.safe_load(path.read_text())["sources"]
    return env_var_default(source["schema"])


def test_dbt_profile_uses_the_role_warehouse_and_database_setup_sql_creates() -> None:
    profile = yaml.safe_load((ROOT / "profiles.example.yml").read_text())["tunelake"]["outputs"]["snowflake"]
    role, warehouse, database = (env_var_default(profile[k]) for k in ("role", "warehouse", "database"))
    assert (role, warehouse, database) == ("TUNELAKE_TRANSFORMER", "TUNELAKE_WH", "TUNELAKE")
    assert role in created_roles()
    assert [name_of(w.this) for w in created("WAREHOUSE")] == [warehouse]
    assert [name_of(d.this) for d in created("DATABASE")] == [database]
    raw = f"{database}.{dbt_source_schema().upper()}"
    needed = {(role, "USAGE", f"WAREHOUSE {warehouse}"), (role, "USAGE", f"DATABASE {database}")}
    needed |= {(role, "USAGE", f"SCHEMA {raw}"), (role, "SELECT", f"FUTURE TABLES IN SCHEMA {raw}")}
    for schema in dbt_custom_schemas():
        target = f"SCHEMA {database}.{schema.upper()}"
        needed |= {(role, privilege, target) for privilege in ("USAGE", "CREATE TABLE", "CREATE VIEW")}
    assert needed <= grants(), sorted(needed - grants())
