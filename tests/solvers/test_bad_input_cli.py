"""Bad input through the real command line: one line naming the culprit, exit 2, nothing
written or removed (issue 22; README "Conventions").

Every case runs ``python -m solvers.cli ...`` in a subprocess inside its own directory,
which is fingerprinted (names, sizes, SHA-256, mtimes, modes, hidden files included) before
and after: a refused command must leave it exactly as it was.  Instances are tiny
(B = 2 drops, one cell, one antenna pair) and almost every case fails before JAX compiles
anything, so the refused cases run in parallel in one module fixture.  Also covered: an
interrupt (SIGINT -> 130, SIGTERM -> 143, one line, no partial file, no crash), output
file modes (umask), ``--precision float64`` on float32 files, and an all-zero-rate NTN frame.
"""
from __future__ import annotations

import hashlib
import os
import re
import signal
import struct
import subprocess
import sys
import threading
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]


# --------------------------------------------------------------------------- helpers
def _env(one_thread: bool = True) -> dict[str, str]:
    env = dict(os.environ)
    # the compilation cache: the session's own (tests/conftest.py), never the user's
    if one_thread:
        env["SATISAC_THREADS"] = "1"  # cases run in parallel
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def _default_sigint():
    # a shell running pytest in the background ignores SIGINT, and children inherit that
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    os.umask(0o022)


def satisac(*argv, cwd: Path, one_thread: bool = True, **kw) -> subprocess.CompletedProcess:
    """``satisac *argv`` in a child process; ``one_thread`` for cases run in parallel.  The thread
    count is in every compiled program's cache key: a child that solves what the suite solves
    elsewhere keeps the session's count (tests/conftest.py) to load those programs."""
    return subprocess.run([sys.executable, "-m", "solvers.cli", *map(str, argv)], cwd=cwd, env=_env(one_thread),
                          capture_output=True, text=True, preexec_fn=_default_sigint, **kw)


def fingerprint(d: Path) -> dict[str, tuple]:
    """Everything under ``d`` (hidden files too): type, size, sha256, mtime, mode."""
    out = {}
    for p in sorted(d.rglob("*")):
        st = p.lstat()
        if p.is_symlink():
            out[str(p.relative_to(d))] = ("link", os.readlink(p))
        elif p.is_dir():
            out[str(p.relative_to(d))] = ("dir", st.st_mode)
        else:
            out[str(p.relative_to(d))] = ("file", st.st_size, hashlib.sha256(p.read_bytes()).hexdigest(),
                                           st.st_mtime_ns, st.st_mode)
    return out


def _c(rng, *shape, scale=1.0):
    return scale * (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)) / np.sqrt(2)


def istn_instance(B=2, M=1, K=1, NT=2, T=1, R=1, NR=1, L=1, seed=0, single=False) -> dict[str, np.ndarray]:
    """A tiny ISTN instance (interfaces.md §1) in watt units; ``single``: complex64/float32."""
    rng = np.random.default_rng(seed)
    a = dict(h_tut=_c(rng, B, M, K, NT, scale=3e-6), h_sut=_c(rng, B, M, NT, scale=1e-6),
             g_tut=rng.uniform(1e-15, 1e-13, (B, M, K)), g_sut=rng.uniform(1e-11, 1e-10, (B, M)),
             g_rad=_c(rng, B, M, R, NR, scale=1e-7), G_tar=_c(rng, B, M, T, R, NR, NT, scale=2e-7),
             G_cl=_c(rng, B, M, L, R, NR, NT, scale=1e-7), p_bs=np.full((B, M), 3.16), p_leo=np.full(B, 200.0),
             noise_tut=np.full(B, 2e-12), noise_sut=np.full(B, 3e-12), noise_rad=np.full(B, 5e-12),
             r_min_sut=np.full(B, 1.0), scnr_min=np.full(B, 0.1), assoc=rng.integers(0, R, (B, M, T)),
             theta_tar_rx=rng.uniform(-1, 1, (B, M, T, R)))
    if single:
        a = {k: v.astype(np.complex64 if v.dtype.kind == "c" else np.float32) if v.dtype.kind in "fc" else v
             for k, v in a.items()}
    return a


