"""Several writers on one run store (solvers.runner.claims): shards with a SIGKILL, the lock,
stale claims, temporaries of a live writer, SLURM array variables."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from solvers.configio import ConfigError
from solvers.runner import claims
from solvers.runner.claims import Shard, parse_shard, run_lock, shard_from_env, try_claim
from solvers.runner.store import chunk_files, load_results, to_numpy

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[2]
sys.path.insert(0, str(HERE))
import _synthetic  # noqa: E402

N_CHUNKS = 16  # _synthetic: 2 points x 8 chunks of 5 drops
WAIT_S = 120  # generous: a hang, not a slow machine, should trip it


def _env():
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def _start(run_dir: Path, *extra: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, str(HERE / "_synthetic.py"), str(run_dir), *extra], env=_env(),
                            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _finish(proc: subprocess.Popen) -> dict:
    out, err = proc.communicate(timeout=WAIT_S)
    assert proc.returncode == 0, err
    return json.loads(out.strip().splitlines()[-1])


def _wait_for(cond, proc: subprocess.Popen, what: str) -> None:
    t0 = time.time()
    while not cond():
        assert proc.poll() is None, (what, proc.communicate())
        assert time.time() - t0 < WAIT_S, f"timed out waiting for {what}"
        time.sleep(0.01)


def _rows(run_dir: Path) -> dict:
    return to_numpy(load_results(run_dir))


def _assert_same_rows(a: dict, b: dict) -> None:
    assert list(a) == list(b)
    for k in a:
        assert np.array_equal(a[k], b[k]), k


def _owner(claim: Path) -> str | None:
    """The claim's pid, or None while it is being written (created empty, then filled) or gone."""
    try:
        words = claim.read_text().split()
    except FileNotFoundError:
        return None
    return words[0] if words else None


def _claims_of(run_dir: Path, pid: int) -> list[Path]:
    return [p for p in run_dir.glob("point-*/.*.claim") if _owner(p) == str(pid)]


