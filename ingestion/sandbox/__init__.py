"""A local stand-in for the Spotify Web API of 2026: `tunelake sandbox` or `SandboxServer`."""

from ingestion.sandbox.api import TIERS, SandboxApi
from ingestion.sandbox.catalog import Catalog
from ingestion.sandbox.server import SandboxServer

__all__ = ["TIERS", "Catalog", "SandboxApi", "SandboxServer"]
