"""Loopback SMTP and HTTP servers that record what they receive, for alert tests (no network needed).

Python 3.11's smtpd is deprecated and aiosmtpd is not installed, so the SMTP server is a minimal
socketserver implementation of what smtplib sends: EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT.
"""

import http.server
import socketserver
import threading
from contextlib import contextmanager
from email import message_from_bytes, policy


class _SmtpHandler(socketserver.StreamRequestHandler):
    def reply(self, line: str) -> None:
        self.wfile.write(f"{line}\r\n".encode())

    def handle(self) -> None:
        self.reply("220 localhost test SMTP")
        while line := self.rfile.readline():
            command = line.decode(errors="replace").strip().upper()
            if command.startswith("EHLO"):
                self.reply("250-localhost")
                self.reply("250 8BITMIME")
            elif command.startswith(("HELO", "MAIL", "RCPT", "RSET", "NOOP")):
                self.reply("250 OK")
            elif command == "DATA":
                self.reply("354 end with <CRLF>.<CRLF>")
                self.server.messages.append(self.read_data())
                self.reply("250 queued")
            elif command == "QUIT":
                self.reply("221 bye")
                return
            else:
                self.reply("502 not implemented")

    def read_data(self):
        lines = []
        while (line := self.rfile.readline()) not in (b".\r\n", b".\n", b""):
            lines.append(line[1:] if line.startswith(b"..") else line)
        return message_from_bytes(b"".join(lines), policy=policy.default)


class _HttpHandler(http.server.BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.server.requests.append((self.path, body))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


@contextmanager
def _serving(server):
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def smtp_server():
    """``server.messages`` collects the received emails; ``server.server_address[1]`` is the port."""
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _SmtpHandler)
    server.daemon_threads = True
    server.messages = []
    with _serving(server) as running:
        yield running


@contextmanager
def http_server():
    """``server.requests`` collects (path, body) of every POST."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _HttpHandler)
    server.requests = []
    with _serving(server) as running:
        yield running
