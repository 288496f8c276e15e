"""The saddle tab's real-network view: a small MLP's plateau, drawn live, with its exact Hessian spectrum."""

from __future__ import annotations

import numpy as np
import pytest

pytestmark = pytest.mark.first_tab("saddle", values=[("view", "network"), ("plateau_steps", 120)])


def test_the_network_view_trains_and_draws_the_spectrum(qtbot, window, one_thread, tmp_path):
    page = window.select("saddle")
    tab = page.tab
    assert tab.view_bar.current == "network" and tab.headline.text().startswith("A student MLP")
    qtbot.waitUntil(lambda: tab.network_page.frame is not None, timeout=60000)
    page.play()
    qtbot.waitUntil(lambda: page.runner.state == "finished", timeout=120000)
    frame = tab.network_page.frame
    assert frame.step == 120 and len(frame.spectrum) == frame.n_params
    _, y = tab.network_page.lambda_min.getData()
    np.testing.assert_array_equal(y, frame.lambda_min)
    assert "λ_min" in tab.network_page.status.text() and "121 weights" in tab.network_page.status.text()
    assert "λ =" in tab.network_page._eigenvalue(0.0)

    written = {p.name for p in window.export_to(tmp_path / "n.csv")}
    assert written == {"n-network_training.csv", "n-network_curvature.csv", "n-network_spectrum.csv"}
    svgs = {p.name for p in window.export_to(tmp_path / "n.svg")}
    assert "n-network_spectrum.svg" in svgs and "n-surface.svg" not in svgs


def test_switching_views_runs_the_other_experiment(qtbot, window):
    page = window.select("saddle")
    tab = page.tab
    qtbot.waitUntil(lambda: tab.network_page.frame is not None, timeout=60000)
    page.params.set_value("view", "surfaces")
    qtbot.waitUntil(lambda: tab.frame is not None, timeout=60000)
    assert tab.view_bar.current == "surfaces" and "surface" in tab.plots()
    page.params.set_value("view", "network")
    qtbot.waitUntil(lambda: tab.network_page.frame is not None and tab.network_page.frame.step == 0, timeout=60000)
    assert tab.view_bar.current == "network"
