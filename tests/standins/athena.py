"""An Athena-API front on 127.0.0.1 that runs each statement on the Trino stand-in.

Athena is two services behind one API: Hive DDL (external tables, `TBLPROPERTIES`, `ADD
COLUMNS`) written to Glue by Athena itself, and everything else executed by its Trino engine.
This front answers the Athena calls boto3 makes for pyathena (dlt's athena destination) and
dbt-athena, and does the same split: Hive DDL for tables that are not Iceberg becomes Glue calls
on moto, every other statement goes to Trino (tests/standins/trino.py) after the rewrites below,
each a difference between Athena's SQL and Trino's that dbt-athena or dlt really sends:

| Athena sends                                             | Trino gets                                        |
|----------------------------------------------------------|---------------------------------------------------|
| `` `schema`.`table` `` (Hive DDL quoting)                | `"schema"."table"`                                |
| `CREATE DATABASE` / `DROP DATABASE` (Hive DDL)           | `CREATE SCHEMA` / `DROP SCHEMA`                   |
| `CREATE EXTERNAL TABLE t (c hive_type) STORED AS PARQUET | nothing: a Glue table over the folder, as Athena  |
| LOCATION 's3://...'`                                     | makes it; Trino reads it through its `hive`       |
|                                                          | catalog (Iceberg-to-Hive table redirection)       |
| `CREATE TABLE t (c hive_type) LOCATION '...'             | `CREATE TABLE t (c trino_type) WITH (location =   |
| TBLPROPERTIES ('table_type'='ICEBERG', 'format'=...)`    | '...', format = 'PARQUET')`                       |
| `ALTER TABLE t ADD COLUMNS (c hive_type, ...)`           | one `ALTER TABLE t ADD COLUMN c trino_type` each  |
| CTAS `WITH (table_type='iceberg', is_external=false,     | the same CTAS without the properties Trino's      |
| ...)`                                                    | Iceberg connector does not have                   |
| CTAS `WITH (table_type='hive', external_location='...',  | an Iceberg CTAS at that location: Trino's Hive    |
| partitioned_by=ARRAY[...])` (dbt's temporary tables)     | connector writes column statistics to Glue, which |
|                                                          | moto lacks (`Failed updating column statistics`)  |
| Hive types: `string`, `int`, `float`, `timestamp`,       | `varchar`, `integer`, `real`, `timestamp(6)`,     |
| `binary`, `array<t>`, `map<k,v>`, `struct<a:t>`          | `varbinary`, `array(t)`, `map(k,v)`, `row(a t)`   |

Glue entries Athena writes differently from Trino, and dbt-athena reads:

- a view's columns (with Hive types) in its StorageDescriptor, in every table version: Trino
  writes none, and dbt-athena reads them, and old versions' locations when it expires them
  (`_complete_glue_entry`);
- a view whose `comment` parameter dbt-athena's persist_docs replaced with its description:
  Athena reads it, Trino 476 then answers "Not an Iceberg table"; the front puts `Presto View`
  back and runs the statement again (`_restore_view_marker`).

Anything else it does not know fails the query with a message naming the front, never silently.
Statements dlt and dbt-athena did not send for this project (`SET TBLPROPERTIES`, partitioned
Hive DDL) are not translated; `ALTER TABLE ... ADD COLUMNS` is, but no test run needed it yet.

What it cannot prove: Athena's own engine differences from Trino, its query result files in S3
(results come back through GetQueryResults only), workgroup limits, Lake Formation and IAM.
"""

from __future__ import annotations

import json
import re
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.standins import moto
from tests.standins.trino import TrinoServer

WORK_GROUP = "primary"
ENGINE_VERSION = {"SelectedEngineVersion": "AUTO", "EffectiveEngineVersion": "Athena engine version 3"}
# How long StartQueryExecution waits for the statement to end before it answers.
FIRST_ANSWER_SECONDS = 2.0
# GetQueryResults answers at most this many rows a page, as Athena does.
PAGE_ROWS = 1000
# Athena's Hive parquet table, as `CREATE EXTERNAL TABLE ... STORED AS PARQUET` writes it to Glue.
PARQUET_STORAGE = {
    "InputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
    "OutputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat",
    "SerdeInfo": {
        "SerializationLibrary": "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe",
        "Parameters": {"serialization.format": "1"},
    },
}

