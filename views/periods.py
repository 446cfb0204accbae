"""Reporting periods and calendar buckets in the viewer's time zone (pure).

Days and weeks start at local midnight (weeks on Monday), so a week that crosses a
daylight-saving change is still seven local calendar days (167 or 169 hours long).
"""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo

import pandas as pd

PERIODS: dict[str, str] = {
    "this-week": "This week",
    "last-week": "Last week",
    "7d": "Last 7 days",
    "30d": "Last 30 days",
    "90d": "Last 90 days",
}
DEFAULT_PERIOD = "this-week"


def _local_midnight(moment: pd.Timestamp, tz: tzinfo | str, days_back: int = 0) -> pd.Timestamp:
    """Midnight (local wall clock) ``days_back`` calendar days before ``moment``'s local day, as UTC."""
    local = moment.tz_convert(tz)
    day = (local.tz_localize(None).normalize() - pd.Timedelta(days=days_back)).date()
    return _localize_wall(pd.Timestamp(day), tz)


def _localize_wall(naive: pd.Timestamp, tz: tzinfo | str) -> pd.Timestamp:
    # A midnight that does not exist (a few zones change clocks at 00:00) moves forward to the first
    # valid instant; an ambiguous one takes the first (daylight) occurrence.
    return naive.tz_localize(tz, nonexistent="shift_forward", ambiguous=True).tz_convert("UTC")


def period_bounds(
    key: str, now: datetime | pd.Timestamp, tz: tzinfo | str = "UTC"
) -> tuple[pd.Timestamp, pd.Timestamp, pd.Timestamp, pd.Timestamp]:
    """(start, end, previous start, previous end) in UTC for a PERIODS key.

    The previous period is the same span just before: for "this week" (Monday 00:00 local until
    now) it is last week's Monday until the same weekday and hour, so the two compare fairly.
    """
    now = pd.Timestamp(now)
    now = now.tz_localize("UTC") if now.tzinfo is None else now.tz_convert("UTC")
    local = now.tz_convert(tz)
    if key in ("this-week", "last-week"):
        monday = _local_midnight(now, tz, days_back=local.weekday())
        if key == "this-week":
            start, end = monday, now
            prev_start = _local_midnight(monday, tz, days_back=7)
            prev_end = prev_start + (end - start)
            return start, end, prev_start, prev_end
        start, end = _local_midnight(monday, tz, days_back=7), monday
        return start, end, _local_midnight(start, tz, days_back=7), start
    try:
        days = int(key.rstrip("d"))
    except ValueError:
        raise ValueError(f"unknown period {key!r}; choose one of {', '.join(PERIODS)}") from None
    span = timedelta(days=days)
    return now - span, now, now - 2 * span, now - span


def bucket_start(times: pd.Series, tz: tzinfo | str, freq: str = "W") -> pd.Series:
    """The local start (midnight; Monday for ``freq="W"``) of each time's day or week, tz-aware in ``tz``."""
    if not len(times):
        return pd.Series([], dtype=f"datetime64[ns, {tz}]" if isinstance(tz, str) else "datetime64[ns, UTC]")
    local = times.dt.tz_convert(tz).dt.tz_localize(None)
    day = local.dt.normalize()
    if freq == "W":
        day = day - pd.to_timedelta(local.dt.weekday, unit="D")
    elif freq != "D":
        raise ValueError("freq must be 'D' or 'W'")
    return day.dt.tz_localize(tz, nonexistent="shift_forward", ambiguous=True)


def trend(values: pd.Series) -> pd.Series:
    """Least-squares straight line through the (non-missing) values, evaluated at every position."""
    y = pd.to_numeric(values, errors="coerce").reset_index(drop=True)
    known = y.dropna()
    if len(known) < 2:
        return pd.Series([float("nan")] * len(y), dtype="float64")
    x = known.index.to_series().astype("float64")
    mx, my = x.mean(), known.mean()
    den = ((x - mx) ** 2).sum()
    slope = ((x - mx) * (known - my)).sum() / den if den else 0.0
    return pd.Series([my + slope * (i - mx) for i in range(len(y))], dtype="float64")
