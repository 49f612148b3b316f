"""Rendered fragments that are the same for every visitor (catalog results, the home page lists),
kept in each process for PAGE_CACHE_SECONDS. Catalog edits show up within that time everywhere."""
from threading import Lock

from cachetools import TTLCache
from flask import current_app

from app.core.clock import utcnow


class FragmentCache:
    """One TTL cache per app (in app.extensions); PAGE_CACHE_SECONDS = 0 turns it off."""

    def __init__(self, maxsize=512):
        self._maxsize = maxsize
        self._lock = Lock()

    def init_app(self, app):
        seconds = app.config["PAGE_CACHE_SECONDS"]
        # The timer reads the injectable clock, so expiry is testable without waiting.
        app.extensions["fragment_cache"] = (
            TTLCache(self._maxsize, seconds, timer=lambda: utcnow().timestamp()) if seconds else None)

    def get_or_render(self, key, render):
        """The cached value for ``key``, or ``render()`` stored under it. Two requests missing at once
        both render; that is cheaper than making one wait."""
        store = current_app.extensions["fragment_cache"]
        if store is None:
            return render()
        with self._lock:
            value = store.get(key)
        if value is None:
            value = render()
            with self._lock:
                store[key] = value
        return value

    def clear(self):
        store = current_app.extensions["fragment_cache"]
        if store is not None:
            with self._lock:
                store.clear()