def ntn_instance(B=2, C=3, S=2, zero_frame: int | None = None) -> dict[str, np.ndarray]:
    """A tiny NTN instance (interfaces.md §3), float32; ``zero_frame``: that frame has no usable pair."""
    rng = np.random.default_rng(0)
    rate = rng.uniform(5e7, 2e8, (B, C, S)).astype(np.float32)
    if zero_frame is not None:
        rate[zero_frame] = 0.0
    return dict(rate=rate, n_active=np.full((B, C), 10.0, np.float32), prev_served=np.zeros((B, C, S), bool),
                t_ho=np.full(B, 0.05, np.float32), n_com=np.full(B, 900, np.int32),
                n_beams=np.full((B, S), 2, np.int32), t_ofdma=np.full(B, 0.01, np.float32),
                t_frame=np.full(B, 10.0, np.float32), eps=np.ones(B, np.float32))


def flip_member_byte(src: Path, dst: Path, member: str) -> None:
    """Copy an (uncompressed) .npz and flip the last data byte of ``member``: a bad CRC-32."""
    b = bytearray(src.read_bytes())
    with zipfile.ZipFile(src) as z:
        i = z.getinfo(member)
    n, e = struct.unpack("<HH", b[i.header_offset + 26:i.header_offset + 30])
    b[i.header_offset + 30 + n + e + i.compress_size - 1] ^= 0x55
    dst.write_bytes(bytes(b))


# --------------------------------------------------------------------------- refused cases
@dataclass(frozen=True)
class Case:
    """``setup(d)`` writes the inputs into ``d`` and returns the argv; the single stderr line
    must match every pattern of ``culprit`` (it names the file/field/key and what was expected)."""
    name: str
    setup: Callable[[Path], list]
    culprit: tuple[str, ...]
    forbid: tuple[str, ...] = ()


def _inst(d: Path, name="inst.npz", **kw) -> Path:
    p = d / name
    np.savez(p, **istn_instance(**kw))
    return p


def _ntn(d: Path, name="ntn.npz", **kw) -> Path:
    p = d / name
    np.savez(p, **ntn_instance(**kw))
    return p


def _with(d: Path, name: str, **fields) -> Path:
    a = istn_instance()
    a.update(fields)
    p = d / name
    np.savez(p, **a)
    return p


def _symlink(d: Path) -> list:
    p = _inst(d)
    (d / "alias.npz").symlink_to(p)
    return ["istn", "solve", p, "-o", d / "alias.npz"]


def _hardlink(d: Path) -> list:
    p = _ntn(d)
    os.link(p, d / "same.npz")
    return ["ntn", "solve", d / "same.npz", "-o", d / "ntn"]  # "-o ntn" writes ntn.npz: the input


def _truncated(d: Path) -> list:
    full = _inst(d, "full.npz")
    (d / "t.npz").write_bytes(full.read_bytes()[:1500])
    full.unlink()
    return ["istn", "solve", d / "t.npz", "-o", d / "sol.npz"]


def _bad_crc(d: Path) -> list:
    full = _inst(d, "full.npz")
    flip_member_byte(full, d / "c.npz", "p_bs.npy")
    full.unlink()
    return ["istn", "solve", d / "c.npz", "-o", d / "sol.npz"]


def _npy(d: Path) -> list:
    np.save(d / "a.npy", np.zeros(3))
    (d / "a.npy").rename(d / "a.npz")
    return ["ntn", "solve", d / "a.npz", "-o", d / "sol.npz"]


def _text(d: Path) -> list:
    (d / "notes.npz").write_text("rate = 1\n")
    return ["istn", "solve", d / "notes.npz", "-o", d / "sol.npz"]


def _pickled(d: Path) -> list:
    a = istn_instance()
    a["p_leo"] = np.array([{"x": 1}, None], dtype=object)
    np.savez(d / "pk.npz", **a)
    return ["istn", "solve", d / "pk.npz", "-o", d / "sol.npz"]


def _parent_is_file(d: Path) -> list:
    p = _inst(d)
    return ["istn", "solve", p, "-o", p / "sol.npz"]


def _unwritable(d: Path) -> list:
    p = _inst(d)
    if os.geteuid() == 0:  # root writes anywhere a mode allows nothing: use a read-only filesystem
        if not Path("/proc").is_dir():
            pytest.skip("running as root without /proc")
        return ["istn", "solve", p, "-o", "/proc/sol.npz"]
    ro = d / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    return ["istn", "solve", p, "-o", ro / "sol.npz"]


