"""Generate ISTN instances (interfaces.md §1) from an :class:`IstnConfig`.

``generate_instance`` draws ``n_drops`` Monte-Carlo drops with ``jaxcore.istn.drops`` in
fixed-size chunks (one jit compile per scenario and chunk size) and returns every
required field of interfaces.md §1 in watts (not noise-normalised), plus the optional
geometry metadata (``tut_d2d``, ``tut_los``, ``sat_elevation``), the association inputs
(``theta_tar_rx``, ``theta_sat_rx`` as u = sin(AoA) values, ``alpha_tar`` = eq. (9) power
gain, ``delta_sat``/``delta_tar`` thresholds in u-space) and, when ``cfg.aging_corr < 1``,
the aged CSI ``h_tut_pre``/``h_sut_pre``.

Reproducibility: drop ``start + i`` depends only on ``(seed, start + i)`` and the config
(see ``jaxcore.istn.drops``), never on the chunk size or ``n_drops``; so drops 0..999 in
one call equal drops 0..499 and 500..999 from two calls with ``start=0`` and ``start=500``
(bit for bit, for the same ``precision`` and ``quick_compile``).
"""
from __future__ import annotations

import os

import jax
import numpy as np
from tqdm import tqdm

from jaxcore.istn.drops import draw_drops, draw_drops_quick
from solvers.configio import ConfigError
from solvers.istn.config import IstnConfig

#: cells per jit chunk (bounds the intermediate memory of the ray sums, ~2 MB per cell)
CELLS_PER_CHUNK = 256


def _chunk_drops(n_drops: int, n_cells: int, chunk: int | None) -> int:
    c = chunk if chunk is not None else max(1, CELLS_PER_CHUNK // n_cells)
    return max(1, min(c, n_drops))


def generate_instance(cfg: IstnConfig, n_drops: int, seed: int, n_cells: int | None = None, *,
                      precision: str = "float64", start: int = 0, chunk: int | None = None,
                      progress: bool | None = None, quick_compile: bool | None = None) -> dict[str, np.ndarray]:
    """Draw drops ``start .. start + n_drops - 1`` and return an instance dict.

    Args:
      cfg: scenario config.
      n_drops: number of drops B (>= 1).
      seed: PRNG seed (``PRNGKey(seed)``).
      n_cells: cells M (default ``cfg.n_cells``).
      precision: ``"float32"`` writes complex64 channels (synthesised in float32),
        ``"float64"`` complex128.  Geometry, random draws and real fields are float64.
      start: index of the first drop (for chunked/resumed generation).
      chunk: drops per jit call (default ``CELLS_PER_CHUNK // M``).
      progress: tqdm bar (default: when there are more than 4 chunks).
      quick_compile: build the program with XLA optimisation level 0 (~5x faster compile,
        ~2x slower run; for tests and tiny jobs).  Drops agree with the default build to
        float round-off, and bit-identity across chunkings holds within one build.
        Default: the environment variable ``SATISAC_QUICK_COMPILE=1`` (a test/development
        knob; production runs leave it unset).
    Returns:
      dict of numpy arrays with a leading axis B = n_drops (interfaces.md §1 names).
    """
    if n_drops < 1:
        raise ConfigError(f"drops: expected an integer >= 1, got {n_drops}")
    m = cfg.n_cells if n_cells is None else int(n_cells)
    if m < 1:
        raise ConfigError(f"cells: expected an integer >= 1, got {m}")
    p = cfg.channel_params(precision)
    if quick_compile is None:
        quick_compile = os.environ.get("SATISAC_QUICK_COMPILE", "") == "1"
    c = _chunk_drops(n_drops, m, chunk)
    n_chunks = -(-n_drops // c)
    out: dict[str, np.ndarray] = {}
    bar = None
    if progress or (progress is None and n_chunks > 4):
        bar = tqdm(total=n_drops, desc="istn generate", unit="drop")
    with jax.enable_x64(True):
        key = jax.random.PRNGKey(seed)
        for j in range(n_chunks):
            lo = j * c
            n = min(c, n_drops - lo)
            # fixed chunk shape (the tail is padded with extra drops and cut)
            ids = np.arange(start + lo, start + lo + c, dtype=np.int64)
            res = jax.device_get((draw_drops_quick if quick_compile else draw_drops)(key, p, ids, m))
            for name, v in res.items():
                if name not in out:
                    out[name] = np.empty((n_drops,) + v.shape[1:], v.dtype)
                out[name][lo:lo + n] = v[:n]
            if bar is not None:
                bar.update(n)
    if bar is not None:
        bar.close()
    b = n_drops
    out["tut_los"] = out["tut_los"].astype(bool)
    out.update(
        p_bs=np.full((b, m), cfg.p_bs_w), p_leo=np.full(b, cfg.p_leo_w),
        noise_tut=np.full(b, cfg.noise_w), noise_sut=np.full(b, cfg.noise_w), noise_rad=np.full(b, cfg.noise_w),
        r_min_sut=np.full(b, cfg.r_min_sut), scnr_min=np.full(b, cfg.scnr_min_lin),
        delta_sat=np.full(b, cfg.delta_sat_u), delta_tar=np.full(b, cfg.delta_tar_u))
    return out


def bytes_per_drop(arrays: dict[str, np.ndarray]) -> float:
    """In-memory (= uncompressed .npz payload) bytes per drop of an instance dict."""
    b = next(iter(arrays.values())).shape[0]
    return sum(np.asarray(v).nbytes for v in arrays.values()) / b
