"""deploy.front_door as it runs: HAProxy forwarding real HTTP requests between loopback
servers in this process (two echo servers), by the artifact path rule, with the host,
the body (chunked or not) and the forwarded headers; and a JSON answer naming a server
that cannot be reached."""

from __future__ import annotations

import http.client
import json
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from deploy.processes import ServerProcess, free_port
from tests.helpers import REPO_ROOT


class Echo(BaseHTTPRequestHandler):
    """Answers with who it is, and the request it got."""

    protocol_version = "HTTP/1.1"

    def _body(self) -> bytes:
        """The request's body, sent whole or chunked (HAProxy passes chunking on)."""
        if "chunked" not in self.headers.get("Transfer-Encoding", "").lower():
            return self.rfile.read(int(self.headers.get("Content-Length") or 0))
        parts = []
        while size := int(self.rfile.readline().split(b";")[0].strip() or b"0", 16):
            parts.append(self.rfile.read(size))
            self.rfile.readline()
        self.rfile.readline()
        return b"".join(parts)

    def _answer(self) -> None:
        body = json.dumps(
            {
                "server": self.server.name,  # type: ignore[attr-defined]
                "method": self.command,
                "path": self.path,
                "host": self.headers.get("Host"),
                "forwarded_for": self.headers.get("X-Forwarded-For"),
                "body": self._body().decode(),
            }
        ).encode()
        self.send_response(201)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_PUT = do_POST = _answer  # noqa: N815 - the standard library's names

    def log_message(self, format: str, *args: object) -> None:
        pass


def serve(server: ThreadingHTTPServer) -> threading.Thread:
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    return thread


def front_door(folder: Path, tracking: int, artifacts: int) -> tuple[ServerProcess, int]:
    """``python -m deploy.front_door`` (HAProxy) on a free port, ready to accept."""
    import socket
    import time

    port = free_port()
    door = ServerProcess(
        [
            sys.executable, "-m", "deploy.front_door", "--port", str(port),
            "--tracking", f"http://127.0.0.1:{tracking}",
            "--artifacts", f"http://127.0.0.1:{artifacts}", "--state-dir", str(folder),
        ],
        env={"PATH": "/usr/sbin:/usr/bin:/bin", "PYTHONPATH": str(REPO_ROOT)},
        cwd=folder,
        log=folder / "front_door.log",
    )  # fmt: skip

    def accepting() -> bool:
        with socket.socket() as sock:
            return sock.connect_ex(("127.0.0.1", port)) == 0

    door.wait_ready(accepting, 30, "front door")
    time.sleep(0.1)
    return door, port


@pytest.fixture
def proxy(tmp_path: Path) -> Iterator[int]:
    """The front door on a free port, before two echo servers."""
    servers = {}
    for name in ("tracking", "artifacts"):
        server = ThreadingHTTPServer(("127.0.0.1", 0), Echo)
        server.name = name  # type: ignore[attr-defined]
        servers[name] = server
    threads = [serve(server) for server in servers.values()]
    door, port = front_door(
        tmp_path, servers["tracking"].server_address[1], servers["artifacts"].server_address[1]
    )
    try:
        yield port
    finally:
        door.stop()
        for server in servers.values():
            server.shutdown()
            server.server_close()
        for thread in threads:
            thread.join(timeout=10)


def request(port: int, method: str, path: str, body: bytes = b"", chunked: bool = False):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    headers = {"Host": "mlflow.example.com"}
    if chunked:
        connection.putrequest(method, path, skip_host=True)
        for name, value in {**headers, "Transfer-Encoding": "chunked"}.items():
            connection.putheader(name, value)
        connection.endheaders()
        for piece in (body[:3], body[3:]):
            connection.send(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
        connection.send(b"0\r\n\r\n")
    else:
        connection.request(method, path, body=body, headers=headers)
    response = connection.getresponse()
    answer = (response.status, response.read())
    connection.close()
    return answer


def test_requests_reach_the_server_their_path_names_with_host_and_body(
    proxy: int,
) -> None:
    port = proxy
    status, body = request(port, "PUT", "/api/2.0/mlflow-artifacts/artifacts/1/a.txt", b"hello")
    assert status == 201
    assert json.loads(body) == {
        "server": "artifacts",
        "method": "PUT",
        "path": "/api/2.0/mlflow-artifacts/artifacts/1/a.txt",
        "host": "mlflow.example.com",
        "forwarded_for": "127.0.0.1",
        "body": "hello",
    }
    status, body = request(port, "POST", "/api/2.0/mlflow/runs/create", b'{"a": 1}', chunked=True)
    assert status == 201
    answer = json.loads(body)
    assert (answer["server"], answer["body"]) == ("tracking", '{"a": 1}')


def test_an_unreachable_server_is_a_json_answer_naming_it(tmp_path: Path) -> None:
    import time

    door, port = front_door(tmp_path, free_port(), free_port())
    line = "artifacts GET /api/2.0/mlflow-artifacts/artifacts 503"
    try:
        status, body = request(port, "GET", "/api/2.0/mlflow-artifacts/artifacts")
        deadline = time.monotonic() + 10  # HAProxy logs a request when its session ends
        while line not in door.output() and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        door.stop()
    assert status == 503
    assert json.loads(body)["message"] == "the artifacts server is unreachable"
    assert line in door.output()
    assert "BADREQ" not in door.output()  # the readiness probe is not logged
