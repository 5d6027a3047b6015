"""Target-receiver association: Algorithm 1 on hand-made geometry and the baselines."""
import numpy as np

from solvers.istn.association import algorithm1_cell, associate, association_inputs


def _arrays(u_tar, u_sat, alpha, delta=0.5):
    B, M, T, R = alpha.shape
    return dict(G_tar=np.zeros((B, M, T, R, 4, 2), complex), g_rad=np.zeros((B, M, R, 4), complex),
                theta_tar_rx=u_tar, theta_sat_rx=u_sat, alpha_tar=alpha,
                delta_sat=np.full(B, delta), delta_tar=np.full(B, delta))


def test_algorithm1_hand_made_geometry():
    # 3 targets, 3 receivers.  alpha favours receiver 0 for everyone.
    alpha = np.array([[9.0, 5.0, 1.0],
                      [8.0, 4.0, 2.0],
                      [7.0, 6.0, 3.0]])
    # satellite seen at u = 0.9 by receiver 0: target 0's pair (0,0) is within delta_sat
    u_sat = np.array([0.9, -0.9, -0.9])
    u_tar = np.array([[0.8, 0.0, 0.5],
                      [0.0, 0.2, 0.5],
                      [0.1, -0.3, 0.0]])
    a = np.asarray(algorithm1_cell(u_tar, u_sat, alpha, 0.5, 0.5))
    # (0,0) discarded (|0.8-0.9| < 0.5); best pair (1,0) alpha 8 -> target 1 to rx 0;
    # that deletes (2,0) (|0.1-0.0| < 0.5).  Remaining: (0,1)=5,(0,2)=1,(2,1)=6,(2,2)=3.
    # (2,1)=6 -> target 2 to rx 1, deletes (0,1) (|0.0-(-0.3)| < 0.5).  Then (0,2).
    np.testing.assert_array_equal(a, [2, 0, 1])
    # batched entry point gives the same
    arr = _arrays(u_tar[None, None], u_sat[None, None], alpha[None, None])
    np.testing.assert_array_equal(associate(arr, "proposed")[0, 0], [2, 0, 1])


def test_algorithm1_fallback_ignores_thresholds():
    # every pair is within delta_sat of the satellite -> fallback to best alpha per target
    alpha = np.array([[1.0, 3.0], [4.0, 2.0]])
    u_tar = np.zeros((2, 2))
    u_sat = np.zeros(2)
    a = np.asarray(algorithm1_cell(u_tar, u_sat, alpha, 0.5, 0.5))
    np.testing.assert_array_equal(a, [1, 0])


def test_algorithm1_no_satellite_and_zero_thresholds_is_global_greedy_per_target():
    rng = np.random.default_rng(0)
    alpha = rng.uniform(size=(50, 1, 4, 4))
    u = rng.uniform(-1, 1, (50, 1, 4, 4))
    arr = _arrays(u, np.full((50, 1, 4), 5.0), alpha, delta=0.0)
    # delta_tar = 0 deletes nothing: every target gets its own best receiver (= nearest)
    np.testing.assert_array_equal(associate(arr, "proposed"), associate(arr, "nearest"))


