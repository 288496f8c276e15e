import numpy as np
import pytest

from explorer.lab.saddle import optim, surfaces

SADDLE = surfaces.get("saddle")
START = np.array([0.5, -0.25])
G = np.array([1.0, 0.5])  # ∇(x² − y²) at START


def first_step(name, lr=0.1, **hyper):
    opt = optim.SurfaceOptimizer(name, SADDLE, lr, **hyper)
    return opt.step(START.copy())


def test_first_steps_equal_hand_computed_updates():
    np.testing.assert_allclose(first_step("gd"), START - 0.1 * G)
    np.testing.assert_allclose(first_step("momentum"), START - 0.1 * G)  # v starts at 0
    np.testing.assert_allclose(first_step("nesterov"), START - 0.1 * G)  # look-ahead of a zero velocity
    # Adam's bias correction makes its first step η·sign(g)
    np.testing.assert_allclose(first_step("adam"), START - 0.1 * np.sign(G), atol=1e-7)
    np.testing.assert_allclose(first_step("rmsprop"), START - 0.1 * G / np.sqrt(0.1 * G**2), rtol=1e-6)
    np.testing.assert_allclose(first_step("adagrad"), START - 0.1 * np.sign(G), atol=1e-7)
    np.testing.assert_allclose(first_step("newton", lr=1.0), [0.0, 0.0], atol=1e-12)  # H⁻¹∇f = θ
    # |H| = 2I: x heads to the saddle while y moves away from it (the sign of −2 is flipped)
    np.testing.assert_allclose(first_step("saddle_free_newton", lr=1.0, damping=0.0), START - G / 2)


def test_sgd_adds_seeded_gaussian_noise():
    noise = np.random.default_rng(3).standard_normal(2)
    np.testing.assert_allclose(first_step("sgd", noise_sigma=0.5, seed=3), START - 0.1 * (G + 0.5 * noise))


def test_second_momentum_step():
    opt = optim.SurfaceOptimizer("momentum", SADDLE, 0.1)
    theta = opt.step(START.copy())
    g1 = SADDLE.grad(*theta)
    expected = theta - 0.1 * (0.9 * G + g1)
    np.testing.assert_allclose(opt.step(theta.copy()), expected)


def test_natural_gradient_step_solves_with_damped_fisher():
    net = surfaces.get("two_param_net")
    theta = np.array([0.4, 1.1])
    f, g = net.fisher(*theta), net.grad(*theta)
    opt = optim.SurfaceOptimizer("natural_gradient", net, 0.5, damping=1e-3)
    np.testing.assert_allclose(opt.step(theta.copy()), theta - 0.5 * np.linalg.solve(f + 1e-3 * np.eye(2), g))


def test_natural_gradient_refused_without_a_model():
    with pytest.raises(ValueError, match="Fisher"):
        optim.SurfaceOptimizer("natural_gradient", SADDLE, 0.1)


def test_newton_converges_to_the_saddle_while_noisy_gd_escapes():
    start = (0.3, 0.01)
    newton = optim.trajectory(SADDLE, "newton", start, steps=100, lr=0.5)
    assert np.hypot(*newton[-1]) < 1e-8
    sgd = optim.trajectory(SADDLE, "sgd", start, steps=100, lr=0.05, noise_sigma=0.1)
    finite = sgd[np.all(np.isfinite(sgd), axis=1)]
    assert np.abs(finite[-1, 1]) > 1.0  # carried away along the negative-curvature direction


def test_divergence_is_reported_not_raised():
    path = optim.trajectory(surfaces.get("rosenbrock"), "gd", (-1.5, 2.0), steps=200, lr=0.1)
    step = optim.divergence_step(path)
    assert step is not None and 0 < step < 200
    assert np.all(np.isfinite(path[:step])) and np.all(np.isnan(path[step:]))
    assert path.shape == (201, 2)


def test_damping_keeps_a_singular_matrix_solvable():
    v = np.array([0.3, -0.6])
    np.testing.assert_allclose(optim.damped_solve(np.zeros((2, 2)), v, 1e-2), v / 1e-2)


def test_every_optimizer_runs_on_every_surface_it_applies_to():
    for name in surfaces.NAMES:
        s = surfaces.get(name)
        for opt in optim.NAMES:
            if opt == "natural_gradient" and not s.is_model:
                continue
            path = optim.trajectory(s, opt, s.default_start, steps=20)
            assert path.shape == (21, 2)
            assert np.all(np.isfinite(path[0]))
