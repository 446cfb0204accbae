"""Embedded Nomad + Consul HTTP API emulator (see docs/architecture.md, `sandbox`)."""

from .core import Sandbox
from .multi import MultiSandbox

__all__ = ["MultiSandbox", "Sandbox"]
