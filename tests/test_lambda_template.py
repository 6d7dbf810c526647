"""Offline checks of lambda/template.yaml, the SAM template of the scheduled ingestion and transform.

cfn-lint alone on a SAM template misses what only shows after the transform, so the template is
first translated to CloudFormation with samtranslator (no AWS call: the template uses no SAM
managed policies, and the loader below fails if asked for one), then linted with cfn-lint, then
resolved for each parameter case (conditions, `Fn::If`, `Ref`, `Fn::Sub`) to check what a
deployment with those values would create: least-privilege IAM, the bucket's protections and
lifecycle, the schedules, the failure destinations and the alarms, of the ingestion function and,
with RunDbt=true, of the transform function (the dbt image) and its own role.

What this cannot prove: that AWS accepts the stack (quotas, names taken, the function name's
64-character limit for long stack names), that the role's permissions suffice for every call dlt
and dbt make (infra/README.md; `make smoke-athena` / `make smoke-snowflake`), that the schedule
fires or the alarm's email arrives, that the image exists in ECR or runs (lambda/Dockerfile).
"""

from __future__ import annotations

import copy
import fnmatch
import json
import os
import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any
from unittest import mock

import botocore.session
import pytest
from cfnlint.api import ManualArgs, lint
from cfnlint.decode import cfn_yaml
from samtranslator.public.exceptions import InvalidDocumentException
from samtranslator.translator.transform import transform

from ingestion.config import STAGING_FOLDER, Settings
from ingestion.pipeline import DATASET
from ingestion.run_lock import LIFETIME, LOCK_NAME

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "lambda" / "template.yaml"
ATHENA_POLICY = ROOT / "infra" / "aws" / "athena-iam-policy.json"

REGION = "eu-west-1"
ACCOUNT = "123456789012"
STACK = "tunelake-prod"
PSEUDO = {
    "AWS::Region": REGION,
    "AWS::AccountId": ACCOUNT,
    "AWS::Partition": "aws",
    "AWS::StackName": STACK,
    "AWS::URLSuffix": "amazonaws.com",
}
BUCKET = "<RawZoneBucket>"  # how the resolver below shows `!Ref RawZoneBucket`
FUNCTION = "IngestFunction"
TRANSFORM = "TransformFunction"
TRANSFORM_ROLE = "TransformFunctionRole"

# Where the bucket's prefixes come from: ingestion/pipeline.py and the template's raw zone URL.
RAW_PREFIX = "raw"
WAREHOUSE_PREFIX = f"{RAW_PREFIX}/{STAGING_FOLDER}"
ATHENA_RESULTS_PREFIX = "athena-results"
DBT_DATA_PREFIX = "dbt-data"

# Actions AWS authorizes only on `"Resource": "*"` that the template may grant there. None: the
# function writes to its own log group, which is why the template has its own role instead of
# SAM's AWSLambdaBasicExecutionRole.
ACTIONS_ALLOWED_ON_RESOURCE_STAR: dict[str, str] = {}

# IAM actions whose name is not an API operation name (Service Authorization Reference).
IAM_ACTION_TO_OPERATION = {
    "s3:ListBucket": "ListObjectsV2",
    "s3:ListBucketMultipartUploads": "ListMultipartUploads",
    "s3:ListMultipartUploadParts": "ListParts",
    "lambda:InvokeFunction": "Invoke",
}

SPOTIFY_SECRET = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:tunelake/spotify-AbCdEf"
SNOWFLAKE_SECRET = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:tunelake/snowflake-GhIjKl"
KMS_KEY = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
# What `docker push` of lambda/Dockerfile's image gives (lambda/README.md).
DBT_IMAGE = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/tunelake-dbt:1"
SOURCES = {
    "Playlists": '["https://open.spotify.com/playlist/37i9dQZF1DXcBWIGoYBM5M"]',
    "Artists": '["4Z8W4fKeB5YxbusRsdQVPb"]',
    "Albums": "[]",
    "Queries": '["genre:indie year:2026"]',
}

# Parameter values of a deployment, per case. Every parameter without a default is given.
CASES: dict[str, dict[str, str]] = {
    "athena": {"Warehouse": "athena", "SpotifySecretArn": SPOTIFY_SECRET, **SOURCES},
    "athena-dbt": {
        "Warehouse": "athena",
        "RunDbt": "true",
        "DbtImageUri": DBT_IMAGE,
        "SpotifyParameterName": "/tunelake/spotify",
        "SecretsKmsKeyArn": KMS_KEY,
        "AthenaWorkGroupName": "tunelake-prod",
        "LogRetentionInDays": "90",
        **SOURCES,
    },
    "snowflake": {
        "Warehouse": "snowflake",
        "RunDbt": "true",
        "DbtImageUri": f"{DBT_IMAGE.split(':')[0]}@sha256:{'0a' * 32}",
        "DbtScheduleExpression": "cron(0 6 * * ? *)",
        "SpotifySecretArn": SPOTIFY_SECRET,
        "SnowflakeSecretArn": SNOWFLAKE_SECRET,
        "SecretsKmsKeyArn": KMS_KEY,
        "AlarmEmail": "data-alerts@example.com",
        "ScheduleExpression": "cron(5 * * * ? *)",
        **SOURCES,
    },
}
ATHENA_CASES = ("athena", "athena-dbt")
DBT_CASES = ("athena-dbt", "snowflake")
DBT_SCHEDULE = "cron(30 5 * * ? *)"

ENV_COMMON = {
    "TUNELAKE__RAW_ZONE_URL",
    "TUNELAKE__PIPELINES_DIR",
    "TUNELAKE__WAREHOUSE",
    "TUNELAKE_RUN_DBT",
    "SOURCES__SPOTIFY__PLAYLISTS",
    "SOURCES__SPOTIFY__ARTISTS",
    "SOURCES__SPOTIFY__ALBUMS",
    "SOURCES__SPOTIFY__QUERIES",
    "RUNTIME__DLTHUB_TELEMETRY",
}
ENV_ATHENA = {"DESTINATION__ATHENA__QUERY_RESULT_BUCKET", "DESTINATION__ATHENA__ATHENA_WORK_GROUP"}
ENV_SNOWFLAKE = {"DESTINATION__SNOWFLAKE__STAGE_NAME", "TUNELAKE_WAREHOUSE_SECRET"}
# The transform function: what handler.transform_handler and dbt_project/profiles.yml read.
ENV_TRANSFORM_COMMON = {
    "TUNELAKE__RAW_ZONE_URL",
    "TUNELAKE__WAREHOUSE",
    "TUNELAKE_TARGET",
    "RUNTIME__DLTHUB_TELEMETRY",
    "DO_NOT_TRACK",
}
ENV_TRANSFORM_ATHENA = {"ATHENA_S3_STAGING_DIR", "ATHENA_S3_DATA_DIR", "ATHENA_WORKGROUP", "ATHENA_GLUE_DATABASE"}
ENV_TRANSFORM_SNOWFLAKE = {"TUNELAKE_WAREHOUSE_SECRET"}


