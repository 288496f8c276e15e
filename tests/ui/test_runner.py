import math
import time
from dataclasses import dataclass

import pytest

from explorer.lab.protocol import Diverged, Progress
from explorer.ui.runner import ExperimentRunner, JobRunner


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
    qtbot.waitUntil(lambda: bool(runner.frames), timeout=3000)
    qtbot.wait(150)
    assert [f.step for f in runner.frames] == [0]
    assert runner.state == "paused"


def test_step_advances_exactly_one_frame(qtbot, runner):
    runner.load(counting())
    qtbot.waitUntil(lambda: bool(runner.frames), timeout=3000)
    runner.step()
    qtbot.waitUntil(lambda: runner.frames[-1].step == 1, timeout=3000)
    qtbot.wait(150)
    assert runner.frames[-1].step == 1 and runner.state == "paused"


def test_play_coalesces_frames_and_pause_stops(qtbot, runner):
    runner.load(counting())
    qtbot.waitUntil(lambda: bool(runner.frames), timeout=3000)
    runner.play()
    qtbot.waitUntil(lambda: runner.frames[-1].step > 60, timeout=5000)
    drawn = len(runner.frames)
    assert drawn < runner.frames[-1].step  # at most ~32 draws a second while 500 frames a second are made
    runner.pause()
    qtbot.wait(100)
    frozen = runner.current_step
    qtbot.wait(200)
    assert runner.current_step == frozen


def test_divergence_is_a_message_with_the_step(qtbot, runner):
    runner.load(counting(bad_at=5), play=True)
    with qtbot.waitSignal(runner.sig_failed, timeout=3000) as blocker:
        pass
    assert blocker.args[0].startswith("Diverged: loss became inf at step 5")
    assert runner.state == "failed"


def test_non_finite_loss_stops_the_run(qtbot, runner):
    runner.load(counting(loss_nan_at=7), play=True)
    with qtbot.waitSignal(runner.sig_failed, timeout=3000) as blocker:
        pass
    assert "nan at step 7" in blocker.args[0]


def test_stop_is_prompt_while_playing(qtbot, runner):
    runner.load(counting(), play=True)
    qtbot.waitUntil(lambda: len(runner.frames) > 3, timeout=3000)
    started = time.perf_counter()
    assert runner.stop()
    assert time.perf_counter() - started < 1.0


def test_run_sync_reports_failure_instead_of_raising():
    frame, failure = ExperimentRunner.run_sync(counting(bad_at=3), until_step=10)
    assert frame.step == 2 and failure.startswith("Diverged")
    frame, failure = ExperimentRunner.run_sync(counting(), until_step=10)
    assert frame.step == 10 and failure is None


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
    qtbot.waitUntil(lambda: bool(results), timeout=3000)
    assert results == ["result"] and progress[-1] == pytest.approx(1.0)


def test_cancelled_job_delivers_nothing(qtbot):
    jobs = JobRunner()
    results = []
    jobs.start(slow_job(200), results.append, "job")
    with qtbot.waitSignal(jobs.sig_cancelled, timeout=1000):
        jobs.cancel()
    assert jobs.wait(2000)
    assert results == [] and not jobs.busy


def test_out_of_memory_in_a_job_is_reported(qtbot):
    jobs = JobRunner()
    with qtbot.waitSignal(jobs.sig_failed, timeout=3000) as blocker:
        jobs.start(slow_job(fail=True), lambda r: None, "job")
    assert blocker.args[0].startswith("Out of memory: could not allocate 8 GiB")


def test_a_tab_sets_the_speed_slider_it_starts_with(window) -> None:
    page = window.select("flash_attention")
    assert page.controls.speed.value() == page.tab.frames_per_second == 2
    assert page.runner.max_fps == 2
