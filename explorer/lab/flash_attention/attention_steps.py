"""The online softmax as a live experiment: one frame per (query tile, key tile), the whole picture each time.

FlashAttention never holds a row of scores at once: each query tile walks the key tiles, keeping a
running max m, a denominator ℓ and an unnormalized output, and rescales them by exp(m_old − m_new)
whenever the max grows (Dao et al. 2022, Algorithm 1). A frame here is what a viewer needs to watch
that happen on a small example: which scores were computed so far, m and ℓ of every row reached, the
output so far, and how far each row still is from softmax(Q Kᵀ / √d) V. numpy only: no torch.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from explorer.lab.flash_attention.attention import (
    OnlineSoftmaxState,
    exact_attention,
    example_qkv,
    online_softmax_steps,
)


@dataclass(frozen=True)
class StepThroughConfig:
    n: int = 16  # sequence length N of the example
    d: int = 4  # head dim
    block_m: int = 4  # query rows per tile
    block_n: int = 4  # key columns per tile
    causal: bool = False
    seed: int = 0


@dataclass(frozen=True)
class StepThroughFrame:
    """The algorithm after ``step`` tiles (0: nothing computed yet; ``n_steps``: done)."""

    step: int
    n_steps: int
    config: StepThroughConfig
    state: OnlineSoftmaxState | None  # the tile folded in at this step; None at step 0
    scores: np.ndarray  # (N, N) the example's q kᵀ / √d, -inf where the causal mask hides a key
    computed: np.ndarray  # (N, N) bool: scores the algorithm has computed so far (each once, in SRAM)
    row_edges: np.ndarray  # (T_r + 1,) query tile boundaries
    col_edges: np.ndarray  # (T_c + 1,) key tile boundaries
    m: np.ndarray  # (N,) running row max; NaN for rows not reached
    l: np.ndarray  # noqa: E741  (the paper's name); (N,) running denominator, relative to m; NaN not reached
    output: np.ndarray  # (N, d) output so far: acc / ℓ for rows reached, NaN for the others
    row_done: np.ndarray  # (N,) bool: the row's query tile has seen its last key tile
    final_m: np.ndarray  # (N,) the true row max over all visible keys
    final_l: np.ndarray  # (N,) Σ_j exp(S_ij − final_m_i)
    exact: np.ndarray  # (N, d) softmax(q kᵀ / √d) v, computed with the whole N x N matrix
    row_error: np.ndarray  # (N,) max_c |output − exact| per row; NaN for rows not reached
    max_abs_diff: float  # over the rows reached so far (all rows at the last step)

    @property
    def finished(self) -> bool:
        return self.step == self.n_steps


def tile_count(cfg: StepThroughConfig) -> int:
    """How many (query tile, key tile) steps the example takes: the causal mask skips tiles right of the diagonal."""
    return len(online_softmax_steps(cfg.n, cfg.d, cfg.block_m, cfg.block_n, seed=cfg.seed, causal=cfg.causal))


def run(cfg: StepThroughConfig, start: int = 0) -> Iterator[StepThroughFrame]:
    """Yield the frame at step ``start`` (clipped to the run), then one frame per tile to the end.

    ``start`` > 0 is a jump: the frames are those a run from step 0 would have reached there.
    """
    states = online_softmax_steps(cfg.n, cfg.d, cfg.block_m, cfg.block_n, seed=cfg.seed, causal=cfg.causal)
    q, k, v = example_qkv(cfg.n, cfg.d, cfg.seed)
    scores = q @ k.T / math.sqrt(cfg.d)  # (N, N)
    if cfg.causal:
        scores = np.where(np.triu(np.ones(scores.shape, dtype=bool), 1), -np.inf, scores)
    exact = exact_attention(q, k, v, cfg.causal)  # (N, d)
    final_m = scores.max(axis=1)
    final_l = np.exp(scores - final_m[:, None]).sum(axis=1)
    row_edges = np.array([*range(0, cfg.n, cfg.block_m), cfg.n])
    col_edges = np.array([*range(0, cfg.n, cfg.block_n), cfg.n])

    computed = np.zeros(scores.shape, dtype=bool)
    m = np.full(cfg.n, np.nan)
    l = np.full(cfg.n, np.nan)  # noqa: E741
    output = np.full((cfg.n, cfg.d), np.nan)
    row_done = np.zeros(cfg.n, dtype=bool)
    start = min(max(start, 0), len(states))

    def frame(step: int) -> StepThroughFrame:
        error = np.abs(output - exact).max(axis=1)  # (N,) NaN where the row was not reached
        reached = error[np.isfinite(error)]
        return StepThroughFrame(
            step=step,
            n_steps=len(states),
            config=cfg,
            state=states[step - 1] if step else None,
            scores=scores,
            computed=computed.copy(),
            row_edges=row_edges,
            col_edges=col_edges,
            m=m.copy(),
            l=l.copy(),
            output=output.copy(),
            row_done=row_done.copy(),
            final_m=final_m,
            final_l=final_l,
            exact=exact,
            row_error=error,
            max_abs_diff=float(reached.max()) if reached.size else math.nan,
        )

    for step in range(len(states) + 1):
        if step:
            s = states[step - 1]
            (r0, r1), (c0, c1) = s.rows, s.cols
            computed[r0:r1, c0:c1] = True
            m[r0:r1], l[r0:r1] = s.m, s.l
            output[r0:r1] = s.output[r0:r1]
            row_done[r0:r1] = s.row_block_done
        if step >= start:
            yield frame(step)
