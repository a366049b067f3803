"""The transcript store: a library over one SQLite file. No Slack here.

Each sub-package does one job and is used through its ``__init__``: ``db`` (the file),
``ingest`` (files in), ``timing`` (when words are spoken), ``catalogue`` (episodes and links),
``search`` (queries out), ``activity`` (what members do, what the bot posts). ``models``,
``text``, ``clock`` and ``segments`` are leaves every job shares.
"""
