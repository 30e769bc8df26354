"""A local HTTP server in a thread for the outbox and webhook tests: it records every request
and answers from a script (a list of (status, body) or (status, body, headers) consumed in
order, then the default)."""
from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit


class FakeServer:
    def __init__(self, default=(200, {"ok": True}), handler=None):
        self.requests: list[dict] = []
        self.script: list[tuple[int, object]] = []
        self.default = default
        self.route = handler       # optional fn(request dict) -> (status, body) | None
        self.lock = threading.Lock()
        outer = self

        class H(BaseHTTPRequestHandler):
            def log_message(self, *a):   # quiet
                pass

            def _answer(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                parts = urlsplit(self.path)
                req = {"method": self.command, "path": parts.path, "query": dict(parse_qsl(parts.query)),
                       "headers": {k: v for k, v in self.headers.items()}, "body": body}
                with outer.lock:
                    outer.requests.append(req)
                    got = outer.route(req) if outer.route else None
                    if got is None:
                        got = outer.script.pop(0) if outer.script else outer.default
                status, payload, *extra = got
                data = payload if isinstance(payload, bytes) else json.dumps(payload, ensure_ascii=False).encode()
                self.send_response(status)
                for name, value in (extra[0] if extra else {}).items():
                    self.send_header(name, value)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = _answer

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(5)