def _out_is_dir(d: Path) -> list:
    p = _inst(d)
    (d / "out.npz").mkdir()
    return ["istn", "solve", p, "-o", d / "out.npz"]


def _eval_other(d: Path) -> list:
    p = _inst(d)
    np.savez(d / "sol3.npz", F=_c(np.random.default_rng(1), 3, 1, 2, 2), p_sat=np.ones((3, 1)))  # B = 3
    return ["istn", "evaluate", p, d / "sol3.npz"]


def _eval_other_k(d: Path) -> list:
    p = _inst(d)
    np.savez(d / "solk.npz", F=_c(np.random.default_rng(1), 2, 1, 2, 3), p_sat=np.ones((2, 1)),
             assoc=np.zeros((2, 1, 1), np.int64))
    return ["istn", "evaluate", p, d / "solk.npz"]


def _config_dir(d: Path) -> list:
    p = _inst(d)
    (d / "cfg").mkdir()
    return ["istn", "solve", p, "-o", d / "sol.npz", "--config", d / "cfg"]


def _config_binary(d: Path) -> list:
    p = _ntn(d)
    (d / "c.toml").write_bytes(b"\xff\xfe\x00r\x00h\x00o")
    return ["ntn", "solve", p, "-o", d / "sol.npz", "--config", d / "c.toml"]


def _simulate_config_binary(d: Path) -> list:
    (d / "c.toml").write_bytes(b"rho = 5\n\xff\n")
    return ["ntn", "simulate", "--frames", "1", "-o", d / "run", "--config", d / "c.toml"]


def _long_double(d: Path) -> list:
    if np.dtype(np.longdouble).itemsize <= 8:
        pytest.skip("long double is float64 on this platform")
    return ["istn", "solve", _with(d, "ld.npz", p_bs=np.full((2, 1), 3.16, np.longdouble)), "-o", d / "sol.npz"]


