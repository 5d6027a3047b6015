"""Standard instance sets for solver benchmarking: ``satisac benchset`` (issue 24).

A *set* is a directory of instance files (interfaces.md §1 or §3) plus ``manifest.json``:
the set's name and version, the paper, the size, the seed, the scenario (name and
values), the full generator config, the satisac/JAX/NumPy versions, and each file's
drop/frame range, byte count and sha256.  Everything is drawn by the existing generators
(:func:`solvers.istn.generate.generate_instance`, :mod:`solvers.ntn.world`), seeded, and
written with fixed zip metadata (:func:`solvers.npzio.write_npz`), so regenerating a set gives
the same bytes on the same software stack and ``satisac benchset --check DIR`` can say so.

Sizes (:data:`SIZES`): ``small`` (CI: seconds), ``paper`` (the papers' settings) and
``large`` (GPU scale, written in chunks of files).  A set's files are independent
instance files; a large set's chunks continue one another (ISTN drop ``i`` depends only on
``(seed, i)``; NTN frames continue the same world and rain state across files, with the
first frame of each file starting without a previous allocation, as every
``satisac ntn generate`` file does).
"""
from __future__ import annotations

import hashlib
import io
import json
import os
import platform
import sys
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path
from typing import Any, Iterator, Mapping

import jax
import numpy as np

from solvers.configio import ConfigError, replace, to_dict
from solvers.istn import scenarios as istn_scenarios
from solvers.istn.config import IstnConfig
from solvers.istn.generate import generate_instance
from solvers.istn.instance import validate_instance as validate_istn_instance
from solvers.npzio import ZIP_DATE, InstanceError, atomic_writer, check_output_dir, write_npz
from solvers.ntn import scenarios as ntn_scenarios
from solvers.ntn.config import NtnConfig
from solvers.ntn.instance import validate_instance as validate_ntn_instance
from solvers.ntn.world import allocation_instance, checked_timing, evolve, make_world

#: version of the set definitions below; bump it when a size's contents change
SET_VERSION = 1
MANIFEST = "manifest.json"
#: ISTN channels are written complex64 (``satisac istn generate``'s default precision)
ISTN_PRECISION = "float32"


@dataclass(frozen=True)
class SetSize:
    """One size of a set: how many drops/frames, how many per file, config overrides."""

    count: int
    per_file: int
    overrides: Mapping[str, Any] = field(default_factory=dict)
    description: str = ""


SIZES: dict[str, dict[str, SetSize]] = {
    "istn": {
        "small": SetSize(8, 8, {"n_tx": 8, "n_tut": 3, "n_targets": 2, "n_radar": 2},
                         "CI size: 8 drops of a reduced cell (Nt=8, K=3, T=2, R=2, Nr=4), one file"),
        "paper": SetSize(200, 200, {},
                         "the paper's setting: 200 drops of the default cell (Nt=30, K=5, T=4, R=4, Nr=4), "
                         "P_BS 35 dBm, R_min 3 bit/s/Hz, one file"),
        "large": SetSize(10_000, 1_000, {}, "GPU scale: 10,000 paper-size drops in 10 files of 1,000"),
    },
    "ntn": {
        "small": SetSize(4, 4, {"lat_min_deg": 48.0, "lat_max_deg": 50.0, "lon_min_deg": 8.0, "lon_max_deg": 11.0},
                         "CI size: 24 cells (48-50 N, 8-11 E, 0.5 deg), 4 consecutive frames, one file"),
        "paper": SetSize(20, 20, {}, "the paper's area: 600 cells over central Europe (45-55 N, 5-20 E, "
                                     "0.5 deg), 20 consecutive 10-s frames, one file"),
        "large": SetSize(1_000, 100, {}, "GPU scale: 1,000 consecutive frames of the 600-cell area in "
                                         "10 files of 100"),
    },
}


def write_npz_bytes(arrays: Mapping[str, np.ndarray]) -> bytes:
    """The bytes :func:`solvers.npzio.save_npz_atomic` writes for ``arrays`` (uncompressed;
    fixed zip timestamps, so they depend only on the arrays)."""
    buf = io.BytesIO()
    write_npz(buf, arrays)
    return buf.getvalue()


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def file_sha256(path: str | os.PathLike) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def set_name(paper: str, size: str) -> str:
    return f"satisac-{paper}-{size}"


def _config_cls(paper: str):
    return IstnConfig if paper == "istn" else NtnConfig


def _scenarios(paper: str):
    scenarios = istn_scenarios if paper == "istn" else ntn_scenarios
    return scenarios.SCENARIOS, scenarios.DEFAULT_SCENARIO


