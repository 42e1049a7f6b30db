"""Terminal conventions in the library (issue 13 items 8 and 9): the colour decision, the progress line,
the once-per-host slow-host notice, the `--verbose` observer and its lines on stderr. The coloured and quiet
text report are tested with the other formats (test_formats.py)."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Mapping

import httpx
import pytest

from validator.intercom import Exchange, IntercomClient
from validator.model import Access, DataType, Permission, Verdict
from validator.pacing import RetryPolicy, SlowHostNotice
from validator.run import StatusLines
from validator.terminal import ColorChoice, Verbosity, shows_progress, wants_color
from validator.tokens import Scrubber

TOKEN = "dG9rOjterminal-canary-token-0001"


class Stream(io.StringIO):
    def __init__(self, tty: bool) -> None:
        super().__init__()
        self.tty = tty

    def isatty(self) -> bool:
        return self.tty


@pytest.mark.parametrize(
    ("choice", "environ", "tty", "expected"),
    [
        (ColorChoice.AUTO, {}, True, True),
        (ColorChoice.AUTO, {}, False, False),
        (ColorChoice.AUTO, {"NO_COLOR": "1"}, True, False),
        (ColorChoice.AUTO, {"NO_COLOR": "0"}, True, False),  # any non-empty value
        (ColorChoice.AUTO, {"NO_COLOR": ""}, True, True),
        (ColorChoice.AUTO, {"FORCE_COLOR": "1"}, False, True),
        (ColorChoice.AUTO, {"FORCE_COLOR": ""}, False, False),
        (ColorChoice.AUTO, {"NO_COLOR": "1", "FORCE_COLOR": "1"}, True, False),
        (ColorChoice.AUTO, {"TERM": "dumb"}, True, False),
        (ColorChoice.AUTO, {"TERM": "dumb", "FORCE_COLOR": "1"}, True, True),
        (ColorChoice.ALWAYS, {"NO_COLOR": "1", "TERM": "dumb"}, False, True),
        (ColorChoice.NEVER, {"FORCE_COLOR": "1"}, True, False),
    ],
)
def test_the_colour_decision(
    choice: ColorChoice, environ: Mapping[str, str], tty: bool, expected: bool
) -> None:
    assert wants_color(choice, Stream(tty), environ) is expected


@pytest.mark.parametrize(
    ("verbosity", "environ", "tty", "expected"),
    [
        (Verbosity.NORMAL, {}, True, True),
        (Verbosity.NORMAL, {}, False, False),
        (Verbosity.NORMAL, {"TERM": "dumb"}, True, False),
        (Verbosity.QUIET, {}, True, False),
        (Verbosity.VERBOSE, {}, True, False),
    ],
)
def test_the_progress_line_needs_a_capable_terminal(
    verbosity: Verbosity, environ: Mapping[str, str], tty: bool, expected: bool
) -> None:
    assert shows_progress(verbosity, Stream(tty), environ) is expected


def test_a_slow_host_is_named_once_however_many_attempts_wait() -> None:
    told: list[tuple[str, float]] = []

    async def go() -> None:
        notice = SlowHostNotice("api.intercom.io", lambda host, after: told.append((host, after)), after=0.01)
        said = asyncio.Event()

        async def attempt() -> None:
            with notice.watching():
                while not told:
                    await asyncio.sleep(0.005)
                said.set()

        await asyncio.wait_for(asyncio.gather(*(attempt() for _ in range(5))), timeout=10)
        with notice.watching():  # once told, later attempts say nothing more
            await asyncio.sleep(0.05)

    asyncio.run(go())
    assert told == [("api.intercom.io", 0.01)]


def test_an_attempt_answered_in_time_says_nothing() -> None:
    told: list[str] = []

    async def go() -> None:
        notice = SlowHostNotice("api.intercom.io", lambda host, after: told.append(host), after=3600)
        for _ in range(3):
            with notice.watching():
                await asyncio.sleep(0)

    asyncio.run(go())
    assert told == []


def test_the_client_tells_its_observer_every_attempt_without_the_token() -> None:
    statuses = iter([503, 200])
    seen: list[Exchange] = []

    def answer(request: httpx.Request) -> httpx.Response:
        # A hostile server echoing the token as the request id: it must not reach the observer.
        return httpx.Response(next(statuses), json={}, headers={"X-Request-Id": TOKEN})

    async def go() -> None:
        async with IntercomClient(
            "https://api.intercom.io", TOKEN, "2.15", transport=httpx.MockTransport(answer),
            retry=RetryPolicy(jitter=0.0, backoff_base=0.0), on_exchange=seen.append,
        ) as client:  # fmt: skip
            await client.request("GET", "/me")

    asyncio.run(go())
    assert [(e.method, e.host, e.path, e.status, e.attempt) for e in seen] == [
        ("GET", "api.intercom.io", "/me", 503, 1),
        ("GET", "api.intercom.io", "/me", 200, 2),
    ]
    assert all(TOKEN not in repr(exchange) and TOKEN[:12] not in repr(exchange) for exchange in seen)


def test_status_lines_are_scrubbed_prefixed_and_clear_the_progress_line() -> None:
    stream = Stream(True)
    lines = StatusLines(stream, Scrubber([TOKEN]), progress=True)
    lines.progress("c.yaml", Permission(DataType.TAGS, Access.READ), Verdict.GRANTED)
    lines.exchange("c.yaml", Exchange("GET", "h", f"/me/{TOKEN}", 200, "r-1", 1, 0.0123))
    lines.clear()
    shown = stream.getvalue()
    assert TOKEN not in shown
    assert (
        "\r\x1b[2Kconnector-validator: c.yaml: GET /me/[REDACTED] → 200 from h "
        "(request id r-1, attempt 1, 12 ms)\n" in shown
    )
    assert shown.endswith("\n")  # nothing cleared twice once the progress line is gone


def test_a_status_line_stays_one_line_whatever_the_path_holds() -> None:
    stream = Stream(False)
    StatusLines(stream, Scrubber([]), progress=False).exchange(
        "odd\n::error::x\x1b[2J.yaml", Exchange("GET", "h", "/me", 200, None, 1, 0.0)
    )
    assert stream.getvalue() == (
        "connector-validator: odd\\n::error::x\\x1b[2J.yaml: GET /me → 200 from h (attempt 1, 0 ms)\n"
    )