NOT_ICEBERG = re.compile(r"Not an Iceberg table: (?P<schema>\w+)\.(?P<name>\w+)")
# The `comment` parameter by which Trino knows a Glue view as its own.
VIEW_MARKER = "Presto View"
# A view's Glue entry as Athena writes it: columns (filled in) and no files.
VIEW_STORAGE = {"Location": "", "InputFormat": "", "OutputFormat": "", "SerdeInfo": {}}
# The keys of a Glue Table that UpdateTable's TableInput takes back.
TABLE_INPUT_KEYS = {
    "Name",
    "Description",
    "Owner",
    "Retention",
    "StorageDescriptor",
    "PartitionKeys",
    "ViewOriginalText",
    "ViewExpandedText",
    "TableType",
    "Parameters",
    "TargetTable",
}


class FrontError(Exception):
    """A statement the front does not translate: the query fails with this message."""


# ---------------------------------------------------------------------------------------------
# Statement rewrites
# ---------------------------------------------------------------------------------------------

NAME = r'(?:`[^`]+`|"[^"]+"|\w+)'
QUALIFIED = rf"{NAME}(?:\s*\.\s*{NAME}){{0,2}}"
CREATE_EXTERNAL = re.compile(
    rf"^CREATE\s+EXTERNAL\s+TABLE\s+(?P<if>IF\s+NOT\s+EXISTS\s+)?(?P<table>{QUALIFIED})\s*\((?P<columns>.*?)\)\s*"
    r"STORED\s+AS\s+PARQUET\s+LOCATION\s+'(?P<location>[^']+)'\s*$",
    re.IGNORECASE | re.DOTALL,
)
CREATE_ICEBERG = re.compile(
    rf"^CREATE\s+TABLE\s+(?P<if>IF\s+NOT\s+EXISTS\s+)?(?P<table>{QUALIFIED})\s*\((?P<columns>.*?)\)\s*"
    r"(?P<partitioned>PARTITIONED\s+BY\s*\(.*?\)\s*)?"
    r"LOCATION\s+'(?P<location>[^']+)'\s*TBLPROPERTIES\s*\((?P<properties>[^)]*)\)\s*$",
    re.IGNORECASE | re.DOTALL,
)
ADD_COLUMNS = re.compile(
    rf"^ALTER\s+TABLE\s+(?P<table>{QUALIFIED})\s+ADD\s+COLUMNS\s*\((?P<columns>.*)\)\s*$", re.IGNORECASE | re.DOTALL
)
DATABASE = re.compile(r"^(CREATE|DROP)\s+DATABASE\b", re.IGNORECASE)
CREATE_VIEW = re.compile(rf"^CREATE\s+(?:OR\s+REPLACE\s+)?VIEW\s+(?P<view>{QUALIFIED})\s", re.IGNORECASE)
CTAS_PROPERTIES = re.compile(r"^(?P<head>CREATE\s+TABLE\s+\S+\s+)WITH\s*\(", re.IGNORECASE)
# Table properties of Athena's CTAS that Trino's Iceberg connector does not have (the table is
# Iceberg already: it is in the Iceberg catalog).
ATHENA_ONLY_PROPERTIES = {"table_type", "is_external"}
HIVE_TYPES = {
    "string": "varchar",
    "int": "integer",
    "float": "real",
    "binary": "varbinary",
    # Athena's Iceberg and Hive timestamps are microseconds; Trino's bare `timestamp` is milliseconds.
    "timestamp": "timestamp(6)",
}
COMMENTS = re.compile(r"^\s*(?:--[^\n]*\n\s*|/\*.*?\*/\s*)*", re.DOTALL)


def strip_leading_comments(statement: str) -> str:
    return COMMENTS.sub("", statement, count=1).strip().rstrip(";").strip()


def unquote(name: str) -> str:
    return name.strip().strip('`"')


