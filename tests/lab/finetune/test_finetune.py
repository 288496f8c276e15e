"""Fine-tuning lab: what is frozen stays frozen, the optimizer sees only what trains, the schedules hold."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch

from explorer.lab.core.protocol import Diverged, Progress, run_job
from explorer.lab.finetune import finetune, freezing
from explorer.lab.finetune.finetune_train import Learner, reference_grams, target_task

TINY_SOURCE = finetune.PretrainConfig(n_blocks=4, width=4, n_per_class=20, steps=30, batch_size=32)
TINY = finetune.FinetuneConfig(
    pretrain=TINY_SOURCE,
    n_per_class=5,
    n_val_per_class=5,
    epochs=4,
    batch_size=8,
    steps_per_frame=2,
    cka_every=1,
    unfreeze_every=1,
    top_k=2,
)  # fmt: skip  (6 classes x 5 images, 4 steps an epoch, 16 steps)
CPU = torch.device("cpu")


@pytest.fixture(scope="module")
def pretrained(tmp_path_factory):
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LOSS_EXPLORER_CACHE", str(tmp_path_factory.mktemp("cache")))
        yield run_job(finetune.pretrain(TINY_SOURCE))


def _learner(strategy: str, pretrained, cfg: finetune.FinetuneConfig = TINY) -> tuple[Learner, object]:
    task = target_task(cfg, CPU)
    return Learner(strategy, cfg, pretrained, task, CPU), task


def _train(learner: Learner, task, steps: int) -> None:
    for step in range(steps):
        idx = torch.arange(step * 8, step * 8 + 8) % len(task.x)
        learner.step(idx, step)


def _unit_state(learner: Learner, unit: int) -> dict[str, torch.Tensor]:
    """Parameters and buffers (batch-norm running statistics too) of one unit, copied."""
    return {
        f"{m}.{name}": t.detach().clone()
        for m, module in enumerate(learner.units[unit])
        for name, t in [*module.named_parameters(), *module.named_buffers()]
    }


def test_frozen_units_are_bit_identical_after_training(pretrained):
    learner, task = _learner("top_k", pretrained)
    frozen = [u for u, trainable in enumerate(learner.mask) if not trainable]
    assert frozen == [0, 1, 2]  # input conv, blocks 1-2; blocks 3-4 and the classifier train
    before = {u: _unit_state(learner, u) for u in range(len(learner.units))}
    _train(learner, task, 6)
    for u in range(len(learner.units)):
        after = _unit_state(learner, u)
        same = all(torch.equal(before[u][k], after[k]) for k in after)
        assert same == (u in frozen), f"unit {u}"
    for u in frozen:
        assert all(p.grad is None and not p.requires_grad for p in freezing.unit_parameters(learner.units[u]))
    running = [k for k in before[1] if k.endswith("running_mean")]
    assert running, "the blocks have batch norm whose statistics must stay the pretrained ones"


class _WholeNetwork(Learner):
    """A learner that runs every unit on every pass: what the cached frozen features must reproduce."""

    @property
    def frozen_depth(self) -> int:
        return 0


@pytest.mark.parametrize("strategy", ["linear_probe", "top_k", "progressive"])
def test_cached_frozen_features_give_the_whole_networks_results(pretrained, strategy):
    task = target_task(TINY, CPU)
    cached, whole = (cls(strategy, TINY, pretrained, task, CPU) for cls in (Learner, _WholeNetwork))
    reference = reference_grams(TINY, pretrained, task, CPU)
    for step in range(TINY.total_steps):
        idx = torch.arange(step * 8, step * 8 + 8) % len(task.x)
        for learner in (cached, whole):
            learner.step(idx, step)
            if (step + 1) % TINY.steps_per_epoch == 0:
                learner.begin_epoch((step + 1) // TINY.steps_per_epoch)
                learner.evaluate((step + 1) / TINY.steps_per_epoch)
                learner.measure_cka(reference)
        if (step + 1) % TINY.steps_per_epoch == 0:
            np.testing.assert_allclose(cached.cka, whole.cka, rtol=1e-5)
    assert cached.frozen_depth > 0 or strategy == "progressive"  # the cache was in use
    np.testing.assert_allclose(cached.history.values(), whole.history.values(), rtol=1e-4, atol=1e-6)
    for a, b in zip(cached.net.parameters(), whole.net.parameters(), strict=True):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-6)


def test_optimizer_holds_only_the_trainable_parameters(pretrained):
    for strategy in finetune.STRATEGIES:
        learner, _ = _learner(strategy, pretrained)
        in_optimizer = [p for g in learner.optimizer.param_groups for p in g["params"]]
        trainable = [p for p in learner.net.parameters() if p.requires_grad]
        assert {id(p) for p in in_optimizer} == {id(p) for p in trainable}, strategy
        assert len(in_optimizer) == len({id(p) for p in in_optimizer})  # none twice
        assert learner.n_trainable() == sum(p.numel() for p in trainable)
    learner, _ = _learner("progressive", pretrained)
    learner.begin_epoch(2)
    in_optimizer = {id(p) for g in learner.optimizer.param_groups for p in g["params"]}
    assert in_optimizer == {id(p) for p in learner.net.parameters() if p.requires_grad}


def test_progressive_unfreezing_opens_one_unit_every_e_epochs_top_down(pretrained):
    cfg = replace(TINY, strategies=("progressive",), unfreeze_every=2, epochs=12)
    n_feature = cfg.n_feature_layers  # 5: input conv and 4 blocks
    opened: list[int] = []
    seen_epochs = set()
    for frame in finetune.run(cfg, pretrained):
        state = frame.strategies[0]
        epoch = int(frame.epoch)
        if frame.epoch != epoch or epoch == cfg.epochs:
            continue
        seen_epochs.add(epoch)
        k = min(n_feature, epoch // 2)
        expected = np.r_[np.zeros(n_feature - k, bool), np.ones(k, bool), True]
        assert np.array_equal(state.trainable, expected), f"epoch {epoch}"
        for unit in np.flatnonzero(state.trainable[:-1])[::-1]:
            if unit not in opened:
                opened.append(int(unit))
    assert seen_epochs == set(range(12))
    assert opened == [4, 3, 2, 1, 0]  # block 4 first, the input conv last
    assert frame.strategies[0].n_trainable == sum(frame.unit_params)


def test_linear_probe_trains_only_the_classifier(pretrained):
    learner, task = _learner("linear_probe", pretrained)
    before = {k: v.clone() for k, v in learner.net.state_dict().items()}
    _train(learner, task, 5)
    classifier = {f"head.4.{n}" for n, _ in learner.units[-1][0].named_parameters()}
    for key, value in learner.net.state_dict().items():
        assert torch.equal(value, before[key]) == (key not in classifier), key
    state = learner.state()
    assert state.trainable.tolist() == [False] * 5 + [True]
    assert np.all(state.weight_change[:-1] == 0) and state.weight_change[-1] > 0
    assert state.n_trainable == 4 * 4 * 6 + 6  # pooled features (4 x width) -> 6 classes, and the biases


def test_discriminative_rates_fall_by_the_decay_per_layer_down(pretrained):
    cfg = replace(TINY, lr_decay=2.0, head_lr_scale=10.0)
    learner, _ = _learner("discriminative", pretrained, cfg)
    rates = {g["unit"]: g["base_lr"] for g in learner.optimizer.param_groups}
    expected = cfg.lr * np.array([1 / 16, 1 / 8, 1 / 4, 1 / 2, 1, 10])
    np.testing.assert_allclose([rates[u] for u in range(6)], expected)
    np.testing.assert_allclose(learner.state().lr_scale, expected / cfg.lr)
    assert freezing.cosine_factor(0, 10) == 1.0 and freezing.cosine_factor(10, 10) == 0.0


def test_run_is_seeded_and_fit_gives_the_runs_curves(pretrained):
    frames = list(finetune.run(TINY, pretrained))
    assert [f.step for f in frames] == [0, 2, 4, 6, 8, 10, 12, 14, 16]
    assert frames[-1].epoch == TINY.epochs and frames[0].unit_names[-1] == "classifier"
    again = list(finetune.run(TINY, pretrained))[-1]
    single = finetune.fit(TINY, "top_k", pretrained)
    for state in (again.state("top_k"), single):
        np.testing.assert_array_equal(state.val_accuracy, frames[-1].state("top_k").val_accuracy)
        np.testing.assert_array_equal(state.weight_change, frames[-1].state("top_k").weight_change)
    last = frames[-1]
    assert np.all(np.isnan(last.state("scratch").cka))
    assert np.all(last.state("linear_probe").cka == pytest.approx(1.0, abs=1e-6))  # nothing below moved
    top = last.state("top_k").cka
    assert top[:3] == pytest.approx(1.0, abs=1e-6) and np.all(top[3:] < 1.0)
    assert sum(last.unit_params) == last.state("finetune").n_trainable
    assert last.unit_shapes[0] == "4×16×16" and last.unit_shapes[-1] == "6"


def test_k_sweep_reports_accuracy_parameters_and_time_for_every_k(pretrained):
    job = finetune.k_sweep(replace(TINY, epochs=2), pretrained)
    partials = []
    while True:
        try:
            report = next(job)
        except StopIteration as done:
            sweep = done.value
            break
        assert isinstance(report, Progress) and 0 <= report.fraction <= 1
        if report.partial is not None:
            partials.append(report.partial)
    assert sweep.ks.tolist() == list(range(6)) and sweep.n_feature_layers == 5
    assert [len(p.ks) for p in partials] == [1, 2, 3, 4, 5, 6, 6]
    assert np.all(np.diff(sweep.n_trainable) > 0)
    assert sweep.n_trainable[-1] == sweep.scratch_n_trainable
    assert np.all((sweep.val_accuracy >= 0) & (sweep.val_accuracy <= 1))
    assert np.all(np.isfinite(sweep.ms_per_step)) and np.isfinite(sweep.scratch_ms_per_step)


def test_a_diverging_run_names_the_strategy_and_the_step(pretrained, monkeypatch):
    from explorer.lab.finetune import finetune_train

    calls = {"n": 0}
    real = finetune_train.F.cross_entropy

    def poisoned(logits, target, **kw):  # training losses (no reduction argument) turn NaN at step 5
        loss = real(logits, target, **kw)
        if not kw:
            calls["n"] += 1
            return loss * float("nan") if calls["n"] > 5 else loss
        return loss

    monkeypatch.setattr(finetune_train, "F", type("F", (), {"cross_entropy": staticmethod(poisoned)}))
    cfg = replace(TINY, strategies=("finetune",))
    with pytest.raises(Diverged, match="full fine-tuning training loss became nan") as caught:
        for _ in finetune.run(cfg, pretrained):
            pass
    assert caught.value.step == 6  # the sixth update, which followed step 5


def test_configs_reject_what_they_cannot_run():
    with pytest.raises(ValueError, match=r"k must be between 0 and blocks \+ 1 = 5 \(the input conv and 4 blocks\)"):
        replace(TINY, top_k=6)
    with pytest.raises(ValueError, match=r"^Choose at least one strategy to train$"):
        replace(TINY, strategies=())
    with pytest.raises(ValueError, match="strategies"):
        replace(TINY, strategies=("finetune", "finetune"))
    with pytest.raises(ValueError, match="target"):
        replace(TINY, target="letters")
    assert TINY.n_train == 30 and TINY.steps_per_epoch == 4 and TINY.total_steps == 16
    assert finetune.unit_names(2) == ("input conv", "block 1", "block 2", "classifier")
    assert TINY_SOURCE.cache_key() != replace(TINY_SOURCE, seed=1).cache_key()
    assert TINY_SOURCE.cache_key() == finetune.PretrainConfig(**vars(TINY_SOURCE)).cache_key()
