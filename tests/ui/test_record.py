"""Recording a tab as GIF or MP4: distinct frames at the asked size, the step-through, a cancel or a bad path
leaving nothing behind, a diverged run kept up to its failure, non-live tabs refused, the live run untouched."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image, ImageSequence
from PyQt6 import QtWidgets

from explorer.lab.core.protocol import Diverged
from explorer.ui import record as rec
from explorer.ui.widgets.record_dialog import RecordDialog

SADDLE = [("resolution", 50), ("steps", 60), ("steps_per_frame", 2)]
FLASH = [("device", "cpu"), ("dtype", "float32"), ("d", 16), ("batch_heads", "1"), ("max_n", "256"), ("flash", False)]


@pytest.fixture
def saddle(qtbot, window):
    page = window.select("saddle")
    qtbot.waitUntil(lambda: page.tab.surface_map is not None and page.tab.frame is not None, timeout=60000)
    return page


def _files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name != "settings.ini")


def _gif_frames(path: Path) -> list[bytes]:
    with Image.open(path) as gif:
        return [frame.convert("RGB").tobytes() for frame in ImageSequence.Iterator(gif)]


@pytest.mark.first_tab("saddle", values=SADDLE)
def test_a_gif_of_a_live_tab_has_distinct_frames_at_the_asked_width(saddle, tmp_path):
    step_before, state_before = saddle.tab.frame.step, saddle.runner.state
    buttons = [b for b in saddle.tab.findChildren(QtWidgets.QAbstractButton) if b.isVisibleTo(saddle.tab)]
    target = tmp_path / "saddle.gif"
    seen: list[tuple[int, int]] = []
    recording = rec.record(
        saddle, target, steps=60, frame_every=4, width=320, progress=lambda d, t: not seen.append((d, t))
    )
    assert recording.path == target and recording.frames == 16 and recording.last_step == 60
    assert seen[0] == (0, 16) and seen[-1] == (16, 16)
    with Image.open(target) as gif:
        assert gif.size == recording.size and gif.size[0] == 320 and gif.size[1] % 2 == 0
    assert len(set(_gif_frames(target))) >= 10
    assert recording.summary().startswith("Recorded 16 frames (steps 0–60) to saddle.gif, 320×")
    assert _files(tmp_path) == ["saddle.gif"]
    # the live run is where it was, shown again with its buttons
    assert saddle.runner.state == state_before and saddle.tab.frame.step == step_before
    assert buttons and all(b.isVisibleTo(saddle.tab) for b in buttons)


@pytest.mark.first_tab("saddle", values=SADDLE)
def test_a_playing_run_plays_on_after_a_recording(qtbot, saddle, tmp_path):
    saddle.apply_settings([("steps", 5000)])
    saddle.toggle_play()
    qtbot.waitUntil(lambda: saddle.tab.frame.step >= 4, timeout=60000)
    recording = rec.record(saddle, tmp_path / "during.gif", steps=10, frame_every=5, width=160)
    assert recording.last_step == 10 and saddle.runner.state == "playing"
    live = saddle.runner.current_step
    assert saddle.tab.frame.step >= 4  # the live frame is back, not the recording's last
    qtbot.waitUntil(lambda: saddle.tab.frame.step > live, timeout=60000)
    saddle.toggle_play()


@pytest.mark.first_tab("saddle", values=SADDLE)
def test_an_mp4_has_every_frame_at_even_size(saddle, tmp_path):
    imageio_ffmpeg = pytest.importorskip("imageio_ffmpeg")
    target = tmp_path / "saddle.mp4"
    recording = rec.record(saddle, target, steps=40, frame_every=4, fps=10, width=321)
    assert recording.frames == 11 and recording.size[0] == 320 and recording.size[1] % 2 == 0
    frames, seconds = imageio_ffmpeg.count_frames_and_secs(str(target))
    assert frames == 11 and seconds == pytest.approx(1.1, abs=0.05)
    reader = imageio_ffmpeg.read_frames(str(target))
    meta = next(reader)
    reader.close()
    assert tuple(meta["size"]) == recording.size and meta["codec"].startswith("h264")
    assert meta["pix_fmt"].startswith("yuv420p")
    assert _files(tmp_path) == ["saddle.mp4"]


@pytest.mark.first_tab("saddle", values=SADDLE)
def test_cancel_leaves_no_file_and_no_temporary(saddle, tmp_path):
    recording = rec.record(
        saddle, tmp_path / "out.gif", steps=60, frame_every=2, width=160, progress=lambda d, t: d < 3
    )
    assert recording.path is None and recording.frames == 3 and "cancelled" in recording.summary()
    assert _files(tmp_path) == []


@pytest.mark.first_tab("saddle", values=SADDLE)
def test_an_unwritable_path_or_suffix_is_refused_before_any_step(saddle, tmp_path):
    with pytest.raises(rec.RecordError, match="does not exist"):
        rec.record(saddle, tmp_path / "missing" / "out.gif", steps=10, frame_every=2)
    with pytest.raises(rec.RecordError, match=r"\.gif or \.mp4"):
        rec.record(saddle, tmp_path / "out.avi", steps=10, frame_every=2)
    message = rec.record_headless(saddle, tmp_path / "missing" / "out.mp4", steps=10, frame_every=2)
    assert message is not None and "does not exist" in message
    assert _files(tmp_path) == []


@pytest.mark.first_tab("saddle", values=SADDLE)
def test_a_diverged_run_keeps_the_frames_up_to_its_failure(saddle, tmp_path, monkeypatch):
    experiment = saddle.tab.experiment

    def diverging(values):
        factory = experiment(values)

        def run():
            generator = factory()
            request = None
            while True:
                frame = generator.send(request)
                if frame.step > 20:
                    raise Diverged(frame.step, "loss became nan")
                request = yield frame

        return run

    monkeypatch.setattr(saddle.tab, "experiment", diverging)
    target = tmp_path / "diverged.gif"
    recording = rec.record(saddle, target, steps=60, frame_every=4, width=160)
    assert recording.path == target and recording.last_step == 20 and recording.frames == 6
    assert recording.stopped.startswith("Diverged: loss became nan at step 22")  # 2 steps a frame: 20, then 22
    assert "then the run stopped: Diverged" in recording.summary()
    assert len(_gif_frames(target)) == 6
    message = rec.record_headless(saddle, target, steps=60, frame_every=4, width=160)
    assert "Diverged" in message and target.exists()


@pytest.mark.first_tab("flash_attention", values=FLASH)
def test_the_flash_attention_step_through_records_in_its_view(qtbot, window, tmp_path):
    page = window.select("flash_attention")
    page.jobs.cancel(quiet=True)  # the start-up sweep is not what is recorded
    assert page.jobs.wait(60000)
    qtbot.waitUntil(lambda: page.tab.step_frame is not None, timeout=60000)
    assert page.params.value("view") == "sweep"
    recording = rec.record(page, tmp_path / "online_softmax.gif", steps=16, frame_every=1, width=320)
    assert recording.frames == 17 and recording.last_step == 16  # 4 × 4 tiles, and the start
    assert len(set(_gif_frames(recording.path))) == 17
    assert page.params.value("view") == "sweep" and page.tab.step_frame.step == 0  # as it was


@pytest.mark.first_tab("saddle", values=SADDLE)
def test_a_tab_without_a_live_run_is_refused(window, tmp_path):
    entropy = window.page("entropy")
    with pytest.raises(rec.RecordError, match="no live run to record"):
        rec.record(entropy, tmp_path / "entropy.gif", steps=10, frame_every=1)
    assert _files(tmp_path) == []


@pytest.mark.first_tab("saddle", values=SADDLE)
def test_the_dialog_records_and_says_so_in_the_status_bar(saddle, tmp_path, monkeypatch):
    dialog = RecordDialog(saddle)
    assert dialog.choice().steps == 60 and dialog.choice().frame_every == 1 and dialog.choice().width == 960
    dialog.path.setText(str(tmp_path / "out.txt"))
    assert not dialog.buttons.button(QtWidgets.QDialogButtonBox.StandardButton.Ok).isEnabled()

    def answered(self):
        self.path.setText(str(tmp_path / "from_dialog.gif"))
        self.steps.setValue(20)
        self.frame_every.setValue(5)
        self.width.setValue(200)
        return QtWidgets.QDialog.DialogCode.Accepted

    monkeypatch.setattr(RecordDialog, "exec", answered)
    window = saddle.window()
    recording = rec.open_record_dialog(window)
    assert recording is not None and recording.frames == 5 and recording.size[0] == 200
    assert window.statusBar().currentMessage().startswith("Recorded 5 frames (steps 0–20) to from_dialog.gif")


def test_the_command_line_records_and_refuses_a_bad_file_with_one_line(tmp_path, capsys) -> None:
    from explorer import cli

    gif = tmp_path / "saddle.gif"
    args = ["--settings", str(tmp_path / "s.ini"), "--tab", "saddle", "--set", "resolution=50", "--steps", "20"]
    assert cli.main([*args, "--record", str(gif), "--frame-every", "2"]) == 0
    assert capsys.readouterr().out.strip() == str(gif)
    from PIL import Image

    with Image.open(gif) as image:
        assert image.n_frames == 11  # steps 0, 2, …, 20
    for bad, why in ((["--record", str(tmp_path / "a.avi")], "use a file ending in .gif or .mp4"),
                     (["--record", str(gif), "--frame-every", "0"], "--frame-every must be between 1 and"),
                     (["--record", str(tmp_path / "no" / "a.gif")], "does not exist")):  # fmt: skip
        assert cli.main([*args, *bad]) == 2
        err = capsys.readouterr().err
        assert why in err and err.count("\n") == 1, err
