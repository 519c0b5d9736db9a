"""`cxkpi demo`'s output: a line per source, and "ready" only once the server answers."""

from __future__ import annotations

import http.server
import threading
import time
from pathlib import Path

from etl.cli.load import _source_line
from etl.cli.serve import _say_ready
from etl.loading.load import FileResult


def test_one_line_sums_a_sources_files():
    results = [
        FileResult(Path(f"s/interactions/2026-0{m}.csv"), None, "loaded", 10, 9, 1) for m in (1, 2)
    ] + [FileResult(Path("s/interactions/2026-03.csv"), None, "failed", 5, 0, 5, "bad")]
    assert _source_line(results) == (
        "interactions: 3 files, 18 rows loaded, 7 quarantined, 1 failed (above)"
    )


def test_ready_is_said_once_the_server_answers_and_not_before(capsys):
    class Health(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (the standard library's name)
            self.send_response(200 if self.path == "/_stcore/health" else 404)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Health)
    url = f"http://127.0.0.1:{server.server_port}"
    server.socket.close()  # nothing listens yet: not ready
    assert not _say_ready(url, time.monotonic(), timeout=0.5)
    assert "ready" not in capsys.readouterr().out
    server = http.server.HTTPServer(("127.0.0.1", int(url.rsplit(":", 1)[1])), Health)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        assert _say_ready(url, time.monotonic(), timeout=10)
    finally:
        server.shutdown()
    assert f"open {url}" in capsys.readouterr().out
