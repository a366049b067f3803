"""Load: signed slash commands at fixed rates to ``python -m bot serve``, until it can't keep up.

Run: ``python bench/load.py`` (the 200-episode corpus, ~203 h) or ``python bench/load.py
--hours 1000`` (the corpus replicated, as bench/search.py does); reads ``../shared/corpus`` or
``CORPUS_DIR``.

It starts the real server (``python -m bot serve``, HTTP mode on 127.0.0.1 and a free port), with
its Web API and response URLs pointed at the local Slack stand-in (tests/slack_api.py) that this
script runs itself. Then, for each rate (``--rates``, default 25, 50, 100 and 200 a second), it
sends ``rate x --seconds`` signed slash commands on a fixed schedule (open loop: a slow server
does not slow the sender), each with a different query drawn from the transcripts, and waits at
most ``--drain`` seconds more for their answers. For each rate it counts:

- acks: HTTP 200 within Slack's 3 s (later, or another status, is an error);
- answers: a preview delivered on the request's response URL; its delivery time is from sending
  the request to the stand-in receiving the preview (p50, p95);
- busy: the "try again in a moment" notice, in the ack or on the response URL, and how soon;
- errors: no ack, no answer nor notice by the end of the drain, or an error message;
- the server's memory (/proc/PID/status: VmRSS now, VmHWM the peak so far), and the CPU it
  used (/proc/PID/stat), per answer: on a shared machine this says what the code costs, where
  the rates say what the machine had to spare.

It prints the highest rate held (every request answered, p95 < 1 s, no error, no busy), and
whether at the highest rate tried every request got an answer or a prompt (< 3 s) busy notice
with the peak RSS under 200 MB. It stops by itself and stops the server (SIGTERM, then SIGKILL).
Every request goes to 127.0.0.1 only.

Options: ``--hours H``, ``--db FILE`` (keep or reuse the database), ``--rates 25,50,...``,
``--seconds S`` per rate, ``--drain S``, ``--max-in-flight N`` (the server's MAX_IN_FLIGHT).
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import signal
import socket
import sqlite3
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.corpus import CORPUS, build_corpus_db, hours, replicate  # noqa: E402
from bench.slack import queries  # noqa: E402
from handlers.overload import BUSY_TEXT  # noqa: E402
from storage.db import Store  # noqa: E402
from tests.slack_api import SIGNING_SECRET, SlackApi, signed_headers, slash_command  # noqa: E402

ACK_DEADLINE = 3.0  # Slack shows the user an error when the ack takes longer
PROMPT = 3.0  # a busy notice later than this is not "prompt"
GOAL_P95 = 1.0
GOAL_RSS_MB = 200
BUSY_WORDS = BUSY_TEXT.split(":", 2)[-1].strip()[:40]
ERROR_MARKS = (":warning:", ":hourglass:")  # handlers/context.py problem_text
WARM_UP = 20


# -- the database --------------------------------------------------------------------------------
def stored_hours(path: Path) -> float:
    if not path.exists():
        return 0.0
    with sqlite3.connect(path) as conn:
        if not conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'episodes'").fetchone():
            return 0.0
        return hours(conn)


def build_database(path: Path, want_hours: float) -> Path:
    """The corpus (about 203 h), replicated to ``want_hours`` when that is more; reused if built.

    Returns the file to serve: ``path``, or the corpus database beside it when that is enough.
    """
    if stored_hours(path) >= want_hours * 0.95:
        print(f"reusing {path}", file=sys.stderr)
        return path
    base = path.with_name(path.stem + "-base.db")
    asyncio.run(build_corpus_db(base))  # reuses a built one
    if want_hours <= stored_hours(base) * 1.05:
        return base
    replicate(base, path, want_hours)
    return path


# -- the server ----------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    proc: asyncio.subprocess.Process
    url: str
    log_lines: int = 0
    log_bytes: int = 0
    last_lines: list[str] = field(default_factory=list)

    def memory_mb(self) -> tuple[float, float]:
        """(VmRSS, VmHWM) in MB, from /proc."""
        fields = {}
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            name, _, value = line.partition(":")
            if name in ("VmRSS", "VmHWM"):
                fields[name] = int(value.split()[0]) / 1024
        return fields.get("VmRSS", 0.0), fields.get("VmHWM", 0.0)

    def cpu_seconds(self) -> float:
        """User + system CPU the server has used so far (/proc/PID/stat), every thread."""
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    async def read_log(self) -> None:
        """Drain the server's stderr (a full pipe would stall it), counting what it logs."""
        assert self.proc.stderr is not None
        while line := await self.proc.stderr.readline():
            self.log_lines += 1
            self.log_bytes += len(line)
            self.last_lines = [*self.last_lines[-4:], line.decode(errors="replace").rstrip()]

    async def stop(self) -> None:
        if self.proc.returncode is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.proc.wait(), 15)
            except TimeoutError:
                self.proc.kill()
                await self.proc.wait()