# --- translate, lint, resolve -----------------------------------------------------------------


@cache
def sam_template() -> dict[str, Any]:
    # cfn-lint's decoder knows the short forms (!Ref, !Sub, ...); JSON round trip -> plain types.
    return json.loads(json.dumps(cfn_yaml.load(str(TEMPLATE))))


class NoManagedPolicies:
    """SAM's managed policy loader, offline: the template must not need AWS managed policies."""

    def load(self) -> dict[str, str]:
        raise AssertionError("the template asks SAM for AWS managed policies (that needs IAM, and they use '*')")


@cache
def translated(case: str) -> dict[str, Any]:
    """The CloudFormation SAM makes of the template with the case's parameter values."""
    template = copy.deepcopy(sam_template())
    function = template["Resources"][FUNCTION]["Properties"]
    # `sam package` uploads the build folder and puts its S3 location here.
    assert function["CodeUri"] == "../build/lambda/"
    function["CodeUri"] = "s3://tunelake-artifacts/lambda/0123456789abcdef.zip"
    # The translator wants a region from boto3 even when AWS::Region is given.
    with mock.patch.dict(os.environ, {"AWS_DEFAULT_REGION": REGION}):
        try:
            return transform(template, {**PSEUDO, **CASES[case]}, NoManagedPolicies())
        except InvalidDocumentException as error:
            pytest.fail("SAM cannot translate the template:\n" + "\n".join(c.message for c in error.causes))


NO_VALUE = object()


class Resolver:
    """Evaluates a CloudFormation template for given parameter values, as a deployment would.

    Resources keep their names: `Ref` to a resource is `<Name>`, `GetAtt` is `<Name.Attribute>`
    except a bucket's Arn, which is spelled out (`arn:aws:s3:::<Name>`) to compare ARNs.
    """

    def __init__(self, template: dict[str, Any], values: dict[str, str]) -> None:
        self.template = template
        unknown = values.keys() - template["Parameters"].keys()
        assert not unknown, f"no such parameters: {sorted(unknown)}"
        self.parameters = {name: str(spec.get("Default", "")) for name, spec in template["Parameters"].items()}
        self.parameters.update(values)
        missing = [n for n, spec in template["Parameters"].items() if n not in values and "Default" not in spec]
        assert not missing, f"parameters without a value: {missing}"
        self._conditions: dict[str, bool] = {}
        self.resources = {
            name: resource
            for name, resource in template["Resources"].items()
            if "Condition" not in resource or self.condition(resource["Condition"])
        }

    def condition(self, name: str) -> bool:
        if name not in self._conditions:
            self._conditions[name] = self.truth(self.template["Conditions"][name])
        return self._conditions[name]

    def truth(self, node: dict[str, Any]) -> bool:
        (function, arguments), *_ = node.items()
        if function == "Condition":
            return self.condition(arguments)
        if function == "Fn::Equals":
            left, right = (str(self.value(a)) for a in arguments)
            return left == right
        if function == "Fn::Not":
            return not self.truth(arguments[0])
        if function == "Fn::And":
            return all(self.truth(a) for a in arguments)
        if function == "Fn::Or":
            return any(self.truth(a) for a in arguments)
        raise AssertionError(f"unexpected condition function {function}")

    def ref(self, name: str) -> Any:
        if name == "AWS::NoValue":
            return NO_VALUE
        if name in PSEUDO:
            return PSEUDO[name]
        if name in self.parameters:
            return self.parameters[name]
        assert name in self.resources, f"Ref to {name}, which does not exist with these parameters"
        return f"<{name}>"

    def get_att(self, name: str, attribute: str) -> str:
        assert name in self.resources, f"GetAtt of {name}, which does not exist with these parameters"
        if self.resources[name]["Type"] == "AWS::S3::Bucket" and attribute == "Arn":
            return f"arn:aws:s3:::<{name}>"
        return f"<{name}.{attribute}>"

    def sub(self, text: str, variables: dict[str, Any]) -> str:
        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            if name in variables:
                return str(self.value(variables[name]))
            if "." in name and not name.startswith("AWS::"):
                return self.get_att(*name.split(".", 1))
            return str(self.ref(name))

        return re.sub(r"\$\{([^}]+)\}", replace, text)

    def value(self, node: Any) -> Any:
        if isinstance(node, list):
            return [v for v in (self.value(item) for item in node) if v is not NO_VALUE]
        if not isinstance(node, dict):
            return node
        if len(node) == 1:
            (key, argument), *_ = node.items()
            if key == "Ref":
                return self.ref(argument)
            if key == "Fn::GetAtt":
                return self.get_att(*(argument.split(".", 1) if isinstance(argument, str) else argument))
            if key == "Fn::Sub":
                text, variables = (argument, {}) if isinstance(argument, str) else argument
                return self.sub(text, variables)
            if key == "Fn::If":
                name, when_true, when_false = argument
                return self.value(when_true if self.condition(name) else when_false)
            if key == "Fn::Join":
                separator, items = argument
                return separator.join(str(v) for v in self.value(items))
            assert not key.startswith("Fn::"), f"the resolver does not know {key}"
        return {k: v for k, v in ((k, self.value(v)) for k, v in node.items()) if v is not NO_VALUE}

    def resource(self, name: str) -> dict[str, Any]:
        return self.value(self.resources[name])

    def of_type(self, resource_type: str) -> dict[str, dict[str, Any]]:
        return {n: self.resource(n) for n, r in self.resources.items() if r["Type"] == resource_type}

    def outputs(self) -> dict[str, Any]:
        outputs = self.template.get("Outputs", {})
        return {n: self.value(o["Value"]) for n, o in outputs.items() if self.condition_holds(o)}

    def condition_holds(self, node: dict[str, Any]) -> bool:
        return "Condition" not in node or self.condition(node["Condition"])

    def rules(self) -> dict[str, list[bool]]:
        """Each rule's assertions (True: holds), for the rules whose condition applies."""
        results = {}
        for name, rule in self.template.get("Rules", {}).items():
            if "RuleCondition" in rule and not self.truth(rule["RuleCondition"]):
                continue
            results[name] = [self.truth(a["Assert"]) for a in rule["Assertions"]]
        return results


