"""Random NTN allocation instances (interfaces.md §3) for the JMRA/DMRAB tests.

Tens of cells and satellites, sparse usable pairs with S-band-like (~50-200 Mbit/s) and
Ka-band-like (~0.5-2 Gbit/s) rates, some unpopulated cells, one previously serving
satellite for most cells.
"""
from __future__ import annotations

import numpy as np


def random_instances(B: int, C: int = 30, S: int = 12, seed: int = 0, density: float = 0.35,
                     n_beams: int = 2, t_ho: float = 0.05, t_frame: float = 10.0,
                     t_ofdma: float = 0.01, n_sens: int = 1) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    ka = rng.random((B, 1, S)) < 0.5  # # [B, 1, S] satellite band
    # 3GPP Set-1 link budgets (spec §8): S-band 30 MHz at 14.6-17.6 dB, Ka 400 MHz at 7-13 dB
    # clear sky, minus rain fades of 0-10 dB on a third of the Ka pairs
    snr_db = np.where(ka, rng.uniform(7.0, 13.2, (B, C, S)) - 10 * (rng.random((B, C, S)) < 0.3)
                      * rng.uniform(0, 1, (B, C, S)), rng.uniform(14.6, 17.6, (B, C, S)))
    bw = np.where(ka, 400e6, 30e6)
    base = bw * np.log2(1 + 10 ** (snr_db / 10))
    use = rng.random((B, C, S)) < density
    use[np.arange(B)[:, None], np.arange(C)[None, :], rng.integers(0, S, (B, C))] = True  # every cell sees one
    rate = np.where(use, base, 0.0)
    n_active = np.floor(rng.lognormal(5.0, 1.2, (B, C)))
    n_active[rng.random((B, C)) < 0.1] = 0.0
    prev = np.zeros((B, C, S), bool)
    for b in range(B):
        for c in range(C):
            cand = np.nonzero(use[b, c])[0]
            if rng.random() < 0.7:
                prev[b, c, rng.choice(cand)] = True
    n_f = int(round(t_frame / t_ofdma))
    return dict(rate=rate, snr_clear=np.where(use, 10 ** (snr_db / 10), 0.0), n_active=n_active, prev_served=prev,
                t_ho=np.full(B, t_ho), n_com=np.full(B, n_f - n_sens, np.int64),
                n_beams=np.full((B, S), n_beams, np.int64), t_ofdma=np.full(B, t_ofdma),
                t_frame=np.full(B, t_frame), eps=np.ones(B))
