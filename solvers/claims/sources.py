"""Where the claims ledger reads its numbers: the figures' run stores in the output directory.

``satisac claims -o DIR`` runs every figure a requested claim needs through the same code
as ``satisac reproduce FIGURE -o DIR`` (``solvers.reproduce.registry``), so one run serves
both: the Monte-Carlo stores (``DIR/<figure>_runs/<experiment>``: ``DIR/istn-fig4_runs/...``,
``DIR/ntn-table3_runs/perfect``, ...; an NTN store under its old name ``DIR/ntn-table3_run`` is used) are
resumed -- a finished store does no work -- and each figure's CSV and PNG are (re)written
beside them.  ISTN claims read the per-drop rows of the stores (paired comparisons need
the drops); NTN claims read the stores of Table III / Figs. 10-11 and the tidy CSVs
(:mod:`solvers.tidy`) of Figs. 6-9 and the real-time figure (their CSV is reused when
``claims-sources.json`` shows it was made with the same settings -- every resolved NTN and
JMRA config value, defaults included, so a CSV of another solver is run again -- and it has the
tidy header, or when ``satisac reproduce`` made it).

NTN at paper statistics needs >= 2 world seeds: seed ``s`` of the figure runs in ``DIR``
itself, every further seed in ``DIR/ntn-seed<s>/``.
"""
from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

from solvers import tidy
from solvers.configio import to_dict
from solvers.istn import figures as istn_figures
from solvers.istn.config import IstnConfig
from solvers.istn.figures import DEFAULT_DROPS, QUICK_DROPS, SPECS, experiment_dir
from solvers.ntn.figures import MAIN_RUN, resolved_configs, run_dir
from solvers.reproduce import registry
from solvers.runner.store import chunk_files, load_results, read_manifest, to_numpy
from solvers.scenarios import ConfigSettings, use_settings

PAPER_ISTN_DROPS = 200
PAPER_NTN_FRAMES = 20
PAPER_NTN_SEEDS = 2
NTN_STORE_FIGURES = ("ntn-table3", "ntn-fig10", "ntn-fig11")


class NotMeasured(Exception):
    """A claim's metric cannot be computed; the message says why."""


