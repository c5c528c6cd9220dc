"""The deployment's own endpoints, behind the proxy: ``GET /status`` (JSON: the version
served, the version the alias names, the state, the reason and the model processes) and
``POST /webhooks/mlflow`` (MLflow's webhook, verified by ``deploy.serve.webhook``).

It listens on 127.0.0.1 only; the proxy lets at most a few requests through at once,
and a verified delivery only wakes the deployment, however many arrive (a flood costs
one registry read).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from deploy.serve import webhook
from deploy.serve.proxy import STATUS_PATH, WEBHOOK_PATH

logger = logging.getLogger(__name__)
MAX_WEBHOOK_BYTES = 64 * 1024


class ControlServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(
        self,
        port: int,
        status: Callable[[], dict[str, Any]],
        on_delivery: Callable[[webhook.Delivery], None],
        secret: str | None,
    ) -> None:
        super().__init__(("127.0.0.1", port), _Handler)
        self.status = status
        self.on_delivery = on_delivery
        self.secret = secret

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client gone mid-request (the proxy closing a connection) is routine; any
        other error is logged in one line, without a traceback."""
        import sys

        error = sys.exc_info()[1]
        if isinstance(error, ConnectionError):
            logger.debug("control: a request from %s ended early", client_address)
        else:
            logger.warning("control: a request failed: %r", error)

    def serve_in_thread(self) -> threading.Thread:
        thread = threading.Thread(target=self.serve_forever, daemon=True, name="control")
        thread.start()
        return thread


class _Handler(BaseHTTPRequestHandler):
    server: ControlServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("control: " + format, *args)

    def _answer(self, status: int, document: dict[str, Any]) -> None:
        body = json.dumps(document).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        if self.path.split("?", 1)[0] != STATUS_PATH:
            self._answer(404, {"error": f"no such path: {self.path[:100]}"})
            return
        self._answer(200, self.server.status())

    def do_POST(self) -> None:
        if self.path.split("?", 1)[0] != WEBHOOK_PATH:
            self._answer(404, {"error": f"no such path: {self.path[:100]}"})
            return
        if not self.server.secret:
            self._answer(404, {"error": "webhooks are off: start with --webhook-secret"})
            return
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_WEBHOOK_BYTES:
            self._answer(413, {"error": f"a delivery is at most {MAX_WEBHOOK_BYTES} bytes"})
            return
        body = self.rfile.read(length)
        try:
            delivery = webhook.verify(self.server.secret, dict(self.headers), body, time.time())
        except ValueError as error:
            logger.warning("webhook refused: %s", error)
            self._answer(401, {"error": f"refused: {error}"})
            return
        self.server.on_delivery(delivery)
        self._answer(200, {"received": delivery.delivery_id})
