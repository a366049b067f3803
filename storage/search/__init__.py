"""Search: the query language, the plan a query becomes (typos, glossary, names), retrieval
and ranking over the FTS5 index, and quotes cut to the moment they are spoken."""

from storage.search.current import refresh_search_cache, search_cache, wait_for_search_cache
from storage.search.engine import MAX_LIMIT, MAX_OFFSET, search
from storage.search.glossary import GlossaryError, builtin_glossary, load_glossary
from storage.search.query import QUERY_SYNTAX, SyntaxRow, syntax_line

__all__ = [
    "MAX_LIMIT",
    "MAX_OFFSET",
    "QUERY_SYNTAX",
    "GlossaryError",
    "SyntaxRow",
    "builtin_glossary",
    "load_glossary",
    "refresh_search_cache",
    "search",
    "search_cache",
    "syntax_line",
    "wait_for_search_cache",
]
