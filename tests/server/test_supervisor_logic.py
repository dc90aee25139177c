"""The master's decisions with ``os.kill`` mocked: no processes, no sockets, no sleeps.

``tests/server/test_supervisor.py`` runs the same rules with real processes
and signals; these tests pin each decision down (heartbeat, back-off,
reload hand-over and abandonment, the start-up failure exit).
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from sluice.config import resolve
from sluice.server.devserver import DevSupervisor
from sluice.server.supervisor import Supervisor
from sluice.server.supervisor import WorkerProcess


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, int]]:
    """Every (pid, signal) the master sends."""
    calls: list[tuple[int, int]] = []
    monkeypatch.setattr(os, "kill", lambda pid, sig: calls.append((pid, sig)))
    return calls


def make_master(**settings: object) -> Supervisor:
    settings.setdefault("workers", 2)
    return Supervisor(lambda: None, resolve(settings))  # type: ignore[arg-type,return-value]


def add(master: Supervisor, pid: int, generation: int = 1, ready: bool = True, now: float = 0.0) -> WorkerProcess:
    proc = WorkerProcess(pid, generation, -1, now)
    proc.ready = ready
    master.workers[pid] = proc
    if ready:
        master.ever_ready = True
    return proc


def exit_status(code: int) -> int:
    """A waitpid status for a normal exit with ``code``."""
    return code << 8


def test_supervisor_heartbeat_missing_sends_sigabrt_then_sigkill(sent: list[tuple[int, int]]) -> None:
    master = make_master(timeout="3")
    add(master, 10, now=100.0)
    add(master, 11, now=100.0).last_beat = 102.5
    master.check_heartbeats(103.5)
    assert sent == [(10, signal.SIGABRT)]
    master.kill_overdue(104.0)
    assert sent == [(10, signal.SIGABRT)]
    master.kill_overdue(106.0)
    assert sent == [(10, signal.SIGABRT), (10, signal.SIGKILL)]
    master.kill_overdue(107.0)
    master.check_heartbeats(107.0)
    assert sent[2:] == [(11, signal.SIGABRT)]


def test_supervisor_worker_dying_before_ready_backs_off(sent: list[tuple[int, int]], monkeypatch: pytest.MonkeyPatch) -> None:
    master = make_master()
    add(master, 10)
    spawned: list[int] = []
    monkeypatch.setattr(master, "spawn_worker", lambda: spawned.append(master.generation))
    for pid, expected in ((20, 0.1), (21, 0.2), (22, 0.4)):
        proc = WorkerProcess(pid, 1, -1, 0.0)
        master._on_exit(proc, exit_status(1))
        assert master.backoff == pytest.approx(expected)
    master.scale(master.spawn_after - 0.01)
    assert spawned == []
    master.scale(master.spawn_after)
    assert spawned == [1]


def test_supervisor_import_failure_before_any_ready_exits_3_error_once(
    sent: list[tuple[int, int]], capsys: pytest.CaptureFixture[str]
) -> None:
    master = make_master()
    first = WorkerProcess(10, 1, -1, 0.0)
    first.error = b"Error: cannot load the app: boom"
    add(master, 11, ready=False)
    master._on_exit(first, exit_status(3))
    assert master.exit_status == 3
    assert master.stopping
    assert sent == [(11, signal.SIGKILL)]
    # The second worker's identical failure is not shown again.
    second = master.workers.pop(11)
    second.error = first.error
    master._on_exit(second, exit_status(3))
    assert capsys.readouterr().err.count("cannot load the app: boom") == 1


def test_supervisor_reload_retires_old_generation_only_when_new_is_ready(sent: list[tuple[int, int]]) -> None:
    master = make_master()
    add(master, 10)
    add(master, 11)
    master.handle_hup()
    assert master.generation == 2
    add(master, 20, generation=2)
    new = add(master, 21, generation=2, ready=False)
    master.check_generation()
    assert sent == []
    new.ready = True
    master.check_generation()
    assert sorted(sent) == [(10, signal.SIGTERM), (11, signal.SIGTERM)]
    assert master.previous_generation is None


def test_supervisor_reload_failure_keeps_old_generation(sent: list[tuple[int, int]]) -> None:
    master = make_master()
    add(master, 10)
    add(master, 11)
    master.handle_hup()
    add(master, 20, generation=2)
    failed = WorkerProcess(21, 2, -1, 0.0)
    failed.error = b"RuntimeError: broken deploy"
    master._on_exit(failed, exit_status(3))
    assert master.generation == 1
    assert master.previous_generation is None
    assert not master.stopping
    assert sent == [(20, signal.SIGTERM)]


def test_supervisor_sigttou_retires_one_worker_gracefully(sent: list[tuple[int, int]]) -> None:
    master = make_master(workers="3")
    for pid in (10, 11, 12):
        add(master, pid)
    master._signals = [signal.SIGTTOU]
    master.handle_signals()
    master.scale(0.0)
    assert master.count == 2
    assert sent == [(10, signal.SIGTERM)]


def test_supervisor_sigquit_kills_and_sigterm_stops_gracefully(sent: list[tuple[int, int]]) -> None:
    master = make_master()
    add(master, 10)
    master._signals = [signal.SIGTERM]
    master.handle_signals()
    assert sent == [(10, signal.SIGTERM)]
    master._signals = [signal.SIGQUIT]
    master.handle_signals()
    assert sent == [(10, signal.SIGTERM), (10, signal.SIGKILL)]



# -- sluice run's master -------------------------------------------------------------------


def make_dev_master(tmp_path: object, **settings: object) -> DevSupervisor:
    settings.setdefault("workers", 1)
    return DevSupervisor(lambda: None, resolve(settings), Path(str(tmp_path)))  # type: ignore[arg-type,return-value]


def test_dev_reload_stops_every_worker_at_once_and_starts_a_new_generation(
    sent: list[tuple[int, int]], tmp_path: Path
) -> None:
    master = make_dev_master(tmp_path)
    add(master, 10)
    master.reload_now()
    # No hand-over: the old worker stops accepting now, so the next request meets the new code.
    assert sent == [(10, signal.SIGTERM)]
    assert master.generation == 2 and master.previous_generation is None and master.spawn_after == 0.0
    # A save while the new worker is still importing: it is replaced too.
    importing = add(master, 11, generation=2, ready=False)
    master.reload_now()
    assert sent == [(10, signal.SIGTERM), (11, signal.SIGTERM)]
    assert master.generation == 3
    # Its exit before ready is expected: no back-off, no roll-back to an older generation.
    del master.workers[11]
    master._on_exit(importing, exit_status(-signal.SIGTERM & 0x7F))
    assert master.generation == 3 and master.backoff == 0.0 and not master.stopping


def test_dev_master_survives_its_watcher_exiting(
    sent: list[tuple[int, int]], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    master = make_dev_master(tmp_path)
    master.watcher_pid = 77
    master.on_other_exit(99, exit_status(0))  # not the watcher: nothing
    assert master.watcher_pid == 77 and not caplog.text
    master.on_other_exit(77, exit_status(1))
    assert master.watcher_pid == 0 and not master.stopping
    assert "reloading is off" in caplog.text
def metrics_master() -> Supervisor:
    from sluice.server.metrics import Aggregate

    master = make_master()
    master.metrics = Aggregate()
    return master


def test_supervisor_metrics_frames_read_whole_across_pipe_reads() -> None:
    from sluice.server.metrics import WorkerStats

    stats = WorkerStats()
    stats.thread().done("GET", 200, 0.001)
    frame = stats.snapshot(0, 8, 3)
    master = metrics_master()
    read_end, write_end = os.pipe()
    os.set_blocking(read_end, False)
    proc = WorkerProcess(10, 1, read_end, 0.0)
    master.workers[10] = proc
    master._selector.register(read_end, 1, proc)
    try:
        os.write(write_end, b"R" + frame[:7])
        assert master._read_worker(proc)
        assert proc.ready and master.metrics is not None and master.metrics.live == {}
        os.write(write_end, frame[7:] + b"Q" + frame)
        assert master._read_worker(proc)
        assert proc.retiring and proc.stop_sent_at is not None
        assert master.metrics.live[10][-1] == 3  # open connections, the last gauge
        assert proc.inbox == b""
        os.write(write_end, b"Eboom: R Q")
        master._read_worker(proc)
        assert proc.reading_error and proc.error == b"boom: R Q"
    finally:
        os.close(write_end)
        master._read_worker(proc)  # EOF: unregisters and closes the read end
        master._selector.close()
    assert proc.pipe == -1


@pytest.mark.parametrize(
    ("setup", "reason"),
    [
        (lambda p: None, "crash"),
        (lambda p: setattr(p, "retiring", True), "max_requests"),
        (lambda p: setattr(p, "abort_sent_at", 1.0), "timeout"),
    ],
    ids=["died", "recycled", "no-heartbeat"],
)
def test_supervisor_ready_worker_exit_counted_as_a_restart(sent: list[tuple[int, int]], setup: object, reason: str) -> None:
    master = metrics_master()
    proc = add(master, 10)
    setup(proc)  # type: ignore[operator]
    master._on_exit(proc, exit_status(0) if reason == "max_requests" else int(signal.SIGKILL))  # killed: the signal number
    assert master.metrics is not None and master.metrics.restarts == {reason: 1}


def test_supervisor_worker_the_master_stopped_is_no_restart(sent: list[tuple[int, int]]) -> None:
    master = metrics_master()
    retired = add(master, 10)
    retired.stop_sent_at = 1.0  # a reload or SIGTTOU
    master._on_exit(retired, exit_status(0))
    master.stopping = True
    master._on_exit(add(master, 11), exit_status(0))
    assert master.metrics is not None and master.metrics.restarts == {}


def test_supervisor_worker_dying_before_ready_counted_as_a_crash(sent: list[tuple[int, int]]) -> None:
    master = metrics_master()
    master.ever_ready = True
    master._on_exit(add(master, 10, ready=False), exit_status(1))
    assert master.metrics is not None and master.metrics.restarts == {"crash": 1}
