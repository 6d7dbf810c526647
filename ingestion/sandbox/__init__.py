"""A local stand-in for the Spotify Web API of 2026: `tunelake sandbox` or `SandboxServer`."""

from ingestion.sandbox.api import TIERS, SandboxApi
from ingestion.sandbox.catalog import Catalog
from ingestion.sandbox.faults import FAULT_KINDS, FaultPlan
from ingestion.sandbox.server import SandboxServer

__all__ = ["FAULT_KINDS", "TIERS", "Catalog", "FaultPlan", "SandboxApi", "SandboxServer"]
