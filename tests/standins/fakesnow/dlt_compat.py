"""dlt's Snowflake destination, adjusted for the fakesnow 0.12 server. Tests only.

What dlt sends is valid Snowflake SQL; fakesnow's parser is narrower. The adjustments, each
undone by nothing but fakesnow's limits:

- stage locations in PUT and COPY arrive as string literals (`'@"SPOTIFY"."%TRACKS"/"1.2"'`);
  fakesnow answers "does not start with @", so they are sent bare;
- `FILE_FORMAT = (TYPE = 'PARQUET', ...)` lists options with commas, which fakesnow cannot
  parse, so they are separated by spaces (Snowflake accepts both);
- `MATCH_BY_COLUMN_NAME='CASE_INSENSITIVE'` is sent as the keyword fakesnow expects;
- one statement per request (`supports_multiple_statements=False`): fakesnow cannot run dlt's
  batched schema changes;
- every load file is parquet, dlt's state table included: fakesnow loads JSON only as a single
  VARIANT column, and matches columns by name only in parquet.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from dlt.destinations import snowflake
from dlt.destinations.impl.snowflake.snowflake import SnowflakeClient
from dlt.destinations.impl.snowflake.sql_client import SnowflakeSqlClient

from ingestion.engines.snowflake import LOAD_OPTIONS

_STAGE_LITERAL = re.compile(r"'(@[^']+)'")
_FILE_FORMAT = re.compile(r"FILE_FORMAT = \(([^)]*)\)")
_MATCH_BY_COLUMN_NAME = re.compile(r"MATCH_BY_COLUMN_NAME='(\w+)'")


def fakesnow_sql(sql: str) -> str:
    """The same statement in the subset of Snowflake SQL fakesnow parses."""
    sql = _STAGE_LITERAL.sub(r"\1", sql)
    sql = _FILE_FORMAT.sub(lambda match: f"FILE_FORMAT = ({match.group(1).replace(', ', ' ')})", sql)
    return _MATCH_BY_COLUMN_NAME.sub(r"MATCH_BY_COLUMN_NAME = \1", sql)


class FakesnowSqlClient(SnowflakeSqlClient):
    @contextmanager
    def execute_query(self, query: Any, *args: Any, **kwargs: Any) -> Iterator[Any]:
        with super().execute_query(fakesnow_sql(str(query)), *args, **kwargs) as cursor:
            yield cursor


class FakesnowClient(SnowflakeClient):
    def __init__(self, schema: Any, config: Any, capabilities: Any) -> None:
        super().__init__(schema, config, capabilities)
        self.sql_client = FakesnowSqlClient(
            self.sql_client.dataset_name,
            self.sql_client.staging_dataset_name,
            config.credentials,
            capabilities,
            config.query_tag,
        )


class fakesnow_snowflake(snowflake):  # noqa: N801 (dlt names destination factories in lower case)
    @property
    def client_class(self) -> type[SnowflakeClient]:
        return FakesnowClient


def fakesnow_destination(port: int, database: str) -> fakesnow_snowflake:
    """dlt's Snowflake destination pointed at a fakesnow server on 127.0.0.1:`port`."""
    credentials = (
        f"snowflake://tunelake:stand-in@fakesnow/{database}"
        f"?host=127.0.0.1&port={port}&protocol=http&login_timeout=10&network_timeout=60"
    )
    return fakesnow_snowflake(
        credentials=credentials,
        supports_multiple_statements=False,
        preferred_loader_file_format="parquet",
        **LOAD_OPTIONS,  # the product's own options
    )
