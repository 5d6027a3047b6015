"""``satisac ntn solve --method dmrab`` on an instance with only the interfaces.md §3 fields.

The default ``dmrab_metric = snr`` ranks by the optional ``snr_est``/``snr_clear`` fields;
without them DMRAB ranks by rate and says so once on stderr (issue 16).  Run through the
console entry point in a subprocess, as a user would.
"""
import subprocess
import sys

import numpy as np

from ntn_random import random_instances
from jaxcore.ntn.jmra import INSTANCE_KEYS
from solvers.ntn.allocate import JmraConfig, solve_allocation
from solvers.ntn.instance import load_solution, save_instance

NOTE = "DMRAB ranks satellites by rate"


def _satisac(*args):
    cmd = [sys.executable, "-m", "solvers.cli", "--no-compile-cache", *map(str, args)]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=300)


def test_dmrab_on_section3_only_instance(tmp_path):
    full = random_instances(3, C=12, S=5, seed=11)
    inst = {k: full[k] for k in INSTANCE_KEYS}  # exactly the §3 fields, no snr_clear
    assert set(inst) == set(INSTANCE_KEYS) and "snr_clear" not in inst
    p = save_instance(tmp_path / "inst.npz", inst)
    assert set(np.load(p).files) == set(INSTANCE_KEYS)
    r = _satisac("ntn", "solve", p, "-o", tmp_path / "sol.npz", "--method", "dmrab")
    assert r.returncode == 0, r.stderr
    assert r.stderr.count(NOTE) == 1, r.stderr  # said once, not per frame
    sol, _ = load_solution(tmp_path / "sol.npz", inst)
    # same allocation as asking for the rate metric explicitly, and a valid DMRAB matching
    ref = solve_allocation(inst, "dmrab", JmraConfig(dmrab_metric="rate"))
    np.testing.assert_array_equal(sol["x"], ref["x"])
    assert ((sol["x"] > 0).sum(2) <= 1).all()
    served = sol["x"] > 0
    best = np.argmax(inst["rate"], axis=2)  # [B, C] best-rate satellite of each cell
    c_served = served.any(2)
    assert (np.argmax(served, 2)[c_served] == best[c_served]).all()


def test_snr_field_used_without_note(capsys):
    from solvers.ntn import allocate
    full = random_instances(2, C=12, S=5, seed=12)
    inst = {k: full[k] for k in INSTANCE_KEYS}
    allocate._RATE_FALLBACK_NOTED = False
    a = solve_allocation(dict(inst, snr_clear=full["snr_clear"]), "dmrab", JmraConfig())
    assert NOTE not in capsys.readouterr().err
    b = solve_allocation(dict(inst, snr_clear=full["snr_clear"]), "dmrab", JmraConfig(dmrab_metric="rate"))
    # the S-band pairs have the higher SNR but the lower rate here, so the two metrics differ
    assert (a["x"] != b["x"]).any()
    solve_allocation(inst, "dmrab", JmraConfig())
    solve_allocation(inst, "dmrab", JmraConfig())
    assert capsys.readouterr().err.count(NOTE) == 1