async def start_server(db: Path, slack_api: SlackApi, max_in_flight: int | None, cwd: Path):
    port = free_port()
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "MAX_IN", "LOG"))}
    env = {
        **keep, "PYTHONPATH": str(ROOT), "SLACK_BOT_TOKEN": "xoxb-bench-token",
        "SLACK_SIGNING_SECRET": SIGNING_SECRET, "SLACK_API_URL": slack_api.api_url,
        "HOST": "127.0.0.1", "PORT": str(port), "LOG_LEVEL": "INFO",
    }  # fmt: skip
    if max_in_flight:
        env["MAX_IN_FLIGHT"] = str(max_in_flight)
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "serve", "--db", str(db),
        cwd=cwd, env=env, stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    server = Server(proc, f"http://127.0.0.1:{port}/slack/events")
    assert proc.stderr is not None
    seen = []
    deadline = time.monotonic() + 120
    while True:  # bounded: the server says where it serves, or exits, or 120 s pass
        left = deadline - time.monotonic()
        try:
            line = await asyncio.wait_for(proc.stderr.readline(), max(left, 0.01))
        except TimeoutError:
            line = b""
        if not line:
            await server.stop()
            sys.exit("the server did not start:\n" + "".join(seen[-10:]))
        seen.append(line.decode(errors="replace"))
        if b"serving workspace" in line:
            return server


# -- one rate ------------------------------------------------------------------------------------
@dataclass
class Request:
    key: str
    sent: float = 0.0
    ack_status: int | None = None  # None: no ack within ACK_DEADLINE (or no connection)
    ack_at: float = 0.0
    busy_in_ack: bool = False


@dataclass
class Step:
    rate: int
    sent: int = 0
    acked: int = 0
    answered: list[float] = field(default_factory=list)  # delivery times
    busy: list[float] = field(default_factory=list)  # time to the notice
    errors: int = 0
    error_kinds: dict[str, int] = field(default_factory=dict)
    rss_mb: float = 0.0
    hwm_mb: float = 0.0
    cpu: float = 0.0  # the server's CPU seconds during the step

    @property
    def cpu_ms_per_answer(self) -> float:
        return self.cpu / len(self.answered) * 1000 if self.answered else math.nan

    def error(self, kind: str) -> None:
        self.errors += 1
        self.error_kinds[kind] = self.error_kinds.get(kind, 0) + 1

    @property
    def p95(self) -> float:
        return percentile(self.answered, 0.95)

    @property
    def held(self) -> bool:
        return not self.errors and not self.busy and self.p95 < GOAL_P95

    @property
    def all_answered_or_told(self) -> bool:
        return not self.errors and all(t < PROMPT for t in self.busy)


def percentile(samples: list[float], q: float) -> float:
    if not samples:
        return math.nan
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


async def send(http: aiohttp.ClientSession, url: str, req: Request, query: str, port: int) -> None:
    body, content_type = slash_command(
        query, response_url=f"http://127.0.0.1:{port}/response/{req.key}"
    )
    headers = {"Content-Type": content_type, **signed_headers(body)}
    req.sent = time.monotonic()
    try:
        async with asyncio.timeout(ACK_DEADLINE):
            async with http.post(url, data=body.encode(), headers=headers) as resp:
                text = await resp.text()
                req.ack_status, req.ack_at = resp.status, time.monotonic()
                req.busy_in_ack = resp.status == 200 and BUSY_WORDS in text
    except (TimeoutError, aiohttp.ClientError):
        req.ack_status = None