def test_baselines_properties():
    rng = np.random.default_rng(1)
    B, M, T, R = 40, 3, 4, 4
    alpha = rng.uniform(size=(B, M, T, R))
    arr = _arrays(rng.uniform(-1, 1, (B, M, T, R)), rng.uniform(-1, 1, (B, M, R)), alpha)
    nn = associate(arr, "nearest")
    np.testing.assert_array_equal(nn, alpha.argmax(-1))
    gr = associate(arr, "greedy")
    rd = associate(arr, "random", seed=3)
    rd2 = associate(arr, "random", seed=3)
    np.testing.assert_array_equal(rd, rd2)
    assert not np.array_equal(rd, associate(arr, "random", seed=4))
    for a in (gr, rd):  # one-to-one
        assert (np.sort(a, axis=-1) == np.arange(R)).all()
    # greedy: the globally largest alpha of each cell is always taken
    b, m = np.unravel_index(np.arange(B * M), (B, M))
    flat = alpha.reshape(B, M, -1).argmax(-1)
    i, n = flat // R, flat % R
    assert (gr[b, m, i.ravel()] == n.ravel()).all()
    # greedy total gain >= random total gain on average
    tot = lambda a: np.take_along_axis(alpha, a[..., None], -1).sum()
    assert tot(gr) > tot(rd)
    # random: receivers equally likely
    counts = np.bincount(associate(arr, "random", seed=5)[..., 0].ravel(), minlength=R)
    assert counts.min() > 0.1 * B * M / R
    # proposed: valid indices, and every target assigned
    pr = associate(arr, "proposed")
    assert pr.shape == (B, M, T) and pr.min() >= 0 and pr.max() < R


def test_inputs_derived_from_los_channels():
    # rank-one LOS channels alpha a_r(u_r) a_t(u_t)^H: u and alpha recovered without the fields
    Nr, Nt = 4, 6
    ur = np.array([[0.3, -0.5]])  # [T=1, R=2]
    ut = 0.1
    amp = np.array([[2e-3, 5e-3]])
    ar = np.exp(1j * np.pi * ur[..., None] * np.arange(Nr))  # [1, 2, Nr]
    at = np.exp(1j * np.pi * ut * np.arange(Nt))
    G = (amp[..., None, None] * ar[..., :, None] * np.conj(at)[None, None, None, :])[None, None]
    u_sat = np.array([0.7, -0.2])
    g_rad = (1e-4 * np.exp(1j * np.pi * u_sat[:, None] * np.arange(Nr)))[None, None]
    inp = association_inputs(dict(G_tar=G, g_rad=g_rad))
    np.testing.assert_allclose(inp["u_tar"][0, 0], ur, atol=1e-12)
    np.testing.assert_allclose(inp["u_sat"][0, 0], u_sat, atol=1e-12)
    np.testing.assert_allclose(inp["alpha"][0, 0], amp, rtol=1e-12)
    np.testing.assert_allclose(inp["delta_sat"], [0.5])


def test_random_key_schedule_is_one_per_seed_and_drop():
    """``associate(..., 'random')`` (istn solve), the experiments/figures
    (``random_assoc`` on global drop ids, any chunking) and the sensing-failure cases draw
    cell m of drop d from fold_in(drop_key(seed, d), m): the same association."""
    import inspect

    import jax

    from solvers.istn import experiments, sensing_failure
    from solvers.istn.association import random_assoc, random_cell
    from solvers.runner.montecarlo import drop_key

    rng = np.random.default_rng(2)
    B, M, T, R = 6, 2, 3, 4
    arr = _arrays(rng.uniform(-1, 1, (B, M, T, R)), rng.uniform(-1, 1, (B, M, R)), rng.uniform(size=(B, M, T, R)))
    full = associate(arr, "random", seed=9)
    for d in range(B):
        for m in range(M):
            want = np.asarray(random_cell(jax.random.fold_in(drop_key(9, d), m), T, R))
            np.testing.assert_array_equal(full[d, m], want)
    # a chunk of global drops 2..4 (figures/experiments) draws what the whole file draws
    np.testing.assert_array_equal(random_assoc(9, [2, 3, 4], M, T, R), full[2:5])
    np.testing.assert_array_equal(associate({k: v[2:5] for k, v in arr.items()}, "random", 9, drop_ids=[2, 3, 4]),
                                  full[2:5])
    # every caller uses this one function
    assert sensing_failure.random_assoc is random_assoc
    assert experiments.random_assoc is random_assoc
    assert "random_assoc(seed, drops" in inspect.getsource(experiments.solve_method)
    assert not np.array_equal(full, associate(arr, "random", seed=10))
