"""HAProxy in front of the model processes: its configuration, its process, and its
runtime API (a Unix socket) through which servers and weights change without a reload.

What the proxy enforces on ``/invocations``, as docs/serving.md asks of a deployment:
a ``Content-Type`` that is not ``application/json`` gets a 415, a body without a
``Content-Length`` a 411 and one over the cap a 413, all before any model process sees
it; connect, request, client and server timeouts bound every exchange. The model
processes listen on 127.0.0.1 only. ``/status`` and ``/webhooks/mlflow`` go to the
deployment's own control server. Every answer carries ``X-Model-Version``: the version
of the model process that answered, or for an answer of the proxy's own, the version
being served (``none`` before any), read from a map file that the runtime API updates.

Each model process is a server named ``v<version>`` in the backend ``models``; a
request that fails to connect, or gets no answer at all, is retried on another server
(``retry-on``), so a process that dies between two requests costs no request.
Every request is logged to standard output as ``<server> <status> <milliseconds>``,
which ``deploy.serve.traffic`` reads.
"""

from __future__ import annotations

import socket
import subprocess
from dataclasses import dataclass
from pathlib import Path

BACKEND = "models"
CONTROL_BACKEND = "control"
SERVED_KEY = "served"
NO_VERSION = "none"
SOCKET_TIMEOUT_SECONDS = 5.0
LOG_FORMAT = "%s %ST %Ta"
WEBHOOK_PATH = "/webhooks/mlflow"
STATUS_PATH = "/status"
# Each model process is watched two ways: a request that cannot connect to it marks it
# down at once (``observe layer4``), so the retry goes to a process that answers; and
# /ping, every second, brings it back up (three slow or failed checks in a row also mark
# it down: a busy server answers /ping late, and that alone must not take it out).
CHECK = "check inter 1s fall 3 rise 1 observe layer4 error-limit 1 on-error mark-down"
BUFFER_BYTES = 64 * 1024
# What the runtime API answers a change that succeeded (the others answer nothing).
SUCCESS = ("New server registered.", "Server deleted.")
CHANGED = "changed from"  # "set server … addr": "no need to change the addr, port changed from …"


@dataclass(frozen=True)
class Limits:
    """What the proxy enforces: the body cap, and its timeouts in seconds."""

    max_body_bytes: int = 1 << 20
    connect_seconds: float = 2.0
    request_seconds: float = 10.0  # to receive a whole request (slow clients)
    client_seconds: float = 30.0
    server_seconds: float = 60.0  # for a model process to answer
    control_connections: int = 4  # at most this many webhook or status requests at once


@dataclass(frozen=True)
class Server:
    """A model process behind the proxy, with its share of traffic (0 to 256)."""

    version: str
    port: int
    weight: int = 100

    @property
    def name(self) -> str:
        return server_name(self.version)


def server_name(version: str) -> str:
    return f"v{version}"


def _ms(seconds: float) -> str:
    return f"{int(seconds * 1000)}ms"