async def run_step(
    server: Server, slack_api: SlackApi, http: aiohttp.ClientSession, rate: int,
    asked: list[str], seconds: float, drain: float, label: str,
) -> Step:  # fmt: skip
    n = int(rate * seconds)
    step = Step(rate, sent=n)
    requests = [Request(f"{label}-{i}") for i in range(n)]
    first_call = len(slack_api.calls)
    cpu_before = server.cpu_seconds()
    started = time.monotonic()
    tasks = []
    for i, req in enumerate(requests):  # open loop: request i leaves at started + i / rate
        delay = started + i / rate - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(send(http, server.url, req, asked[i], slack_api.port)))
    await asyncio.gather(*tasks)
    waiting_for = {r.key for r in requests if r.ack_status == 200 and not r.busy_in_ack}
    deliveries: dict[str, object] = {}
    deadline = time.monotonic() + drain
    seen = first_call
    while time.monotonic() < deadline:  # bounded: at most `drain` seconds
        calls = slack_api.calls
        for call in calls[seen:]:
            key = call.args.get("key") if call.method == "response_url" else None
            if key in waiting_for and key not in deliveries:
                deliveries[key] = call
        seen = len(calls)
        if waiting_for <= deliveries.keys():
            break
        await asyncio.sleep(0.05)
    for req in requests:
        if req.ack_status is None:
            step.error("no ack within 3 s")
            continue
        if req.ack_status != 200:
            step.error(f"HTTP {req.ack_status}")
            continue
        step.acked += 1
        if req.busy_in_ack:
            step.busy.append(req.ack_at - req.sent)
            continue
        call = deliveries.get(req.key)
        if call is None:
            step.error(f"nothing delivered within {drain:.0f} s")
            continue
        text = call.args.get("text") or ""  # type: ignore[attr-defined]
        if BUSY_WORDS in text:
            step.busy.append(call.at - req.sent)  # type: ignore[attr-defined]
        elif text.startswith(ERROR_MARKS) or call.status != 200:  # type: ignore[attr-defined]
            step.error("an error message")
        else:
            step.answered.append(call.at - req.sent)  # type: ignore[attr-defined]
    step.rss_mb, step.hwm_mb = server.memory_mb()
    step.cpu = server.cpu_seconds() - cpu_before
    return step


def ms(seconds: float) -> str:
    return "      -" if math.isnan(seconds) else f"{seconds * 1000:7.0f}"


def print_step(step: Step) -> None:
    busy_p95 = percentile(step.busy, 0.95)
    p50 = statistics.median(step.answered) if step.answered else math.nan
    print(
        f"{step.rate:>5}/s {step.sent:>6} {step.acked:>6} {len(step.answered):>7} "
        f"{len(step.busy):>6} {step.errors:>6} {ms(p50)} {ms(step.p95)} {ms(busy_p95)} "
        f"{step.rss_mb:7.0f} {step.hwm_mb:7.0f} {step.cpu:6.1f} {step.cpu_ms_per_answer:12.0f}",
        flush=True,
    )
    if step.error_kinds:
        print("        errors: " + ", ".join(f"{k}: {v}" for k, v in step.error_kinds.items()))


