"""A forward HTTP proxy (libcurl's `http_proxy`) between lakelog and the S3 server that can lose
a response: the request reaches the server (which applies it), and the client's connection is
closed before any answer — what a timeout after the server stored a PUT looks like to the
client. A forward proxy leaves the Host header, which the signature covers, as it was."""

from __future__ import annotations

import http.client
import http.server
import re
import socket
import threading


class FaultProxy:
    def __init__(self, upstream_port: int):
        self.upstream_port = upstream_port
        self.lose = []  # (method, path regex) of requests whose response is lost, once each
        # Answer a refused conditional PUT (412) with 200: what a store that ignores
        # `If-None-Match` looks like to the client (the header itself is signed, so it stays).
        self.ignore_conditions = False
        self.lost = []  # (method, path) of the responses lost
        # [method, path regex, HTTP status, times]: answered with that status instead of being
        # forwarded, `times` times (503 SlowDown, 429, 500: what S3 answers under load).
        self.refuse = []
        self.refused = []  # (method, path, status) of the requests refused
        self.lock = threading.Lock()
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def forward(self):
                path = self.path
                if path.startswith("http://"):  # absolute form, as clients send it to a proxy
                    path = "/" + path.split("/", 3)[3] if path.count("/") >= 3 else "/"
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                status = proxy.should_refuse(self.command, path)
                if status:
                    error = (b"<Error><Code>SlowDown</Code><Message>Please reduce your request "
                             b"rate.</Message></Error>")
                    self.send_response_only(status)
                    self.send_header("Content-Type", "application/xml")
                    self.send_header("Content-Length", str(len(error)))
                    self.end_headers()
                    if self.command != "HEAD":
                        self.wfile.write(error)
                    return
                upstream = http.client.HTTPConnection("127.0.0.1", proxy.upstream_port, timeout=60)
                upstream.putrequest(self.command, path, skip_host=True,
                                    skip_accept_encoding=True)
                for name, value in self.headers.items():
                    if name.lower() != "proxy-connection":
                        upstream.putheader(name, value)
                upstream.endheaders(body)
                response = upstream.getresponse()
                data = response.read()
                upstream.close()
                if proxy.should_lose(self.command, path):
                    # Applied upstream; the client never hears of it.
                    self.connection.shutdown(socket.SHUT_RDWR)
                    self.close_connection = True
                    return
                if (proxy.ignore_conditions and response.status == 412 and
                        self.headers.get("If-None-Match")):
                    self.send_response_only(200, "OK")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.send_response_only(response.status, response.reason)
                for name, value in response.getheaders():
                    if name.lower() not in ("transfer-encoding", "connection", "content-length"):
                        self.send_header(name, value)
                length = response.getheader("Content-Length") if self.command == "HEAD" else None
                self.send_header("Content-Length", length or str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = forward

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def should_lose(self, method: str, path: str) -> bool:
        with self.lock:
            for i, (m, pattern) in enumerate(self.lose):
                if m == method and re.search(pattern, path):
                    del self.lose[i]
                    self.lost.append((method, path))
                    return True
        return False

    def should_refuse(self, method: str, path: str) -> int:
        with self.lock:
            for rule in self.refuse:
                m, pattern, status, times = rule
                if m == method and times > 0 and re.search(pattern, path):
                    rule[3] -= 1
                    self.refused.append((method, path, status))
                    return status
        return 0

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
