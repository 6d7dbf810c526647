"""A local stand-in for the Spotify Web API of 2026: `tunelake sandbox` or `SandboxServer`."""

from sandbox.api import TIERS, SandboxApi
from sandbox.catalog import Catalog
from sandbox.faults import FAULT_KINDS, FaultPlan
from sandbox.server import SandboxServer

__all__ = ["FAULT_KINDS", "TIERS", "Catalog", "FaultPlan", "SandboxApi", "SandboxServer"]
