"""The only code that talks to Nomad and Consul (wraps python-nomad and py-consul).

    from connectors import settings, NomadConnector, ConsulConnector, Listing
    cluster = settings.load()
    nomad = NomadConnector(cluster.nomad)
    jobs = nomad.list_jobs()            # Listing(data=[...], index=123)

Every method takes `token=` (wins over the configured token) and raises only
`connectors.errors.ConnectorError` subclasses.
"""

from . import errors, settings
from ._common import Listing
from .consul import ConsulConnector
from .errors import BadResponse, ConnectorError, Forbidden, InvalidInput, NotFound, TimedOut, Unavailable
from .logframes import decode_frames
from .nomad import NomadConnector
from .settings import ClusterSettings, ConsulSettings, NomadSettings, load

__all__ = [
    "BadResponse",
    "ClusterSettings",
    "ConnectorError",
    "ConsulConnector",
    "ConsulSettings",
    "Forbidden",
    "InvalidInput",
    "Listing",
    "NomadConnector",
    "NomadSettings",
    "NotFound",
    "TimedOut",
    "Unavailable",
    "decode_frames",
    "errors",
    "load",
    "settings",
]
