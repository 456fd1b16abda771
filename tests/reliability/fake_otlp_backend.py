"""A misbehaving OTLP/HTTP backend on 127.0.0.1, shared by the reliability test and the benchmark.

Modes: ``"200"`` (healthy), ``"500"``, ``"429"`` (with ``Retry-After: 1``), ``"slow"`` (answers 200
after 10 s, or as soon as ``release`` is set). A backend that is *down* is :func:`closed_port`.

* :func:`serve`: the server on a thread of this process (tests).
* :func:`serve_in_subprocess`: the same server in its own process, so that its request handling
  does not compete for this process's GIL (benchmark: a real backend is never in the app's process).

Imported as ``fake_otlp_backend`` by pytest (``pythonpath`` in the root ``pyproject.toml``) and as
``tests.reliability.fake_otlp_backend`` by the benchmark; ``python -m
tests.reliability.fake_otlp_backend MODE`` is the subprocess entry point.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

MODES = ("200", "500", "429", "slow")
SLOW_S = 10.0
_ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Received:
    """What the backend was sent (thread-safe counters)."""

    requests: int = 0
    bytes: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, size: int) -> None:
        with self.lock:
            self.requests += 1
            self.bytes += size


class Handler(BaseHTTPRequestHandler):
    mode: ClassVar[str] = "500"
    release: ClassVar[threading.Event] = threading.Event()
    received: ClassVar[Received] = Received()

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        self.rfile.read(length)
        self.received.add(length)
        if self.mode == "slow":
            self.release.wait(SLOW_S)  # the "10 s" backend; the caller releases it when done
            status = 200
        else:
            status = int(self.mode)
        self.send_response(status)
        if status == 429:
            self.send_header("Retry-After", "1")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


def closed_port() -> int:
    """A port on 127.0.0.1 nothing listens on: the backend is down."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port  # closed: nothing listens there now


@contextmanager
def _server(
    mode: str, release: threading.Event, received: Received
) -> Iterator[ThreadingHTTPServer]:
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, not {mode!r}")
    attrs = {"mode": mode, "release": release, "received": received}
    handler = type("Handler", (Handler,), attrs)
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield server
    finally:
        release.set()
        server.shutdown()
        server.server_close()
        thread.join(5)


@contextmanager
def serve(mode: str, release: threading.Event, received: Received | None = None) -> Iterator[str]:
    """The backend on a thread of this process; yields its ``/v1/traces`` URL."""
    with _server(mode, release, received or Received()) as server:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1/traces"


@dataclass
class SubprocessBackend:
    base_url: str  # http://127.0.0.1:PORT (exporters add /v1/traces, /v1/metrics, /v1/logs)
    process: subprocess.Popen[str]
    received: dict[str, Any] = field(default_factory=dict)  # filled when the process stops


@contextmanager
def serve_in_subprocess(mode: str) -> Iterator[SubprocessBackend]:
    """The backend in its own Python process; ``received`` is filled when the block exits."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(_ROOT), env.get("PYTHONPATH")]))
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.reliability.fake_otlp_backend", mode],
        cwd=_ROOT,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdin is not None and proc.stdout is not None
    backend = SubprocessBackend(proc.stdout.readline().strip(), proc)
    try:
        if not backend.base_url.startswith("http://"):
            raise RuntimeError(f"fake OTLP backend did not start: {backend.base_url!r}")
        yield backend
    finally:
        try:
            proc.stdin.close()  # EOF: the backend releases waiting requests, reports, exits
            backend.received = json.loads(proc.stdout.readline() or "{}")
            proc.wait(10)
        except (OSError, ValueError, subprocess.TimeoutExpired):
            proc.kill()
            proc.wait()
        finally:
            proc.stdout.close()


def main(argv: list[str] | None = None) -> int:
    """Serve ``MODE`` until stdin closes; print the base URL first, what was received last."""
    args = sys.argv[1:] if argv is None else argv
    received = Received()
    with _server(args[0], threading.Event(), received) as server:
        print(f"http://127.0.0.1:{server.server_address[1]}", flush=True)
        sys.stdin.read()
    print(json.dumps({"requests": received.requests, "bytes": received.bytes}), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
