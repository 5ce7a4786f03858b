"""A real HTTPS server on 127.0.0.1 for download tests (trustme certificate), as fixtures.

A pytest plugin (see tests/conftest.py): fixtures ``ca``, ``client_context`` (an SSL context
trusting the test CA) and ``https_server`` (``.files`` maps URL paths to bytes, ``.base`` is the
https origin, ``.requests`` records what was asked).
"""

from __future__ import annotations

import http.server
import re
import socket
import ssl
import threading
from dataclasses import dataclass, field

import pytest
import trustme


@dataclass
class Behaviour:
    """What the test server does; tests change it before requesting."""

    files: dict[str, bytes] = field(default_factory=dict)
    drop_after: int | None = None  # first request of a file: send this many bytes, then hang up
    ignore_range: bool = False
    refuse_range_once: bool = False  # answer the next Range request with 416
    redirects: dict[str, str] = field(default_factory=dict)
    requests: list[tuple[str, str | None]] = field(default_factory=list)  # (path, Range header)


class Handler(http.server.BaseHTTPRequestHandler):
    behaviour: Behaviour

    def log_message(self, *args) -> None:  # keep test output quiet
        pass

    def do_GET(self) -> None:
        b = self.behaviour
        b.requests.append((self.path, self.headers.get("Range")))
        if self.path in b.redirects:
            self.send_response(302)
            self.send_header("Location", b.redirects[self.path])
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        data = b.files.get(self.path)
        if data is None:
            self.send_error(404)
            return
        start = 0
        match = re.match(r"^bytes=(\d+)-$", self.headers.get("Range") or "")
        if match and not b.ignore_range:
            start = int(match.group(1))
            if start >= len(data) or b.refuse_range_once:
                b.refuse_range_once = False
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{len(data)}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        else:
            self.send_response(200)
        body = data[start:]
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if b.drop_after is not None:
            cut, b.drop_after = b.drop_after, None
            self.wfile.write(body[:cut])
            self.wfile.flush()
            # Hang up mid-body without a TLS close_notify, like a dropped connection.
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        self.wfile.write(body)


@pytest.fixture(scope="module")
def ca():
    return trustme.CA()


@pytest.fixture
def client_context(ca):
    context = ssl.create_default_context()
    ca.configure_trust(context)
    return context


@pytest.fixture
def https_server(ca):
    before = set(threading.enumerate())
    behaviour = Behaviour()
    handler = type("BoundHandler", (Handler,), {"behaviour": behaviour})
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    httpd.daemon_threads = False  # server_close() then joins every request thread
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    behaviour.base = f"https://127.0.0.1:{httpd.server_address[1]}"  # type: ignore[attr-defined]
    try:
        yield behaviour
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)
        assert set(threading.enumerate()) <= before  # no server or request thread left
