"""One address for both team servers: HAProxy routing by path, as the load balancer in
deploy/aws/self-hosted does.

Requests under the artifact API paths go to the artifacts server; everything else goes
to the tracking server. With the tracking server's artifact root set to
``mlflow-artifacts:/`` (no host), clients then need only ``MLFLOW_TRACKING_URI``, and the
UI's artifact browser works through the same address. The ``Host`` header is passed on
unchanged, as the load balancer does, so both servers' ``--allowed-hosts`` must name
this address; ``X-Forwarded-For``, ``-Proto`` and ``-Port`` are set by the proxy, never
taken from the client.

    python -m deploy.front_door --port 8080 --tracking http://127.0.0.1:5000 \\
        --artifacts http://127.0.0.1:5500

writes the configuration (``config``) and becomes HAProxy (Debian's ``haproxy``
package), in the foreground, with the same PID. Each request is logged to standard
output as ``<artifacts|tracking> <method> <path> <status>``. A server that cannot be
reached gets a JSON answer naming it. It is for the loopback stack
(``python -m deploy.stack up --front-door``) and for tests of the load balancer's
routing; it speaks plain HTTP.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

# The load balancer's listener rule in deploy/aws/self-hosted/load_balancer.tf routes the
# same prefixes (tests/unit/test_front_door.py checks that the two agree).
ARTIFACT_PATH_PREFIXES = ("/api/2.0/mlflow-artifacts/", "/ajax-api/2.0/mlflow-artifacts/")
UPSTREAM_TIMEOUT_SECONDS = 300


def route(path: str) -> str:
    """``artifacts`` for the artifact API paths, ``tracking`` for every other path: the
    rule ``config`` gives HAProxy."""
    return "artifacts" if path.startswith(ARTIFACT_PATH_PREFIXES) else "tracking"


def upstream_address(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    if parts.scheme != "http" or not parts.hostname or not parts.port:
        raise ValueError(f"{url!r}: give an http://host:port address")
    return parts.hostname, parts.port


def _unreachable(name: str) -> str:
    body = json.dumps({"error_code": "BAD_GATEWAY", "message": f"the {name} server is unreachable"})
    quoted = body.replace('"', '\\"')
    return f'content-type application/json string "{quoted}"'


def config(host: str, port: int, upstreams: dict[str, tuple[str, int]]) -> str:
    """The HAProxy configuration: ``host:port`` in front of the ``tracking`` and
    ``artifacts`` servers."""
    prefixes = " ".join(ARTIFACT_PATH_PREFIXES)
    lines = [
        "global",
        "    log stdout format raw local0",
        "    noreuseport",
        "defaults",
        "    mode http",
        "    log global",
        "    option http-keep-alive",
        "    option dontlognull",  # a connection that sends nothing (a port probe)
        "    timeout connect 5s",
        "    timeout http-request 30s",
        f"    timeout client {UPSTREAM_TIMEOUT_SECONDS}s",
        f"    timeout server {UPSTREAM_TIMEOUT_SECONDS}s",
        "frontend web",
        f"    bind {host}:{port}",
        '    log-format "%b %HM %HP %ST"',
        "    http-request del-header X-Forwarded-For",
        "    http-request del-header X-Forwarded-Proto",
        "    http-request del-header X-Forwarded-Port",
        "    option forwardfor",
        "    http-request set-header X-Forwarded-Proto http",
        f"    http-request set-header X-Forwarded-Port {port}",
        f"    use_backend artifacts if {{ path_beg {prefixes} }}",
        "    default_backend tracking",
    ]
    for name in ("tracking", "artifacts"):
        address, server_port = upstreams[name]
        lines += [
            f"backend {name}",
            f"    http-error status 503 {_unreachable(name)}",
            f"    http-error status 502 {_unreachable(name)}",
            f"    server {name} {address}:{server_port}",
        ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m deploy.front_door", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--tracking", required=True, help="the tracking server, http://host:port")
    parser.add_argument("--artifacts", required=True, help="the artifacts server, http://host:port")
    parser.add_argument("--state-dir", type=Path, help="where the configuration is written")
    args = parser.parse_args(argv)
    try:
        upstreams = {
            "tracking": upstream_address(args.tracking),
            "artifacts": upstream_address(args.artifacts),
        }
    except ValueError as error:
        parser.error(str(error))
    haproxy = shutil.which("haproxy") or "/usr/sbin/haproxy"
    if not Path(haproxy).exists():
        parser.error("haproxy is not installed (Debian: apt-get install haproxy)")
    folder = args.state_dir or Path(tempfile.mkdtemp(prefix="front-door-"))
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "haproxy.cfg"
    path.write_text(config(args.host, args.port, upstreams))
    sys.stdout.flush()
    os.execv(haproxy, [haproxy, "-db", "-f", str(path)])
    return 0  # not reached: this process is HAProxy now


if __name__ == "__main__":
    sys.exit(main())
