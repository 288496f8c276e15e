import itertools
import math
import time
from dataclasses import dataclass

import pytest

from explorer.lab.core.protocol import Advance, Diverged, FrameClock, Progress, run_sync
from explorer.ui.runner import (
    MAX_STEPS_PER_FRAME,
    ExperimentRunner,
    JobRunner,
    steps_for_budget,
    unfinished_threads,
)


@dataclass(frozen=True)
class Frame:
    step: int
    loss: float = 1.0


def counting(limit=10_000, bad_at=None, loss_nan_at=None):
    def factory():
        for step in range(limit + 1):
            if step == bad_at:
                raise Diverged(step, "loss became inf")
            yield Frame(step, math.nan if step == loss_nan_at else 1.0)

    return factory


@pytest.fixture
def runner(qtbot):
    r = ExperimentRunner(max_fps=500)
    frames = []
    r.sig_frame.connect(frames.append)
    r.frames = frames
    yield r
    r.stop()


def test_load_shows_step_zero_and_waits(qtbot, runner):
    runner.load(counting())
    qtbot.waitUntil(lambda: bool(runner.frames), timeout=60000)
    qtbot.wait(150)
    assert [f.step for f in runner.frames] == [0]
    assert runner.state == "paused"


def test_step_advances_exactly_one_frame(qtbot, runner):
    runner.load(counting())
    qtbot.waitUntil(lambda: bool(runner.frames), timeout=60000)
    runner.step()
    qtbot.waitUntil(lambda: runner.frames[-1].step == 1, timeout=60000)
    qtbot.wait(150)
    assert runner.frames[-1].step == 1 and runner.state == "paused"


def test_play_advances_and_pause_stops(qtbot, runner):
    runner.load(counting())
    qtbot.waitUntil(lambda: bool(runner.frames), timeout=30000)
    runner.play()
    qtbot.waitUntil(lambda: runner.frames[-1].step > 60, timeout=30000)
    steps = [f.step for f in runner.frames]
    assert steps == sorted(steps)  # only ever the newest frame, never an older one after it
    with qtbot.waitSignal(runner.sig_state, timeout=30000):
        runner.pause()
    frozen = runner.current_step
    qtbot.wait(200)
    assert runner.current_step <= frozen + 1  # at most the frame that was being computed


def test_divergence_is_a_message_with_the_step(qtbot, runner):
    runner.load(counting(bad_at=5), play=True)
    with qtbot.waitSignal(runner.sig_failed, timeout=60000) as blocker:
        pass
    assert blocker.args[0].startswith("Diverged: loss became inf at step 5")
    assert runner.state == "failed"


def test_non_finite_loss_stops_the_run(qtbot, runner):
    runner.load(counting(loss_nan_at=7), play=True)
    with qtbot.waitSignal(runner.sig_failed, timeout=60000) as blocker:
        pass
    assert "nan at step 7" in blocker.args[0]


def test_stop_ends_the_worker_while_playing(qtbot, runner):
    runner.load(counting(), play=True)
    qtbot.waitUntil(lambda: len(runner.frames) > 3, timeout=30000)
    assert runner.stop(timeout_ms=30000)  # the worker sees the stop at its next frame
    qtbot.waitUntil(lambda: unfinished_threads() == 0, timeout=30000)


def test_run_sync_reports_failure_instead_of_raising():
    frame, failure, error = run_sync(counting(bad_at=3), until_step=10)
    assert frame.step == 2 and failure.startswith("Diverged") and isinstance(error, Diverged)
    frame, failure, _ = run_sync(counting(), until_step=10)
    assert frame.step == 10 and failure is None


def scheduled(requests, limit=10_000):
    """A run that honours the driver's requests, as the lab experiments do, and records them."""

    def factory():
        clock = FrameClock(every=3)
        for step in range(limit + 1):
            if clock.due(step):
                request = yield Frame(step)
                requests.append(request)
                clock.advance(step, request)

    return factory


