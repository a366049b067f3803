"""The SQLite file: :class:`Store` opens it (creating and upgrading the schema) and runs
transactions; every other part of ``storage`` reads and writes through it."""

from storage.db.store import Store, StoreError

__all__ = ["Store", "StoreError"]
