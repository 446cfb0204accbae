"""Pure plotly figure builders: DataFrame (from ``views``) -> ``go.Figure``. No streamlit.

Colours and icons come from ``views.status`` (re-exported as ``charts.palette``),
so a status looks the same in every chart and table. (Client counts by status are the health
page's tiles, from ``ui.tables.status_counts``; there is no chart for them.)

* ``activity_timeline(task_events, deployments, client=None, since=None)``
* ``deploy_history``: the Deployments page's charts of the recorded history
"""

from .activity import activity_timeline

__all__ = ["activity_timeline"]
