"""Named ISTN scenarios: values for the parameters the paper leaves open (issue: fidelity).

``SCENARIOS[name]`` maps a scenario name to a :class:`solvers.scenarios.Scenario` whose
``values`` are ``IstnConfig`` keys (applied on top of the dataclass defaults, before
``--config`` and ``--set``).  ``spec`` keeps the literal-spec defaults; ``paper`` is the
calibrated default.  Each value carries its provenance in ``Scenario.provenance``.
``OPEN_PARAMETERS`` gives every open parameter's plausible range and provenance, and
``NOTES`` how the ``paper`` values were fitted (both rendered into CONFIG.md by
``solvers.configdoc``; the sweep is ``satisac reproduce istn-sensitivity``).
"""
from __future__ import annotations

from solvers.scenarios import Scenario

# key -> (plausible range, provenance); the paper (Jee & Andrews) states none of these values.
OPEN_PARAMETERS: dict[str, tuple[str, str]] = {
    "g_tut_dbi": ("-5 to 20 dBi",
                  "paper defines G^TUT in (1) but gives no value; 0 dBi = isotropic handset (spec); a UT patch "
                  "or small array pointed up gives 5-15 dBi; issue 15: 10-15 dBi puts the optimal SUT rate near 7"),
    "g_rad_dbi": ("-5 to 20 dBi",
                  "paper defines G^rad in (3) but gives no value; per-element gain of the radar ULA toward the "
                  "satellite (the array gain comes through a_r); same reading as g_tut_dbi"),
    "delta_sat": ("0.03 to 2/N_RX in u-space (about 2-30 deg at broadside for N_RX = 4)",
                  "Algorithm 1 threshold |du| for 'receiver sees the satellite'; the paper gives none. 2/N_RX "
                  "(spec) is the whole main lobe, which makes Algorithm 1 nearly perfect (Fig. 8: -6 % radius "
                  "vs the paper's -44 %); a few degrees (0.05-0.1) is the other reading"),
    "delta_tar": ("0.03 to 2/N_RX in u-space",
                  "Algorithm 1 threshold |du| between targets seen by one receiver; same reading as delta_sat"),
    "rcs_cl_m2": ("0.01 to 1 m^2", "not in the paper; 1 m^2 (spec) equals the target RCS, so clutter within "
                  "clutter_radius_m of a target is as strong as the target"),
    "clutter_radius_m": ("2 to 20 m", "not in the paper (only N_cl = 3 per target); spec: uniform within 5 m"),
    "clutter_per_target": ("1 to 5", "paper: N_cl = 3 (kept; swept only in the sensitivity study)"),
    "rcs_tar_m2": ("0.1 to 10 m^2", "not in the paper; 1 m^2 (0 dBsm) spec default"),
    "sat_path_gain": ("friis | paper_literal",
                      "eq. (1) as printed has (c/2 pi f_c)^2, Friis has (lambda/4 pi)^2: a 6.02 dB choice"),
    "sut_placement": ("uniform | fixed", "paper: SUT 'in the cell', position not given (spec: uniform)"),
    "elevation_draw": ("30-90 | 0-60", "paper: elevation 'within 60 deg' (zenith angle <= 60 or elevation <= 60)"),
    "sut_phi_th_deg": ("1 to 3 deg", "SUT main-lobe half width; paper gives gains 34.2/21.2 dBi only"),
    "p_bs_dbm": ("20 to 40 dBm", "paper states 35 dBm (Fig. 10) only; the figures sweep 20-40 dBm"),
}

