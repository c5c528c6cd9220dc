"""One address for both team servers: a small reverse proxy that routes by path, as the
load balancer in deploy/aws/self-hosted does.

Requests under the artifact API paths go to the artifacts server; everything else goes
to the tracking server. With the tracking server's artifact root set to
``mlflow-artifacts:/`` (no host), clients then need only ``MLFLOW_TRACKING_URI``, and the
UI's artifact browser works through the same address. The ``Host`` header is passed on
unchanged, as the load balancer does, so both servers' ``--allowed-hosts`` must name
this address.

    python -m deploy.front_door --port 8080 --tracking http://127.0.0.1:5000 \\
        --artifacts http://127.0.0.1:5500

It is for the loopback stack (``python -m deploy.stack up --front-door``) and for tests
of the load balancer's routing; it speaks plain HTTP.
"""

from __future__ import annotations

import argparse
import http.client
import json
import logging
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

logger = logging.getLogger(__name__)

# The load balancer's listener rule in deploy/aws/self-hosted/load_balancer.tf routes the
# same prefixes (tests/unit/test_front_door.py checks that the two agree).
ARTIFACT_PATH_PREFIXES = ("/api/2.0/mlflow-artifacts/", "/ajax-api/2.0/mlflow-artifacts/")
HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
}
CHUNK_BYTES = 1 << 16
UPSTREAM_TIMEOUT_SECONDS = 300


def route(path: str) -> str:
    """``artifacts`` for the artifact API paths, ``tracking`` for every other path."""
    return "artifacts" if path.startswith(ARTIFACT_PATH_PREFIXES) else "tracking"


def forwarded_headers(
    headers: list[tuple[str, str]], client_ip: str, port: int
) -> list[tuple[str, str]]:
    """The request's end-to-end headers, plus the X-Forwarded-* a load balancer adds."""
    kept = [(name, value) for name, value in headers if name.lower() not in HOP_BY_HOP]
    kept = [(name, value) for name, value in kept if not name.lower().startswith("x-forwarded-")]
    return [
        *kept,
        ("X-Forwarded-For", client_ip),
        ("X-Forwarded-Proto", "http"),
        ("X-Forwarded-Port", str(port)),
    ]


def make_handler(upstreams: dict[str, tuple[str, int]], port: int) -> type[BaseHTTPRequestHandler]:
    """A handler class forwarding to ``upstreams`` by :func:`route`, for a proxy
    listening on ``port``."""

    class FrontDoor(BaseHTTPRequestHandler):
        # One response per connection: bodies of unknown length end when it closes.
        protocol_version = "HTTP/1.0"

        def _body(self) -> bytes | None:
            if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
                parts: list[bytes] = []
                while True:
                    size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                    if size == 0:
                        self.rfile.readline()
                        return b"".join(parts)
                    parts.append(self.rfile.read(size))
                    self.rfile.readline()
            return None

        def _forward(self) -> None:
            target = route(urlsplit(self.path).path)
            host, port = upstreams[target]
            headers = forwarded_headers(list(self.headers.items()), self.client_address[0], port)
            chunked_body = self._body()
            length = int(self.headers.get("Content-Length") or 0)
            if chunked_body is not None:
                headers.append(("Content-Length", str(len(chunked_body))))
            upstream = http.client.HTTPConnection(host, port, timeout=UPSTREAM_TIMEOUT_SECONDS)
            try:
                upstream.putrequest(
                    self.command, self.path, skip_host=True, skip_accept_encoding=True
                )
                for name, value in headers:
                    upstream.putheader(name, value)
                upstream.endheaders()
                if chunked_body is not None:
                    upstream.send(chunked_body)
                remaining = length if chunked_body is None else 0
                while remaining > 0:
                    piece = self.rfile.read(min(CHUNK_BYTES, remaining))
                    if not piece:
                        break
                    upstream.send(piece)
                    remaining -= len(piece)
                response = upstream.getresponse()
            except OSError as error:
                upstream.close()
                logger.warning(
                    "%s %s %s -> %s unreachable: %s", target, self.command, self.path, target, error
                )
                body = json.dumps(
                    {"error_code": "BAD_GATEWAY", "message": f"the {target} server is unreachable"}
                ).encode()
                self.send_response(502)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                return
            try:
                logger.info("%s %s %s %d", target, self.command, self.path, response.status)
                self.send_response_only(response.status, response.reason)
                for name, value in response.getheaders():
                    if name.lower() not in HOP_BY_HOP:
                        self.send_header(name, value)
                self.end_headers()
                while piece := response.read(CHUNK_BYTES):
                    self.wfile.write(piece)
            finally:
                upstream.close()

        # The standard library dispatches on these names.
        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _forward  # noqa: N815

        def log_message(self, format: str, *args: object) -> None:
            """Requests are logged once, with their route, by ``_forward``."""

    return FrontDoor


def upstream_address(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    if parts.scheme != "http" or not parts.hostname or not parts.port:
        raise ValueError(f"{url!r}: give an http://host:port address")
    return parts.hostname, parts.port


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m deploy.front_door", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--tracking", required=True, help="the tracking server, http://host:port")
    parser.add_argument("--artifacts", required=True, help="the artifacts server, http://host:port")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    try:
        upstreams = {
            "tracking": upstream_address(args.tracking),
            "artifacts": upstream_address(args.artifacts),
        }
    except ValueError as error:
        parser.error(str(error))
    server = ThreadingHTTPServer((args.host, args.port), make_handler(upstreams, args.port))
    server.daemon_threads = True
    logger.info("front door on http://%s:%d", args.host, args.port)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