def config(
    port: int, control_port: int, folder: Path, limits: Limits, servers: list[Server]
) -> str:
    """The HAProxy configuration: the front on 127.0.0.1:``port``, the control server on
    ``control_port``, and ``servers`` as they stand (a restarted proxy starts with the
    servers and weights it had)."""
    json_only = f"{{ path {STATUS_PATH} }} || {{ path {WEBHOOK_PATH} }}"
    lines = [
        "global",
        # A second deployment on the same port must fail, not share it silently.
        "    noreuseport",
        f"    stats socket {folder / 'admin.sock'} mode 600 level admin",
        "    log stdout format raw local0",
        # A request is held whole (for a retry on another process) when it fits one
        # buffer; a larger one, up to the body cap, is passed on as it arrives. A buffer
        # the size of the cap would cost every request (measured: 0.6-2.5 ms of the
        # proxy's CPU each with 1 MiB, 0.3 ms with 16 KiB).
        f"    tune.bufsize {BUFFER_BYTES}",
        "    maxconn 1000",
        "defaults",
        "    mode http",
        "    log global",
        "    option http-keep-alive",
        "    option dontlognull",
        f"    timeout connect {_ms(limits.connect_seconds)}",
        f"    timeout http-request {_ms(limits.request_seconds)}",
        f"    timeout client {_ms(limits.client_seconds)}",
        f"    timeout server {_ms(limits.server_seconds)}",
        f"    timeout queue {_ms(limits.connect_seconds)}",
        "    timeout check 5s",
        "frontend web",
        f"    bind 127.0.0.1:{port}",
        f'    log-format "{LOG_FORMAT}"',
        "    option http-buffer-request",
        "    http-request return status 415 content-type application/json string "
        '"{\\"error_code\\":\\"UNSUPPORTED_MEDIA_TYPE\\",\\"message\\":\\"send Content-Type: '
        'application/json\\"}" if { path /invocations } '
        "!{ req.hdr(content-type) -m reg -i ^application/json(;.*)?$ }",
        "    http-request return status 411 content-type application/json string "
        '"{\\"error_code\\":\\"LENGTH_REQUIRED\\",\\"message\\":\\"send Content-Length\\"}" '
        "if METH_POST !{ req.hdr(content-length) -m found }",
        "    http-request return status 413 content-type application/json string "
        '"{\\"error_code\\":\\"REQUEST_TOO_LARGE\\",\\"message\\":\\"the body is over '
        f'{limits.max_body_bytes} bytes\\"}}" '
        f"if {{ req.hdr_val(content-length) gt {limits.max_body_bytes} }}",
        "    http-after-response set-header X-Model-Version %[var(txn.version)] "
        "if { var(txn.version) -m found }",
        f"    http-after-response set-header X-Model-Version "
        f"%[str({SERVED_KEY}),map({folder / 'versions.map'},{NO_VERSION})] "
        "unless { var(txn.version) -m found }",
        f"    use_backend {CONTROL_BACKEND} if {json_only}",
        f"    default_backend {BACKEND}",
        f"backend {CONTROL_BACKEND}",
        # One request per connection to the control server, and a retry when it drops
        # one: no idle connection is ever reused just as the server closes it.
        "    option http-server-close",
        "    retries 2",
        "    retry-on conn-failure empty-response",
        f"    server control 127.0.0.1:{control_port} maxconn {limits.control_connections}",
        f"backend {BACKEND}",
        "    balance roundrobin",
        "    retries 3",
        "    option redispatch 1",
        "    retry-on conn-failure empty-response",
        "    option httpchk GET /ping",
        "    http-response set-var(txn.version) srv_name,regsub(^v,),regsub(-warm$,)",
    ]
    for server in servers:
        lines.append(
            f"    server {server.name} 127.0.0.1:{server.port} weight {server.weight} {CHECK}"
        )
    return "\n".join(lines) + "\n"


class ProxyError(RuntimeError):
    """The proxy refused a runtime command, or could not be reached."""