def split_name(qualified: str) -> list[str]:
    return [unquote(part) for part in re.findall(NAME, qualified)]


def quote_backticks(statement: str) -> str:
    """`` `a`.`b` `` as `"a"."b"`, outside string literals: Hive DDL quoting, which Trino lacks."""
    parts = re.split(r"('(?:[^']|'')*')", statement)
    return "".join(part if part.startswith("'") else re.sub(r"`([^`]*)`", r'"\1"', part) for part in parts)


def split_top_level(text: str, separator: str = ",") -> list[str]:
    """`text` split at `separator` outside (), <> and quotes."""
    parts, depth, quote, current = [], 0, "", []
    for char in text:
        if quote:
            quote = "" if char == quote else quote
        elif char in "'`\"":
            quote = char
        elif char in "(<":
            depth += 1
        elif char in ")>":
            depth -= 1
        elif char == separator and depth == 0:
            parts.append("".join(current).strip())
            current = []
            continue
        current.append(char)
    if "".join(current).strip():
        parts.append("".join(current).strip())
    return parts


def trino_type(hive: str) -> str:
    """A Hive column type as Trino writes it: `array<struct<a:string>>` is `array(row(a varchar))`."""
    hive = hive.strip()
    lowered = hive.lower()
    if lowered.startswith("array<") and lowered.endswith(">"):
        return f"array({trino_type(hive[6:-1])})"
    if lowered.startswith("map<") and lowered.endswith(">"):
        key, value = split_top_level(hive[4:-1])
        return f"map({trino_type(key)}, {trino_type(value)})"
    if lowered.startswith("struct<") and lowered.endswith(">"):
        fields = (split_top_level(field, ":") for field in split_top_level(hive[7:-1]))
        return "row(" + ", ".join(f'"{unquote(name)}" {trino_type(kind)}' for name, kind in fields) + ")"
    return HIVE_TYPES.get(lowered, lowered)


def hive_type(trino: str) -> str:
    """A Trino column type as Athena writes it to Glue: `array(row(a varchar))` is `array<struct<a:string>>`."""
    trino = trino.strip()
    lowered = trino.lower()
    if lowered.startswith("array(") and lowered.endswith(")"):
        return f"array<{hive_type(trino[6:-1])}>"
    if lowered.startswith("map(") and lowered.endswith(")"):
        key, value = split_top_level(trino[4:-1])
        return f"map<{hive_type(key)},{hive_type(value)}>"
    if lowered.startswith("row(") and lowered.endswith(")"):
        fields = (field.strip().split(maxsplit=1) for field in split_top_level(trino[4:-1]))
        return "struct<" + ",".join(f"{unquote(name)}:{hive_type(kind)}" for name, kind in fields) + ">"
    if lowered.startswith("timestamp"):
        return "timestamp"
    return {"varchar": "string", "integer": "int", "real": "float", "varbinary": "binary"}.get(lowered, lowered)


def hive_columns(columns: str) -> list[tuple[str, str]]:
    """`` `a` string, `b` array<int> `` as `[("a", "string"), ("b", "array<int>")]`."""
    found = []
    for column in split_top_level(columns):
        match = re.match(rf"^({NAME})\s+(.+?)(?:\s+COMMENT\s+'.*')?$", column, re.IGNORECASE | re.DOTALL)
        if not match:
            raise FrontError(f"the Athena front does not understand the column definition {column!r}")
        found.append((unquote(match[1]), match[2].strip()))
    return found


def table_properties(text: str) -> dict[str, str]:
    return {key.lower(): value for key, value in re.findall(r"'([^']+)'\s*=\s*'([^']*)'", text)}


@dataclass
class Plan:
    """What one Athena statement becomes: Trino statements, or a Glue table to create."""

    trino: list[str] = field(default_factory=list)
    # The name, the TableInput and whether the table may exist already (IF NOT EXISTS).
    glue_table: tuple[list[str], dict[str, Any], bool] | None = None


