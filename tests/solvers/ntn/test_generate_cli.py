"""``satisac ntn generate`` end to end: instance file (interfaces.md §3), map PNG, errors."""
import numpy as np

from solvers.ntn.instance import load_instance

# same small world as test_world.py (shares the jit cache entry)
SETS = ["--set", "lat_min_deg=48.0", "--set", "lat_max_deg=50.0", "--set", "lon_min_deg=8.0",
        "--set", "lon_max_deg=11.0", "--set", "rain_density_per_km2=3e-3", "--set", "rain_mean_gap_h=1.0"]


def test_generate_writes_valid_instances_and_map(cli, tmp_path):
    out, png = tmp_path / "inst.npz", tmp_path / "map.png"
    code, so, se = cli("ntn", "generate", "--frames", 2, "--seed", 5, *SETS, "-o", out, "--map", png, "--map-frame", 1)
    assert code == 0, se
    assert str(out) in so and str(png) in so
    arrays, dims = load_instance(out)
    assert dims["B"] == 2 and dims["C"] == 24 and dims["S"] >= 40
    assert arrays["prev_served"].dtype == bool and not arrays["prev_served"][0].any()
    assert arrays["prev_served"][1].any()
    assert np.all(arrays["n_com"] == 998) and np.allclose(arrays["t_ho"], 0.02) and np.allclose(arrays["t_frame"], 10.0)
    assert np.all(arrays["rate"][arrays["sat_id"][:, None, :].repeat(24, 1) < 0] == 0)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10000
    # same seed -> identical file; a different seed changes the rain (and so the pilot estimates)
    out2 = tmp_path / "inst2.npz"
    assert cli("ntn", "generate", "--frames", 2, "--seed", 5, *SETS, "-o", out2)[0] == 0
    a2, _ = load_instance(out2)
    for k in arrays:
        np.testing.assert_array_equal(arrays[k], a2[k])


def test_generate_errors(cli, tmp_path):
    out = tmp_path / "x.npz"
    code, _, se = cli("ntn", "generate", "--frames", 2, "--seed", 1, "--set", "shell_min_elev_deg=[0, 25]", "-o", out)
    assert code == 2 and "shell_min_elev_deg" in se and not out.exists()
    code, _, se = cli("ntn", "generate", "--frames", 2, "--seed", 1, "--set", "cell_deg=20", "-o", out)
    assert code == 2 and "cell_deg" in se and "larger than the area box" in se
    code, _, se = cli("ntn", "generate", "--frames", 2, "--seed", 1, "--set", "shell_band=['S','W']", "-o", out)
    assert code == 2 and "unknown band 'W'" in se
    code, _, se = cli("ntn", "generate", "--frames", 2, "--seed", 1, "--map", tmp_path / "m.png", "--map-frame", 5, "-o", out)
    assert code == 2 and "--map-frame" in se
    code, _, se = cli("ntn", "generate", "--frames", 0, "--seed", 1, "-o", out)
    assert code == 2 and "--frames" in se
    code, _, se = cli("ntn", "generate", "--frames", 1, "--seed", 1, "--set", "pilot_len=1073741824", "-o", out)
    assert code == 2 and "pilot_len" in se and not out.exists()