# The paper scenario: values, and where each comes from (CONFIG.md renders both with NOTES).
_PAPER_VALUES: dict = {
    "g_tut_dbi": 15.0,
    "g_rad_dbi": 15.0,
    "elevation_draw": "0-60",
    "delta_sat": 0.05,
}
_PAPER_PROVENANCE: dict = {
    "g_tut_dbi": "fitted to I7 jointly with elevation_draw (SUT rate at R_min 7 in [7, 7.7]): the argmin of the "
                 "SUT rate over 10/15/20 dBi on both seeds; 7.68 [7.29, 8.07] on seed 0 (fitted), 8.45 "
                 "[7.76, 9.15] on fresh seed 1 (32 drops each; see NOTES)",
    "g_rad_dbi": "tied to g_tut_dbi (same ground-terminal reading; the tied sweep gave the lowest SUT rate)",
    "elevation_draw": "fitted to I7 with g_tut_dbi: the 'elevation <= 60 deg' reading of the paper's 'within "
                      "60 deg' lowers the SUT rate at g_tut 15 dBi from 8.23 to 7.74 bps/Hz (seed 0, 32 drops)",
    "delta_sat": "fitted to I10 on the earlier base (g 10 dBi, elevation 30-90; 0.05, 0.1, 0.5 measured): "
                 "Proposed radius reduction 0.16 [0.00, 0.31] at 0.05 and 0.1, 0.00 at 0.5 = spec (8 drops, "
                 "seed 0; band [0.34, 0.54] not reached); re-checked at the current base (8 drops): 0.18, 0.22, "
                 "0.25 at 0.05, 0.1, 0.5 with CIs of about +-0.2, so kept (see NOTES)",
}

SCENARIOS: dict[str, Scenario] = {
    "spec": Scenario("spec", "literal reconstructed spec (spec/istn.md §5 defaults); the dataclass defaults",
                     {}, {}),
    "paper": Scenario("paper", "the paper's regime: open parameters fitted to named claims where the fit "
                      "worked, priors otherwise (see the notes below)", _PAPER_VALUES, _PAPER_PROVENANCE),
}
DEFAULT_SCENARIO = "paper"

