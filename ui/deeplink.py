"""A deep link survives sign-in: the page and query a signed-out person asked for are remembered in
the browser (localStorage) before the identity provider's round trip, and opened once after it.

Streamlit's OAuth callback always lands on the app's root, and the session that asked is gone by
then, so the browser has to carry the wish across. Only a same-origin path is ever followed.
"""

from __future__ import annotations

import json
import re

import streamlit as st

KEY = "nomad-dashboard-after-sign-in"
MAX_AGE_MS = 10 * 60 * 1000  # a wish older than the sign-in round trip is dropped
_SAFE_TARGET = r"^/(?!/)[A-Za-z0-9_\-./%]*(\?[^#<>\"'\s]*)?$"  # a path on this origin, never //host

_REMEMBER = """<script>
const loc = window.parent.location;
const target = loc.pathname + loc.search;
if (target !== "/" && new RegExp(%(safe)s).test(target)) {
  window.parent.localStorage.setItem(%(key)s, JSON.stringify({target: target, at: Date.now()}));
}
</script>"""

# The frame may not navigate the page itself (no allow-top-navigation), so it hands the page a
# script of its own to run: the page then follows the wish.
_RESTORE = """<script>
const doc = window.parent.document;
const s = doc.createElement("script");
s.textContent = `(() => {
  const key = ${JSON.stringify(%(key)s)};
  const raw = localStorage.getItem(key);
  localStorage.removeItem(key);
  try {
    const wish = JSON.parse(raw || "null");
    const here = location.pathname + location.search;
    if (wish && Date.now() - wish.at < %(max_age)d && new RegExp(${JSON.stringify(%(safe)s)}).test(wish.target)
        && here !== wish.target) {
      location.replace(wish.target);
    }
  } catch (e) {}
})();`;
doc.head.appendChild(s);
s.remove();
</script>"""


def _script(template: str) -> str:
    return template % {"key": json.dumps(KEY), "safe": json.dumps(_SAFE_TARGET), "max_age": MAX_AGE_MS}


def _run(script: str) -> None:
    """Our own script (never anything from a request) in a same-origin frame, out of sight."""
    with st.container(height=1, border=False):
        st.iframe(script, height=1)


def remember() -> None:
    """On the sign-in page: keep the page and query this browser asked for."""
    _run(_script(_REMEMBER))


def restore() -> None:
    """After sign-in: open the remembered page, if any. The script forgets the wish the first time it
    runs, so rendering it on every run costs one idle frame (a run right after sign-in can be
    replaced by the next before a once-only frame loads)."""
    _run(_script(_RESTORE))


def is_safe_target(target: str) -> bool:
    """The same rule the browser script applies (tested in Python)."""
    return bool(re.match(_SAFE_TARGET, target))
