"""The ``fedinet`` command line."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import logging
import signal
import sys
from collections.abc import Awaitable, Callable, Coroutine, Iterator, Sequence
from typing import Any

from fedinet import __version__
from fedinet.cli_admin import add_admin_commands, run_admin
from fedinet.config import Settings, load_settings
from fedinet.errors import FedinetError
from fedinet.logs import configure_logging

__all__ = ["main"]

log = logging.getLogger("fedinet.cli")


def _stop_on_signals(on_signal: Callable[[], None]) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, on_signal)


def _cancel_until(ready: Callable[[], bool]) -> Callable[[], None]:
    """A signal callback that cancels the current task while ``ready()`` is false: a
    SIGTERM during start-up stops cleanly (releasing the embedded database)."""
    task = asyncio.current_task()
    assert task is not None

    def on_signal() -> None:
        if not ready():
            task.cancel()

    return on_signal


def _graceful_server(config: Any, app: Any) -> Any:
    """A uvicorn server that, on SIGTERM/SIGINT, also tells the background workers to stop
    at once: uvicorn stops accepting and lets requests in flight finish (within
    ``FEDINET_SHUTDOWN_GRACE``) while the workers finish their deliveries in hand within
    the same grace, instead of one after the other."""
    import uvicorn

    class GracefulServer(uvicorn.Server):
        def handle_exit(self, sig: int, frame: Any) -> None:
            super().handle_exit(sig, frame)
            stop = getattr(app.state, "stop_workers", None)
            if stop is not None:
                asyncio.get_running_loop().call_soon_threadsafe(stop.set)

    return GracefulServer(config)


async def _serve(settings: Settings, host: str, port: int) -> None:
    import uvicorn

    from fedinet.app import create_app
    from fedinet.runtime import open_runtime

    serving = False
    _stop_on_signals(_cancel_until(lambda: serving))
    async with open_runtime(settings) as runtime:
        for name in runtime.migrations_applied:
            log.info("migration applied name=%s", name)
        serving = True
        app = create_app(settings, runtime=runtime)
        config = uvicorn.Config(
            app,
            host=host,
            port=port,
            log_config=None,
            access_log=False,
            server_header=False,
            lifespan="on",
            timeout_graceful_shutdown=max(int(settings.shutdown_grace), 1),
            # fedinet.web.proxies reads forwarded headers (FEDINET_TRUSTED_PROXIES)
            proxy_headers=False,
        )
        _freeze_startup_objects()
        # uvicorn handles SIGTERM/SIGINT while serving (graceful shutdown) and re-raises
        # the signal afterwards; our handler above then ignores it, and the runtime closes.
        await _graceful_server(config, app).serve()
    log.info("stopped")


def _freeze_startup_objects() -> None:
    """Keep what startup made (modules, the app and its routes, the runtime) out of the
    garbage collector's full collections.

    A full (oldest-generation) collection walks every tracked object. Under a steady
    load CPython runs one every half second or so, and with everything fedinet imports
    each took 23 to 27 ms and freed nothing: every request in flight waited that long
    (the inbox's p99 at 80% load was 22 to 54 ms for it). Frozen objects are skipped."""
    gc.collect()
    gc.freeze()


def _listener(app: Any, host: str, port: int) -> Any:
    """A uvicorn server for a side listener: it leaves the signals to the caller, and
    stops when its ``should_exit`` is set."""
    import uvicorn

    class Listener(uvicorn.Server):
        @contextlib.contextmanager
        def capture_signals(self) -> Iterator[None]:
            yield

    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_config=None,
        access_log=False,
        server_header=False,
        lifespan="off",
        proxy_headers=False,
    )
    return Listener(config)


async def _worker(settings: Settings, metrics_host: str, metrics_port: int | None) -> None:
    from fedinet.runtime import open_runtime
    from fedinet.web.metrics import metrics_app
    from fedinet.worker import run_workers

    stop = asyncio.Event()
    opened = False
    cancel = _cancel_until(lambda: opened)

    def on_signal() -> None:
        if opened:
            stop.set()
        else:
            cancel()

    _stop_on_signals(on_signal)
    async with open_runtime(settings) as runtime:
        opened = True
        _freeze_startup_objects()
        if metrics_port is None:
            await run_workers(runtime, stop)
            return
        listener = _listener(metrics_app(settings, runtime), metrics_host, metrics_port)
        listening = asyncio.create_task(listener.serve())
        try:
            await run_workers(runtime, stop)
        finally:
            listener.should_exit = True
            await listening


