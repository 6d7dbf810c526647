"""Hypothesis strategies for Spotify answers: what the OpenAPI definition allows, and what Spotify sends anyway.

`answer(spec_path)` draws a JSON body for `GET spec_path` from the schema in
`shared/spotify/fixed-spotify-open-api.yml`. With `departures` (the default) it also draws the
real-world departures of `shared/API-2026.md`, "What real answers contain": any property may be
absent or null whatever the definition says, any list may hold nulls, objects carry unknown
extra fields, and text comes in any script, empty or long. Recursion stops at a fixed depth,
where an object is drawn as null or empty.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from tests.sandbox.openapi_contract import _response_pointer, load_spec

MAX_DEPTH = 6
EXTRA_FIELDS = ("primary_color", "video_thumbnail", "episode", "track", "is_playable", "audio_preview_url", "language")
ANY_JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**31), 2**31) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=6,
)
TEXT = st.text(max_size=40) | st.sampled_from(
    ["", "夜明けの歌", "Звёздный путь", "x" * 200, "0000", "1970-01-01T00:00:00Z"]
)


def _resolve(spec: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        target: Any = spec
        for part in node["$ref"].lstrip("#/").split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        node = target
    return node


def _merged(spec: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    """`allOf` parts folded into one object schema (one part: that part, `oneOf` and all)."""
    node = _resolve(spec, node)
    if "allOf" not in node:
        return node
    if len(node["allOf"]) == 1:
        return _merged(spec, node["allOf"][0])
    merged = {
        "type": "object",
        "properties": dict(node.get("properties") or {}),
        "required": list(node.get("required") or []),
    }
    for part in node["allOf"]:
        part = _merged(spec, part)
        merged["properties"].update(part.get("properties") or {})
        merged["required"] += part.get("required") or []
    return merged


def _string(node: dict[str, Any]) -> st.SearchStrategy[Any]:
    if "enum" in node:
        return st.sampled_from(node["enum"])
    if node.get("format") == "date-time":
        return st.datetimes().map(lambda moment: moment.strftime("%Y-%m-%dT%H:%M:%SZ")) | TEXT
    return TEXT


def schema(spec: dict[str, Any], node: dict[str, Any], departures: bool, depth: int = 0) -> st.SearchStrategy[Any]:
    """A strategy for values of the schema `node`; below the top, values may be null."""
    node = _merged(spec, node)
    if depth > MAX_DEPTH:
        return st.none() | st.just({})
    options = [_resolve(spec, o) for o in node.get("oneOf") or node.get("anyOf") or []]
    if options:
        base = st.one_of(*(schema(spec, o, departures, depth + 1) for o in options))
    elif node.get("type") == "object" or "properties" in node:
        properties = {
            name: schema(spec, child, departures, depth + 1) for name, child in (node.get("properties") or {}).items()
        }
        required = set(node.get("required") or [])
        if departures:
            # Spotify omits promised fields and adds fields the definition does not know.
            extra = st.dictionaries(st.sampled_from(EXTRA_FIELDS), ANY_JSON, max_size=2)
            base = st.tuples(st.fixed_dictionaries({}, optional=properties), extra).map(
                lambda drawn: {**drawn[1], **drawn[0]}
            )
        else:
            base = st.fixed_dictionaries(
                {k: v for k, v in properties.items() if k in required},
                optional={k: v for k, v in properties.items() if k not in required},
            )
    elif node.get("type") == "array":
        item = schema(spec, node.get("items") or {}, departures, depth + 1)
        base = st.lists(item, max_size=3)
        if departures:
            # Half the lists hold a null among their entries (library pages, playlist entries, batches).
            base = st.tuples(base, st.booleans(), st.integers(0, 3)).map(
                lambda drawn: [*drawn[0][: drawn[2]], None, *drawn[0][drawn[2] :]] if drawn[1] else drawn[0]
            )
    elif node.get("type") == "string":
        base = _string(node)
    elif node.get("type") == "integer":
        base = st.integers(min_value=-1, max_value=10**9)
    elif node.get("type") == "number":
        base = st.floats(allow_nan=False, allow_infinity=False)
    elif node.get("type") == "boolean":
        base = st.booleans()
    else:
        base = ANY_JSON
    if depth > 0 and (departures or node.get("nullable")):
        return st.none() | base
    return base


def answer(spec_path: str, departures: bool = True) -> st.SearchStrategy[Any]:
    """A 200 body of `GET spec_path` (e.g. `/playlists/{playlist_id}`)."""
    spec = load_spec("extended")
    pointer = _response_pointer(spec, spec_path, 200)
    node: Any = spec
    for part in pointer.lstrip("/").split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return schema(spec, node, departures)
