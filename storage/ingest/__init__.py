"""Ingest: transcript files (and their sidecars, and a site folder's profiles and chapter lists)
parsed by format and stored, one file one transaction, with a report of what each file did."""

from storage.ingest.formats import FORMATS, ParseError
from storage.ingest.pipeline import IngestError, IngestReport, ingest_file, ingest_paths, parse_file
from storage.ingest.sources import meta_from_flags
from storage.models import FileOutcome, Outcome

__all__ = [
    "FORMATS",
    "FileOutcome",
    "IngestError",
    "IngestReport",
    "Outcome",
    "ParseError",
    "ingest_file",
    "ingest_paths",
    "meta_from_flags",
    "parse_file",
]
