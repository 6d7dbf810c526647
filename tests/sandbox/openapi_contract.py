"""Validating sandbox answers against Spotify's OpenAPI definition (test support).

`shared/spotify/fixed-spotify-open-api.yml` has no view for development-mode apps; it marks
what they lost `deprecated: true`. For the development tier the definition is rewritten so that
every deprecated property is forbidden (and no longer required): a development-tier answer that
carries `popularity` fails, as does one that lacks a required field that is still served.

The definition's `discriminator`s on `type` have no `mapping`, so a validator looks for a
schema named `track`; the mapping (`track` -> `TrackObject`, `episode` -> `EpisodeObject`) is
added, which is what the definition means.

Known deviations are tolerated where Spotify's real answers contradict its definition
(`shared/API-2026.md`, "What real answers contain"), and nothing else:
- nulls the definition does not allow at `item`/`track` (a removed track in a playlist),
  `context` (a play outside any playlist or album), `next`/`cursors` (the last page of cursor
  paging), `images`, `height`/`width` (playlist mosaics), `added_by` (editorial and old
  entries), `description`; the entries of batch answers for unknown ids and of library pages;
- the deprecated `tracks` of playlists and `track` of their entries, which the 2026 API sends
  beside `items`/`item` to every app;
- a local file (`is_local: true`), which has `id: null` and null album fields, a "ghost" track
  (empty name, duration 0, no album id), and the legacy "Starred" list, which has no id.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import yaml
from openapi_schema_validator import OAS30Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

SPEC_PATH = Path(__file__).resolve().parents[3] / "shared" / "spotify" / "fixed-spotify-open-api.yml"
SPEC_URI = "urn:spotify-openapi"
NULLABLE_IN_PRACTICE = (
    "item",
    "track",
    "context",
    "next",
    "cursors",
    "images",
    "height",
    "width",
    "added_by",
    "description",
)
# Lists whose entries can be null: batch answers for unknown ids, library pages.
NULLABLE_ENTRIES = (["tracks"], ["albums"], ["artists"], ["items"])
# Deprecated, so forbidden to development-mode apps by the definition, but sent to every app.
SENT_ANYWAY = ("tracks", "track")


def _forbid_deprecated(node: Any) -> None:
    """Forbid deprecated properties and drop them from `required`, also across `allOf` parts."""
    if isinstance(node, dict):
        parts = [node, *[p for p in node.get("allOf", []) if isinstance(p, dict)]]
        deprecated = set()
        for part in parts:
            for name, schema in (part.get("properties") or {}).items():
                if isinstance(schema, dict) and schema.get("deprecated") and name not in SENT_ANYWAY:
                    part["properties"][name] = {"not": {}}
                    deprecated.add(name)
        for part in parts:
            if deprecated and "required" in part:
                part["required"] = [r for r in part["required"] if r not in deprecated]
                if not part["required"]:
                    del part["required"]
        for value in node.values():
            _forbid_deprecated(value)
    elif isinstance(node, list):
        for value in node:
            _forbid_deprecated(value)


def _map_discriminators(node: Any) -> None:
    if isinstance(node, dict):
        discriminator = node.get("discriminator")
        if isinstance(discriminator, dict) and "mapping" not in discriminator and "oneOf" in node:
            refs = [option["$ref"] for option in node["oneOf"] if "$ref" in option]
            discriminator["mapping"] = {ref.rsplit("/", 1)[-1].removesuffix("Object").lower(): ref for ref in refs}
        for value in node.values():
            _map_discriminators(value)
    elif isinstance(node, list):
        for value in node:
            _map_discriminators(value)


@functools.cache
def load_spec(tier: str) -> dict[str, Any]:
    spec = yaml.safe_load(SPEC_PATH.read_text())
    _map_discriminators(spec)
    if tier == "development":
        _forbid_deprecated(spec["components"]["schemas"])
    return spec


def _response_pointer(spec: dict[str, Any], spec_path: str, status: int) -> str:
    """JSON pointer of the schema for `GET spec_path` answering `status`."""
    responses = spec["paths"][spec_path]["get"]["responses"]
    generic = {400: "BadRequest", 401: "Unauthorized", 403: "Forbidden", 404: "NotFound", 429: "TooManyRequests"}
    response = responses.get(str(status)) or {"$ref": f"#/components/responses/{generic[status]}"}
    if "$ref" in response:
        return response["$ref"].lstrip("#") + "/content/application~1json/schema"
    escaped = spec_path.replace("~", "~0").replace("/", "~1")
    return f"/paths/{escaped}/get/responses/{status}/content/application~1json/schema"


def _exempt(node: Any) -> bool:
    """A local file, a ghost track or the legacy "Starred" list: real, and outside the definition."""
    if not isinstance(node, dict):
        return False
    ghost = node.get("type") == "track" and node.get("name") == "" and node.get("duration_ms") == 0
    starred = str(node.get("uri") or "").endswith(":starred")
    return node.get("is_local") is True or ghost or starred


def _tolerated(instance: Any, path: list[Any]) -> bool:
    """At a null Spotify really sends (`NULLABLE_IN_PRACTICE`) or inside an exempt object."""
    node = instance
    for position, step in enumerate(path):
        if _exempt(node):
            return True
        try:
            node = node[step]
        except (KeyError, IndexError, TypeError):
            return False
        last = position == len(path) - 1
        entry = isinstance(step, int) and path[:1] in NULLABLE_ENTRIES
        if node is None and last and (step in NULLABLE_IN_PRACTICE or entry):
            return True
    return _exempt(node)


def contract_errors(tier: str, spec_path: str, status: int, body: Any) -> list[str]:
    """Messages of every way `body` breaks the definition (empty when it conforms)."""
    spec = load_spec(tier)
    registry = Registry().with_resource(SPEC_URI, Resource.from_contents(spec, default_specification=DRAFT4))
    pointer = _response_pointer(spec, spec_path, status)
    validator = OAS30Validator({"$ref": f"{SPEC_URI}#{pointer}"}, registry=registry)
    return [
        f"{'/'.join(map(str, error.absolute_path)) or '<root>'}: {error.message[:200]}"
        for error in validator.iter_errors(body)
        if not _tolerated(body, list(error.absolute_path))
    ]
