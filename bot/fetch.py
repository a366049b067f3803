"""Fetching feeds and transcripts over HTTP, within limits: http(s) only, a size cap, a time
limit for the whole request (redirects included), at most :data:`MAX_REDIRECTS` redirects.

Example:
    >>> async with HttpFetcher() as fetch:                                   # doctest: +SKIP
    ...     got = await fetch("https://example.com/feed.xml", max_bytes=2**20)
"""

from __future__ import annotations

import asyncio
from urllib.parse import urljoin, urlsplit

import aiohttp

from storage.ingest import Fetched, FetchError

MAX_REDIRECTS = 5
TIMEOUT_SECONDS = 30.0
USER_AGENT = "episode-bot (+https://github.com/; podcast transcript search for Slack)"


def _size(n: int) -> str:
    return f"{n / 2**20:.0f} MB" if n >= 2**20 else f"{n // 1024} KB"


class HttpFetcher:
    """A :class:`storage.ingest.Fetch` over one aiohttp session."""

    def __init__(
        self,
        *,
        timeout: float = TIMEOUT_SECONDS,
        max_redirects: int = MAX_REDIRECTS,
        session: aiohttp.ClientSession | None = None,
    ):
        self.timeout = timeout
        self.max_redirects = max_redirects
        self._session = session
        self._own = session is None

    async def __aenter__(self) -> HttpFetcher:
        if self._session is None:
            self._session = aiohttp.ClientSession(headers={"User-Agent": USER_AGENT})
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._own and self._session is not None:
            await self._session.close()
            self._session = None

    async def __call__(
        self,
        url: str,
        *,
        max_bytes: int,
        etag: str | None = None,
        last_modified: str | None = None,
    ) -> Fetched:
        headers = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        try:
            async with asyncio.timeout(self.timeout):
                return await self._get(url, headers, max_bytes)
        except TimeoutError:
            raise FetchError(f"no complete answer within {self.timeout:.0f} s") from None
        except aiohttp.ClientConnectorError as exc:
            raise FetchError(
                f"cannot connect to {exc.host}:{exc.port} ({exc.strerror or exc})"
            ) from None
        except (aiohttp.ClientError, ValueError) as exc:
            raise FetchError(f"{type(exc).__name__}: {exc}"[:200]) from None

    async def _get(self, url: str, headers: dict[str, str], max_bytes: int) -> Fetched:
        assert self._session is not None, "use `async with HttpFetcher() as fetch`"
        for _hop in range(self.max_redirects + 1):
            scheme = urlsplit(url).scheme.lower()
            if scheme not in ("http", "https"):
                raise FetchError(f"only http(s) URLs are fetched, not {scheme or 'this'}: {url}")
            async with self._session.get(url, headers=headers, allow_redirects=False) as resp:
                if resp.status in (301, 302, 303, 307, 308) and "Location" in resp.headers:
                    url = urljoin(url, resp.headers["Location"])
                    continue
                if resp.status == 304:
                    return Fetched(url, 304, etag=resp.headers.get("ETag"),
                                   last_modified=resp.headers.get("Last-Modified"))  # fmt: skip
                if resp.status != 200:
                    raise FetchError(f"HTTP {resp.status} {resp.reason or ''}".strip())
                if (resp.content_length or 0) > max_bytes:
                    raise FetchError(
                        f"too large: {_size(resp.content_length or 0)}, the limit is "
                        f"{_size(max_bytes)}"
                    )
                body = bytearray()
                async for chunk in resp.content.iter_chunked(65536):
                    body += chunk
                    if len(body) > max_bytes:
                        raise FetchError(f"too large: over the {_size(max_bytes)} limit")
                return Fetched(
                    url, 200, bytes(body), resp.headers.get("Content-Type", ""),
                    resp.headers.get("ETag"), resp.headers.get("Last-Modified"),
                )  # fmt: skip
        raise FetchError(f"more than {self.max_redirects} redirects")
