"""The SQLite file: :class:`Store` opens it (creating and upgrading the schema) and runs
transactions; every other part of ``storage`` reads and writes through it. :func:`failure_kind`
tells a caller whether a failure came from the database (and whether it was only busy)."""

from storage.db.store import FailureKind, Store, StoreError, failure_kind

__all__ = ["FailureKind", "Store", "StoreError", "failure_kind"]
