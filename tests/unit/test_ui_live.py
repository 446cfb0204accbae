"""ui.live's marks: an open page redraws its tables only when the mark of what it shows moves, so
equal content must give equal marks and any change in a cell a different one."""

from __future__ import annotations

import pandas as pd

from ui import live


def _rows(running: str = "4 / 5") -> tuple:
    df = pd.DataFrame({"client": ["acme", "birch"], "running": [running, "2 / 2"], "restarts": [1, 0]})
    return {"healthy": 1, "degraded": 1}, 2, 2, df


def test_equal_content_built_twice_gives_the_same_mark():
    assert live.mark_of(_rows()) == live.mark_of(_rows())


def test_a_changed_cell_or_count_gives_another_mark():
    base = live.mark_of(_rows())
    assert live.mark_of(_rows("3 / 5")) != base
    counts, total, shown, df = _rows()
    assert live.mark_of(({"healthy": 2}, total, shown, df)) != base
    assert live.mark_of((counts, total, shown, df.iloc[::-1])) != base  # the order is part of what is shown


def test_a_value_pickle_cannot_take_always_counts_as_changed():
    value = {"draw": lambda: None}
    assert live.mark_of(value) != live.mark_of(value)


def test_marks_are_kept_per_key_and_bounded():
    live._marks.clear()
    first = live.mark(("health", 1), _rows())
    assert live.mark(("health", 1), _rows("0 / 5")) == first  # a key names its value: taken once
    for i in range(live.MAX_MARKS + 5):
        live.mark(("other", i), i)
    assert len(live._marks) == live.MAX_MARKS and ("health", 1) not in live._marks


def test_equal_strings_held_by_other_objects_give_the_same_mark():
    """Frames patched from events share string objects that a full build makes anew: the mark must
    follow the content, not which objects hold it (or every rebuild would redraw every page)."""
    shared_name = "".join(["ac", "me"])
    one = pd.DataFrame({"client": [shared_name, shared_name], "n": [1, 2]})
    two = pd.DataFrame({"client": ["".join(["a", "cme"]), "".join(["acm", "e"])], "n": [1, 2]})
    assert one["client"].iloc[0] is one["client"].iloc[1] and two["client"].iloc[0] is not two["client"].iloc[1]
    assert live.mark_of(one) == live.mark_of(two)