def translate(statement: str) -> Plan:
    """The Trino statements (or Glue call) that do what Athena does for `statement`."""
    sql = strip_leading_comments(statement)
    if match := CREATE_EXTERNAL.match(sql):
        # Athena's Hive DDL: a Glue entry and nothing else; the parquet files are already there.
        name = split_name(match["table"])
        columns = [{"Name": column, "Type": kind} for column, kind in hive_columns(match["columns"])]
        storage = {"Columns": columns, "Location": match["location"], **PARQUET_STORAGE}
        table = {"TableType": "EXTERNAL_TABLE", "Parameters": {"EXTERNAL": "TRUE"}, "StorageDescriptor": storage}
        return Plan(glue_table=(name, table, bool(match["if"])))
    if match := CREATE_ICEBERG.match(sql):
        properties = table_properties(match["properties"])
        if properties.pop("table_type", "").lower() != "iceberg" or match["partitioned"]:
            raise FrontError(f"the Athena front translates Iceberg CREATE TABLE without partitions only: {sql[:200]}")
        columns = ", ".join(f'"{name}" {trino_type(kind)}' for name, kind in hive_columns(match["columns"]))
        options = [f"location = '{match['location']}'", f"format = '{properties.pop('format', 'parquet').upper()}'"]
        if properties:
            raise FrontError(f"the Athena front does not translate the table properties {properties}")
        table = f"{match['if'] or ''}{quote_backticks(match['table'])}"
        return Plan([f"CREATE TABLE {table} ({columns}) WITH ({', '.join(options)})"])
    if match := ADD_COLUMNS.match(sql):
        table = quote_backticks(match["table"])
        return Plan(
            [
                f'ALTER TABLE {table} ADD COLUMN "{name}" {trino_type(kind)}'
                for name, kind in hive_columns(match["columns"])
            ]
        )
    sql = DATABASE.sub(r"\1 SCHEMA", quote_backticks(sql))
    if match := CTAS_PROPERTIES.match(sql):
        start = match.end()
        depth, end = 1, start
        while depth:
            depth += {"(": 1, ")": -1}.get(sql[end], 0)
            end += 1
        options = dict(option.split("=", 1) for option in split_top_level(sql[start : end - 1]))
        options = {key.strip().lower(): value.strip() for key, value in options.items()}
        if options.pop("table_type", "'iceberg'").strip("'").lower() == "hive":
            # A Hive CTAS (dbt-athena's unit-test and temporary tables) is made an Iceberg table at
            # the same location: Trino's Hive connector writes column statistics to Glue on every
            # write, an API moto does not have. Readers see the same rows either way.
            options["location"] = options.pop("external_location")
            if partitioned := options.pop("partitioned_by", None):
                options["partitioning"] = partitioned
        kept = [f"{key} = {value}" for key, value in options.items() if key not in ATHENA_ONLY_PROPERTIES]
        sql = f"{match['head']}WITH ({', '.join(kept)}){sql[end:]}"
    return Plan([sql])


# ---------------------------------------------------------------------------------------------
# Statement kinds and result sets, as Athena reports them
# ---------------------------------------------------------------------------------------------


def statement_kind(statement: str) -> tuple[str, str]:
    """Athena's (StatementType, SubstatementType): DDL results are plain text, DML ones have a header row."""
    words = strip_leading_comments(statement).upper().split()
    first = words[0] if words else ""
    if first in {"SELECT", "WITH", "VALUES", "TABLE"}:
        return "DML", "SELECT"
    if first in {"INSERT", "DELETE", "UPDATE", "MERGE"}:
        return "DML", first
    if first == "EXPLAIN":
        return "UTILITY", "EXPLAIN"
    if first == "CREATE" and " AS " in f" {' '.join(words)} " and "VIEW" not in words[:4]:
        return "DDL", "CREATE_TABLE_AS_SELECT"
    # Athena's names: CREATE_VIEW for `create or replace view`, CREATE_TABLE for `create external table`.
    named = [word for word in words if word not in {"OR", "REPLACE", "EXTERNAL", "IF", "NOT", "EXISTS"}]
    return "DDL", "_".join(named[:2]) if named else "UNKNOWN"


