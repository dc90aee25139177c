"""A featureless reference server: one epoll loop, httptools, the app inline.

Not a server to use: no limits, no timeouts, no threads, no error handling.
It shows the floor that Python plus the kernel set on this machine, so the
cost of sluice's features and of its thread hand-off can be read off as the
gap (see RESULTS.md). Run it like the others:

    taskset -c 0 python benchmarks/bare_loop.py PORT
"""

from __future__ import annotations

import select
import socket
import sys
from typing import Any

import httptools

from benchmarks.apps import hello


def main(port: int) -> None:
    """Serve ``benchmarks.apps:hello`` on 127.0.0.1:PORT until killed."""
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", port))
    listener.listen(1024)
    listener.setblocking(False)
    epoll = select.epoll()
    epoll.register(listener.fileno(), select.EPOLLIN)
    conns: dict[int, tuple[socket.socket, Any, list[bytes]]] = {}
    status_line: list[str] = []

    def start_response(status: str, headers: list[tuple[str, str]]) -> None:
        status_line[:] = [status] + [f"{k}: {v}" for k, v in headers]

    class Handler:
        def __init__(self, out: list[bytes]) -> None:
            self.out = out
            self.url = b""

        def on_url(self, url: bytes) -> None:
            self.url = url

        def on_message_complete(self) -> None:
            environ = {"REQUEST_METHOD": "GET", "PATH_INFO": self.url.decode("latin-1")}
            body = b"".join(hello(environ, start_response))
            head = "HTTP/1.1 " + "\r\n".join(status_line) + "\r\n\r\n"
            self.out.append(head.encode("latin-1") + body)

    while True:
        for fd, _ in epoll.poll():
            if fd == listener.fileno():
                sock, _ = listener.accept()
                sock.setblocking(False)
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                out: list[bytes] = []
                conns[sock.fileno()] = (sock, httptools.HttpRequestParser(Handler(out)), out)
                epoll.register(sock.fileno(), select.EPOLLIN)
                continue
            sock, parser, out = conns[fd]
            try:
                data = sock.recv(65536)
            except OSError:
                data = b""
            if not data:
                epoll.unregister(fd)
                del conns[fd]
                sock.close()
                continue
            parser.feed_data(data)
            if out:
                sock.send(b"".join(out))
                out.clear()


if __name__ == "__main__":
    main(int(sys.argv[1]))
