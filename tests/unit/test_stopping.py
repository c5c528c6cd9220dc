"""The cooperative stop: a stop asked for (by a signal handler, a watchdog, a test) is
recorded and nothing more; work acts on it at its safe points, and the first reason
wins. No store call can be cut, because nothing is raised where a signal lands."""

from __future__ import annotations

import os
import signal
import threading
import time

import pytest

from lifecycle import stop
from lifecycle.step import signals


@pytest.fixture(autouse=True)
def no_stop_left_behind():
    stop.reset()
    yield
    stop.reset()


def test_a_request_is_recorded_and_acted_on_only_at_a_safe_point() -> None:
    written = []
    stop.request("stopped by SIGTERM")
    written.append("a store write goes on")  # nothing was raised where the request landed
    assert stop.requested()
    with pytest.raises(stop.Stopped, match="stopped by SIGTERM"):
        stop.point()
    assert written == ["a store write goes on"]


def test_the_first_reason_wins_and_later_requests_are_absorbed() -> None:
    stop.request("stopped by SIGINT")
    stop.request("stopped by SIGTERM")  # mlflow run passes Ctrl-C on as SIGTERM
    stop.request("the process that started this step (pid 1) is gone")
    assert stop.reason() == "stopped by SIGINT"
    with pytest.raises(stop.Stopped, match=r"^stopped by SIGINT$"):
        stop.point()


def test_the_stop_is_a_keyboard_interrupt_so_clean_up_code_runs() -> None:
    assert issubclass(stop.Stopped, KeyboardInterrupt)
    assert not issubclass(stop.Stopped, Exception)


def test_a_safe_point_without_a_request_does_nothing() -> None:
    stop.point()
    assert not stop.requested()
    assert stop.reason() == ""


def test_a_canceller_runs_once_in_its_own_thread_when_the_stop_comes() -> None:
    ran: list[str] = []
    thread = stop.on_stop(lambda: ran.append(threading.current_thread().name), name="canceller")
    time.sleep(0.1)
    assert ran == []
    stop.request("stopped by SIGTERM")
    thread.join(timeout=5)
    assert ran == ["canceller"]


def test_a_canceller_that_fails_does_not_hide_the_stop() -> None:
    def broken() -> None:
        raise RuntimeError("the JVM is gone")

    thread = stop.on_stop(broken)
    stop.request("stopped by SIGINT")
    thread.join(timeout=5)
    with pytest.raises(stop.Stopped):
        stop.point()


def test_an_interruptible_sleep_ends_at_the_stop() -> None:
    threading.Timer(0.2, stop.request, args=("stopped by SIGTERM",)).start()
    started = time.monotonic()
    with pytest.raises(stop.Stopped):
        stop.sleep(30)
    assert time.monotonic() - started < 5


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_the_signal_handlers_record_the_stop_and_return(signum: int) -> None:
    previous = {number: signal.getsignal(number) for number in signals.SIGNALS}
    try:
        signals.listen()
        os.kill(os.getpid(), signum)
        deadline = time.monotonic() + 5
        while not stop.requested() and time.monotonic() < deadline:
            time.sleep(0.01)  # the handler runs between these bytecodes; nothing raises
        assert stop.reason() == f"stopped by {signal.Signals(signum).name}"
        os.kill(os.getpid(), signal.SIGTERM)  # a second signal is absorbed
        time.sleep(0.05)
        assert stop.reason() == f"stopped by {signal.Signals(signum).name}"
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def test_the_launcher_watchdog_asks_for_the_stop_once_its_process_is_gone() -> None:
    import subprocess

    child = subprocess.Popen(["sleep", "30"])
    gone: list[int] = []
    try:
        target = (child.pid, signals.processes.start_time(child.pid))
        watcher = signals.watch_launcher(target, gone.append)
        time.sleep(0.2)
        assert gone == []
        child.kill()
        child.wait(timeout=5)
        watcher.join(timeout=5)
        assert gone == [child.pid]
    finally:
        if child.poll() is None:
            child.kill()
