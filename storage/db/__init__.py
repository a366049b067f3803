"""The SQLite file: :class:`Store` opens it (creating and upgrading the schema) and runs
transactions; every other part of ``storage`` reads and writes through it. :func:`failure_kind`
tells a caller whether a failure came from the database (and whether it was only busy);
:meth:`Store.health` whether the file can still be read and written (for /healthz).
Search's persisted vocabulary (:func:`refresh_search_vocabulary`, written by ingest, read by
search) and the porter stemmer both sides share live here too."""

from storage.db.store import FailureKind, Health, Store, StoreError, failure_kind
from storage.db.vocabulary import (
    SIGNATURE_SQL,
    porter_stems,
    read_search_vocabulary,
    refresh_search_vocabulary,
    search_signature,
)

__all__ = [
    "SIGNATURE_SQL",
    "FailureKind",
    "Health",
    "Store",
    "StoreError",
    "failure_kind",
    "porter_stems",
    "read_search_vocabulary",
    "refresh_search_vocabulary",
    "search_signature",
]