class Sources:
    """Runs (or resumes) the figures and hands their data to the claim metrics."""

    def __init__(self, out_dir, *, quick: bool = False, seed: int = 0, drops: int | None = None,
                 frames: int | None = None, world_seeds: int | None = None, settings=None, progress: bool = True,
                 run: bool = True):
        self.out = Path(out_dir)
        self.quick = quick
        self.seed = int(seed)
        self.drops = drops
        self.frames = frames
        self.world_seeds = int(world_seeds) if world_seeds else (1 if quick else PAPER_NTN_SEEDS)
        self.settings = settings
        self.progress = progress
        self.run = run  # False: read only what is already in the directory (``satisac claims --no-run``)
        self._done: set = set()
        self._cache: dict = {}
        self.sizes: dict = {}  # figure -> (per-point n, seeds) actually used

    # ------------------------------------------------------------------ running figures
    def _settings_ctx(self):
        return use_settings(self.settings if self.settings is not None else ConfigSettings())

    def _ntn_configs(self) -> dict:
        """Every resolved NTN and JMRA config value of this run (scenario, --config, --set and
        the defaults, as the NTN figures resolve them), as JSON reads it back: the settings a
        reused figure CSV must have."""
        with self._settings_ctx():
            cfgs = resolved_configs({})
        return json.loads(json.dumps({type(c).__name__: to_dict(c) for c in cfgs}))

    def ntn_dirs(self) -> list[tuple[int, Path]]:
        seeds = [self.seed + k for k in range(self.world_seeds)]
        return [(s, self.out if s == self.seed else self.out / f"ntn-seed{s}") for s in seeds]

    def _sidecar(self) -> dict:
        p = self.out / "claims-sources.json"
        return json.loads(p.read_text()) if p.exists() else {}

    def _record(self, key: str, value: dict) -> None:
        p = self.out / "claims-sources.json"
        d = self._sidecar()
        d[key] = value
        tmp = p.with_name(f".{p.name}.tmp")
        tmp.write_text(json.dumps(d, indent=1, sort_keys=True))
        tmp.replace(p)

    def ensure(self, name: str) -> None:
        """Run figure ``name`` in the output directory (resuming its store) once per process."""
        if name in self._done:
            return
        if not self.run:
            self._done.add(name)
            return
        fig = registry()[name]
        if name.startswith("istn"):
            targets = [(self.seed, self.out)]
            n = self.drops
        else:
            targets = self.ntn_dirs()
            n = None if name == "ntn-fig9" else self.frames  # Fig. 9 reads `drops` as estimator samples
        configs = self._ntn_configs() if name.startswith("ntn") else None
        for s, d in targets:
            d.mkdir(parents=True, exist_ok=True)
            key = f"{name}@{d.relative_to(self.out) if d != self.out else '.'}"
            want = {"quick": self.quick, "seed": s, "drops": n,
                    "scenario": getattr(self.settings, "scenario", None),
                    "config": getattr(self.settings, "config", None),
                    "overrides": list(getattr(self.settings, "overrides", ()))}
            if configs is not None:
                want["configs"] = configs
            csv_path = d / f"{name}.csv"
            if (name.startswith("ntn") and name not in NTN_STORE_FIGURES and tidy.is_tidy(csv_path)
                    and self._sidecar().get(key, want) == want):
                continue  # no store: the CSV made with the same settings is the data
            with self._settings_ctx():
                fig.run(out_dir=d, quick=self.quick, seed=s, drops=n)
            self._record(key, want)
        self._done.add(name)

    # ------------------------------------------------------------------ ISTN stores
    def istn(self, figure: str, exp_key: str) -> dict:
        """Per-drop rows (numpy columns) of one experiment of an ISTN figure."""
        ck = ("istn", figure, exp_key)
        if ck not in self._cache:
            self.ensure(figure)
            exp = next(e for e in SPECS[figure].experiments if e.key == exp_key)
            if self.run:
                with self._settings_ctx():
                    cols = istn_figures.run_experiment(exp, self.out, figure, self.quick, self.seed, self.drops,
                                                       progress=False)
            else:
                cols = self._read_istn(figure, exp)
            self._cache[ck] = cols
            self.sizes[figure] = (int(np.max(cols["drop"])) + 1 if len(cols["drop"]) else 0, 1)
        return self._cache[ck]

    def _read_istn(self, figure: str, exp) -> dict:
        """``--no-run``: the finished store of one experiment, located as ``run_experiment`` names it."""
        scenario = (self.settings or ConfigSettings()).scenario_name(IstnConfig)
        n = self.drops if self.drops is not None else (QUICK_DROPS if self.quick else DEFAULT_DROPS)
        store_dir = experiment_dir(self.out, exp, figure, scenario, n, self.seed, self.quick)
        check_complete(store_dir, f"{figure} ({exp.key})")
        return to_numpy(load_results(store_dir))

    # ------------------------------------------------------------------ NTN stores and CSVs
    def ntn_store(self, figure: str, experiment: str | None = None) -> dict:
        """Rows of an NTN figure's store (``experiment``: default the swept one,
        ``solvers.ntn.figures.MAIN_RUN``) over all world seeds; column ``world`` = seed."""
        experiment = experiment or MAIN_RUN[figure]
        ck = ("ntn", figure, experiment)
        if ck not in self._cache:
            self.ensure(figure)
            parts, frames = [], []
            for s, d in self.ntn_dirs():
                store = run_dir(d, figure, experiment)
                if not store.exists():
                    raise NotMeasured(f"no run store {store}: {figure} was not run there")
                if not self.run:
                    check_complete(store, figure)
                c = to_numpy(load_results(store))
                c["world"] = np.full(len(c["drop"]), s)
                parts.append(c)
                frames.append(int(read_manifest(store).get("extra", {}).get("frames", 0)))
                self._cache[("manifest", figure, experiment, s)] = read_manifest(store)
            keys = set.intersection(*(set(p) for p in parts))
            self._cache[ck] = {k: np.concatenate([p[k] for p in parts]) for k in keys}
            self.sizes[figure] = (min(frames), len(parts))
        return self._cache[ck]

    def manifest(self, figure: str, experiment: str | None = None) -> dict:
        """The manifest of a store :meth:`ntn_store` read (world seed ``seed``)."""
        return self._cache[("manifest", figure, experiment or MAIN_RUN[figure], self.seed)]

    def ntn_csv(self, figure: str) -> list[list[dict]]:
        """The tidy rows (:func:`solvers.tidy.read`) of ``<figure>.csv`` for each world seed (a list per seed)."""
        ck = ("csv", figure)
        if ck not in self._cache:
            self.ensure(figure)
            out = []
            for _, d in self.ntn_dirs():
                p = d / f"{figure}.csv"
                if not p.exists():
                    raise NotMeasured(f"{p} was not written")
                try:
                    out.append(tidy.read(p))
                except ValueError as e:  # a CSV of an older layout
                    raise NotMeasured(str(e)) from None
            self._cache[ck] = out
            if figure not in self.sizes:  # Figs. 6-8 solve/sense `drops` frames (default 4 quick, 20 full)
                frames = None if figure == "ntn-fig9" else (self.frames or (4 if self.quick else 20))
                self.sizes[figure] = (frames, len(out))
        return self._cache[ck]


def check_complete(run_dir: Path, what: str) -> None:
    """Raise :class:`NotMeasured` unless every (point, chunk) of the store's manifest is on disk."""
    if not (run_dir / "run.json").exists() and not run_dir.exists():
        raise NotMeasured(f"{what} was not run in this directory (no store {run_dir}); "
                          "run `satisac claims` without --no-run or `satisac reproduce`")
    man = read_manifest(run_dir)
    sizes = [len(v) for v in man.get("sweep", {}).values()]
    points = (math.prod(sizes) if man.get("sweep_mode", "grid") == "grid" else (sizes[0] if sizes else 1)) if sizes else 1
    total = points * -(-int(man["n_drops"]) // int(man["chunk_size"]))
    done = len(chunk_files(run_dir))
    if done < total:
        raise NotMeasured(f"{what}: store {run_dir} is incomplete ({done} of {total} chunks); "
                          "the same command resumes it")