NOTES = """
**How the ISTN `paper` values were chosen** (2026-12-04, 2-core x86_64 CPU, JAX 0.10.2, float32,
the batched pipeline with the satellite-power search). Fitted claims
(`../shared/spec/claims.md`): **I7** (SUT rate in [7, 7.7] at R_min^(S) = 7, P_BS 35 dBm, M = 1;
fitted with `g_tut_dbi`, `g_rad_dbi`, `elevation_draw`) and **I10** (Proposed's sensing-radius
reduction at P_fail 0.3 in [0.34, 0.54]; fitted with `delta_sat`); every other claim is out of
sample. Proposed's mean SUT rate, 32 drops per point, 95 % CI, from
`python -m solvers.istn.sensitivity --calibration --scenario spec --drops 32 --seed S -o DIR`
(and the same with `--set elevation_draw=0-60` into another DIR):

- Around `spec` (elevation U[30, 90] deg), seed 0, `g_tut_dbi` in {0, 5, 10, 15, 20} dBi: 9.93
  [9.36, 10.49], 8.88, 8.45, 8.23 [7.57, 8.90], 8.95; tied `g_tut_dbi = g_rad_dbi` in {10, 15,
  20}: 8.23, 8.18, 8.94. The gain alone does not reach the band.
- At `g_tut_dbi` 15, one other open parameter at a time (seed 0): `elevation_draw` 0-60 7.74
  [7.27, 8.20]; `sut_placement` fixed 8.43; `sat_path_gain` paper_literal 9.81. Only the
  elevation reading moves the rate toward the band.
- Elevation U[0, 60] deg, seed 0: `g_tut_dbi` in {0, 5, 10, 15, 20}: 9.48, 8.59, 7.76, 7.74,
  7.88; tied {10, 15, 20}: 7.86 [7.46, 8.26], **7.68 [7.29, 8.07]**, 7.87. Chosen:
  **`g_tut_dbi = g_rad_dbi = 15`, `elevation_draw = 0-60`** (the minimum; the rate rises again
  at 20 dBi, where the TBS loses more than the satellite gains).
- **Fresh drops (seed 1, not used for the choice)**, elevation 0-60, tied {10, 15, 20}: 8.51,
  **8.45 [7.76, 9.15]**, 8.74; at the chosen point the proposed method meets every QoS floor on
  0.94 of the drops, its sum rate is 0.78 [0.71, 0.86] of Interference-free's and its
  terrestrial loss 0.17 [0.03, 0.30]. So the fit does not carry to fresh drops: the seed-to-seed
  spread at 32 drops (7.68 vs 8.45) is as large as the effect of any single parameter, and
  no point of the plausible ranges puts the SUT rate inside [7, 7.7] on both seeds.
- I10, `delta_sat` in {0.05, 0.1, 0.2, 0.5 (= spec 2/N_RX)} u, measured on the earlier base
  (`g_tut_dbi = g_rad_dbi = 10`, elevation 30-90; 8 drops, seed 0), failure certificates of
  Fig. 8 on r_sens in {25, 50, 100, 200} m: radius reduction Proposed **0.16 [0.00, 0.31]** at
  0.05 and 0.1 (band [0.34, 0.54]), **0.00** at 0.5 (spec); Random 0.44 [0.28, 0.50] (band
  [0.57, 0.77]); 0.2 not finished (CPU time). The smaller threshold moves Proposed's failure
  curve toward the paper's, so **`delta_sat = 0.05`** (about 3 deg at broadside) was chosen.
  Re-checked at the current base (`paper`: gains 15 dBi, elevation 0-60; 8 drops, seed 0;
  `results/istn_calibration/paper_s0_delta_sat_i10.*`): Proposed's radius reduction 0.18
  [0.00, 0.38], 0.22 [0.00, 0.42], 0.25 [0.00, 0.48] at delta_sat 0.05, 0.1, 0.5, Random's
  0.50 [0.24, 0.67], 0.50, 0.47. The order has turned, but the three cannot be told apart at
  8 drops, so 0.05 is kept. The band is not reached, although every CI reaches into it.
  At 32 drops (the full sensitivity run, `results/istn_sensitivity/full/`): 0.23 [0.14, 0.29],
  0.23, 0.18, 0.21 at 0.05, 0.1, 0.2, 0.5 (CIs about +-0.08), Random's 0.53, 0.51, 0.49,
  0.49: still indistinguishable, and now every CI of Proposed lies below the band.
- Not changed (spec values kept, ranges in the next section): `rcs_cl_m2`, `clutter_radius_m`,
  `clutter_per_target`, `sat_path_gain`, `sut_placement`, `delta_tar`; their effect on every
  claim metric is what `satisac reproduce istn-sensitivity` measures. `delta_tar` at 32 drops
  (seed 0): 0.05-0.5 u move no metric beyond its CIs (SUT rate 7.46 at 0.05-0.2, 7.67 at 0.5;
  radius reduction 0.22-0.23; `results/istn_sensitivity/full/`), so 'auto' is kept.
  `rcs_cl_m2` 0.01 / 0.1 / 1 m^2 (same run): Proposed's radius reduction 0.20 / 0.19 / 0.23,
  Random's 0.38 / 0.38 / 0.53 (I10's Random band [0.57, 0.77]); weaker clutter moves I10
  away from the paper, so 1 m^2 is kept. `clutter_radius_m` 2 / 5 / 10 / 20 m: Proposed's
  radius reduction 0.22 / 0.23 / 0.21 / 0.19, Random's 0.55 / 0.53 / 0.49 / 0.45, nothing
  beyond its CIs, so 5 m is kept. `sat_path_gain` paper_literal (6 dB above Friis): SUT rate
  7.70 -> 8.21 [7.59, 8.83] (further above I7's band), sum-rate ratio 0.89 -> 0.83, no
  sensing failure changed, so friis is kept. `sut_placement` fixed at 100 m: SUT rate 7.83
  [7.34, 8.33] against 7.70 uniform, nothing beyond its CIs, so uniform is kept.
  `clutter_per_target` 1 / 3 / 5: SUT rate 7.48 / 7.70 / 7.59, feasible share 0.97 / 0.94 /
  0.84, Proposed's radius reduction 0.19 / 0.23 / 0.22, Random's 0.40 / 0.53 / 0.53, so the
  paper's 3 is kept.
- `elevation_draw`, fitted on I7 only, is the open parameter that moves I10 most (same run,
  32 drops, seed 0): 30-90 (spec) -> 0-60 (`paper`) takes the fail gap at 100 m from 0.03 to
  0.28 and Proposed's radius reduction from 0.04 [0.00, 0.11] to 0.23 [0.14, 0.29], toward
  I10's band but not into it; over all ten parameters Proposed's radius reduction stays in
  0.04-0.23.
"""