class Proxy:
    """One HAProxy process in ``folder``, driven through its runtime API."""

    def __init__(self, port: int, control_port: int, folder: Path, limits: Limits) -> None:
        self.port = port
        self.control_port = control_port
        self.folder = folder
        self.limits = limits
        self.process: subprocess.Popen[str] | None = None

    @property
    def socket_path(self) -> Path:
        return self.folder / "admin.sock"

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    def start(self, servers: list[Server], served: str) -> subprocess.Popen[str]:
        """Write the configuration and start HAProxy in the foreground (``-db``), its log
        on a pipe the caller reads; ready once its runtime API answers."""
        import shutil
        import time

        executable = shutil.which("haproxy") or "/usr/sbin/haproxy"
        if not Path(executable).exists():
            raise ProxyError("haproxy is not installed (Debian: apt-get install haproxy)")
        path = self.folder / "haproxy.cfg"
        path.write_text(config(self.port, self.control_port, self.folder, self.limits, servers))
        (self.folder / "versions.map").write_text(f"{SERVED_KEY} {served}\n")
        self.socket_path.unlink(missing_ok=True)
        self.process = subprocess.Popen(
            [executable, "-db", "-f", str(path)],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            bufsize=1,
            start_new_session=True,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                output = self.process.stdout.read() if self.process.stdout else ""
                raise ProxyError(f"haproxy exited with {self.process.returncode}: {output[-500:]}")
            try:
                self.command("show info")
                return self.process
            except ProxyError:
                time.sleep(0.05)
        raise ProxyError("haproxy's runtime API did not answer within 10 s")

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def command(self, line: str) -> str:
        """One runtime API command; its answer. A refusal raises ``ProxyError``."""
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
                sock.settimeout(SOCKET_TIMEOUT_SECONDS)
                sock.connect(str(self.socket_path))
                sock.sendall(line.encode() + b"\n")
                chunks = []
                while chunk := sock.recv(65536):
                    chunks.append(chunk)
        except OSError as error:
            raise ProxyError(f"haproxy's runtime API: {error}") from None
        answer = b"".join(chunks).decode(errors="replace").strip()
        if line.startswith("show ") or not answer or answer in SUCCESS or CHANGED in answer:
            return answer
        raise ProxyError(f"haproxy refused '{line}': {answer.splitlines()[0]}")

    def add(self, server: Server) -> None:
        """Add a model process with weight 0 (it takes no traffic yet) and enable it."""
        self.command(f"add server {BACKEND}/{server.name} 127.0.0.1:{server.port} weight 0 {CHECK}")
        self.command(f"enable health {BACKEND}/{server.name}")
        self.command(f"enable server {BACKEND}/{server.name}")

    def keep_warm(self, server: Server) -> None:
        """Add ``server``'s process again as a backup (``v<version>-warm``): it takes
        requests only while no other server is up, so a new version whose process dies
        during the bake costs no request before the rollback."""
        name = f"{server.name}-warm"
        self.command(f"add server {BACKEND}/{name} 127.0.0.1:{server.port} backup {CHECK}")
        self.command(f"enable health {BACKEND}/{name}")
        self.command(f"enable server {BACKEND}/{name}")

    def drop_warm(self, version: str) -> None:
        """Remove the backup entry of ``version``, if there is one."""
        name = f"{server_name(version)}-warm"
        try:
            self.command(f"set server {BACKEND}/{name} state maint")
        except ProxyError:
            return  # there is none
        self.command(f"del server {BACKEND}/{name}")

    def weigh(self, version: str, weight: int) -> None:
        """Give ``version`` the share ``weight`` (0 to 256) of new requests."""
        self.command(f"set server {BACKEND}/{server_name(version)} weight {weight}")

    def set_state(self, version: str, state: str) -> None:
        """``ready``, ``drain`` (no new requests; those in flight finish) or ``maint``."""
        self.command(f"set server {BACKEND}/{server_name(version)} state {state}")

    def remove(self, version: str) -> None:
        """Take ``version`` out of the backend (it must be in maintenance, and idle),
        with its backup entry."""
        self.drop_warm(version)
        self.set_state(version, "maint")
        self.command(f"del server {BACKEND}/{server_name(version)}")

    def _stat(self, version: str) -> dict[str, str]:
        """``version``'s row of ``show stat`` (empty when it has none)."""
        answer = self.command(f"show stat {BACKEND} 4 -1")
        header, *rows = answer.splitlines()
        fields = header.lstrip("# ").split(",")
        for row in rows:
            values = dict(zip(fields, row.split(","), strict=False))
            if values.get("svname") == server_name(version):
                return values
        return {}

    def in_flight(self, version: str) -> int:
        """Requests ``version`` is answering or has queued now."""
        values = self._stat(version)
        return int(values.get("scur") or 0) + int(values.get("qcur") or 0)

    def wait_up(self, version: str, timeout: float) -> bool:
        """Wait until the proxy's health check finds ``version`` up; whether it did."""
        import time

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._stat(version).get("status", "").startswith("UP"):
                return True
            time.sleep(0.1)
        return False

    def move(self, version: str, port: int) -> None:
        """Point ``version``'s server at a new process (one restarted after it died)."""
        self.command(f"set server {BACKEND}/{server_name(version)} addr 127.0.0.1 port {port}")

    def announce(self, served: str) -> None:
        """The version the proxy's own answers name in ``X-Model-Version``."""
        self.command(f"set map {self.folder / 'versions.map'} {SERVED_KEY} {served}")
        (self.folder / "versions.map").write_text(f"{SERVED_KEY} {served}\n")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            from deploy.processes import stop_group

            stop_group(self.process.pid, 10)
            self.process.wait(timeout=10)
