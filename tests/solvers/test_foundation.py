"""Config machinery, npz validation, the fixed-length masked loop and the batched branch."""
from __future__ import annotations

from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxcore.loops import cond_any, masked_scan
from solvers.configio import ConfigError, load_config, param, validate, config_hash
from solvers.npzio import FieldSpec, InstanceError, load_npz, save_npz_atomic, validate_arrays


@dataclass(frozen=True)
class Toy:
    power_dbm: float = param(30.0, "power", lo=-50, hi=60)
    n: int = param(4, "count", lo=1)
    mode: str = param("a", "mode", choices=("a", "b"))
    grid: tuple[float, ...] = param((1.0, 2.0), "grid", lo=0)
    flag: bool = param(False, "flag")

    def __post_init__(self):
        validate(self)


def test_config_overrides_and_types(tmp_path):
    f = tmp_path / "c.toml"
    f.write_text('power_dbm = 20\nmode = "b"\n')
    cfg = load_config(Toy, f, ["n=7", "grid=[3, 4.5]", "flag=true"])
    assert cfg == Toy(power_dbm=20.0, n=7, mode="b", grid=(3.0, 4.5), flag=True)
    assert isinstance(cfg.power_dbm, float) and isinstance(cfg.grid, tuple)
    assert hash(cfg) == hash(Toy(power_dbm=20.0, n=7, mode="b", grid=(3.0, 4.5), flag=True))
    assert config_hash(cfg) != config_hash(Toy())


@pytest.mark.parametrize("override, match", [
    (["power_dbm=99"], "power_dbm: expected a value <= 60"),
    (["n=0"], "n: expected a value >= 1"),
    (["n=2.5"], "n: expected an integer"),
    (["mode=c"], "mode: expected one of"),
    (["powr_dbm=1"], "did you mean 'power_dbm'"),
    (["grid=[-1]"], "grid: expected a value >= 0"),
    (["novalue"], "expected key=value"),
])
def test_config_errors_name_the_field(override, match):
    with pytest.raises(ConfigError, match=match):
        load_config(Toy, None, override)


SPECS = (
    FieldSpec("h", "complex", ("B", "M", "N")),
    FieldSpec("p", "float", ("B", "M"), nonneg=True),
    FieldSpec("idx", "int", ("B", "M"), index_axis="N"),
    FieldSpec("opt", "float", ("B",), required=False),
)


def _good():
    return dict(h=np.ones((2, 3, 4), complex), p=np.ones((2, 3)), idx=np.zeros((2, 3), int))


def test_npz_roundtrip_and_dims(tmp_path):
    path = save_npz_atomic(tmp_path / "x.npz", _good())
    arrays, dims = load_npz(path, SPECS)
    assert dims == {"B": 2, "M": 3, "N": 4}
    assert not list(tmp_path.glob(".*tmp"))


@pytest.mark.parametrize("mutate, match", [
    (lambda a: a.pop("p"), "missing required field 'p'"),
    (lambda a: a.update(p=np.ones((2, 4))), "field 'p': expected shape"),
    (lambda a: a.update(p=-np.ones((2, 3))), "field 'p': expected non-negative"),
    (lambda a: a.update(h=np.full((2, 3, 4), np.nan + 0j)), "field 'h': expected finite"),
    (lambda a: a.update(h=np.ones((2, 3, 4))), "field 'h': expected a complex array"),
    (lambda a: a.update(idx=np.full((2, 3), 4)), r"field 'idx': expected indices in \[0, 3\]"),
])
def test_npz_errors_name_the_field(mutate, match):
    a = _good()
    mutate(a)
    with pytest.raises(InstanceError, match=match):
        validate_arrays(a, SPECS, source="x.npz")


def test_masked_scan_freezes_converged_instances():
    # x <- x/2 until x < tol: instance i needs ceil(log2(x0/tol)) steps.
    x0 = jnp.array([1.0, 8.0, 0.05, 1000.0])
    res = jax.vmap(lambda x: masked_scan(lambda s: s / 2, lambda s: s < 0.1, x, 20))(x0)
    expected_iters = np.array([4, 7, 0, 14])
    np.testing.assert_array_equal(np.asarray(res.iterations), expected_iters)
    np.testing.assert_allclose(np.asarray(res.state), np.asarray(x0) / 2.0 ** expected_iters)
    assert bool(res.converged.all())
    for mode in ("while", "python"):
        r = masked_scan(lambda s: s / 2, lambda s: s < 0.1, jnp.asarray(8.0), 20, mode=mode)
        assert int(r.iterations) == 7


def test_cond_any_branches_once_for_the_batch_and_keeps_each_instance_result():
    calls = []

    def triple_plus(x, k):  # records that it ran (one callback per lane that evaluates it)
        jax.debug.callback(lambda v: calls.append(float(v)), x)
        return 3.0 * x + k

    f = jax.jit(jax.vmap(lambda p, x, k: cond_any(p, triple_plus, x, x, k), in_axes=(0, 0, None)))
    x = jnp.arange(4.0)
    np.testing.assert_allclose(np.asarray(f(jnp.array([True, False, True, False]), x, 1.0)), [1.0, 1.0, 7.0, 3.0])
    assert len(calls) > 0
    calls.clear()
    np.testing.assert_allclose(np.asarray(f(jnp.zeros(4, bool), x, 1.0)), np.arange(4.0))
    jax.effects_barrier()
    assert calls == []  # no instance needed it: not evaluated at all
    assert float(cond_any(jnp.asarray(True), triple_plus, 2.0, 2.0, 1.0)) == 7.0  # unbatched: lax.cond
    assert float(cond_any(jnp.asarray(False), triple_plus, 2.0, 2.0, 1.0)) == 2.0
    # inside a vmapped early-exit loop, each instance branching on its own iterations: the
    # same as a select per instance
    def run(x0, branch):
        def step(s):
            return branch(s > 5.0, lambda v: v / 4.0, s + 1.0, s)
        return masked_scan(step, lambda s: s > 20.0, x0, 50, mode="while").state
    x0 = jnp.array([0.0, 3.0, 7.5, 30.0])
    sel = lambda p, fn, d, v: jnp.where(p, fn(v), d)  # noqa: E731
    np.testing.assert_array_equal(np.asarray(jax.vmap(lambda v: run(v, cond_any))(x0)),
                                  np.asarray(jax.vmap(lambda v: run(v, sel))(x0)))


def test_cli_help_lists_all_commands(cli):
    code, out, _ = cli("--help")
    assert code == 0
    for cmd in ("istn", "ntn", "reproduce", "bench"):
        assert cmd in out
