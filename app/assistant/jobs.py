"""Periodic: the embedded engine's index is kept warm (index.py rebuilds it lazily when the catalog's fingerprint
changes; this makes the first question after a product is published or withdrawn not wait for the build)."""
from app.assistant import index
from app.jobs import crontab, periodic


@periodic(crontab(minute="*/10"))
def warm_index():
    """Every 10 minutes: the index of the products on sale now, rebuilt if the catalog changed. Returns how many
    passages it holds."""
    return len(index.current_index().passages)