async def _migrate(settings: Settings) -> None:
    from fedinet.runtime import open_runtime

    _stop_on_signals(_cancel_until(lambda: False))
    async with open_runtime(settings) as runtime:
        if runtime.migrations_applied:
            for name in runtime.migrations_applied:
                print(f"applied {name}")
        else:
            print("the database is up to date")


async def _create_user(settings: Settings, args: argparse.Namespace) -> None:
    from fedinet.runtime import open_runtime
    from fedinet.services.accounts import create_member

    _stop_on_signals(_cancel_until(lambda: False))
    async with open_runtime(settings) as runtime, runtime.pool.acquire() as conn:
        created = await create_member(
            conn,
            settings,
            username=args.username,
            email=args.email,
            password=args.password,
            is_admin=args.admin,
        )
    role = "admin" if created.user.is_admin else "member"
    print(f"created {role} @{created.actor.acct} <{created.user.email}>")
    if created.generated_password is not None:
        print(f"password: {created.generated_password}")


async def _admin(settings: Settings, args: argparse.Namespace) -> None:
    _stop_on_signals(_cancel_until(lambda: False))
    await run_admin(settings, args)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="fedinet",
        description="fedinet: a federated ActivityPub server for people who network "
        "for a reason. Configuration comes from FEDINET_* environment variables.",
    )
    parser.add_argument("--version", action="version", version=f"fedinet {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    serve = commands.add_parser(
        "serve", help="run the web server and the background workers in one process"
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8000, help="port to bind (default 8000)")

    worker = commands.add_parser("worker", help="run only the background workers")
    worker.add_argument(
        "--metrics-port",
        type=int,
        help="also serve /metrics and /livez on this port (default: no listener)",
    )
    worker.add_argument(
        "--metrics-host", default="127.0.0.1", help="address for --metrics-port (127.0.0.1)"
    )
    commands.add_parser("migrate", help="apply pending database migrations")

    admin = commands.add_parser("admin", help="administration commands")
    admin_commands = admin.add_subparsers(dest="admin_command", metavar="ACTION", required=True)
    create_user = admin_commands.add_parser("create-user", help="create a local member")
    create_user.add_argument("username", help="letters, digits and underscores, at most 30")
    create_user.add_argument("--email", required=True, help="the member's email address")
    create_user.add_argument(
        "--password", help="the password (at least 8 characters); generated and printed if omitted"
    )
    create_user.add_argument("--admin", action="store_true", help="make the member an admin")
    add_admin_commands(admin_commands)
    return parser


def _loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop when installed (``uvicorn[standard]`` brings it), else asyncio's own loop.

    uvicorn picks uvloop only for a loop it creates itself; ``fedinet serve`` creates the
    loop here, so it must ask for uvloop. Signal handlers (``add_signal_handler``) work
    the same on both.
    """
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


def _run(coro: Coroutine[Any, Any, None]) -> int:
    # uvloop leaves its signal handlers installed when the loop closes (asyncio's loop
    # removes them): put back what was there before.
    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        with asyncio.Runner(loop_factory=_loop_factory()) as runner:
            runner.run(coro)
    except asyncio.CancelledError:
        print("fedinet: stopped by a signal", file=sys.stderr)
        return 130
    finally:
        for sig, handler in saved.items():
            if handler is not None:
                signal.signal(sig, handler)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = load_settings()
        configure_logging(settings.log_level)
        action: Awaitable[None] | None = None
        match args.command:
            case "serve":
                action = _serve(settings, args.host, args.port)
            case "worker":
                action = _worker(settings, args.metrics_host, args.metrics_port)
            case "migrate":
                action = _migrate(settings)
            case "admin" if args.admin_command == "create-user":
                action = _create_user(settings, args)
            case "admin":
                action = _admin(settings, args)
        assert asyncio.iscoroutine(action)
        return _run(action)
    except FedinetError as exc:
        print(f"fedinet: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
