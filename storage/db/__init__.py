"""The SQLite file: :class:`Store` opens it (creating and upgrading the schema) and runs
transactions; every other part of ``storage`` reads and writes through it. :func:`failure_kind`
tells a caller whether a failure came from the database (and whether it was only busy);
:meth:`Store.health` whether the file can still be read and written (for /healthz)."""

from storage.db.store import FailureKind, Health, Store, StoreError, failure_kind

__all__ = ["FailureKind", "Health", "Store", "StoreError", "failure_kind"]
