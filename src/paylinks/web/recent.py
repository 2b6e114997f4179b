"""A bounded set of keys seen lately, in one process: it answers "seen before?" without a write.

The hosted page counts a view once per visitor per link per day; a cookie remembers it for
browsers, and this set for clients that send no cookies, so that reloading a page (or a bot
hammering it) costs no database write. Memory stays bounded: the oldest keys go first. With
several processes a cookieless visitor may be counted once per process, which is the price of
not writing per request.
"""

from __future__ import annotations

import threading
from collections import OrderedDict


class RecentKeys:
    def __init__(self, capacity: int = 100_000) -> None:
        self.capacity = capacity
        self._keys: OrderedDict[str, None] = OrderedDict()
        self._lock = threading.Lock()

    def first_sighting(self, key: str) -> bool:
        """True the first time `key` is offered (while it is remembered); then False."""
        with self._lock:
            if key in self._keys:
                self._keys.move_to_end(key)
                return False
            self._keys[key] = None
            if len(self._keys) > self.capacity:
                self._keys.popitem(last=False)
            return True
