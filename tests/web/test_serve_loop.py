"""``fedinet serve`` (and ``worker``) run on uvloop when it is installed.

uvicorn only picks uvloop for a loop it creates itself; the CLI creates the loop, so it
must ask for it. Clean stops on SIGTERM/SIGINT are covered by ``tests/test_cli.py`` and
``tests/db/test_embedded.py``.
"""

from __future__ import annotations

import asyncio
import signal

import pytest

from fedinet import cli


def test_the_cli_runs_its_commands_on_uvloop() -> None:
    uvloop = pytest.importorskip("uvloop")
    seen: list[type[asyncio.AbstractEventLoop]] = []

    async def probe() -> None:
        seen.append(type(asyncio.get_running_loop()))

    assert cli._run(probe()) == 0
    assert seen == [uvloop.Loop]


def test_a_signal_before_the_command_is_ready_stops_it_with_130() -> None:
    async def starting() -> None:
        cli._stop_on_signals(cli._cancel_until(lambda: False))
        asyncio.get_running_loop().call_soon(signal.raise_signal, signal.SIGTERM)
        await asyncio.sleep(30)

    before = signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)
    assert cli._run(starting()) == 130
    # The closed loop's handlers are not left behind.
    assert (signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)) == before