# Athena's ColumnInfo always has a precision (readers such as dlt index it); these are its values.
PRECISIONS = {"varchar": 2147483647, "bigint": 19, "integer": 10, "smallint": 5, "tinyint": 3, "double": 17, "real": 17}


def column_info(name: str, trino_type_name: str) -> dict[str, Any]:
    """Athena's ColumnInfo for a Trino column type (`decimal(38,9)` is type `decimal`, precision 38)."""
    base = re.sub(r"\(.*?\)", "", trino_type_name).strip()
    precision, scale = PRECISIONS.get(base, 0), 0
    if numbers := re.match(r"^\w+\((\d+)(?:,\s*(\d+))?\)", trino_type_name):
        precision, scale = int(numbers[1]), int(numbers[2] or 0)
    return {
        "CatalogName": "hive",
        "Name": name,
        "Label": name,
        "Type": base,
        "Precision": precision,
        "Scale": scale,
        "Nullable": "UNKNOWN",
        "CaseSensitive": base == "varchar",
    }


def as_text(value: Any) -> dict[str, str]:
    """One cell as GetQueryResults has it: text in `VarCharValue`, no key for NULL."""
    if value is None:
        return {}
    if isinstance(value, bool):
        return {"VarCharValue": "true" if value else "false"}
    if isinstance(value, list | dict):
        return {"VarCharValue": json.dumps(value)}
    return {"VarCharValue": str(value)}


# ---------------------------------------------------------------------------------------------
# Query executions
# ---------------------------------------------------------------------------------------------


@dataclass
class Execution:
    id: str
    query: str
    context: dict[str, str]
    output_location: str
    work_group: str
    statement_type: str
    substatement_type: str
    submitted: float = field(default_factory=time.time)
    state: str = "QUEUED"
    reason: str | None = None
    completed: float | None = None
    columns: list[dict[str, Any]] = field(default_factory=list)
    rows: list[list[dict[str, str]]] = field(default_factory=list)
    update_count: int | None = None
    cursor: Any = None
    finished: threading.Event = field(default_factory=threading.Event)

    def describe(self) -> dict[str, Any]:
        status: dict[str, Any] = {"State": self.state, "SubmissionDateTime": self.submitted}
        if self.completed:
            status["CompletionDateTime"] = self.completed
        if self.reason:
            status["StateChangeReason"] = self.reason
            # ErrorCategory 2 is "user": not retried by dbt-athena or pyathena.
            status["AthenaError"] = {
                "ErrorCategory": 2,
                "ErrorType": 1300,
                "Retryable": False,
                "ErrorMessage": self.reason,
            }
        elapsed = int(((self.completed or time.time()) - self.submitted) * 1000)
        return {
            "QueryExecutionId": self.id,
            "Query": self.query,
            "StatementType": self.statement_type,
            "SubstatementType": self.substatement_type,
            "ResultConfiguration": {"OutputLocation": f"{self.output_location.rstrip('/')}/{self.id}.csv"},
            "QueryExecutionContext": self.context,
            "Status": status,
            "Statistics": {
                "EngineExecutionTimeInMillis": elapsed,
                "DataScannedInBytes": 0,
                "TotalExecutionTimeInMillis": elapsed,
            },
            "WorkGroup": self.work_group,
            "EngineVersion": ENGINE_VERSION,
        }


# The Athena calls pyathena, dlt and dbt-athena make, and the method answering each.
OPERATIONS = {
    "GetWorkGroup": "get_work_group",
    "StartQueryExecution": "start_query_execution",
    "GetQueryExecution": "get_query_execution",
    "StopQueryExecution": "stop_query_execution",
    "GetQueryResults": "get_query_results",
}