def test_step_uses_the_configs_cadence_and_play_a_time_budget(qtbot, runner):
    requests = []
    runner.load(scheduled(requests))
    qtbot.waitUntil(lambda: bool(runner.frames), timeout=60000)
    runner.step()
    qtbot.waitUntil(lambda: runner.frames[-1].step == 3, timeout=60000)  # Step: the config's 3 steps
    assert requests == [Advance()]
    runner.play()
    qtbot.waitUntil(lambda: len(requests) > 3, timeout=60000)
    runner.pause()
    assert all(r.steps is not None for r in requests[2:])  # after the first, each frame asks for a count
    steps = [f.step for f in runner.frames]
    assert all(b - a <= 3 for a, b in itertools.pairwise(steps))  # never past the config's cadence


def test_the_budget_aims_at_its_time_and_moves_gently():
    assert steps_for_budget(steps=10, seconds=0.1, budget=0.05) == 5  # twice too slow: half
    assert steps_for_budget(steps=10, seconds=0.001, budget=0.05) == 20  # far too fast: double
    assert steps_for_budget(steps=1, seconds=10.0, budget=0.05) == 1  # never below one step
    assert steps_for_budget(steps=10**6, seconds=1e-9, budget=1.0) == MAX_STEPS_PER_FRAME


def test_a_failed_job_is_delivered_before_busy_turns_false(qtbot):
    jobs = JobRunner()
    seen = []
    jobs.sig_failed.connect(lambda message: seen.append(("failed", jobs.busy)))
    jobs.sig_busy.connect(lambda busy: seen.append(("busy", busy)))
    with qtbot.waitSignal(jobs.sig_busy, timeout=30000, check_params_cb=lambda busy: not busy):
        jobs.start(slow_job(fail=True), lambda r: None, "job")
    assert seen == [("busy", True), ("failed", True), ("busy", False)]
    assert not jobs.busy


def test_a_chained_job_keeps_the_runner_busy(qtbot):
    jobs = JobRunner()
    results, busy = [], []
    jobs.sig_busy.connect(busy.append)

    def first_done(result):
        results.append(result)
        jobs.start(slow_job(3), results.append, "second")

    jobs.start(slow_job(3), first_done, "first")
    qtbot.waitUntil(lambda: len(results) == 2, timeout=30000)
    assert busy == [True, True, False] and not jobs.busy


def slow_job(n=50, fail=False):
    def factory():
        for i in range(n):
            time.sleep(0.01)
            if fail and i == 2:
                raise MemoryError("could not allocate 8 GiB")
            yield Progress((i + 1) / n, "working")
        return "result"

    return factory


def test_job_reports_progress_then_result(qtbot):
    jobs = JobRunner()
    results, progress = [], []
    jobs.sig_progress.connect(lambda f, m: progress.append(f))
    jobs.start(slow_job(10), results.append, "job")
    qtbot.waitUntil(lambda: bool(results), timeout=60000)
    assert results == ["result"] and progress[-1] == pytest.approx(1.0)


def test_cancelled_job_delivers_nothing(qtbot):
    jobs = JobRunner()
    results = []
    jobs.start(slow_job(200), results.append, "job")
    with qtbot.waitSignal(jobs.sig_cancelled, timeout=60000):
        jobs.cancel()
    assert jobs.wait(60000)
    assert results == [] and not jobs.busy


def test_out_of_memory_in_a_job_is_reported(qtbot):
    jobs = JobRunner()
    with qtbot.waitSignal(jobs.sig_failed, timeout=60000) as blocker:
        jobs.start(slow_job(fail=True), lambda r: None, "job")
    assert blocker.args[0].startswith("Out of memory: could not allocate 8 GiB")


def test_a_tab_sets_the_speed_slider_it_starts_with(window) -> None:
    page = window.select("flash_attention")
    assert page.controls.speed.value() == page.tab.frames_per_second == 2
    assert page.runner.max_fps == 2
