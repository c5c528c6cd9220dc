"""Measures a command: wall time; the exact peak resident memory of its largest process
(``ru_maxrss`` from ``wait4``, which covers every descendant the tree waited for); and,
to say which process that was, each process's peak read from ``/proc/<pid>/status``
(``VmHWM``) every 50 ms while it runs (a process shorter than that may be missed).
Also the pure helpers the report is built from: percentiles, ratios and the table.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

POLL_SECONDS = 0.05
KIB_PER_MIB = 1024


@dataclass
class Measurement:
    """One timed command: seconds, its exit code and output, and per-process peak RSS."""

    seconds: float
    returncode: int
    stdout: str
    stderr: str
    peak_kib: dict[int, tuple[int, str]] = field(default_factory=dict)  # pid -> (kB, command)
    tree_peak_kib: int = 0  # exact, from wait4

    @property
    def tree_peak_mib(self) -> float:
        return self.tree_peak_kib / KIB_PER_MIB

    def peak(self, contains: str = "") -> tuple[float, str]:
        """Largest sampled peak RSS in MiB among processes whose command holds ``contains``."""
        chosen = [(kib, command) for kib, command in self.peak_kib.values() if contains in command]
        if not chosen:
            return 0.0, "-"
        kib, command = max(chosen)
        return kib / KIB_PER_MIB, command

    def check(self, what: str) -> Measurement:
        if self.returncode != 0:
            raise RuntimeError(
                f"{what} failed with exit code {self.returncode}:\n{self.stderr[-3000:]}"
            )
        return self


def process_tree(root: int) -> list[int]:
    """``root`` and every process below it (Linux /proc)."""
    from lifecycle import processes

    return [root, *processes.descendants(root)]


def _peak_kib(pid: int) -> tuple[int, str] | None:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
        command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]), command
    return None


def run_measured(
    args: list[str], env: dict[str, str], cwd: Path, timeout: float = 3600
) -> Measurement:
    """Run ``args`` to completion, sampling the peak RSS of its process tree meanwhile."""
    peaks: dict[int, tuple[int, str]] = {}
    done = threading.Event()
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        started = time.perf_counter()
        process = subprocess.Popen(args, env=env, cwd=cwd, stdout=out, stderr=err, text=True)

        def sample() -> None:
            while not done.is_set():
                for pid in process_tree(process.pid):
                    reading = _peak_kib(pid)
                    if reading and reading[1] and reading[0] >= peaks.get(pid, (0, ""))[0]:
                        peaks[pid] = reading
                done.wait(POLL_SECONDS)

        def stop_at_timeout() -> None:
            if not done.wait(timeout):
                process.kill()

        threads = [threading.Thread(target=f, daemon=True) for f in (sample, stop_at_timeout)]
        for thread in threads:
            thread.start()
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
        done.set()
        for thread in threads:
            thread.join()
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    return Measurement(
        seconds, process.returncode, stdout, stderr, peaks, tree_peak_kib=usage.ru_maxrss
    )


def percentile(values: list[float], fraction: float) -> float:
    """The ``fraction`` quantile by linear interpolation (0.5: the median)."""
    if not values:
        raise ValueError("no values")
    ordered = sorted(values)
    position = fraction * (len(ordered) - 1)
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


@dataclass(frozen=True)
class Row:
    """One line of the report: a figure, what it is compared with, and the target."""

    figure: str
    value: str
    ratio: str = ""
    against: str = ""
    target: str = ""
    verdict: str = ""
    peak_rss: str = ""


def ratio_row(
    figure: str,
    seconds: float,
    reference: float | None = None,
    against: str = "",
    target: tuple[str, float] | None = None,
    peak_mib: float | None = None,
) -> Row:
    """A timing row; ``target`` is ("<=", 3.0) or (">=", 2.0) on seconds / reference."""
    ratio = seconds / reference if reference else None
    verdict = ""
    target_text = ""
    if target and ratio is not None:
        sign, bound = target
        met = ratio <= bound if sign == "<=" else ratio >= bound
        verdict = "met" if met else "MISSED"
        target_text = f"{sign} {bound:g}x"
    return Row(
        figure=figure,
        value=f"{seconds:.2f} s",
        ratio="" if ratio is None else f"{ratio:.2f}x",
        against=against,
        target=target_text,
        verdict=verdict,
        peak_rss="" if peak_mib is None else f"{peak_mib:.0f} MiB",
    )


COLUMNS = ("figure", "value", "ratio", "against", "target", "verdict", "peak RSS")


def format_table(rows: list[Row]) -> str:
    """A fixed-width text table, header and rule first."""
    cells = [list(COLUMNS)] + [
        [row.figure, row.value, row.ratio, row.against, row.target, row.verdict, row.peak_rss]
        for row in rows
    ]
    widths = [max(len(line[i]) for line in cells) for i in range(len(COLUMNS))]
    lines = [
        "  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip()
        for line in cells
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines) + "\n"


def machine_description() -> str:
    """CPU model, cores and memory of this machine, for the report's first line."""
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
        memory_kib = next(
            int(line.split()[1])
            for line in Path("/proc/meminfo").read_text().splitlines()
            if line.startswith("MemTotal:")
        )
        memory = f"{memory_kib / 1024 / 1024:.0f} GiB"
    except (OSError, StopIteration):
        memory = "unknown memory"
    return f"{model}, {os.cpu_count()} cores, {memory}"
