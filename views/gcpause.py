"""Pause the cyclic garbage collector while building frames (restored on exit).

Building creates millions of small objects; each automatic collection would
then walk the whole raw JSON graph too. Nothing built here forms cycles.
"""

from __future__ import annotations

import gc


class gc_paused:
    def __enter__(self):
        self._was = gc.isenabled()
        gc.disable()
        return self

    def __exit__(self, *exc):
        if self._was:
            gc.enable()
        return False
