"""``satisac istn generate``: draw drops and write an ISTN instance file (interfaces.md §1).

The output path is checked (writable, not a directory, not the config file) and the config
is built and validated before any drop is drawn; the drops are validated before the output
file is opened; the file is written atomically, so any error leaves nothing behind.
"""
from __future__ import annotations

from solvers.configio import ConfigError, load_config
from solvers.istn.config import IstnConfig
from solvers.istn.generate import bytes_per_drop, generate_instance
from solvers.istn.instance import save_instance
from solvers.npzio import check_output_path


def run(args) -> int:
    check_output_path(args.output, [args.config])
    cfg = load_config(IstnConfig, args.config, args.overrides, scenario=args.scenario)
    if args.drops < 1:
        raise ConfigError(f"--drops: expected an integer >= 1, got {args.drops}")
    if args.cells is not None and args.cells < 1:
        raise ConfigError(f"--cells: expected an integer >= 1, got {args.cells}")
    arrays = generate_instance(cfg, args.drops, args.seed, args.cells, precision=args.precision)
    path = save_instance(args.output, arrays)
    m = arrays["p_bs"].shape[1]
    print(f"wrote {path}: {args.drops} drops x {m} cell(s), K={cfg.n_tut} Nt={cfg.n_tx} T={cfg.n_targets} "
          f"R={cfg.n_radar} Nr={cfg.n_rx} L={cfg.n_clutter}, {bytes_per_drop(arrays) / 1e3:.1f} kB/drop, "
          f"{args.precision} channels, noise {cfg.noise_w:.4g} W (not normalised)")
    return 0
