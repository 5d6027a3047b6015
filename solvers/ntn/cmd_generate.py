"""``satisac ntn generate``: evolve the NTN world and write allocation instances (interfaces.md §3).

One instance per consecutive frame k = 0..N-1 (batch axis B = frames).  ``rate`` is the
rate the allocator believes for ``sensing_mode`` (spec §3 steps 3 and 5): true rate for
``perfect``, clear-sky rate for ``none``, gamma^cs / A_tilde (22) from a pilot estimate
of the same frame for ``pilots``.  ``prev_served`` follows the rule documented in
:func:`solvers.ntn.world.previous_best_served`: frame 0 all False; frame k > 0 marks the
pair (c, s) whose satellite gave cell c the best SNR in frame k-1, if still in range.

``--map PNG --map-frame k`` also draws the cells coloured by population, the rain field
R_c(k) and the sub-satellite points of the satellites in view at frame k.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from solvers.configio import ConfigError, load_config
from solvers.ntn.config import NtnConfig


def draw_map(path, frames: dict, cfg: NtnConfig, k: int):
    """PNG map of frame ``k``: population (log colour), rain rate (blue contours/overlay), satellites."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.colors import LogNorm

    n_lat, n_lon = cfg.grid_shape
    lat_e = cfg.lat_min_deg + np.arange(n_lat + 1) * cfg.cell_deg
    lon_e = cfg.lon_min_deg + np.arange(n_lon + 1) * cfg.cell_deg
    pop = frames["population"].reshape(n_lat, n_lon)
    rr = frames["rain_rate"][k].reshape(n_lat, n_lon)
    fig, ax = plt.subplots(figsize=(10, 7))
    pos = pop[pop > 0]
    norm = LogNorm(vmin=max(1.0, pos.min()), vmax=pos.max()) if pos.size else None
    pm = ax.pcolormesh(lon_e, lat_e, np.where(pop > 0, pop, np.nan), cmap="Greys", norm=norm, shading="flat")
    fig.colorbar(pm, ax=ax, label="population per cell (GPWv4 proxy)", shrink=0.7)
    if (rr > 0).any():
        rm = ax.pcolormesh(lon_e, lat_e, np.where(rr > 0, rr, np.nan), cmap="cool", alpha=0.9, shading="flat")
        fig.colorbar(rm, ax=ax, label=f"rain rate R_c [mm/h], frame {k}", shrink=0.7)
    sid, sh = frames["sat_id"][k], frames["shell"][k]
    marks = ["^", "o", "s", "D", "v", "P", "X"]
    for j in range(cfg.n_shells):
        m = (sid >= 0) & (sh == j)
        ax.scatter(frames["sat_lon"][k][m], frames["sat_lat"][k][m], marker=marks[j % len(marks)], s=22, color=f"C{j + 1}",
                   label=f"shell {j} ({cfg.shell_band[j]}, {cfg.shell_altitude_km[j]:g} km): {int(m.sum())} in view")
    ax.plot([cfg.lon_min_deg, cfg.lon_max_deg, cfg.lon_max_deg, cfg.lon_min_deg, cfg.lon_min_deg],
            [cfg.lat_min_deg, cfg.lat_min_deg, cfg.lat_max_deg, cfg.lat_max_deg, cfg.lat_min_deg], "k-", lw=1)
    ax.set_xlabel("longitude [deg]")
    ax.set_ylabel("latitude [deg]")
    ax.set_title(f"NTN world, frame {k} (t = {frames['t_start'][k]:g} s): sub-satellite points of S(k)")
    ax.legend(loc="lower left", fontsize=8)
    ax.set_aspect(1.0 / np.cos(np.radians((cfg.lat_min_deg + cfg.lat_max_deg) / 2)))
    fig.tight_layout()
    from solvers.npzio import atomic_writer
    with atomic_writer(path) as tmp:  # a killed run leaves no half-written PNG
        fig.savefig(tmp, dpi=110, format="png")
    plt.close(fig)


def run(args) -> int:
    from tqdm import tqdm

    from solvers.npzio import OutputPathError, check_output_path
    from solvers.ntn.instance import save_instance
    from solvers.ntn.world import allocation_instance, checked_timing, evolve, make_world

    out = check_output_path(args.output, [args.config])
    if args.map:
        check_output_path(args.map, [args.config], npz=False, what="--map")
        if out.resolve() == Path(args.map).resolve():
            raise OutputPathError(f"--map {args.map}: is the same file as -o {out}; choose another path")
    cfg = load_config(NtnConfig, args.config, args.overrides, scenario=args.scenario)
    if args.frames < 1:
        raise ConfigError(f"--frames: expected >= 1, got {args.frames}")
    if args.map and not 0 <= args.map_frame < args.frames:
        raise ConfigError(f"--map-frame: expected a frame in [0, {args.frames - 1}], got {args.map_frame}")
    checked_timing(cfg)  # fail before the long part
    world = make_world(cfg, args.seed)
    with tqdm(total=args.frames, desc="frames", unit="frame", disable=None) as bar:
        frames, _ = evolve(world, 0, args.frames, progress=bar.update)
    inst = allocation_instance(frames, cfg)
    path = save_instance(args.output, inst)
    B, C, S = inst["rate"].shape
    print(f"wrote {path}: {B} frames, {C} cells, {S} satellite columns "
          f"(in view per frame {int(frames['n_in_view'].min())}-{int(frames['n_in_view'].max())}), "
          f"n_com={int(inst['n_com'][0])}, t_ho={inst['t_ho'][0]:g} s, sensing={cfg.sensing_mode}")
    if args.map:
        draw_map(args.map, frames, cfg, args.map_frame)
        print(f"wrote map {args.map} (frame {args.map_frame})")
    return 0
