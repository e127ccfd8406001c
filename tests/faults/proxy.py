"""A fault-injecting TCP proxy (threads): forwards to a server until :meth:`cut`, which drops
every open connection and refuses new ones, until :meth:`restore`."""

from __future__ import annotations

import socket
import threading
from dataclasses import dataclass, field


@dataclass
class FaultProxy:
    """Listen on 127.0.0.1:<port> and forward each connection to ``target``."""

    target: tuple[str, int]
    port: int = 0
    cut_connections: int = 0
    refused: int = 0
    _listener: socket.socket | None = None
    _open: set[socket.socket] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _down: threading.Event = field(default_factory=threading.Event)
    _stop: threading.Event = field(default_factory=threading.Event)

    def start(self) -> FaultProxy:
        """Start listening (on a free port unless ``port`` was given) and accepting."""
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(128)
        listener.settimeout(0.2)
        self.port = listener.getsockname()[1]
        self._listener = listener
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    def _accept(self) -> None:
        assert self._listener is not None
        while not self._stop.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            if self._down.is_set():
                self.refused += 1
                client.close()  # the database "is down": the connection dies at once
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            with self._lock:
                self._open.update((client, upstream))
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    def _pipe(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while True:
                data = source.recv(65536)
                if not data or self._down.is_set():
                    break
                sink.sendall(data)
        except OSError:
            pass
        finally:
            self._close(source)
            self._close(sink)

    def _close(self, sock: socket.socket) -> None:
        with self._lock:
            self._open.discard(sock)
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        sock.close()

    def cut(self) -> None:
        """Drop every open connection and refuse new ones (a database blip)."""
        self._down.set()
        with self._lock:
            victims = list(self._open)
        self.cut_connections += len(victims)
        for sock in victims:
            self._close(sock)

    def restore(self) -> None:
        """Accept and forward connections again."""
        self._down.clear()

    def stop(self) -> None:
        """Stop accepting and drop everything."""
        self._stop.set()
        self.cut()
        if self._listener is not None:
            self._listener.close()
