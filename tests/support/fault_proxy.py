"""A loopback TCP proxy for fault tests: it passes, refuses, delays, resets, or cuts traffic in
either direction, switched at any moment by the test."""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass, field


@dataclass
class FaultProxy:
    target_port: int
    mode: str = "pass"  # pass | refuse | delay | reset | drop_response | cut_response | cut_request
    delay_s: float = 0.0
    cut_after_bytes: int = 64
    connections: int = 0
    faults: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(64)
        self.listener.settimeout(0.2)
        self.port = self.listener.getsockname()[1]
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def close(self) -> None:
        self._stop.set()
        self.thread.join(timeout=5)
        self.listener.close()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self.listener.accept()
            except OSError:
                continue
            self.connections += 1
            threading.Thread(target=self._handle, args=(client, self.mode), daemon=True).start()

    def _handle(self, client: socket.socket, mode: str) -> None:
        with client:
            if mode == "refuse":
                self.faults += 1
                client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
                return
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target_port), timeout=30)
            except OSError:
                return
            with upstream:
                request = _read_http(client)
                if request is None:
                    return
                if mode == "delay":
                    time.sleep(self.delay_s)
                if mode == "cut_request":
                    self.faults += 1
                    upstream.sendall(request[: self.cut_after_bytes])
                    return
                if mode == "reset":
                    self.faults += 1
                    client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
                    return
                upstream.sendall(request)
                response = _read_http(upstream)
                if response is None:
                    return
                if mode == "drop_response":  # the server did the work; the client never hears
                    self.faults += 1
                    return
                if mode == "cut_response":
                    self.faults += 1
                    client.sendall(_closing(response)[: self.cut_after_bytes])
                    return
                client.sendall(_closing(response))


def _read_http(sock: socket.socket) -> bytes | None:
    """One whole HTTP/1.1 message (headers and a Content-Length body)."""
    data = b""
    sock.settimeout(30)
    try:
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(65536)
            if not chunk:
                return None
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value.strip())
        while len(body) < length:
            chunk = sock.recv(65536)
            if not chunk:
                return None
            body += chunk
        return head + b"\r\n\r\n" + body
    except OSError:
        return None


def _closing(response: bytes) -> bytes:
    """The proxy serves one request per connection; tell the client so."""
    head, _, body = response.partition(b"\r\n\r\n")
    return head + b"\r\nConnection: close\r\n\r\n" + body
