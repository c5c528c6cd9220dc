"""Fault injection for the team stack: a loopback relay in front of the S3 server that
stops S3 the moment a chosen upload reaches it.

The artifacts server is pointed at the relay instead of S3. The relay forwards bytes
both ways until the client side carries ``marker`` (for example the request line of a
``PUT`` under one experiment's prefix); then it kills the S3 server by its PID, through
the stack, and drops the connection without forwarding that request. The upload is
under way when S3 goes, and no later request can reach it.
"""

from __future__ import annotations

import contextlib
import socket
import threading

from deploy.stack import Stack

ACCEPT_POLL_SECONDS = 0.2
CHUNK = 65536


class S3Tripwire:
    """A relay on 127.0.0.1 to the stack's S3 port that kills S3 on ``marker``."""

    def __init__(self, stack: Stack, marker: bytes) -> None:
        self.stack = stack
        self.marker = marker
        self.upstream_port = stack.state.weed_ports["s3"]
        self.fired = threading.Event()
        self._closing = threading.Event()
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(16)
        self._listener.settimeout(ACCEPT_POLL_SECONDS)
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self._listener.getsockname()[1]}"

    def __enter__(self) -> S3Tripwire:
        self._spawn(self._accept_loop)
        return self

    def __exit__(self, *exc: object) -> None:
        self._closing.set()
        for thread in self._threads:
            thread.join(timeout=5)
        self._listener.close()

    def _spawn(self, target, *args) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)
        thread.start()
        self._threads.append(thread)

    def _accept_loop(self) -> None:
        while not self._closing.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            try:
                upstream = socket.create_connection(("127.0.0.1", self.upstream_port), timeout=5)
            except OSError:  # S3 is gone: the caller sees a dropped connection
                client.close()
                continue
            self._spawn(self._pump, client, upstream, True)
            self._spawn(self._pump, upstream, client, False)

    def _pump(self, source: socket.socket, sink: socket.socket, inspect: bool) -> None:
        tail = b""
        source.settimeout(ACCEPT_POLL_SECONDS)
        try:
            while not self._closing.is_set():
                try:
                    data = source.recv(CHUNK)
                except TimeoutError:
                    continue
                if not data:
                    return
                if inspect and self.marker in tail + data:
                    self._trip()
                    return
                tail = (tail + data)[-len(self.marker) :]
                sink.sendall(data)
        except OSError:
            return
        finally:
            for end in (source, sink):
                with contextlib.suppress(OSError):
                    end.close()

    def _trip(self) -> None:
        with self._lock:
            if not self.fired.is_set():
                self.stack.kill("s3")
                self.fired.set()