def build_config(paper: str, size: str, scenario: str | None = None):
    """Scenario values on top of the dataclass defaults, then the size's overrides."""
    if paper not in SIZES:
        raise ConfigError(f"paper: expected one of {list(SIZES)}, got {paper!r}")
    if size not in SIZES[paper]:
        raise ConfigError(f"--size: expected one of {list(SIZES[paper])}, got {size!r}")
    table, default = _scenarios(paper)
    name = default if scenario is None else scenario
    if name not in table:
        raise ConfigError(f"--scenario: expected one of {sorted(table)}, got {name!r}")
    cls = _config_cls(paper)
    cfg = replace(cls(), dict(table[name].values), where=f"scenario {name!r}")
    cfg = replace(cfg, dict(SIZES[paper][size].overrides), where=f"set size {size!r}")
    return cfg, name


def _quick_compile() -> bool:
    return os.environ.get("SATISAC_QUICK_COMPILE", "") == "1"


def generate_files(paper: str, cfg, count: int, per_file: int, seed: int, *,
                   quick_compile: bool = False) -> Iterator[tuple[int, int, dict[str, np.ndarray]]]:
    """Yield ``(start, n, arrays)`` for each file of a set, in order (validated, file dtypes)."""
    if paper == "istn":
        for lo in range(0, count, per_file):
            n = min(per_file, count - lo)
            arrays = generate_instance(cfg, n, seed, precision=ISTN_PRECISION, start=lo, quick_compile=quick_compile)
            validate_istn_instance(arrays, source=f"generated drops {lo}..{lo + n - 1}")
            yield lo, n, arrays
        return
    checked_timing(cfg)
    world = make_world(cfg, seed)
    state = None
    for lo in range(0, count, per_file):
        n = min(per_file, count - lo)
        frames, state = evolve(world, lo, n, rain_state=state)
        arrays = allocation_instance(frames, cfg)
        validate_ntn_instance(arrays, f"generated frames {lo}..{lo + n - 1}")
        # the dtypes ``solvers.ntn.instance.save_instance`` writes
        arrays["prev_served"] = np.asarray(arrays["prev_served"]).astype(bool)
        for k in ("n_com", "n_beams"):
            arrays[k] = np.asarray(arrays[k]).astype(np.int32)
        yield lo, n, arrays


def _versions() -> dict[str, str]:
    try:
        sat = version("satisac")
    except Exception:  # pragma: no cover - running from a source tree without metadata
        sat = "unknown"
    return dict(satisac=sat, jax=jax.__version__, numpy=np.__version__, python=platform.python_version(),
                machine=platform.machine())


def _dims(paper: str, arrays: Mapping[str, np.ndarray]) -> dict[str, int]:
    if paper == "istn":
        B, M, K, Nt = arrays["h_tut"].shape
        _, _, T, R, Nr, _ = arrays["G_tar"].shape
        return dict(M=M, K=K, Nt=Nt, T=T, R=R, Nr=Nr, L=int(arrays["G_cl"].shape[2]))
    B, C, S = arrays["rate"].shape
    return dict(C=C, S=S)


