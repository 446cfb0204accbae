"""Pure plotly figure builders: DataFrame (from ``views``) -> ``go.Figure``. No streamlit.

Colours and icons come from ``views.status`` (re-exported as ``charts.palette``),
so a status looks the same in every chart and table.

* ``client_status_counts(clients, kind="bar" | "donut")``
* ``activity_timeline(task_events, deployments, client=None, since=None)``
* ``deployments_over_time(deployments, freq="W")``
* ``deployment_success_rate(deployments, freq="W")``
"""

from .activity import activity_timeline
from .deployments import deployment_success_rate, deployments_over_time
from .status import client_status_counts

__all__ = ["client_status_counts", "activity_timeline", "deployments_over_time", "deployment_success_rate"]