CASES = [
    Case("output-is-input", lambda d: ["istn", "solve", _inst(d), "-o", d / "inst.npz"],
         (r"-o .*inst\.npz", "input file", "never overwritten")),
    Case("output-is-input-symlink", _symlink, (r"alias\.npz", "input file")),
    Case("output-is-input-hardlink-no-suffix", _hardlink, (r"ntn\.npz", "input file")),
    Case("missing-file", lambda d: ["istn", "solve", d / "nope.npz", "-o", d / "sol.npz"],
         (r"nope\.npz", "file not found")),
    Case("truncated", _truncated, (r"t\.npz", "truncated or corrupt")),
    Case("bad-crc", _bad_crc, (r"c\.npz", "CRC-32", "p_bs")),
    Case("empty-file", lambda d: ["ntn", "solve", (d / "e.npz", (d / "e.npz").touch())[0], "-o", d / "s.npz"],
         (r"e\.npz", "empty file")),
    Case("npy-renamed", _npy, (r"a\.npz", r"\.npy array", r"\.npz archive")),
    Case("text-file", _text, (r"notes\.npz", "not an .npz archive"), forbid=("pickle",)),
    Case("pickled", _pickled, (r"pk\.npz", "'p_leo'", "pickled")),
    Case("input-is-dir", lambda d: ["istn", "solve", (d / "dir.npz", (d / "dir.npz").mkdir())[0], "-o", d / "s.npz"],
         (r"dir\.npz", "is a directory")),
    Case("parent-is-file", _parent_is_file, (r"inst\.npz", "not a directory")),
    Case("unwritable-dir", _unwritable, ("not writable",)),
    Case("output-is-dir", _out_is_dir, (r"out\.npz", "is a directory")),
    Case("generate-parent-is-file",
         lambda d: ["istn", "generate", "--drops", "2", "--seed", "0", "-o", _inst(d) / "x.npz"],
         (r"inst\.npz", "not a directory")),
    Case("ntn-generate-unwritable", lambda d: ["ntn", "generate", "--frames", "1", "--seed", "0", "-o",
                                               (d / "f", (d / "f").write_text("x"))[0] / "i.npz"],
         (r"-o .*f/i\.npz", "not a directory")),
    Case("simulate-output-is-file", lambda d: ["ntn", "simulate", "--frames", "1", "-o",
                                               (d / "run", (d / "run").write_text("x"))[0]],
         (r"run", "is a file, expected a directory")),
    Case("istn-empty-batch", lambda d: ["istn", "solve", _inst(d, B=0), "-o", d / "s.npz"],
         (r"inst\.npz", "'h_tut'", "axis B", "empty batch")),
    Case("istn-no-targets", lambda d: ["istn", "solve", _inst(d, T=0), "-o", d / "s.npz"],
         ("'G_tar'", "axis T")),
    Case("ntn-empty-batch", lambda d: ["ntn", "solve", _ntn(d, B=0), "-o", d / "s.npz"],
         (r"ntn\.npz", "'rate'", "axis B", "empty batch")),
    Case("ntn-no-cells", lambda d: ["ntn", "solve", _ntn(d, C=0), "-o", d / "s.npz"], ("'rate'", "axis C")),
    Case("config-is-dir", _config_dir, ("--config", "cfg", "is a directory")),
    Case("config-not-utf8", _config_binary, ("--config", r"c\.toml", "not UTF-8")),
    Case("simulate-config-not-utf8", _simulate_config_binary, ("--config", r"c\.toml", "not UTF-8")),
    Case("angle-out-of-range", lambda d: ["istn", "solve", _with(d, "ang.npz", theta_tar_rx=np.full((2, 1, 1, 1), 1.5)),
                                          "-o", d / "s.npz"], ("'theta_tar_rx'", r"\[-1, 1\]")),
    Case("sat-angle-out-of-range", lambda d: ["istn", "solve", _with(d, "sat.npz", theta_sat_rx=np.full((2, 1, 1), -2.0)),
                                              "-o", d / "s.npz"], ("'theta_sat_rx'", r"\[-1, 1\]")),
    Case("long-double", _long_double, ("'p_bs'", "float128|longdouble|float96", "long double")),
    Case("nan-field", lambda d: ["istn", "solve", _with(d, "nan.npz", p_leo=np.array([200.0, np.nan])), "-o", d / "s.npz"],
         ("'p_leo'", "finite")),
    Case("evaluate-solution-of-other-instance", _eval_other, (r"sol3\.npz", "'F'", "axis B")),
    Case("evaluate-solution-other-K", _eval_other_k, (r"solk\.npz", "'F'", "KT")),
    Case("evaluate-instance-as-solution", lambda d: ["istn", "evaluate", _inst(d), d / "inst.npz"],
         (r"inst\.npz", "missing required field 'F'")),
    Case("empty-output-path", lambda d: ["ntn", "solve", _ntn(d), "-o", ""], ("-o", "expected a file path")),
    Case("output-is-config", lambda d: ["ntn", "solve", _ntn(d), "-o", (d / "c.npz", (d / "c.npz").write_text("rho = 5\n"))[0],
                                        "--config", d / "c.npz"], (r"c\.npz", "input file")),
    Case("reproduce-output-is-file", lambda d: ["reproduce", "ntn-fig6", "-o", (d / "o", (d / "o").write_text("x"))[0]],
         (r"-o .*o:", "is a file")),
    Case("reproduce-bad-drops-ntn", lambda d: ["reproduce", "ntn-fig6", "--drops", "0", "-o", d / "out"],
         ("--drops", ">= 1")),
    Case("reproduce-bad-drops-istn", lambda d: ["reproduce", "istn-fig4", "--drops", "1", "-o", d / "out"],
         ("--drops", ">= 2")),
]