def test_two_shards_one_killed_mid_chunk_then_rerun_and_reduce(tmp_path):
    store, clean = tmp_path / "store", tmp_path / "clean"
    a = _start(store, "--shard", "0/2", "--delay", "0.15")
    b = _start(store, "--shard", "1/2", "--delay", "0.4")
    # kill shard 1 while it computes a chunk (its claim exists), after it finished at least one
    _wait_for(lambda: any(int(p.stem.split("-")[1]) % 2 for p in chunk_files(store)) and _claims_of(store, b.pid),
              b, "shard 1 mid-chunk")
    b.send_signal(signal.SIGKILL)
    b.wait()
    left = _claims_of(store, b.pid)  # the killed job's claim stays behind
    assert len(left) == 1
    sa = _finish(a)
    assert sa == {"chunks_run": N_CHUNKS // 2, "chunks_skipped": 0, "chunks_busy": 0}  # its share only
    done = len(chunk_files(store))
    assert N_CHUNKS // 2 < done < N_CHUNKS  # shard 1's share is part-way
    # re-run the killed shard: it takes over its dead claim and does the rest of its share
    sb = _finish(_start(store, "--shard", "1/2"))
    assert sb["chunks_run"] == N_CHUNKS - done and sb["chunks_busy"] == 0  # the dead pid's claim taken over
    assert not left[0].exists()
    # the final run without a shard computes nothing and leaves no claim or temporary behind
    assert _finish(_start(store)) == {"chunks_run": 0, "chunks_skipped": N_CHUNKS}
    assert not list(store.glob("point-*/.*"))
    _synthetic.DELAY[0] = 0.0
    _synthetic.main([str(clean)])
    rows = _rows(store)
    assert len(rows["drop"]) == 2 * 40 * 2
    keys = set(zip(rows["point"].tolist(), rows["drop"].tolist(), rows["method"].tolist()))
    assert len(keys) == len(rows["drop"])  # nothing duplicated, nothing lost
    _assert_same_rows(rows, _rows(clean))


def test_second_whole_run_stops_with_one_line_and_spares_the_first(tmp_path):
    store, hold = tmp_path / "store", tmp_path / "hold"
    hold.touch()
    first = _start(store, "--hold", str(hold))  # stops after its first chunk while `hold` exists
    _wait_for(lambda: len(chunk_files(store)) >= 1 and list(store.glob("point-*/.*.tmp")) == [], first,
              "the first run")
    second = subprocess.run([sys.executable, str(HERE / "_synthetic.py"), str(store)], env=_env(), cwd=REPO,
                            capture_output=True, text=True, timeout=WAIT_S)
    assert second.returncode == 2
    err = second.stderr.strip().splitlines()
    assert len(err) == 1 and f"in use by pid {first.pid} (host {claims.HOST})" in err[0] and "--shard" in err[0]
    hold.unlink()
    assert _finish(first) == {"chunks_run": N_CHUNKS, "chunks_skipped": 0}  # its temporaries were not removed
    assert len(_rows(store)["drop"]) == 2 * 40 * 2


def test_lock_whole_run_against_shards(tmp_path):
    with run_lock(tmp_path, shared=True):
        with run_lock(tmp_path, shared=True):  # shards share it
            pass
        with pytest.raises(ConfigError, match=rf"in use by pid {os.getpid()} \(host .*\); wait for it or use --shard"):
            _synthetic.main([str(tmp_path)])
    with run_lock(tmp_path, shared=False):  # nor can a shard join a whole run
        with pytest.raises(ConfigError, match=r"in use by pid .*a whole \(unsharded\) run holds it"):
            _synthetic.main([str(tmp_path), "--shard", "0/2"])


def test_claims_stale_only_when_owner_dead_or_lease_expired(tmp_path):
    chunk = tmp_path / "point-0000" / "chunk-000003.parquet"
    assert try_claim(chunk, lease_s=60)
    claim = claims.claim_path(chunk)
    assert claim.name == ".chunk-000003.claim"
    assert not try_claim(chunk, lease_s=60)  # live (this process), fresh
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    claim.write_text(f"{int(dead.stdout)} {claims.HOST} 0 x\n")  # an exited pid on this host
    assert try_claim(chunk, lease_s=3600)
    claim.write_text(f"{os.getpid()} some-other-host 0 x\n")  # another host: only the lease decides
    assert not try_claim(chunk, lease_s=60)
    old = time.time() - 120
    os.utime(claim, (old, old))
    assert try_claim(chunk, lease_s=60) and claim.read_text().split()[1] == claims.HOST
    # temporaries: under a shared lock only those of chunks without a live claim go
    live_tmp = chunk.with_name(".chunk-000003.parquet.abc.tmp")
    orphan = chunk.with_name(".chunk-000004.parquet.def.tmp")
    live_tmp.write_bytes(b"x")
    orphan.write_bytes(b"x")
    # a finished chunk whose writer died before releasing its claim: the claim goes, a live one stays
    done = chunk.with_name("chunk-000005.parquet")
    done.write_bytes(b"x")
    dead_claim = claims.claim_path(done)
    dead_claim.write_text(f"{int(dead.stdout)} {claims.HOST} 0 x\n")
    live_done = chunk.with_name("chunk-000006.parquet")
    live_done.write_bytes(b"x")
    assert try_claim(live_done, lease_s=60)
    claims.clean_temporaries(tmp_path, exclusive=False, lease_s=60)
    assert live_tmp.exists() and not orphan.exists() and claim.exists()
    assert not dead_claim.exists() and claims.claim_path(live_done).exists()
    claims.clean_temporaries(tmp_path, exclusive=True, lease_s=60)
    assert not live_tmp.exists() and not claim.exists()


def test_shard_arguments_and_slurm_array_variables():
    assert parse_shard("1/4") == Shard(1, 4) and parse_shard(" 0 / 1 ") == Shard(0, 1)
    for bad in ("4/4", "-1/2", "1/0", "a/b", "1", "1/2/3"):
        with pytest.raises(ConfigError, match="--shard: expected i/n"):
            parse_shard(bad)
    assert shard_from_env({}) is None
    assert shard_from_env({"SLURM_ARRAY_TASK_ID": "3", "SLURM_ARRAY_TASK_COUNT": "4"}) == Shard(3, 4)
    assert shard_from_env({"SLURM_ARRAY_TASK_ID": "5", "SLURM_ARRAY_TASK_COUNT": "4",
                           "SLURM_ARRAY_TASK_MIN": "2"}) == Shard(3, 4)
    with pytest.raises(ConfigError, match="SLURM_ARRAY_TASK_ID"):
        shard_from_env({"SLURM_ARRAY_TASK_ID": "x", "SLURM_ARRAY_TASK_COUNT": "4"})
    with pytest.raises(ConfigError, match="SATISAC_CLAIM_LEASE_S"):
        claims.lease_seconds(-1)


def test_reproduce_cli_shard_argument_and_run_lock(cli, tmp_path):
    out = tmp_path / "out"
    code, _, err = cli("reproduce", "ntn-table3", "--quick", "--shard", "2/2", "-o", out)
    assert code == 2 and "--shard: expected i/n" in err and not out.exists()
    with run_lock(out / "ntn-table3_runs" / "perfect", shared=False):  # a whole run of this store is in progress
        code, _, err = cli("reproduce", "ntn-table3", "--quick", "--drops", "1", "-o", out)
        assert code == 2 and len(err.strip().splitlines()) == 1
        assert f"in use by pid {os.getpid()} (host {claims.HOST}); wait for it or use --shard" in err
        code, _, err = cli("reproduce", "ntn-table3", "--quick", "--drops", "1", "--shard", "1/2", "-o", out)
        assert code == 2 and "a whole (unsharded) run holds it" in err
    assert sorted(p.name for p in out.iterdir()) == ["ntn-table3_runs"]  # the shard's scratch is gone
    assert [p.name for p in (out / "ntn-table3_runs").iterdir()] == ["perfect"]
    assert not list((out / "ntn-table3_runs" / "perfect").glob("point-*"))  # nothing computed


def test_shard_jobs_write_no_figure_then_the_final_run_only_reduces(tmp_path):
    import _distributed_job as job_script
    from solvers.runner.jobs import Job, describe, run_job
    _synthetic.DELAY[0] = 0.0
    out, single = tmp_path / "out", tmp_path / "single"
    for i in (0, 1):
        table, scope = run_job(Job(Shard(i, 2)), job_script.figure, out)
        assert table is None and (scope.computed, scope.skipped, scope.busy) == (8, 0, 0)
        assert f"shard {i}/2: computed 8 chunk(s)" in describe(Job(Shard(i, 2)), scope, "cmd")
        assert sorted(p.name for p in out.iterdir()) == ["runs"]  # no figure, no scratch left
    calls = []
    work = _synthetic.work
    _synthetic.work = lambda *a: calls.append(1) or work(*a)
    try:
        job_script.figure(out)  # the final run without a shard
    finally:
        _synthetic.work = work
    assert calls == []  # it only reduced
    single.mkdir()
    job_script.figure(single)
    assert (out / "fig.csv").read_text() == (single / "fig.csv").read_text()
