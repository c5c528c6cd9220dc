"""deploy.front_door: the path routing of the AWS load balancer, for the loopback stack.

Unit checks of the routing rule and the headers, the rule compared with the Terraform
listener rule (static), and the proxy forwarding real HTTP requests between loopback
servers running in this process."""

from __future__ import annotations

import http.client
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import hcl2
import pytest

from deploy import front_door
from deploy.processes import free_port

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/api/2.0/mlflow-artifacts/artifacts/1/run/artifacts/model/MLmodel", "artifacts"),
        ("/ajax-api/2.0/mlflow-artifacts/artifacts", "artifacts"),
        ("/api/2.0/mlflow-artifacts/mpu/create/1/x", "artifacts"),
        ("/api/2.0/mlflow/runs/create", "tracking"),
        ("/ajax-api/2.0/mlflow/experiments/get-by-name", "tracking"),
        ("/health", "tracking"),
        ("/", "tracking"),
        ("/api/2.0/mlflow-artifactsX/", "tracking"),
    ],
)
def test_route(path: str, expected: str) -> None:
    assert front_door.route(path) == expected


def test_headers_lose_hop_by_hop_and_gain_the_forwarded_ones() -> None:
    headers = front_door.forwarded_headers(
        [
            ("Host", "mlflow.example.com"),
            ("Authorization", "Basic abc"),
            ("Connection", "keep-alive"),
            ("Transfer-Encoding", "chunked"),
            ("X-Forwarded-For", "6.6.6.6"),
        ],
        "10.0.0.7",
        8080,
    )
    assert headers == [
        ("Host", "mlflow.example.com"),
        ("Authorization", "Basic abc"),
        ("X-Forwarded-For", "10.0.0.7"),
        ("X-Forwarded-Proto", "http"),
        ("X-Forwarded-Port", "8080"),
    ]


def test_static_the_prefixes_are_the_terraform_listener_rule() -> None:
    with (ROOT / "deploy/aws/self-hosted/load_balancer.tf").open() as handle:
        parsed = hcl2.load(handle)
    (rule,) = [
        body
        for block in parsed["resource"]
        for kind, named in block.items()
        if kind.strip('"') == "aws_lb_listener_rule"
        for body in named.values()
    ]
    patterns = [value.strip('"') for value in rule["condition"][0]["path_pattern"][0]["values"]]
    assert patterns == [prefix + "*" for prefix in front_door.ARTIFACT_PATH_PREFIXES]


class Echo(BaseHTTPRequestHandler):
    """Answers with who it is, and the request it got."""

    protocol_version = "HTTP/1.1"

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = json.dumps(
            {
                "server": self.server.name,  # type: ignore[attr-defined]
                "method": self.command,
                "path": self.path,
                "host": self.headers.get("Host"),
                "forwarded_for": self.headers.get("X-Forwarded-For"),
                "body": self.rfile.read(length).decode(),
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


@pytest.fixture
def proxy() -> Iterator[int]:
    """The front door on a free port, before two echo servers."""
    servers = {}
    for name in ("tracking", "artifacts"):
        server = ThreadingHTTPServer(("127.0.0.1", 0), Echo)
        server.name = name  # type: ignore[attr-defined]
        servers[name] = server
    upstreams = {name: ("127.0.0.1", server.server_address[1]) for name, server in servers.items()}
    port = free_port()
    door = ThreadingHTTPServer(("127.0.0.1", port), front_door.make_handler(upstreams, port))
    door.daemon_threads = True
    threads = [serve(server) for server in [*servers.values(), door]]
    try:
        yield port
    finally:
        for server in [door, *servers.values()]:
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


def test_an_unreachable_server_is_a_502_naming_it() -> None:
    port = free_port()
    upstreams = {"tracking": ("127.0.0.1", free_port()), "artifacts": ("127.0.0.1", free_port())}
    door = ThreadingHTTPServer(("127.0.0.1", port), front_door.make_handler(upstreams, port))
    thread = serve(door)
    try:
        status, body = request(port, "GET", "/api/2.0/mlflow-artifacts/artifacts")
    finally:
        door.shutdown()
        door.server_close()
        thread.join(timeout=10)
    assert status == 502
    assert json.loads(body)["message"] == "the artifacts server is unreachable"
