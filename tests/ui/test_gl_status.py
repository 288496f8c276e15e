"""3D views ask a separate process whether OpenGL works here, and say why not when it does not."""

from __future__ import annotations

import importlib.util

import pytest
from PyQt6 import QtCore

from explorer.ui.widgets import gl

pytestmark = pytest.mark.first_tab("residual")


@pytest.fixture(autouse=True)
def _workers_done():
    """A tab's worker may still be in a step when its window closes: let it end before the next test (and
    before the interpreter exits, where a running QThread aborts the process)."""
    yield
    from explorer.ui.runner import wait_for_workers

    assert wait_for_workers(30.0)


def test_the_probe_answers_with_a_reason_and_is_asked_once(monkeypatch):
    monkeypatch.setattr(gl, "_status", None)
    drawable, said = gl.gl_status()
    assert isinstance(drawable, bool) and said
    assert said.startswith("OpenGL") if drawable else "3D needs" in said
    monkeypatch.setattr(gl, "_probe", lambda timeout_s: pytest.fail("probed twice"))
    assert gl.gl_status() == (drawable, said)


def test_without_pyopengl_it_says_how_to_install_it(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "OpenGL" else real(name, *a))
    assert gl._probe(5.0) == (False, "3D needs PyOpenGL: pip install PyOpenGL")


def test_the_3d_button_says_why_when_there_is_no_opengl(qtbot, window, monkeypatch):

    monkeypatch.setattr(gl, "_status", (False, "3D needs OpenGL, which this display does not offer"))
    tab = window.select("residual").tab
    assert tab.surface_button.isEnabled()
    qtbot.mouseClick(tab.surface_button, QtCore.Qt.MouseButton.LeftButton)
    assert not tab.surface_button.isChecked() and not tab.surface_button.isEnabled()
    assert "does not offer" in tab.surface_button.toolTip() and "does not offer" in tab.landscape_info.text()
    assert tab.surface is None and tab.stack.currentIndex() == 0


@pytest.mark.first_tab("saddle")
def test_the_saddle_3d_button_says_why_when_there_is_no_opengl(qtbot, window, saddle_page, monkeypatch):

    monkeypatch.setattr(gl, "_status", (False, "3D needs OpenGL, which this display does not offer"))
    in_3d = saddle_page.tab.in_3d
    qtbot.mouseClick(in_3d.button, QtCore.Qt.MouseButton.LeftButton)
    assert not in_3d.button.isChecked() and not in_3d.button.isEnabled() and in_3d.view is None
    assert "does not offer" in saddle_page.banner.text() and in_3d.stack.currentIndex() == 0


@pytest.mark.skipif(not gl.gl_status()[0], reason="no OpenGL context here (CI's offscreen platform)")
@pytest.mark.first_tab("saddle")
def test_the_saddle_surface_in_3d_carries_every_path(qtbot, window, saddle_page):
    saddle_page.step()
    qtbot.waitUntil(lambda: saddle_page.tab.frame.step > 0, timeout=30000)
    in_3d = saddle_page.tab.in_3d
    in_3d.button.setChecked(True)
    assert in_3d.shown and in_3d.stack.currentIndex() == 1
    assert set(in_3d.view.paths) == set(saddle_page.tab.frame.paths)


def test_a_path_lies_on_its_pca_surface():
    import numpy as np

    from explorer.lab.residual.path_pair import NetPath
    from explorer.ui.tabs.residual.paths_3d import surface_heights

    alphas, betas = np.linspace(-1, 1, 5), np.linspace(-2, 2, 9)
    grid = 10.0 ** (0.5 * alphas[None, :] - 0.25 * betas[:, None])  # log10 is linear: bilinear is exact
    net = NetPath(steps=np.zeros(3), coords=np.zeros((3, 2)), explained=np.ones(2), alphas=alphas, betas=betas,
                  losses=grid, t=np.zeros(0), line_losses=np.zeros(0))  # fmt: skip
    coords = np.array([[0.3, -1.1], [-0.9, 1.7], [0.0, 0.0]])
    np.testing.assert_allclose(surface_heights(net, coords), 0.5 * coords[:, 0] - 0.25 * coords[:, 1], atol=1e-12)


def test_the_paths_3d_button_says_why_when_there_is_no_opengl(qtbot, window, monkeypatch):

    monkeypatch.setattr(gl, "_status", (False, "3D needs OpenGL, which this display does not offer"))
    page = window.select("residual").tab.curvature_page
    qtbot.mouseClick(page.in_3d.button, QtCore.Qt.MouseButton.LeftButton)
    assert not page.in_3d.button.isChecked() and not page.in_3d.button.isEnabled() and not page.in_3d.views
    assert "does not offer" in page.info.text()
