"""Fault injection for the team stack: a loopback relay in front of the S3 server that
takes S3 away, for whoever talks through it, the moment a chosen upload reaches it.

An artifacts server is pointed at the relay instead of S3. The relay forwards bytes
both ways until the client side carries ``marker`` (for example the request line of a
``PUT`` under one experiment's prefix); then it drops that connection without
forwarding the request, drops every other, and refuses every later one: to that
artifacts server S3 is gone, while the S3 server itself, which the rest of the test
run's shared stack uses, goes on.
"""

from __future__ import annotations

import contextlib
import socket
import threading

ACCEPT_POLL_SECONDS = 0.2
CHUNK = 65536


class S3Tripwire:
    """A relay on 127.0.0.1 to S3's port ``upstream_port`` that takes S3 away on
    ``marker``."""

    def __init__(self, upstream_port: int, marker: bytes) -> None:
        self.marker = marker
        self.upstream_port = upstream_port
        self._open: list[socket.socket] = []
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
            if self.fired.is_set():  # S3 is gone: the caller sees a dropped connection
                client.close()
                continue
            try:
                upstream = socket.create_connection(("127.0.0.1", self.upstream_port), timeout=5)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._open += [client, upstream]
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
            self.fired.set()
            for end in self._open:
                with contextlib.suppress(OSError):
                    end.shutdown(socket.SHUT_RDWR)
