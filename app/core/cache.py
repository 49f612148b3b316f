"""What is the same for every visitor (rendered catalog results, the home page lists, a product's
loaded catalog data), kept in each process for PAGE_CACHE_SECONDS. Catalog edits show up within that
time everywhere."""
from threading import Lock

from cachetools import TTLCache
from flask import current_app

from app.core.clock import utcnow


class SharedCache:
    """One TTL cache per app (in app.extensions); PAGE_CACHE_SECONDS = 0 turns it off."""

    def __init__(self, maxsize=512):
        self._maxsize = maxsize
        self._lock = Lock()

    def init_app(self, app):
        seconds = app.config["PAGE_CACHE_SECONDS"]
        # The timer reads the injectable clock, so expiry is testable without waiting.
        app.extensions["shared_cache"] = (
            TTLCache(self._maxsize, seconds, timer=lambda: utcnow().timestamp()) if seconds else None)

    def get_or_make(self, key, make):
        """The cached value for ``key``, or ``make()`` stored under it (None is not stored). Two
        requests missing at once both make it; that is cheaper than making one wait."""
        store = current_app.extensions["shared_cache"]
        if store is None:
            return make()
        with self._lock:
            value = store.get(key)
        if value is None:
            value = make()
            if value is not None:
                with self._lock:
                    store[key] = value
        return value

    def clear(self):
        store = current_app.extensions["shared_cache"]
        if store is not None:
            with self._lock:
                store.clear()