def make_set(paper: str, size: str, out_dir: str | os.PathLike, seed: int = 0, scenario: str | None = None,
             progress=None) -> dict:
    """Generate a set into ``out_dir`` and write its manifest; returns the manifest.

    Files are written atomically one by one; the manifest is written last, so a directory
    without ``manifest.json`` is an unfinished set.
    """
    cfg, scen = build_config(paper, size, scenario)
    spec = SIZES[paper][size]
    out = Path(out_dir)
    if (out / MANIFEST).exists():
        raise InstanceError(f"-o {out}: already holds a set ({MANIFEST}); choose an empty directory "
                            f"or check it with --check")
    out.mkdir(parents=True, exist_ok=True)
    table, _ = _scenarios(paper)
    qc = _quick_compile()
    files = []
    n_files = -(-spec.count // spec.per_file)
    for j, (lo, n, arrays) in enumerate(generate_files(paper, cfg, spec.count, spec.per_file, seed, quick_compile=qc)):
        name = f"{paper}-{size}-{j:03d}.npz"
        data = write_npz_bytes(arrays)
        with atomic_writer(out / name) as tmp:
            Path(tmp).write_bytes(data)
        files.append(dict(name=name, start=lo, count=n, bytes=len(data), sha256=sha256(data),
                          dims=_dims(paper, arrays)))
        if progress is not None:
            progress(j + 1, n_files, name)
    manifest = dict(
        set=set_name(paper, size), version=SET_VERSION, paper=paper, size=size, seed=int(seed),
        description=spec.description,
        sizes=dict(unit="drops" if paper == "istn" else "frames", count=spec.count, per_file=spec.per_file,
                   files=len(files)),
        scenario=dict(name=scen, values=dict(table[scen].values)),
        size_overrides=dict(spec.overrides),
        config=dict(type=type(cfg).__name__, values=to_dict(cfg)),
        generator=dict(module="solvers.istn.generate" if paper == "istn" else "solvers.ntn.world",
                       channel_precision=ISTN_PRECISION if paper == "istn" else "float64",
                       quick_compile=qc, zip_date=list(ZIP_DATE)),
        versions=_versions(),
        files=files)
    with atomic_writer(out / MANIFEST) as tmp:
        Path(tmp).write_text(json.dumps(manifest, indent=2, sort_keys=False) + "\n")
    return manifest


def read_manifest(set_dir: str | os.PathLike) -> dict:
    p = Path(set_dir) / MANIFEST
    try:
        m = json.loads(p.read_text())
    except FileNotFoundError:
        raise InstanceError(f"{set_dir}: no {MANIFEST} (not a benchmark set made by `satisac benchset`)") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise InstanceError(f"{p}: not valid JSON ({e})") from None
    for k in ("set", "version", "paper", "size", "seed", "config", "files"):
        if k not in m:
            raise InstanceError(f"{p}: missing key {k!r}")
    return m


def set_files(set_dir: str | os.PathLike) -> list[Path]:
    """The instance files of a set, in manifest order (for reading a set in a script)."""
    return [Path(set_dir) / f["name"] for f in read_manifest(set_dir)["files"]]


def check_set(set_dir: str | os.PathLike, regenerate: bool = True, progress=None) -> list[dict]:
    """Compare every file's sha256 on disk, and (``regenerate``) of a fresh regeneration,
    with the manifest.  Returns one row per file: name, manifest, disk, regenerated hashes
    and ``disk_ok`` / ``regen_ok`` (None when not regenerated)."""
    m = read_manifest(set_dir)
    rows = []
    for f in m["files"]:
        p = Path(set_dir) / f["name"]
        disk = file_sha256(p) if p.exists() else None
        rows.append(dict(name=f["name"], manifest=f["sha256"], disk=disk, disk_ok=disk == f["sha256"],
                         regenerated=None, regen_ok=None))
    if regenerate:
        cls = _config_cls(m["paper"])
        cfg = replace(cls(), m["config"]["values"], where=f"{Path(set_dir) / MANIFEST} config")
        per_file = int(m["sizes"]["per_file"]) if "sizes" in m else int(m["files"][0]["count"])
        count = sum(int(f["count"]) for f in m["files"])
        qc = bool(m.get("generator", {}).get("quick_compile", False))
        gen = generate_files(m["paper"], cfg, count, per_file, int(m["seed"]), quick_compile=qc)
        for j, (row, (lo, n, arrays)) in enumerate(zip(rows, gen)):
            row["regenerated"] = sha256(write_npz_bytes(arrays))
            row["regen_ok"] = row["regenerated"] == row["manifest"]
            if progress is not None:
                progress(j + 1, len(rows), row["name"])
    return rows


def run(args) -> int:
    """``satisac benchset {istn,ntn} --size S [--seed N] [--scenario NAME] -o DIR`` or ``--check DIR``."""
    def note(j, n, name):
        print(f"  [{j}/{n}] {name}", file=sys.stderr, flush=True)

    if args.check:
        if args.paper or args.output:
            raise ConfigError("--check DIR: takes no paper and no -o (it reads the set's manifest)")
        m = read_manifest(args.check)
        rows = check_set(args.check, regenerate=not args.files_only, progress=note)
        ok = all(r["disk_ok"] and (r["regen_ok"] is not False) for r in rows)
        print(f"set {m['set']} v{m['version']} (seed {m['seed']}, scenario {m.get('scenario', {}).get('name')}), "
              f"{len(rows)} file(s) in {args.check}; made with satisac {m.get('versions', {}).get('satisac')}, "
              f"JAX {m.get('versions', {}).get('jax')}")
        for r in rows:
            regen = "not regenerated" if r["regen_ok"] is None else (
                "regenerated: identical bytes" if r["regen_ok"] else f"regenerated: DIFFERS ({r['regenerated'][:12]})")
            disk = "disk matches" if r["disk_ok"] else ("MISSING" if r["disk"] is None else
                                                       f"disk DIFFERS ({r['disk'][:12]})")
            print(f"  {r['name']}: sha256 {r['manifest'][:12]}  {disk}; {regen}")
        print("all hashes match the manifest" if ok else "MISMATCH: the set does not match its manifest")
        return 0 if ok else 1
    if not args.paper or not args.output:
        raise ConfigError("benchset: give a paper (istn or ntn) and -o DIR, or --check DIR")
    check_output_dir(args.output)
    m = make_set(args.paper, args.size, args.output, seed=args.seed, scenario=args.scenario, progress=note)
    total = sum(f["bytes"] for f in m["files"])
    print(f"wrote set {m['set']} v{m['version']} to {args.output}: {m['sizes']['count']} {m['sizes']['unit']} in "
          f"{len(m['files'])} file(s), {total / 1e6:.3g} MB, seed {m['seed']}, scenario {m['scenario']['name']}; "
          f"{MANIFEST} holds each file's sha256")
    return 0
