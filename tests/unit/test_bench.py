"""Unit tests of the benchmark's measuring and reporting helpers, and of its load
generator against a tiny HTTP server on 127.0.0.1 (timings are never asserted)."""

from __future__ import annotations

import json
import re
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest

from bench import load, measure


def test_percentiles_interpolate() -> None:
    values = [0.4, 0.1, 0.3, 0.2]
    assert measure.percentile(values, 0.0) == 0.1
    assert measure.percentile(values, 1.0) == 0.4
    assert measure.percentile(values, 0.5) == pytest.approx(0.25)
    with pytest.raises(ValueError, match="no values"):
        measure.percentile([], 0.5)


def test_ratio_rows_judge_targets_both_ways() -> None:
    row = measure.ratio_row("cold", 9.0, 3.0, "floor", ("<=", 3.0), peak_mib=250.4)
    assert (row.value, row.ratio, row.target, row.verdict, row.peak_rss) == (
        "9.00 s",
        "3.00x",
        "<= 3x",
        "met",
        "250 MiB",
    )
    assert measure.ratio_row("baseline", 10.0, 6.0, "cold", (">=", 2.0)).verdict == "MISSED"
    assert measure.ratio_row("floor", 2.0).ratio == ""


def test_the_table_has_a_header_a_rule_and_a_row_each() -> None:
    rows = [measure.Row("a figure", "1.00 s"), measure.Row("another", "2.00 s", "2.00x", "a")]
    lines = measure.format_table(rows).splitlines()
    assert lines[0].split()[:2] == ["figure", "value"]
    assert set(lines[1].replace(" ", "")) == {"-"}
    assert lines[2].startswith("a figure")
    assert len(lines) == 4


def test_a_measured_command_reports_its_exit_code_output_and_peak_rss(tmp_path: Path) -> None:
    code = "import sys; block = bytearray(64 * 2**20); print('done'); sys.exit(3)"
    result = measure.run_measured([sys.executable, "-c", code], {}, tmp_path)
    assert result.returncode == 3
    assert result.stdout.strip() == "done"
    # exact, however short the process: the largest process of the tree
    assert result.tree_peak_mib >= 64
    with pytest.raises(RuntimeError, match="exit code 3"):
        result.check("the allocation")


def test_each_process_of_the_tree_is_sampled_by_its_command(tmp_path: Path) -> None:
    child = "import time; block = bytearray(48 * 2**20); time.sleep(0.5)"
    parent = f"import subprocess, sys; subprocess.run([sys.executable, '-c', {child!r}])"
    result = measure.run_measured([sys.executable, "-c", parent], {}, tmp_path)
    assert result.returncode == 0
    mib, command = result.peak("bytearray")
    assert mib >= 48
    assert "time.sleep" in command
    assert result.peak("no such command") == (0.0, "-")
    assert result.tree_peak_mib >= 48


class Invocations(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    seen: ClassVar[list[int]] = []

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        rows = len(body["dataframe_split"]["data"])
        Invocations.seen.append(rows)
        status = 200 if rows < 1000 else 400
        answer = json.dumps({"predictions": ["setosa"] * rows}).encode()
        self.send_response(status)
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args: object) -> None:
        return


@pytest.fixture
def server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Invocations)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    Invocations.seen.clear()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()
    thread.join(timeout=10)


def test_the_load_generator_sends_exactly_the_bounded_number_of_requests(server: str) -> None:
    result = load.run_load(server, load.iris_payload(100), total=25, concurrency=4)
    assert result.requests == 25
    assert Invocations.seen == [100] * 25
    assert result.per_second > 0
    assert 0 < result.latency_ms(0.5) <= result.latency_ms(0.99)


def test_the_load_generator_reports_errors_and_talks_only_to_loopback(server: str) -> None:
    with pytest.raises(RuntimeError, match=re.escape("request(s) failed, e.g. 400")):
        load.run_load(server, load.iris_payload(1000), total=3, concurrency=1)
    with pytest.raises(ValueError, match=re.escape("only talks to 127.0.0.1")):
        load.run_load("http://192.0.2.1:5000", load.iris_payload(1), total=1, concurrency=1)
