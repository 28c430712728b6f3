#!/usr/bin/env python3
"""A small example HTTP app that covet-sidecar runs beside in the demo and the end-to-end tests.

Python 3 standard library only, so it runs on a bare Debian 12 with `python3`.

    python3 examples/app/app.py [PORT]        (or APP_PORT=PORT; default 8000)

Listens on 127.0.0.1 only: it stands in for an application in a pod, whose sidecar reaches
it over loopback.

    GET /health/live   200 "ok"   (what the sidecar's `http` probe checks)
    GET /metrics       Prometheus text exposition 0.0.4: app_requests_total{path,code},
                       app_request_duration_seconds (histogram), app_in_flight_requests
    GET /              a short text naming the endpoints
    GET /work?ms=N     sleeps N milliseconds (0..10000) to simulate work, then 200

One thread per connection (ThreadingHTTPServer), one log line per request on stderr.
SIGTERM and SIGINT stop the server and exit 0.
"""

import os
import signal
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

# Request durations here range from under a millisecond to the 10 s /work limit.
BUCKETS = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
MAX_WORK_MS = 10000
# Label values are bounded: any path we do not serve is counted as "other", so a scanner
# cannot grow the series set without limit.
KNOWN_PATHS = ("/", "/health/live", "/metrics", "/work")


class Metrics:
    """The app's three metric families, guarded by one lock (handler threads update them)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._requests = {}  # (path, code) -> count
        self._bucket_counts = [0] * len(BUCKETS)
        self._sum = 0.0
        self._count = 0
        self._in_flight = 0

    def begin(self):
        with self._lock:
            self._in_flight += 1

    def end(self, path, code, seconds):
        with self._lock:
            self._in_flight -= 1
            key = (path, str(code))
            self._requests[key] = self._requests.get(key, 0) + 1
            for i, bound in enumerate(BUCKETS):
                if seconds <= bound:
                    self._bucket_counts[i] += 1
            self._sum += seconds
            self._count += 1

    def render(self):
        with self._lock:
            lines = [
                "# HELP app_requests_total HTTP requests served, by path and status code.",
                "# TYPE app_requests_total counter",
            ]
            for (path, code), n in sorted(self._requests.items()):
                lines.append(f'app_requests_total{{code="{code}",path="{path}"}} {n}')
            lines += [
                "# HELP app_request_duration_seconds Time from request parsed to response written.",
                "# TYPE app_request_duration_seconds histogram",
            ]
            # Buckets are counted cumulatively in end(), as the exposition format wants.
            for bound, n in zip(BUCKETS, self._bucket_counts):
                lines.append(f'app_request_duration_seconds_bucket{{le="{bound}"}} {n}')
            lines.append(f'app_request_duration_seconds_bucket{{le="+Inf"}} {self._count}')
            lines.append(f"app_request_duration_seconds_sum {self._sum!r}")
            lines.append(f"app_request_duration_seconds_count {self._count}")
            lines += [
                "# HELP app_in_flight_requests Requests being served right now.",
                "# TYPE app_in_flight_requests gauge",
                f"app_in_flight_requests {self._in_flight}",
            ]
        return "\n".join(lines) + "\n"


METRICS = Metrics()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the sidecar's http probe and scraper use
    server_version = "covet-example-app/1"

    def do_GET(self):
        started = time.monotonic()
        METRICS.begin()
        url = urlsplit(self.path)
        path = url.path if url.path in KNOWN_PATHS else "other"
        code = 500
        try:
            code = self._route(url)
        finally:
            # The /metrics response was rendered before its own request is counted; that
            # request shows up in the next scrape, as with any client library.
            METRICS.end(path, code, time.monotonic() - started)

    def _route(self, url):
        if url.path == "/health/live":
            return self._send(200, "ok\n")
        if url.path == "/metrics":
            return self._send(200, METRICS.render(), "text/plain; version=0.0.4; charset=utf-8")
        if url.path == "/":
            return self._send(200, "covet-sidecar example app: /health/live /metrics /work?ms=N\n")
        if url.path == "/work":
            try:
                ms = int(parse_qs(url.query).get("ms", ["0"])[0])
            except ValueError:
                return self._send(400, "ms must be an integer\n")
            if not 0 <= ms <= MAX_WORK_MS:
                return self._send(400, f"ms must be in 0..{MAX_WORK_MS}\n")
            time.sleep(ms / 1000)
            return self._send(200, f"worked {ms} ms\n")
        return self._send(404, "not found\n")

    def _send(self, code, body, content_type="text/plain; charset=utf-8"):
        data = body.encode()
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        return code

    def log_message(self, fmt, *args):  # one line per request, on stderr
        sys.stderr.write(f"app: {self.address_string()} {fmt % args}\n")


def main():
    port_text = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("APP_PORT", "8000")
    try:
        port = int(port_text)
        if not 0 < port < 65536:
            raise ValueError
    except ValueError:
        sys.exit(f"app: port must be 1..65535, got {port_text!r}")
    try:
        server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    except OSError as e:
        sys.exit(f"app: listen on 127.0.0.1:{port}: {e.strerror}")
    server.daemon_threads = True  # a slow /work request must not hold up exit

    # shutdown() waits for serve_forever() to return, so it must not run on the thread that
    # is inside serve_forever() (the main thread, where signal handlers run).
    def stop(signum, _frame):
        sys.stderr.write(f"app: {signal.Signals(signum).name}, stopping\n")
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    sys.stderr.write(f"app: listening on http://127.0.0.1:{port}\n")
    server.serve_forever()
    server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