@cache
def deployed(case: str) -> Resolver:
    return Resolver(translated(case), CASES[case])


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def policy_documents(node: Any, where: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    """Every IAM policy document in a resolved resource, wherever it sits."""
    if isinstance(node, dict):
        if isinstance(node.get("Statement"), list):
            yield where, node
            return
        for key, value in node.items():
            yield from policy_documents(value, f"{where}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from policy_documents(value, f"{where}/{index}")


def all_statements(case: str) -> list[tuple[str, dict[str, Any]]]:
    found = []
    for name in deployed(case).resources:
        for where, document in policy_documents(deployed(case).resource(name), name):
            found.extend((f"{where} {s.get('Sid', '')}".strip(), s) for s in document["Statement"])
    return found


def role_statements(
    case: str, role: str = "IngestFunctionRole", resolver: Resolver | None = None
) -> list[dict[str, Any]]:
    properties = (resolver or deployed(case)).resource(role)["Properties"]
    return [s for p in properties.get("Policies", []) for s in p["PolicyDocument"]["Statement"]]


def grants(statements: list[dict[str, Any]]) -> set[tuple[str, str]]:
    return {(a, r) for s in statements for a in as_list(s["Action"]) for r in as_list(s["Resource"])}


def the_function(case: str, name: str = FUNCTION) -> dict[str, Any]:
    return deployed(case).resource(name)["Properties"]


def of_function(case: str, resource_type: str, name: str, key: str = "FunctionName") -> dict[str, Any]:
    """The one resource of the type attached to the function `name` (through `key` of Properties)."""
    (found,) = [r for r in deployed(case).of_type(resource_type).values() if r["Properties"][key] == f"<{name}>"]
    return found["Properties"]


# --- validity ---------------------------------------------------------------------------------


@pytest.mark.parametrize("case", CASES)
def test_translated_template_passes_cfn_lint(case: str) -> None:
    matches = lint(json.dumps(translated(case)), config=ManualArgs(regions=[REGION]))
    for match in matches:
        print(f"cfn-lint {match.rule.severity} {match.rule.id}: {match.message}")
    errors = [f"{m.rule.id} {m.message}" for m in matches if m.rule.severity.lower() == "error"]
    assert not errors


@pytest.mark.parametrize("case", CASES)
def test_parameter_values_are_accepted(case: str) -> None:
    """The values CloudFormation would check before creating anything, and the template's Rules."""
    parameters = sam_template()["Parameters"]
    defaults = {n: str(p["Default"]) for n, p in parameters.items() if "Default" in p}
    for name, value in {**defaults, **CASES[case]}.items():
        spec = parameters[name]
        if "AllowedPattern" in spec:
            assert re.fullmatch(spec["AllowedPattern"], value), f"{name}={value!r}"
        if "AllowedValues" in spec:
            assert value in [str(v) for v in spec["AllowedValues"]], f"{name}={value!r}"
        if spec["Type"] == "Number":
            assert float(spec.get("MinValue", "-inf")) <= float(value) <= float(spec.get("MaxValue", "inf")), name
        if name in SOURCES:
            assert isinstance(json.loads(value), list), name
    rules = deployed(case).rules()
    assert rules, "the template checks its parameters with Rules"
    assert all(all(r) for r in rules.values()), rules


@pytest.mark.parametrize(
    ("values", "rule"),
    [
        ({"Warehouse": "athena"}, "SpotifyCredentials"),
        ({"Warehouse": "snowflake", "SpotifySecretArn": SPOTIFY_SECRET}, "SnowflakeSettings"),
        ({"Warehouse": "athena", "SpotifySecretArn": SPOTIFY_SECRET, "RunDbt": "true"}, "DbtImage"),
    ],
)
def test_rules_refuse_a_deployment_that_could_not_run(values: dict[str, str], rule: str) -> None:
    assert not all(Resolver(translated("athena"), values).rules()[rule])


@pytest.mark.parametrize("case", CASES)
def test_every_action_exists_in_its_service(case: str) -> None:
    unknown = []
    for action in sorted({a for _, s in all_statements(case) for a in as_list(s.get("Action", []))}):
        if action == "s3:*":
            continue  # the bucket policy's Deny (checked below)
        service, _, name = action.partition(":")
        operation = IAM_ACTION_TO_OPERATION.get(action, name)
        if operation not in botocore.session.get_session().get_service_model(service).operation_names:
            unknown.append(action)
    assert not unknown


# --- least privilege --------------------------------------------------------------------------


@pytest.mark.parametrize("case", CASES)
def test_no_allow_statement_has_a_wildcard_action_or_resource_star(case: str) -> None:
    statements = all_statements(case)
    assert len(statements) > 10
    for where, statement in statements:
        assert not {"NotAction", "NotResource", "NotPrincipal"} & statement.keys(), where
        if statement["Effect"] == "Deny":
            continue
        actions = as_list(statement["Action"])
        wild = [a for a in actions if "*" in a or "?" in a]
        assert not wild, f"{where}: wildcard actions {wild}"
        resources = as_list(statement.get("Resource", []))  # trust policies have none
        if "*" in resources:
            unjustified = set(actions) - ACTIONS_ALLOWED_ON_RESOURCE_STAR.keys()
            assert not unjustified, f"{where}: Resource '*' for {sorted(unjustified)}"
        for resource in resources:
            # A wildcard only at the end: objects under a prefix, tables in a database, the
            # random suffix of a secret's ARN.
            assert "*" not in resource.rstrip("*"), f"{where}: {resource}"
            assert re.fullmatch(r"[^?]*(-\?{6})?", resource), f"{where}: {resource}"


@pytest.mark.parametrize("case", CASES)
def test_roles_have_no_managed_policies(case: str) -> None:
    roles = deployed(case).of_type("AWS::IAM::Role")
    expected = {"IngestFunctionRole", "IngestFunctionHourlyRole", "IngestFunctionDailyCompactionRole"}
    expected |= {TRANSFORM_ROLE, "TransformFunctionDailyRole"} if case in DBT_CASES else set()
    assert set(roles) == expected
    for name, role in roles.items():
        assert not role["Properties"].get("ManagedPolicyArns"), f"{name}: managed policies cannot be checked here"


@pytest.mark.parametrize("case", CASES)
def test_only_deny_statements_in_resource_policies(case: str) -> None:
    """Nothing outside the account is admitted: resource policies only deny."""
    for resource_type in ("AWS::S3::BucketPolicy", "AWS::SQS::QueuePolicy", "AWS::SNS::TopicPolicy"):
        for name, policy in deployed(case).of_type(resource_type).items():
            for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
                assert statement["Effect"] == "Deny", name
    assert not deployed(case).of_type("AWS::Lambda::Permission"), "the scheduler invokes with its own role"


def infra_athena_statements(case: str = "athena-dbt") -> dict[str, dict[str, Any]]:
    """infra/aws/athena-iam-policy.json filled in with this stack's single bucket and prefixes, by Sid."""
    workgroup = CASES[case].get("AthenaWorkGroupName", sam_template()["Parameters"]["AthenaWorkGroupName"]["Default"])
    text = ATHENA_POLICY.read_text()
    for placeholder, value in {
        "AccountId": ACCOUNT,
        "Region": REGION,
        "WorkGroup": workgroup,
        "RawZonePrefix": RAW_PREFIX,
        "StagingPrefix": WAREHOUSE_PREFIX,
        "AthenaResultsPrefix": ATHENA_RESULTS_PREFIX,
        "DbtDataPrefix": DBT_DATA_PREFIX,
    }.items():
        text = text.replace("${" + placeholder + "}", value)
    text = re.sub(r"\$\{(RawZone|Staging|AthenaResults|DbtData)Bucket\}", BUCKET, text)
    assert "${" not in text
    return {s["Sid"]: s for s in json.loads(text)["Statement"]}


def infra_athena_grants(case: str = "athena-dbt") -> set[tuple[str, str]]:
    return grants(list(infra_athena_statements(case).values()))


def infra_dbt_grants(case: str = "athena-dbt") -> set[tuple[str, str]]:
    """dbt's part of infra/aws/athena-iam-policy.json: what a role that only runs `dbt build` needs.

    The statements of the workgroup, the results, the bucket and dbt's own databases and prefix
    whole; of the shared Glue statements the catalog, `default`, dbt's databases and, to read its
    sources, dlt's dataset `spotify` (not dlt's merge staging); and the objects of dlt's tables,
    read only.
    """
    statements = infra_athena_statements(case)
    whole = [
        "AthenaQueriesInTheTunelakeWorkGroup",
        "GlueWriteDbtTables",
        "S3BucketLocation",
        "S3MultipartUploadsWhereAthenaWrites",
        "S3ListAthenaResults",
        "S3AthenaResultsObjects",
        "S3ListDbtData",
        "S3DbtDataObjects",
    ]
    expected = grants([statements[sid] for sid in whole])
    glue = f"arn:aws:glue:{REGION}:{ACCOUNT}"
    reads = {f"{glue}:catalog", f"{glue}:database/default"}
    reads |= {
        f"{glue}:{kind}/{db}" + ("/*" if kind == "table" else "")
        for kind in ("database", "table")
        for db in (DATASET, "staging", "marts")
    }
    expected |= {(a, r) for a, r in grants([statements["GlueReadTunelakeDatabases"]]) if r in reads}
    creates = {f"{glue}:catalog", f"{glue}:database/staging", f"{glue}:database/marts"}
    expected |= {(a, r) for a, r in grants([statements["GlueCreateTunelakeDatabases"]]) if r in creates}
    dlt_tables = f"arn:aws:s3:::{BUCKET}/{WAREHOUSE_PREFIX}/{DATASET}/*"
    assert fnmatch.fnmatchcase(dlt_tables, statements["S3DltStagingObjects"]["Resource"])
    expected.add(("s3:GetObject", dlt_tables))
    return expected


def covered(grant: tuple[str, str], by: set[tuple[str, str]]) -> bool:
    """Whether a grant is one of `by`, or inside one of them (an object ARN under a prefix of `by`)."""
    action, resource = grant
    return any(a == action and fnmatch.fnmatchcase(resource, r) for a, r in by)


def warehouse_grants(case: str, role: str = "IngestFunctionRole") -> set[tuple[str, str]]:
    services = ("s3:", "athena:", "glue:")
    return {(a, r) for a, r in grants(role_statements(case, role)) if a.startswith(services)}


def is_dbt_only(resource: str) -> bool:
    return bool(re.search(r"(database|table)/(staging|marts)\b|/dbt-data/", resource))


@pytest.mark.parametrize("case", CASES)
def test_ingestion_role_has_no_dbt_permissions(case: str) -> None:
    """dbt runs in the transform function: RunDbt adds nothing to the ingestion's role."""
    granted = warehouse_grants(case)
    dbt_only = {(a, r) for a, r in granted if is_dbt_only(r)}
    assert not dbt_only, sorted(dbt_only)
    without_dbt = Resolver(translated(case), {**CASES[case], "RunDbt": "false", "DbtImageUri": ""})
    assert grants(role_statements(case)) == grants(role_statements(case, resolver=without_dbt))


def test_athena_ingestion_grants_the_infra_policy_but_dbts_part() -> None:
    granted = warehouse_grants("athena")
    assert granted < infra_athena_grants("athena")
    assert ("glue:CreateTable", f"arn:aws:glue:{REGION}:{ACCOUNT}:table/{DATASET}/*") in granted
    assert {(a, r) for a, r in infra_athena_grants("athena") - granted if not is_dbt_only(r)} == {
        # What the ingestion lacks beyond dbt's databases and prefix: dbt's Glue table writes on
        # the catalog (GlueWriteDbtTables names it).
        (a, f"arn:aws:glue:{REGION}:{ACCOUNT}:catalog")
        for a in (
            "glue:GetTableVersions",
            "glue:DeleteTableVersion",
            "glue:BatchCreatePartition",
            "glue:BatchDeletePartition",
        )
    }


def test_athena_transform_role_grants_exactly_dbts_part_of_the_infra_policy() -> None:
    assert warehouse_grants("athena-dbt", TRANSFORM_ROLE) == infra_dbt_grants()


def test_athena_roles_together_grant_exactly_the_infra_athena_policy() -> None:
    """Split in two roles, nothing lost and nothing added to infra/aws/athena-iam-policy.json."""
    together = warehouse_grants("athena-dbt") | warehouse_grants("athena-dbt", TRANSFORM_ROLE)
    infra = infra_athena_grants()
    assert infra <= together, sorted(infra - together)
    beyond = {g for g in together if not covered(g, infra)}
    assert not beyond, sorted(beyond)


def test_transform_role_writes_nothing_of_the_ingestion() -> None:
    """No Spotify credentials, no write to the raw zone, dlt's staging or dlt's tables."""
    granted = grants(role_statements("athena-dbt", TRANSFORM_ROLE))
    assert not {(a, r) for a, r in granted if a.startswith("ssm:")}
    assert not {(a, r) for a, r in granted if a.startswith("secretsmanager:")}
    bucket_objects = f"arn:aws:s3:::{BUCKET}/"
    raw = {(a, r) for a, r in granted if r.startswith(f"{bucket_objects}{RAW_PREFIX}/")}
    assert raw == {("s3:GetObject", f"{bucket_objects}{WAREHOUSE_PREFIX}/{DATASET}/*")}
    writes = ("glue:Create", "glue:Update", "glue:Delete", "glue:Batch")
    dlt_databases = {(a, r) for a, r in granted if a.startswith(writes) and re.search(rf"/{DATASET}(_staging)?\b", r)}
    assert not dlt_databases, sorted(dlt_databases)


def test_snowflake_transform_role_reads_only_its_secret() -> None:
    granted = grants(role_statements("snowflake", TRANSFORM_ROLE))
    assert {(a, r) for a, r in granted if not a.startswith(("logs:", "sqs:"))} == {
        ("secretsmanager:GetSecretValue", SNOWFLAKE_SECRET),
        ("secretsmanager:GetSecretValue", f"{SNOWFLAKE_SECRET}-??????"),
        ("kms:Decrypt", KMS_KEY),
    }
    (kms,) = [s for s in role_statements("snowflake", TRANSFORM_ROLE) if s["Action"] == "kms:Decrypt"]
    assert kms["Condition"]["StringEquals"]["kms:ViaService"] == f"secretsmanager.{REGION}.amazonaws.com"


def test_snowflake_grants_only_the_raw_zone_and_staging_prefix() -> None:
    granted = warehouse_grants("snowflake")
    assert not {a for a, _ in granted if a.startswith(("athena:", "glue:"))}
    # What infra/README.md lists for Snowflake: the raw zone and S3ListDltStaging,
    # S3DltStagingObjects, S3BucketLocation of the Athena policy.
    bucket_arn = f"arn:aws:s3:::{BUCKET}"
    allowed = {(a, r) for a, r in infra_athena_grants("snowflake") if a.startswith("s3:")}
    allowed = {(a, r) for a, r in allowed if r == bucket_arn or r.startswith(f"{bucket_arn}/{RAW_PREFIX}/")}
    allowed.discard(("s3:ListBucketMultipartUploads", bucket_arn))
    assert granted == allowed


@pytest.mark.parametrize("case", CASES)
def test_bucket_listing_is_limited_to_the_prefixes_of_the_case(case: str) -> None:
    prefixes = set()
    for statement in role_statements(case):
        if "s3:ListBucket" in as_list(statement["Action"]):
            prefixes.update(statement["Condition"]["StringLike"]["s3:prefix"])
    expected = {RAW_PREFIX} | ({ATHENA_RESULTS_PREFIX} if case in ATHENA_CASES else set())
    assert prefixes == {p for e in expected for p in (e, f"{e}/*")}
    # The warehouse prefix is inside the raw zone, so listing it needs no statement of its own.
    assert any(fnmatch.fnmatchcase(f"{WAREHOUSE_PREFIX}/{DATASET}/", p) for p in prefixes)


def test_transform_role_lists_only_dbts_prefixes() -> None:
    prefixes = set()
    for statement in role_statements("athena-dbt", TRANSFORM_ROLE):
        if "s3:ListBucket" in as_list(statement["Action"]):
            prefixes.update(as_list(statement["Condition"]["StringLike"]["s3:prefix"]))
    own = {p for e in (ATHENA_RESULTS_PREFIX, DBT_DATA_PREFIX) for p in (e, f"{e}/*")}
    # dlt's tables only, not their merge staging beside them (spotify_staging/).
    assert prefixes == own | {f"{WAREHOUSE_PREFIX}/{DATASET}/*"}
    assert not any(fnmatch.fnmatchcase(f"{WAREHOUSE_PREFIX}/{DATASET}_staging/tracks/", p) for p in prefixes)
    assert not any(fnmatch.fnmatchcase(f"{RAW_PREFIX}/{DATASET}/tracks/", p) for p in prefixes)


@pytest.mark.parametrize("case", CASES)
def test_secrets_are_read_only_where_configured(case: str) -> None:
    values = CASES[case]
    secret_grants = {(a, r) for a, r in grants(role_statements(case)) if a.split(":")[0] in ("secretsmanager", "ssm")}
    expected = set()
    for arn in (values.get("SpotifySecretArn"), values.get("SnowflakeSecretArn")):
        if arn:
            expected |= {("secretsmanager:GetSecretValue", arn), ("secretsmanager:GetSecretValue", f"{arn}-??????")}
    if values.get("SpotifyParameterName"):
        parameter = f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter{values['SpotifyParameterName']}"
        expected.add(("ssm:GetParameter", parameter))
    assert secret_grants == expected
    kms = [s for s in role_statements(case) if any(a.startswith("kms:") for a in as_list(s["Action"]))]
    if values.get("SecretsKmsKeyArn"):
        (statement,) = kms
        assert statement["Action"] == "kms:Decrypt"
        assert statement["Resource"] == values["SecretsKmsKeyArn"]
        assert statement["Condition"]["StringEquals"]["kms:ViaService"]
    else:
        assert not kms


FUNCTIONS = [(case, FUNCTION) for case in CASES] + [(case, TRANSFORM) for case in DBT_CASES]
LOG_GROUPS = {FUNCTION: "IngestLogGroup", TRANSFORM: "TransformLogGroup"}


@pytest.mark.parametrize(("case", "function"), FUNCTIONS)
def test_function_writes_only_its_own_log_group_and_failure_queue(case: str, function: str) -> None:
    role = the_function(case, function)["Role"].strip("<>").removesuffix(".Arn")
    granted = grants(role_statements(case, role))
    log_group = f"<{LOG_GROUPS[function]}.Arn>"
    assert {(a, r) for a, r in granted if a.startswith("logs:")} == {
        ("logs:CreateLogStream", log_group),
        ("logs:PutLogEvents", log_group),
    }
    assert {(a, r) for a, r in granted if a.startswith("sqs:")} == {("sqs:SendMessage", "<FailureQueue.Arn>")}
    trust = deployed(case).resource(role)["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert [(s["Principal"], s["Action"]) for s in trust] == [({"Service": "lambda.amazonaws.com"}, "sts:AssumeRole")]


def test_each_function_has_its_own_role() -> None:
    assert the_function("athena-dbt")["Role"] == "<IngestFunctionRole.Arn>"
    assert the_function("athena-dbt", TRANSFORM)["Role"] == f"<{TRANSFORM_ROLE}.Arn>"


# --- the bucket -------------------------------------------------------------------------------


def bucket(case: str) -> dict[str, Any]:
    return deployed(case).resource("RawZoneBucket")


@pytest.mark.parametrize("case", CASES)
def test_bucket_is_private_encrypted_versioned_and_kept(case: str) -> None:
    resource = bucket(case)
    properties = resource["Properties"]
    assert properties["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    assert properties["VersioningConfiguration"] == {"Status": "Enabled"}
    assert properties["OwnershipControls"] == {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
    (encryption,) = properties["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert encryption["ServerSideEncryptionByDefault"]["SSEAlgorithm"] in ("AES256", "aws:kms")
    assert resource["DeletionPolicy"] == resource["UpdateReplacePolicy"] == "Retain", "the raw zone is history"


@pytest.mark.parametrize("case", CASES)
def test_bucket_policy_denies_insecure_transport(case: str) -> None:
    (policy,) = deployed(case).of_type("AWS::S3::BucketPolicy").values()
    assert policy["Properties"]["Bucket"] == BUCKET
    denials = [
        s
        for s in policy["Properties"]["PolicyDocument"]["Statement"]
        if s["Effect"] == "Deny"
        and s["Principal"] in ("*", {"AWS": "*"})
        and s["Action"] in ("s3:*", ["s3:*"])
        and str(s["Condition"]["Bool"]["aws:SecureTransport"]).lower() == "false"
    ]
    (denial,) = denials
    assert set(denial["Resource"]) == {f"arn:aws:s3:::{BUCKET}", f"arn:aws:s3:::{BUCKET}/*"}


def expiring_rules(case: str, key: str) -> list[dict[str, Any]]:
    """The lifecycle rules that would expire the current version of `key`."""
    rules = bucket(case)["Properties"]["LifecycleConfiguration"]["Rules"]
    matching = []
    for rule in rules:
        prefix = rule.get("Prefix", rule.get("Filter", {}).get("Prefix", ""))
        expires = "ExpirationInDays" in rule or "ExpirationDate" in rule
        if rule["Status"] == "Enabled" and expires and key.startswith(prefix):
            matching.append(rule)
    return matching


def test_warehouse_prefix_is_where_the_code_stages() -> None:
    raw_zone, staging = f"s3://bucket/{RAW_PREFIX}", f"s3://bucket/{WAREHOUSE_PREFIX}"
    assert Settings(raw_zone_url=raw_zone, warehouse="athena").warehouse_staging_url == staging
    assert Settings(raw_zone_url=raw_zone, warehouse="snowflake").warehouse_staging_url == f"{staging}/"


@pytest.mark.parametrize("case", CASES)
def test_lifecycle_expires_only_disposable_files(case: str) -> None:
    rules = bucket(case)["Properties"]["LifecycleConfiguration"]["Rules"]
    # Old versions (overwritten state files, deleted staging files) go after 30 days, bucket-wide.
    everywhere = [r for r in rules if not r.get("Prefix") and not r.get("Filter")]
    assert [r["NoncurrentVersionExpiration"]["NoncurrentDays"] for r in everywhere] == [30]
    kept = [f"{RAW_PREFIX}/{DATASET}/tracks/load_date=2026-11-21/1763700000.1.jsonl.gz"]
    disposable = []
    if case in ATHENA_CASES:
        # The Iceberg data of the raw tables lives in the warehouse prefix: never expired.
        kept += [f"{WAREHOUSE_PREFIX}/{DATASET}/tracks/data/00000-0.parquet", f"{DBT_DATA_PREFIX}/marts/dim_tracks/x"]
        disposable += [f"{WAREHOUSE_PREFIX}/{DATASET}_staging/tracks/1.parquet", f"{ATHENA_RESULTS_PREFIX}/q.csv"]
    else:
        # Snowflake has copied these parquet files into its tables.
        disposable += [f"{WAREHOUSE_PREFIX}/{DATASET}/tracks/1763700000.1.parquet"]
    for key in kept:
        assert not expiring_rules(case, key), key
    for key in disposable:
        assert [r["ExpirationInDays"] for r in expiring_rules(case, key)] == [7], key


# --- the functions, their schedules, failures and logs -----------------------------------------


@pytest.mark.parametrize("case", CASES)
def test_function_contract_with_the_handler(case: str) -> None:
    function = the_function(case)
    parameters = sam_template()["Parameters"]
    assert function["Handler"] == "handler.handler"
    assert function["Runtime"] == "python3.11"
    assert function["Architectures"] in (["x86_64"], ["arm64"])
    assert function["PackageType"] == "Zip"
    assert function["Role"] == "<IngestFunctionRole.Arn>"
    timeout = parameters["TimeoutSeconds"]
    assert int(function["Timeout"]) == int(timeout["Default"]) == 900
    assert int(timeout["MaxValue"]) <= 900, "Lambda stops at 15 minutes"
    assert int(function["MemorySize"]) == int(parameters["MemorySize"]["Default"]) == 1024


@pytest.mark.parametrize("case", CASES)
def test_ingestion_runs_one_invocation_at_a_time(case: str) -> None:
    """Reserved concurrency 1 by default; off only when asked (accounts whose quota allows none)."""
    assert the_function(case)["ReservedConcurrentExecutions"] == 1
    uncapped = Resolver(translated(case), {**CASES[case], "CapIngestConcurrency": "false"})
    assert "ReservedConcurrentExecutions" not in uncapped.resource(FUNCTION)["Properties"]


@pytest.mark.parametrize("case", CASES)
def test_ingestion_role_may_take_renew_and_release_only_the_run_lock(case: str) -> None:
    """The lock ingestion/run_lock.py writes beside the raw zone's data, and no other object."""
    lock = f"arn:aws:s3:::{BUCKET}/{RAW_PREFIX}/{LOCK_NAME}"
    needed = {(a, lock) for a in ("s3:GetObject", "s3:PutObject", "s3:DeleteObject")}
    assert needed <= warehouse_grants(case)
    # Runs outside the Lambda on the same bucket (infra/README.md) take the same lock.
    assert needed <= infra_athena_grants(case)


def test_a_killed_invocations_lock_expires_before_the_next_scheduled_one() -> None:
    """Killed at its timeout, a run last renewed its lock then at the latest: free again within the hour."""
    parameters = sam_template()["Parameters"]
    assert parameters["ScheduleExpression"]["Default"] == "rate(1 hour)"
    assert int(parameters["TimeoutSeconds"]["MaxValue"]) + LIFETIME.total_seconds() < 3600


@pytest.mark.parametrize("case", DBT_CASES)
def test_transform_function_runs_the_dbt_image(case: str) -> None:
    function = the_function(case, TRANSFORM)
    assert function["PackageType"] == "Image"
    assert function["Code"] == {"ImageUri": CASES[case]["DbtImageUri"]}
    # The image's CMD is the ingestion's handler.handler (lambda/Dockerfile): overridden here.
    assert function["ImageConfig"] == {"Command": ["handler.transform_handler"]}
    assert not {"Handler", "Runtime"} & function.keys(), "an image has neither"
    # lambda/README.md builds the image for linux/arm64, like the zip.
    assert function["Architectures"] == the_function(case)["Architectures"] == ["arm64"]
    assert int(function["Timeout"]) == 900
    assert function["MemorySize"] == the_function(case)["MemorySize"]
    assert function["FunctionName"] == f"{STACK}-transform"


def test_without_image_sam_cli_sees_an_ecr_uri() -> None:
    """SAM CLI reads the ImageUri of a function RunDbt=false leaves out, and looks for a local Docker
    image unless it is an ECR URI (`sam deploy --guided` then fails): an ECR-shaped stand-in."""
    image_uri = sam_template()["Resources"][TRANSFORM]["Properties"]["ImageUri"]
    pattern = sam_template()["Parameters"]["DbtImageUri"]["AllowedPattern"]
    stand_in = Resolver(sam_template(), CASES["athena"]).value(image_uri)
    assert re.fullmatch(pattern, stand_in), stand_in
    assert stand_in != ""
    assert Resolver(sam_template(), CASES["athena-dbt"]).value(image_uri) == DBT_IMAGE


@pytest.mark.parametrize("case", CASES)
def test_environment_has_only_the_chosen_warehouse(case: str) -> None:
    values = CASES[case]
    environment = the_function(case)["Environment"]["Variables"]
    expected = ENV_COMMON | (ENV_ATHENA if case in ATHENA_CASES else ENV_SNOWFLAKE)
    expected |= {"TUNELAKE_SPOTIFY_SECRET"} if values.get("SpotifySecretArn") else set()
    expected |= {"TUNELAKE_SPOTIFY_PARAMETER"} if values.get("SpotifyParameterName") else set()
    assert set(environment) == expected
    assert environment["TUNELAKE__RAW_ZONE_URL"] == f"s3://{BUCKET}/{RAW_PREFIX}"
    # Lambda's only writable folder.
    assert environment["TUNELAKE__PIPELINES_DIR"].startswith("/tmp/")  # noqa: S108
    assert environment["TUNELAKE__WAREHOUSE"] == values["Warehouse"]
    # The zip has no dbt: with RunDbt it runs in the transform function, never after ingestion.
    assert environment["TUNELAKE_RUN_DBT"] == "false"
    assert environment["RUNTIME__DLTHUB_TELEMETRY"] == "false"
    for name in SOURCES:
        assert environment[f"SOURCES__SPOTIFY__{name.upper()}"] == values[name]
    if case in ATHENA_CASES:
        results = f"s3://{BUCKET}/{ATHENA_RESULTS_PREFIX}/"
        assert environment["DESTINATION__ATHENA__QUERY_RESULT_BUCKET"] == results
        assert environment["DESTINATION__ATHENA__ATHENA_WORK_GROUP"] == "<AthenaWorkGroup>"
    else:
        assert environment["TUNELAKE_WAREHOUSE_SECRET"] == values["SnowflakeSecretArn"]
        assert environment["DESTINATION__SNOWFLAKE__STAGE_NAME"] == "TUNELAKE.SPOTIFY.TUNELAKE_STAGE"
    # Lambda refuses more than 4 KB of environment variables (keys and values).
    assert sum(len(k) + len(str(v)) for k, v in environment.items()) < 4096


@pytest.mark.parametrize("case", DBT_CASES)
def test_transform_environment_is_dbts_profile(case: str) -> None:
    values = CASES[case]
    environment = the_function(case, TRANSFORM)["Environment"]["Variables"]
    athena = case in ATHENA_CASES
    assert set(environment) == ENV_TRANSFORM_COMMON | (ENV_TRANSFORM_ATHENA if athena else ENV_TRANSFORM_SNOWFLAKE)
    assert not {k for k in environment if k.startswith(("SOURCES__SPOTIFY__", "TUNELAKE_SPOTIFY_"))}
    assert environment["TUNELAKE__WAREHOUSE"] == environment["TUNELAKE_TARGET"] == values["Warehouse"]
    # Settings.from_config refuses athena without an s3:// raw zone.
    assert Settings(raw_zone_url=environment["TUNELAKE__RAW_ZONE_URL"], warehouse=values["Warehouse"])
    assert environment["TUNELAKE__RAW_ZONE_URL"] == f"s3://{BUCKET}/{RAW_PREFIX}"
    assert environment["RUNTIME__DLTHUB_TELEMETRY"] == "false"
    assert environment["DO_NOT_TRACK"] == "1"
    if athena:
        assert environment["ATHENA_S3_STAGING_DIR"] == f"s3://{BUCKET}/{ATHENA_RESULTS_PREFIX}/"
        assert environment["ATHENA_S3_DATA_DIR"] == f"s3://{BUCKET}/{DBT_DATA_PREFIX}/"
        assert environment["ATHENA_WORKGROUP"] == "<AthenaWorkGroup>"
        # The profile's schema, the queries' default database: one the role may read.
        database = f"arn:aws:glue:{REGION}:{ACCOUNT}:database/{environment['ATHENA_GLUE_DATABASE']}"
        assert ("glue:GetDatabase", database) in grants(role_statements(case, TRANSFORM_ROLE))
    else:
        assert environment["TUNELAKE_WAREHOUSE_SECRET"] == values["SnowflakeSecretArn"]


@pytest.mark.parametrize("case", ATHENA_CASES)
def test_athena_workgroup_writes_results_where_the_role_may(case: str) -> None:
    (workgroup,) = deployed(case).of_type("AWS::Athena::WorkGroup").values()
    configuration = workgroup["Properties"]["WorkGroupConfiguration"]
    assert configuration["ResultConfiguration"]["OutputLocation"] == f"s3://{BUCKET}/{ATHENA_RESULTS_PREFIX}/"
    assert configuration["EnforceWorkGroupConfiguration"] is True
    name = workgroup["Properties"]["Name"]
    roles = ["IngestFunctionRole"] + ([TRANSFORM_ROLE] if case in DBT_CASES else [])
    for role in roles:
        athena = {r for a, r in grants(role_statements(case, role)) if a.startswith("athena:")}
        assert athena == {f"arn:aws:athena:{REGION}:{ACCOUNT}:workgroup/{name}"}, role


def test_snowflake_deployment_has_no_athena_workgroup() -> None:
    assert not deployed("snowflake").of_type("AWS::Athena::WorkGroup")


def test_without_dbt_there_is_no_transform_resource() -> None:
    resources = deployed("athena").resources
    assert not [name for name in resources if name.startswith("Transform")]
    assert [name for name in resources if name.startswith("Ingest")]
    assert "TransformFunctionName" not in deployed("athena").outputs()
    # Everything SAM made of the transform function is left out together with it.
    made = [n for n in translated("athena-dbt")["Resources"] if n.startswith("Transform")]
    assert len(made) == 7
    assert {translated("athena-dbt")["Resources"][n].get("Condition") for n in made} == {"RunsDbt"}


@pytest.mark.parametrize(("case", "function"), FUNCTIONS)
def test_log_group_is_the_functions_with_retention(case: str, function: str) -> None:
    properties = the_function(case, function)
    log_group = deployed(case).resource(LOG_GROUPS[function])["Properties"]
    assert log_group["LogGroupName"] == f"/aws/lambda/{properties['FunctionName']}"
    retention = int(log_group["RetentionInDays"])
    assert retention == int(CASES[case].get("LogRetentionInDays", 30))
    assert properties["LoggingConfig"]["LogFormat"] == "JSON"
    assert properties["LoggingConfig"]["LogGroup"] == f"<{LOG_GROUPS[function]}>"
    assert len(properties["FunctionName"]) <= 64
    log_groups = deployed(case).of_type("AWS::Logs::LogGroup")
    assert len(log_groups) == (2 if case in DBT_CASES else 1)


@pytest.mark.parametrize(("case", "function"), FUNCTIONS)
def test_schedule_invokes_the_function(case: str, function: str) -> None:
    parameter = {FUNCTION: "ScheduleExpression", TRANSFORM: "DbtScheduleExpression"}[function]
    default = {FUNCTION: "rate(1 hour)", TRANSFORM: DBT_SCHEDULE}[function]
    assert sam_template()["Parameters"][parameter]["Default"] == default
    schedules = deployed(case).of_type("AWS::Scheduler::Schedule")
    assert len(schedules) == (3 if case in DBT_CASES else 2), "ingestion, compaction (and dbt)"
    (properties,) = [
        s["Properties"]
        for s in schedules.values()
        if s["Properties"]["Target"]["Arn"] == f"<{function}.Arn>" and "Input" not in s["Properties"]["Target"]
    ]
    assert properties["ScheduleExpression"] == CASES[case].get(parameter, default)
    assert properties.get("State", "ENABLED") == "ENABLED"
    assert properties["Name"] == the_function(case, function)["FunctionName"], "one schedule name per stack"
    role = properties["Target"]["RoleArn"].strip("<>").removesuffix(".Arn")
    assert grants(role_statements(case, role)) == {("lambda:InvokeFunction", f"<{function}.Arn>")}


@pytest.mark.parametrize("case", CASES)
def test_compaction_runs_daily_in_the_ingestion_function(case: str) -> None:
    """The handler compacts on `{"action": "compact"}`, once a day after midnight UTC, under the same lock."""
    default = sam_template()["Parameters"]["CompactScheduleExpression"]["Default"]
    minutes, hours, *every_day = default.removeprefix("cron(")[:-1].split()
    assert minutes.isdigit(), "one fixed time of day"
    assert hours == "0", "soon after the day closes"
    assert every_day == ["*", "*", "?", "*"]
    (properties,) = [
        s["Properties"]
        for s in deployed(case).of_type("AWS::Scheduler::Schedule").values()
        if "Input" in s["Properties"]["Target"]
    ]
    assert properties["Target"]["Arn"] == f"<{FUNCTION}.Arn>"
    assert json.loads(properties["Target"]["Input"]) == {"action": "compact"}
    assert properties["ScheduleExpression"] == default
    assert properties["Name"] != the_function(case)["FunctionName"], "its own schedule name"
    role = properties["Target"]["RoleArn"].strip("<>").removesuffix(".Arn")
    assert grants(role_statements(case, role)) == {("lambda:InvokeFunction", f"<{FUNCTION}.Arn>")}
    # It deletes what it replaced, in the raw zone only: never the warehouse's prefix.
    assert ("s3:DeleteObject", f"arn:aws:s3:::{BUCKET}/{RAW_PREFIX}/{DATASET}/*") in warehouse_grants(case)


def test_transform_schedule_is_daily_by_default() -> None:
    """The marts are daily; an hourly build would bill the warehouse 24 times for nothing new."""
    minutes, hours, day_of_month, month, day_of_week, year = DBT_SCHEDULE.removeprefix("cron(")[:-1].split()
    assert minutes.isdigit(), "one fixed time of day"
    assert hours.isdigit(), "one fixed time of day"
    assert (day_of_month, month, day_of_week, year) == ("*", "*", "?", "*")
    (schedule,) = [
        s["Properties"]
        for s in deployed("athena-dbt").of_type("AWS::Scheduler::Schedule").values()
        if s["Properties"]["Target"]["Arn"] == f"<{TRANSFORM}.Arn>"
    ]
    assert schedule["ScheduleExpression"] == DBT_SCHEDULE


@pytest.mark.parametrize(("case", "function"), FUNCTIONS)
def test_failed_runs_go_to_an_encrypted_queue(case: str, function: str) -> None:
    properties = of_function(case, "AWS::Lambda::EventInvokeConfig", function)
    # No retries: the ingestion resumes from its state at the next run, and a failed build would
    # mostly fail again and bill the warehouse twice.
    assert properties["MaximumRetryAttempts"] == 0
    assert properties["DestinationConfig"]["OnFailure"]["Destination"] == "<FailureQueue.Arn>"
    queue = deployed(case).resource("FailureQueue")
    assert queue["Type"] == "AWS::SQS::Queue"
    assert queue["Properties"]["SqsManagedSseEnabled"] is True


@pytest.mark.parametrize(("case", "function"), FUNCTIONS)
def test_alarm_watches_the_functions_errors(case: str, function: str) -> None:
    alarms = deployed(case).of_type("AWS::CloudWatch::Alarm")
    assert len(alarms) == (2 if case in DBT_CASES else 1)
    (properties,) = [
        a["Properties"]
        for a in alarms.values()
        if a["Properties"]["Dimensions"] == [{"Name": "FunctionName", "Value": f"<{function}>"}]
    ]
    assert (properties["Namespace"], properties["MetricName"]) == ("AWS/Lambda", "Errors")
    assert properties["Statistic"] == "Sum"
    assert properties["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
    assert properties["Threshold"] == 1
    assert properties["Period"] * properties["EvaluationPeriods"] <= 3600
    assert properties["AlarmActions"] == ["<AlarmTopic>"]
    subscriptions = deployed(case).of_type("AWS::SNS::Subscription")
    email = CASES[case].get("AlarmEmail")
    assert [s["Properties"]["Endpoint"] for s in subscriptions.values()] == ([email] if email else [])


@pytest.mark.parametrize("case", CASES)
def test_outputs_name_the_bucket_function_and_queue(case: str) -> None:
    outputs = deployed(case).outputs()
    assert outputs["RawZoneBucketName"] == BUCKET
    assert outputs["IngestFunctionName"] == f"<{FUNCTION}>"
    assert outputs["FailureQueueUrl"] == "<FailureQueue>"  # Ref of a queue is its URL
    if case in DBT_CASES:
        assert outputs["TransformFunctionName"] == f"<{TRANSFORM}>"