@pytest.fixture(scope="module")
def refused(tmp_path_factory):
    """Run every case (in parallel); returns name -> (proc, before, after) or a skip reason."""
    base = tmp_path_factory.mktemp("bad_input")
    jobs = {}
    for case in CASES:
        d = base / case.name
        d.mkdir()
        try:
            argv = case.setup(d)
        except pytest.skip.Exception as e:
            jobs[case.name] = str(e)
            continue
        jobs[case.name] = (argv, d, fingerprint(d))

    def one(item):
        name, job = item
        if isinstance(job, str):
            return name, job
        argv, d, before = job
        proc = satisac(*argv, cwd=d, timeout=600)
        return name, (proc, before, fingerprint(d))

    with ThreadPoolExecutor(max_workers=max(2, min(4, os.cpu_count() or 2))) as pool:
        out = dict(pool.map(one, jobs.items()))
    yield out
    for case in CASES:  # let tmp_path cleanup remove read-only directories
        ro = base / case.name / "ro"
        if ro.exists():
            ro.chmod(0o755)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_refused_with_one_line_and_nothing_written(refused, case):
    res = refused[case.name]
    if isinstance(res, str):
        pytest.skip(res)
    proc, before, after = res
    err = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert len(err) == 1 and err[0].startswith("satisac: error: "), proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr
    for pat in case.culprit:
        assert re.search(pat, err[0]), (pat, err[0])
    for pat in case.forbid:
        assert not re.search(pat, err[0], re.I), (pat, err[0])
    assert after == before  # nothing created, changed or removed (hidden temporaries included)


def test_every_issue_case_is_covered():
    names = {c.name for c in CASES}
    for must in ("output-is-input", "truncated", "bad-crc", "empty-file", "npy-renamed", "text-file",
                 "parent-is-file", "unwritable-dir", "istn-empty-batch", "ntn-empty-batch", "config-is-dir",
                 "config-not-utf8", "reproduce-bad-drops-ntn", "angle-out-of-range", "long-double"):
        assert must in names


# --------------------------------------------------------------------------- interrupts
def _start(argv, cwd: Path) -> tuple[subprocess.Popen, list[str]]:
    proc = subprocess.Popen([sys.executable, "-m", "solvers.cli", *map(str, argv)], cwd=cwd, env=_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=_default_sigint)
    err: list[str] = []

    def pump():
        for chunk in iter(lambda: proc.stderr.read(1), ""):
            err.append(chunk)

    threading.Thread(target=pump, daemon=True).start()
    return proc, err


