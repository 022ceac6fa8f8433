"""``GET /healthz`` on ``HEALTH_PORT``: a liveness check for load balancers and orchestrators.

A small tornado server (tornado comes with python-telegram-bot's webhook extra) on the bot's
own event loop, so it answers exactly when the bot's loop is alive. The body says which index
version is served, whether the last search worked, and how many questions got each kind of
answer since start: enough to alert on a stale index, a search outage or a rise in refusals.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from tornado.httpserver import HTTPServer
from tornado.web import Application, RequestHandler

logger = logging.getLogger(__name__)

HEALTH_PATH = "/healthz"

Report = Callable[[], Awaitable[dict[str, Any]]]
"""Returns the health document; raising makes the check fail (503)."""


class HealthPortError(Exception):
    """The health check cannot listen where the settings say (a port in use, say)."""


class _HealthHandler(RequestHandler):
    def initialize(self, report: Report) -> None:
        self._report = report

    async def get(self) -> None:
        self.set_header("Cache-Control", "no-store")
        try:
            body = await self._report()
        except Exception as exc:
            logger.warning("Health check failed: %s", exc)
            self.set_status(503)
            body = {"status": "error", "error": f"{type(exc).__name__}: {exc}"[:300]}
        self.write(body)  # a dict: tornado sends it as JSON


def _quiet(handler: RequestHandler) -> None:
    """Log health checks at DEBUG: a load balancer asks every few seconds."""
    logger.debug("%s %s %s", handler.get_status(), handler.request.method, handler.request.uri)


class HealthServer:
    """Serves :data:`HEALTH_PATH` on ``listen:port`` until :meth:`stop`."""

    def __init__(self, report: Report, listen: str, port: int) -> None:
        self.listen = listen
        self.port = port
        app = Application([(HEALTH_PATH, _HealthHandler, {"report": report})], log_function=_quiet)
        self._server = HTTPServer(app)

    def start(self) -> None:
        """Bind and serve on the running event loop (HealthPortError when it cannot bind)."""
        try:
            self._server.listen(self.port, address=self.listen)
        except OSError as exc:
            raise HealthPortError(
                f"cannot serve the health check on {self.listen}:{self.port} "
                f"(HEALTH_LISTEN, HEALTH_PORT): {exc.strerror or exc}"
            ) from exc
        logger.info("Health check on http://%s:%s%s", self.listen, self.port, HEALTH_PATH)

    async def stop(self) -> None:
        """Stop listening and close open connections."""
        self._server.stop()
        await self._server.close_all_connections()
