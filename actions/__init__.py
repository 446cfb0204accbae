"""The only write path: ``perform(principal, action, target, reason, ticket=None) -> Outcome``.

Pages call ``perform`` (through ui/actions.py) and never a connector's write method; ``perform``
checks the policy itself, runs the guards, records the audit events and calls Nomad.
``record_access`` records reads of regulated data (task logs, raw allocation JSON).
"""

from actions.access import record_access
from actions.catalog import ACTIONS, ALLOC_RESTART, ALLOC_STOP, GROUP_ROLLING_RESTART, ROLLING_CANCEL, Action
from actions.environment import Environment, Fleet, get_environment, get_fleet
from actions.model import Outcome, Target
from actions.perform import perform

__all__ = [
    "ACTIONS",
    "ALLOC_RESTART",
    "ALLOC_STOP",
    "GROUP_ROLLING_RESTART",
    "ROLLING_CANCEL",
    "Action",
    "Environment",
    "Fleet",
    "Outcome",
    "Target",
    "get_environment",
    "get_fleet",
    "perform",
    "record_access",
]
