"""Embedded Nomad + Consul HTTP API emulator (see docs/architecture.md, `sandbox`)."""

from .core import Sandbox

__all__ = ["Sandbox"]