class AthenaFront:
    """The Athena API over Trino and moto's Glue; `handle` answers one JSON call."""

    url = ""

    def __init__(self, trino: TrinoServer, query_seconds: float) -> None:
        self.trino = trino
        self.query_seconds = query_seconds
        self.glue = moto.client("glue", trino.moto_endpoint)
        self.executions: dict[str, Execution] = {}
        self.statements: list[tuple[str, list[str]]] = []
        self.lock = threading.Lock()

    def environment(self) -> dict[str, str]:
        """What a user of the athena engine and dbt target sets, pointed at this front.

        boto3 takes `AWS_ENDPOINT_URL_ATHENA` for Athena alone (dbt-athena), so Glue, S3 and STS
        stay on moto; dlt hands its athena credentials' `endpoint_url` to pyathena instead.
        """
        bucket = self.trino.bucket
        return {
            **moto.aws_environment(self.trino.moto_endpoint),
            "AWS_ENDPOINT_URL_ATHENA": self.url,
            "DESTINATION__ATHENA__CREDENTIALS__ENDPOINT_URL": self.url,
            "DESTINATION__ATHENA__QUERY_RESULT_BUCKET": f"s3://{bucket}/athena-results/dlt/",
            "ATHENA_S3_STAGING_DIR": f"s3://{bucket}/athena-results/dbt/",
            "ATHENA_S3_DATA_DIR": f"s3://{bucket}/athena-tables/",
        }

    def drop_schemas(self, *schemas: str) -> None:
        """Drop `schemas` and what they hold, as a test's cleanup: Trino drops the Iceberg tables
        (and their files); Glue the rest, which Trino's Iceberg catalog refuses to drop in a
        cascade: Hive tables over staged parquet, views whose `comment` dbt-athena rewrote."""
        for schema in schemas:
            try:
                tables = self.glue.get_tables(DatabaseName=schema)["TableList"]
            except self.glue.exceptions.EntityNotFoundException:
                continue
            for table in tables:
                if table.get("Parameters", {}).get("table_type", "").upper() != "ICEBERG":
                    self.glue.delete_table(DatabaseName=schema, Name=table["Name"])
            self.trino.sql(f'drop schema if exists "{schema}" cascade')

    def executed(self, kind: str) -> list[str]:
        """The statements Trino ran whose first word is `kind` (`merge`, `create`), as it got them."""
        executed = [strip_leading_comments(t) for _, statements in list(self.statements) for t in statements]
        return [t for t in executed if t.split(None, 1)[0].lower() == kind]

    def handle(self, operation: str, request: dict[str, Any]) -> dict[str, Any]:
        method = getattr(self, OPERATIONS.get(operation, ""), None)
        if method is None:
            raise FrontError(f"the Athena front does not implement {operation}")
        return method(request)

    def get_work_group(self, request: dict[str, Any]) -> dict[str, Any]:
        # No OutputLocation and nothing enforced: clients use their own s3_staging_dir.
        configuration = {"EnforceWorkGroupConfiguration": False, "EngineVersion": ENGINE_VERSION}
        return {"WorkGroup": {"Name": request["WorkGroup"], "State": "ENABLED", "Configuration": configuration}}

    def start_query_execution(self, request: dict[str, Any]) -> dict[str, Any]:
        query = request["QueryString"]
        execution = Execution(
            id=str(uuid.uuid4()),
            query=query,
            context=request.get("QueryExecutionContext", {}),
            output_location=request.get("ResultConfiguration", {}).get("OutputLocation", "s3://athena-front/results/"),
            work_group=request.get("WorkGroup", WORK_GROUP),
            statement_type=statement_kind(query)[0],
            substatement_type=statement_kind(query)[1],
        )
        with self.lock:
            self.executions[execution.id] = execution
        threading.Thread(target=self._run, args=(execution,), daemon=True, name=f"athena-{execution.id}").start()
        # Athena answers at once; waiting for a short statement to end first spares the client
        # its first poll (dbt-athena and pyathena sleep a second between polls).
        execution.finished.wait(FIRST_ANSWER_SECONDS)
        return {"QueryExecutionId": execution.id}

    def get_query_execution(self, request: dict[str, Any]) -> dict[str, Any]:
        return {"QueryExecution": self._execution(request).describe()}

    def stop_query_execution(self, request: dict[str, Any]) -> dict[str, Any]:
        execution = self._execution(request)
        if execution.state in {"QUEUED", "RUNNING"}:
            execution.state, execution.completed = "CANCELLED", time.time()
            if execution.cursor is not None:
                execution.cursor.cancel()
        return {}

    def get_query_results(self, request: dict[str, Any]) -> dict[str, Any]:
        execution = self._execution(request)
        if execution.state != "SUCCEEDED":
            raise FrontError(f"Query has not yet finished. Current state: {execution.state}")
        header = [{"Data": [{"VarCharValue": c["Name"]} for c in execution.columns]}]
        # A SELECT's first page starts with the column names, as Athena's does; DDL output is plain text.
        rows = (header if execution.statement_type == "DML" and execution.columns else []) + [
            {"Data": row} for row in execution.rows
        ]
        start = int(request.get("NextToken") or 0)
        size = min(int(request.get("MaxResults") or PAGE_ROWS), PAGE_ROWS)
        answer: dict[str, Any] = {
            "ResultSet": {"Rows": rows[start : start + size], "ResultSetMetadata": {"ColumnInfo": execution.columns}}
        }
        if start + size < len(rows):
            answer["NextToken"] = str(start + size)
        if execution.update_count is not None:
            answer["UpdateCount"] = execution.update_count
        return answer

    def _execution(self, request: dict[str, Any]) -> Execution:
        try:
            return self.executions[request["QueryExecutionId"]]
        except KeyError:
            raise FrontError(f"QueryExecution {request.get('QueryExecutionId')} was not found") from None

    def _run(self, execution: Execution) -> None:
        import trino.exceptions

        execution.state = "RUNNING"
        try:
            plan = translate(execution.query)
            with self.lock:
                self.statements.append((execution.query, plan.trino))
            if plan.glue_table:
                self._create_glue_table(*plan.glue_table)
            for statement in plan.trino:
                try:
                    self._run_on_trino(execution, statement)
                except trino.exceptions.TrinoQueryError as error:
                    if not self._restore_view_marker(error):
                        raise
                    self._run_on_trino(execution, statement)
            self._complete_glue_entry(execution.query)
        except trino.exceptions.TrinoQueryError as error:
            # Athena's reason starts with the engine's error name: `TABLE_NOT_FOUND: line 1:15: ...`.
            self._fail(execution, f"{error.error_name}: {error.message}")
        except (FrontError, trino.exceptions.TrinoConnectionError) as error:
            self._fail(execution, str(error))
        except Exception as error:
            execution.state, execution.reason = "FAILED", f"the Athena front failed: {error!r}"
        else:
            if execution.state != "CANCELLED":
                execution.state = "SUCCEEDED"
        execution.completed = time.time()
        execution.finished.set()

    @staticmethod
    def _fail(execution: Execution, reason: str) -> None:
        if execution.state != "CANCELLED":
            execution.state, execution.reason = "FAILED", reason

    def _run_on_trino(self, execution: Execution, statement: str) -> None:
        schema = execution.context.get("Database")
        # Athena sessions run in UTC; Trino ends a statement that runs longer than query_seconds.
        connection = self.trino.connect(
            schema=schema,
            legacy_primitive_types=True,
            timezone="UTC",
            request_timeout=self.query_seconds,
            session_properties={"query_max_run_time": f"{int(self.query_seconds)}s"},
        )
        try:
            cursor = execution.cursor = connection.cursor()
            cursor.execute(statement)
            rows = cursor.fetchall()
            if cursor.update_type:
                execution.update_count = (execution.update_count or 0) + (
                    cursor.rowcount if cursor.rowcount >= 0 else 0
                )
                execution.columns, execution.rows = [], []
            else:
                execution.columns = [column_info(d[0], d[1]) for d in cursor.description or []]
                execution.rows = [[as_text(value) for value in row] for row in rows]
        finally:
            connection.close()

    def _create_glue_table(self, name: list[str], table: dict[str, Any], if_not_exists: bool) -> None:
        *_, database, table_name = name
        try:
            self.glue.create_table(DatabaseName=database, TableInput={"Name": table_name, **table})
        except self.glue.exceptions.AlreadyExistsException:
            if not if_not_exists:
                raise FrontError(f"AlreadyExistsException: Table {database}.{table_name} already exists") from None

    def _restore_view_marker(self, error: Any) -> bool:
        """Make a view Trino refuses readable again; whether there was one to repair.

        dbt-athena's persist_docs writes a view's description into its Glue parameter `comment`.
        Athena reads such views; Trino 476 recognises a Glue view as its own only while that
        parameter is `Presto View`, and answers "Not an Iceberg table" otherwise. The description
        stays in the entry's `Description`, which dbt-athena writes too.
        """
        match = NOT_ICEBERG.search(error.message or "")
        if error.error_name != "UNSUPPORTED_TABLE_TYPE" or not match:
            return False
        table = self.glue.get_table(DatabaseName=match["schema"], Name=match["name"])["Table"]
        parameters = table.get("Parameters", {})
        if table.get("TableType") != "VIRTUAL_VIEW" or parameters.get("comment") == VIEW_MARKER:
            return False
        entry = {key: value for key, value in table.items() if key in TABLE_INPUT_KEYS}
        entry["Parameters"] = {**parameters, "comment": VIEW_MARKER}
        self.glue.update_table(DatabaseName=match["schema"], TableInput=entry)
        return True

    def _complete_glue_entry(self, statement: str) -> None:
        """Fill what Athena writes to Glue and Trino does not: the columns of a view, in every version.

        Athena stores a view's columns, with Hive types, in the StorageDescriptor of its Glue
        entry, and dbt-athena reads them there (`get_columns_in_relation`, persist_docs, the
        catalog); Trino keeps them only inside the encoded view text and writes no
        StorageDescriptor at all.
        """
        match = CREATE_VIEW.match(quote_backticks(strip_leading_comments(statement)))
        if not match:
            return
        *_, database, view = split_name(match["view"])
        rows = self.trino.sql(
            "select column_name, data_type from information_schema.columns"
            f" where table_schema = '{database}' and table_name = '{view}' order by ordinal_position"
        )
        table = self.glue.get_table(DatabaseName=database, Name=view)["Table"]
        entry = {key: value for key, value in table.items() if key in TABLE_INPUT_KEYS}
        entry["StorageDescriptor"] = {
            **VIEW_STORAGE,
            **table.get("StorageDescriptor", {}),
            "Columns": [{"Name": name, "Type": hive_type(kind)} for name, kind in rows],
        }
        self.glue.update_table(DatabaseName=database, TableInput=entry)
        # Every version Athena leaves has one too: dbt-athena reads the location of old versions
        # when it expires them (`versions_to_keep`).
        for version in self.glue.get_table_versions(DatabaseName=database, TableName=view)["TableVersions"]:
            if "StorageDescriptor" not in version["Table"]:
                self.glue.delete_table_version(DatabaseName=database, TableName=view, VersionId=version["VersionId"])


class _Handler(BaseHTTPRequestHandler):
    front: AthenaFront

    def do_POST(self) -> None:
        operation = self.headers.get("X-Amz-Target", "").rpartition(".")[2]
        request = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
        try:
            status, answer = 200, self.front.handle(operation, request)
        except FrontError as error:
            status, answer = 400, {"__type": "InvalidRequestException", "Message": str(error)}
        body = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/x-amz-json-1.1")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - http.server's signature
        pass


@contextmanager
def athena_front(trino: TrinoServer, query_seconds: float = 300) -> Iterator[AthenaFront]:
    """Serve the Athena API for `trino` on a free port of 127.0.0.1 until the block ends.

    Args:
        trino: The running Trino stand-in that executes the statements.
        query_seconds: How long one statement may run on Trino before it fails.

    Yields:
        The front; `front.environment()` points boto3, dlt and dbt-athena at it.
    """
    front = AthenaFront(trino, query_seconds)
    handler = type("Handler", (_Handler,), {"front": front})
    server = ThreadingHTTPServer(("127.0.0.1", moto.free_port()), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True, name="athena-front")
    thread.start()
    try:
        front.url = f"http://127.0.0.1:{server.server_address[1]}"
        yield front
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
