"""A real Chroma server for tests: ``chroma run --path DIR --host 127.0.0.1 --port N``.

:class:`ChromaServer` starts the ``chroma`` executable installed next to ``sys.executable`` (the
chromadb package ships it) on a free loopback port, waits for its heartbeat, and can stop,
kill, freeze (SIGSTOP), thaw and restart it on the same path and port, which is what the fault
tests need. Only loopback addresses are ever used. The server's output goes to a log file next
to its data folder; a server that does not come up raises with the end of that log.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import IO, Any

HOST = "127.0.0.1"
START_TIMEOUT = 60.0
STOP_TIMEOUT = 15.0
HEARTBEAT_PATH = "/api/v2/heartbeat"
COLLECTIONS_PATH = "/api/v2/tenants/default_tenant/databases/default_database/collections"


def chroma_executable() -> Path | None:
    """The ``chroma`` command of the running interpreter's environment, if it is installed."""
    path = Path(sys.executable).parent / "chroma"
    return path if path.is_file() and os.access(path, os.X_OK) else None


def free_port(host: str = HOST) -> int:
    """A TCP port nothing listens on right now (the kernel's pick)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def server_env() -> dict[str, str]:
    """The server's environment: no telemetry, no proxies (only loopback is ever reached)."""
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    env.update(ANONYMIZED_TELEMETRY="False", NO_PROXY="*", no_proxy="*")
    return env


class ChromaServerError(RuntimeError):
    """The server did not start or stop as asked."""


class ChromaServer:
    """One ``chroma run`` process with a fixed data folder and port (kept across restarts)."""

    def __init__(self, path: Path, port: int | None = None, host: str = HOST) -> None:
        executable = chroma_executable()
        if executable is None:
            raise ChromaServerError(f"no chroma executable next to {sys.executable}")
        if host not in ("127.0.0.1", "localhost", "::1"):
            raise ValueError(f"only loopback addresses are allowed, got {host!r}")
        self.executable = executable
        self.path = Path(path)
        self.host = host
        self.port = port or free_port(host)
        self.log_path = self.path.parent / f"{self.path.name}.chroma.log"
        self.process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None
        self.starts = 0

    # ------------------------------------------------------------------ addresses

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def env(self) -> dict[str, str]:
        """The environment variables that point the project's settings at this server."""
        return {"CHROMA_HOST": self.host, "CHROMA_PORT": str(self.port)}

    def settings_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for ``IndexSettings`` that select this server."""
        return {"chroma_host": self.host, "chroma_port": self.port}

    # ------------------------------------------------------------------ life cycle

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self, timeout: float = START_TIMEOUT) -> None:
        """Start the server (on the same path and port as before) and wait for its heartbeat."""
        if self.running:
            return
        self.path.mkdir(parents=True, exist_ok=True)
        self._log = open(self.log_path, "ab")  # noqa: SIM115 - closed in stop()
        cmd = [
            str(self.executable),
            "run",
            "--path",
            str(self.path),
            "--host",
            self.host,
            "--port",
            str(self.port),
        ]
        self.process = subprocess.Popen(
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env=server_env(),
            start_new_session=True,  # a Ctrl-C in the terminal does not reach it
        )
        self.starts += 1
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                code = self.process.returncode
                self._close_log()
                raise ChromaServerError(
                    f"chroma run exited with status {code} before answering; {self.log_tail()}"
                )
            if self.heartbeat(timeout=1.0):
                return
            time.sleep(0.05)
        self.kill()
        raise ChromaServerError(
            f"chroma run on port {self.port} did not answer within {timeout:.0f} s; "
            f"{self.log_tail()}"
        )

    def stop(self, timeout: float = STOP_TIMEOUT) -> None:
        """Stop the server gracefully (SIGTERM), or kill it when it does not exit in time."""
        process = self.process
        if process is None:
            return
        if process.poll() is None:
            self._signal(signal.SIGCONT)  # a frozen process cannot handle SIGTERM
            self._signal(signal.SIGTERM)
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                self._signal(signal.SIGKILL)
                process.wait(timeout)
        self.process = None
        self._close_log()
        self._wait_port_closed()

    def kill(self) -> None:
        """Kill the server at once (SIGKILL), as a crash would."""
        process = self.process
        if process is None:
            return
        if process.poll() is None:
            self._signal(signal.SIGKILL)
            process.wait(STOP_TIMEOUT)
        self.process = None
        self._close_log()
        self._wait_port_closed()

    def restart(self, timeout: float = START_TIMEOUT) -> None:
        """Stop and start again on the same path and port."""
        self.stop()
        self.start(timeout)

    def freeze(self) -> None:
        """SIGSTOP: the port still accepts connections, but nothing is answered (a hung server)."""
        if not self.running:
            raise ChromaServerError("the server is not running")
        self._signal(signal.SIGSTOP)

    def thaw(self) -> None:
        """SIGCONT after :meth:`freeze`."""
        self._signal(signal.SIGCONT)

    def _signal(self, sig: signal.Signals) -> None:
        if self.process is not None and self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                # Only our own process (by id): the server runs in it, without children.
                os.kill(self.process.pid, sig)

    def _close_log(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None

    def _wait_port_closed(self, timeout: float = 5.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
                sock.settimeout(0.2)
                if sock.connect_ex((self.host, self.port)) != 0:
                    return
            time.sleep(0.05)

    # ------------------------------------------------------------------ queries

    def _get(self, path: str, timeout: float) -> Any:
        # The proxy handler is left out: requests to 127.0.0.1 must never go through a proxy.
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with opener.open(self.url + path, timeout=timeout) as response:
            return json.loads(response.read().decode("utf-8"))

    def heartbeat(self, timeout: float = 2.0) -> bool:
        """True when the server answers its heartbeat."""
        try:
            self._get(HEARTBEAT_PATH, timeout)
        except (OSError, ValueError, urllib.error.URLError):
            return False
        return True

    def collection_names(self, prefix: str = "") -> list[str]:
        """The names of the collections on the server (those starting with ``prefix``), sorted."""
        rows = self._get(COLLECTIONS_PATH, timeout=10.0)
        return sorted(r["name"] for r in rows if str(r["name"]).startswith(prefix))

    def log_tail(self, chars: int = 1500) -> str:
        """The end of the server's log, for error messages."""
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return "no server log"
        return "server log: " + " | ".join(text[-chars:].splitlines()[-15:])

    def __enter__(self) -> ChromaServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return f"ChromaServer({self.url}, path={self.path}, {state})"