@pytest.mark.parametrize("sig,code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)], ids=["SIGINT", "SIGTERM"])
def test_interrupted_solve_writes_nothing(tmp_path, sig, code):
    """Ctrl-C / SIGTERM while ``istn solve`` works: one line saying nothing was written, exit
    130/143 (not a crash: the old exit was -11, a segfault in interpreter teardown), and the
    directory exactly as before (no output, no temporary file)."""
    inst = _inst(tmp_path)
    before = fingerprint(tmp_path)
    proc, err = _start(["istn", "solve", inst, "-o", tmp_path / "sol.npz"], tmp_path)
    t0 = time.monotonic()
    while "istn solve" not in "".join(err):  # the solve has started (its progress bar)
        assert proc.poll() is None, "".join(err)
        assert time.monotonic() - t0 < 300, "solve never started"
        time.sleep(0.2)
    time.sleep(0.5)
    proc.send_signal(sig)
    proc.wait(timeout=300)
    time.sleep(0.2)
    text = "".join(err)
    lines = re.findall(r"satisac: [^\r\n]*", text)
    assert proc.returncode == code, text[-2000:]
    assert lines == [f"satisac: interrupted ({signal.Signals(sig).name}); nothing written"], text[-2000:]
    assert "Traceback" not in text
    assert fingerprint(tmp_path) == before


def test_interrupt_message_fits_the_command():
    from solvers.cli import _interrupt_note, build_parser
    parse = build_parser().parse_args
    assert _interrupt_note(parse(["istn", "solve", "i.npz", "-o", "s.npz"])) == "nothing written"
    assert _interrupt_note(parse(["ntn", "generate", "--frames", "1", "--seed", "0", "-o", "i.npz"])) == \
        "nothing written"
    runner = "finished chunks are kept and a re-run resumes"
    assert _interrupt_note(parse(["ntn", "simulate", "--frames", "1", "-o", "run"])) == runner
    assert _interrupt_note(parse(["reproduce", "ntn-fig6", "-o", "out"])) == runner
    assert _interrupt_note(None) == "nothing written"


def test_in_process_main_reraises_interrupt(monkeypatch, tmp_path, capsys):
    """Called with an argv list (tests, scripts) main() prints the line and re-raises, so
    Ctrl-C stops pytest instead of becoming a return value of 130."""
    import solvers.ntn.cmd_solve as cmd
    from solvers.cli import main

    def boom(args):
        raise KeyboardInterrupt

    monkeypatch.setattr(cmd, "run", boom)
    handler = signal.getsignal(signal.SIGTERM)
    with pytest.raises(KeyboardInterrupt):
        main(["ntn", "solve", str(tmp_path / "i.npz"), "-o", str(tmp_path / "s.npz")])
    assert "satisac: interrupted (SIGINT); nothing written" in capsys.readouterr().err
    assert signal.getsignal(signal.SIGTERM) is handler  # main's SIGTERM handler is removed again


# --------------------------------------------------------------------------- what works
def test_atomic_writer_mode_follows_umask(tmp_path):
    from solvers.npzio import save_npz_atomic
    old = os.umask(0o027)
    try:
        p = save_npz_atomic(tmp_path / "a.npz", {"x": np.zeros(2)})
    finally:
        os.umask(old)
    assert p.stat().st_mode & 0o777 == 0o640
    assert [q.name for q in tmp_path.iterdir()] == ["a.npz"]  # no temporary left


def test_ntn_solve_float32_file_zero_rate_frame(tmp_path):
    """A float32 NTN file with an all-zero-rate frame: solved (no crash), the dead frame gets
    nothing and does not disturb the other; float64 outputs; mode 0644 under umask 022."""
    inst = _ntn(tmp_path, zero_frame=1)
    proc = satisac("--precision", "float64", "ntn", "solve", inst, "-o", tmp_path / "sol.npz", cwd=tmp_path,
                   timeout=900)
    assert proc.returncode == 0, proc.stderr[-2000:]
    from solvers.ntn.instance import load_instance, load_solution
    arrays, _ = load_instance(inst)
    sol, _ = load_solution(tmp_path / "sol.npz", arrays)
    assert sol["x_relaxed"].dtype == np.float64 and sol["objective"].dtype == np.float64
    assert (sol["x"][1] == 0).all() and (sol["throughput_per_user"][1] == 0).all()
    assert int(sol["status"][1]) in (0, 2)
    assert (sol["x"][0] > 0).any() and sol["status"][0] == 0
    assert (tmp_path / "sol.npz").stat().st_mode & 0o777 == 0o644
    assert sorted(q.name for q in tmp_path.iterdir()) == ["ntn.npz", "sol.npz"]


@pytest.mark.slow
def test_istn_float64_precision_on_float32_file(tmp_path):
    """``satisac --precision float64 istn solve`` on a complex64 file computes and writes
    complex128/float64 (it used to keep complex64 and be bit-identical to the default)."""
    from benchmarks.istn_bench import QUICK_SCENARIO
    from solvers.istn.config import IstnConfig
    from solvers.istn.generate import generate_instance
    from solvers.istn.instance import save_instance
    p = tmp_path / "inst32.npz"
    # bench --quick's cell: the child runs the float64 programs of the suite's other
    # QUICK_SCENARIO solves (loaded from the session's compilation cache)
    save_instance(p, generate_instance(IstnConfig(**QUICK_SCENARIO), 2, 0, precision="float32", progress=False))
    digest = hashlib.sha256(p.read_bytes()).hexdigest()
    proc = satisac("--precision", "float64", "istn", "solve", p, "-o", tmp_path / "sol.npz", cwd=tmp_path,
                   one_thread=False, timeout=1200)
    assert proc.returncode == 0, proc.stderr[-2000:]
    with np.load(tmp_path / "sol.npz") as z:
        assert z["F"].dtype == np.complex128
        for k in ("p_sat", "rate_tut", "rate_sut", "scnr", "sum_rate"):
            assert z[k].dtype == np.float64, k
    assert hashlib.sha256(p.read_bytes()).hexdigest() == digest  # the input is untouched


def test_promote_arrays():
    from jaxcore.precision import promote_arrays
    a = istn_instance(single=True)
    up = promote_arrays(a, "float64")
    assert up["h_tut"].dtype == np.complex128 and up["p_bs"].dtype == np.float64
    assert up["assoc"].dtype == a["assoc"].dtype
    np.testing.assert_array_equal(up["h_tut"], a["h_tut"])
    assert promote_arrays(a, "float32")["h_tut"].dtype == np.complex64
    assert a["h_tut"].dtype == np.complex64  # input not modified
