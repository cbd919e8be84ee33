"""Several server processes on one port (``arcade serve --workers N``): a supervisor and its workers.

The supervisor binds the port once and starts the workers, each a fresh interpreter (the spawn
start method) that assembles an arcade of its own (its own store connections, its own live
pages) and serves on the inherited socket. Every connection waits in that socket's one queue for
whichever worker accepts it first, so a worker that is busy or dying leaves it to the others.

SIGTERM or SIGINT to the supervisor is passed on as SIGTERM: each worker answers the requests in
flight, closes its store and exits. A worker that dies is logged, saying how, and started again
after a second (doubling up to 30 s while its replacements die before serving). A worker whose
supervisor is gone (killed with SIGKILL) stops by itself, as if sent SIGTERM.
"""

import asyncio
import logging
import multiprocessing
import os
import signal
import socket
import sys
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait

from arcade.platform.assembly import assemble
from arcade.platform.config import Settings
from arcade.sdk.errors import ArcadeError
from arcade.server import serving

log = logging.getLogger("arcade.workers")

FIRST_DELAY_S = 1.0
LONGEST_DELAY_S = 30.0
STOP_S = serving.GRACE_S + 45
"""How long a stopping worker may take: the requests in flight, then its store's close."""


class WorkersFailed(ArcadeError):
    """The workers could not start serving; the message says which and how."""


@dataclass
class Worker:
    number: int
    process: multiprocessing.Process | None = None
    channel: Connection | None = None
    """The supervisor's end of a pipe: the worker says it serves; its end closing tells it the supervisor is gone."""
    serving: bool = False
    delay: float = FIRST_DELAY_S
    due: float | None = None
    """When to start it again, after it died."""


def supervise(settings: Settings, count: int, log_format: str) -> int:
    """Serve with ``count`` workers until SIGTERM or SIGINT; the exit status."""
    host, port = settings.server.host, settings.server.port
    try:
        listening = socket.create_server((host, port), family=socket.AF_INET6 if ":" in host else socket.AF_INET)
    except OSError as error:
        raise WorkersFailed(f"cannot listen on {host}:{port}: {error.strerror}") from None
    context = multiprocessing.get_context("spawn")
    workers = [Worker(number) for number in range(1, count + 1)]
    woken, wake = os.pipe()
    os.set_blocking(wake, False)
    stop: list[int] = []
    handlers = {
        sig: signal.signal(sig, lambda sig, _frame: stop.append(sig)) for sig in (signal.SIGTERM, signal.SIGINT)
    }
    signal.set_wakeup_fd(wake)

    def start(worker: Worker) -> None:
        ours, theirs = context.Pipe()
        worker.process = context.Process(
            target=_work,
            args=(settings, listening, theirs, log_format),
            name=f"arcade worker {worker.number}",
            daemon=False,
        )
        worker.process.start()
        theirs.close()
        worker.channel, worker.serving, worker.due = ours, False, None

    try:
        for worker in workers:
            start(worker)
        announced = False
        while not stop:
            due = [worker.due for worker in workers if worker.due is not None]
            timeout = max(0.0, min(due) - time.monotonic()) if due else None
            running = [worker for worker in workers if worker.due is None]
            waiting = [w.channel for w in running if not w.serving]  # a serving worker's says no more
            wait([woken, *waiting, *(w.process.sentinel for w in running)], timeout)
            for worker in running:
                if not worker.serving and worker.channel.poll() and _said_ready(worker.channel):
                    worker.serving, worker.delay = True, FIRST_DELAY_S
                    log.info("worker %d of %d serves (pid %d)", worker.number, count, worker.process.pid)
                if worker.process.exitcode is not None:
                    if not announced:
                        raise WorkersFailed(
                            f"worker {worker.number} of {count} could not start ({_how(worker.process.exitcode)}); "
                            "what it said is above"
                        )
                    worker.due = time.monotonic() + worker.delay
                    log.warning(
                        "worker %d of %d (pid %d) died (%s); another starts in its place in %.0f s",
                        worker.number,
                        count,
                        worker.process.pid,
                        _how(worker.process.exitcode),
                        worker.delay,
                    )
                    worker.delay = worker.delay if worker.serving else min(worker.delay * 2, LONGEST_DELAY_S)
                    worker.channel.close()
            for worker in workers:
                if worker.due is not None and worker.due <= time.monotonic() and not stop:
                    start(worker)
            if not announced and all(worker.serving for worker in workers):
                announced = True
                where = f"listening on {host}:{port} with {count} worker processes, data in {settings.data_dir}"
                print(f"Badge Arcade on {settings.public_url} ({where})", flush=True)
        return _stop(workers)
    except BaseException:
        _stop(workers)
        raise
    finally:
        signal.set_wakeup_fd(-1)
        for sig, handler in handlers.items():
            signal.signal(sig, handler)
        os.close(woken), os.close(wake)
        listening.close()


def _stop(workers: list[Worker]) -> int:
    """SIGTERM to every worker, then wait for each: 0 once all stopped by themselves."""
    alive = [worker.process for worker in workers if worker.process is not None and worker.process.exitcode is None]
    for process in alive:
        os.kill(process.pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_S
    status = 0
    for process in alive:
        process.join(max(0.0, deadline - time.monotonic()))
        if process.exitcode is None:
            log.error("worker pid %d did not stop within %d s of SIGTERM; killed", process.pid, STOP_S)
            process.kill()
            process.join()
            status = 1
    return status


def _said_ready(channel: Connection) -> bool:
    try:
        return channel.recv() == "ready"
    except EOFError:  # it died; its exit code says how
        return False


def _how(exitcode: int) -> str:
    return f"killed by {signal.Signals(-exitcode).name}" if exitcode < 0 else f"exit status {exitcode}"


def _work(settings: Settings, listening: socket.socket, channel: Connection, log_format: str) -> None:
    """One worker: its own arcade on the supervisor's socket; a start that fails exits with status 2."""
    logging.basicConfig(format=log_format, datefmt="%Y-%m-%d %H:%M:%S", level=logging.WARNING, stream=sys.stderr)
    logging.getLogger("arcade").setLevel(settings.server.log_level.upper())

    def ready(server: serving.GracefulServer) -> None:
        channel.send("ready")
        loop = asyncio.get_running_loop()

        def supervisor_gone() -> None:
            loop.remove_reader(channel.fileno())
            log.warning("the supervisor is gone: this worker stops")
            server.handle_exit(signal.SIGTERM, None)

        loop.add_reader(channel.fileno(), supervisor_gone)  # its only message is its end closing

    try:
        serving.serve(assemble(settings), sockets=[listening], on_ready=ready)
    except ArcadeError as error:
        print(f"arcade: error: {error}", file=sys.stderr, flush=True)
        sys.exit(2)
