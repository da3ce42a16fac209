"""A small thread-safe least-recently-used map (query vectors in the façade, filter ids in an engine)."""
from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Callable, Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class LruCache(Generic[K, V]):
    """Values are made outside the lock (two threads may both make a missing value; the last one is kept)."""

    def __init__(self, size: int):
        self.size = size
        self._items: OrderedDict[K, V] = OrderedDict()
        self._lock = threading.Lock()

    def get_or_make(self, key: K, make: Callable[[K], V]) -> V:
        value = self.get(key)
        if value is None:
            value = make(key)
            self.put(key, value)
        return value

    def get(self, key: K) -> V | None:
        """The value, or None when it is not cached (values are never None)."""
        with self._lock:
            if key not in self._items:
                return None
            self._items.move_to_end(key)
            return self._items[key]

    def put(self, key: K, value: V) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            if len(self._items) > self.size:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