# -- the run -------------------------------------------------------------------------------------
async def measure(db: Path, args: argparse.Namespace, cwd: Path) -> None:
    rates = [int(r) for r in args.rates.split(",")]
    total = sum(int(r * args.seconds) for r in rates)
    async with await Store.open(db) as store:
        asked = await queries(store, total + WARM_UP)
        row = await store.fetchone(
            "SELECT count(*), coalesce(sum(duration), 0) / 3600.0 FROM episodes"
        )
    print(
        f"database: {row[0]} episodes, {row[1]:.0f} h; rates {args.rates}/s for {args.seconds:g} s"
        f" each, then up to {args.drain:g} s for the answers; "
        f"MAX_IN_FLIGHT={args.max_in_flight or 'default'}; {load_average()}"
    )
    async with SlackApi() as slack_api:
        server = await start_server(db, slack_api, args.max_in_flight, cwd)
        log_reader = asyncio.create_task(server.read_log())
        steps: list[Step] = []
        try:
            connector = aiohttp.TCPConnector(limit=0)  # open loop: never queue in the client
            async with aiohttp.ClientSession(connector=connector) as http:
                print(
                    "  rate   sent  acked answers   busy errors  p50 ms  p95 ms busy95ms"
                    "  RSS MB peak MB  CPU s CPUms/answer"
                )
                warm = await run_step(  # caches and the OS page cache, one at a time
                    server, slack_api, http, 5, asked[:WARM_UP], WARM_UP / 5, args.drain, "warm"
                )  # fmt: skip
                if warm.errors:
                    print_step(warm)
                    sys.exit("the warm-up requests failed; see the errors above")
                slack_api.calls.clear()
                used = WARM_UP
                for rate in rates:
                    n = int(rate * args.seconds)
                    step = await run_step(
                        server, slack_api, http, rate, asked[used : used + n],
                        args.seconds, args.drain, f"r{rate}",
                    )  # fmt: skip
                    used += n
                    steps.append(step)
                    print_step(step)
                    slack_api.calls.clear()  # bounded memory in the stand-in
                    await asyncio.sleep(1)  # let the server settle between rates
        finally:
            await server.stop()
            await asyncio.wait_for(log_reader, 5)
    held = [s for s in steps if s.held]
    peak = max(s.hwm_mb for s in steps)
    best = max((s.rate for s in held), default=0)
    print(f"highest rate held (all answered, p95 < 1 s, 0 errors, 0 busy): {best}/s")
    # The overload check is made at 4x the rate held (the goal), or, when that was not
    # tried, at the highest rate that was.
    over = [s for s in steps if best and s.rate >= 4 * best]
    top = min(over, key=lambda s: s.rate) if over else max(steps, key=lambda s: s.rate)
    told = "yes" if top.all_answered_or_told else "NO"
    times = f"{top.rate / best:.1f}x the rate held" if best else "no rate held"
    print(
        f"at {top.rate}/s ({times}): every request answered or told busy within {PROMPT:g} s: "
        f"{told} ({len(top.answered)} answered, {len(top.busy)} busy, {top.errors} errors; "
        f"RSS {top.rss_mb:.0f} MB)"
    )
    if best and not over:
        print(f"  (4x the rate held, {4 * best}/s, was not tried: add it to --rates)")
    verdict = "under" if peak < GOAL_RSS_MB else "OVER"
    print(f"server peak RSS (VmHWM): {peak:.0f} MB, {verdict} {GOAL_RSS_MB} MB")
    print(f"server log: {server.log_lines} lines, {server.log_bytes / 1024:.1f} KB")
    print(f"machine at the end: {load_average()} (the server, this script and anything else)")


def load_average() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.1f} (5 min: {five:.1f}) on {os.cpu_count()} cores"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--hours", type=float, default=200, help="catalogue size (default 200)")
    parser.add_argument("--db", type=Path, help="build the database here, or reuse it")
    parser.add_argument("--rates", default="25,50,100,200", help="requests a second, in turn")
    parser.add_argument("--seconds", type=float, default=10, help="how long each rate is sent")
    parser.add_argument("--drain", type=float, default=10, help="wait for answers this long")
    parser.add_argument("--max-in-flight", type=int, help="the server's MAX_IN_FLIGHT")
    args = parser.parse_args()
    if not (CORPUS / "raw" / "_podcast").is_dir():
        sys.exit(f"the corpus is not at {CORPUS} (set CORPUS_DIR)")
    with tempfile.TemporaryDirectory() as tmp:
        db = args.db or Path(tmp) / f"{args.hours:.0f}h.db"
        db = build_database(db, args.hours)
        asyncio.run(measure(db, args, Path(tmp)))


if __name__ == "__main__":
    main()
