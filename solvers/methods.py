"""Method names of both papers, defined once (command-line choices, solvers, experiments).

A plain module of tuples with no imports, so the CLI can build its parser without loading JAX.
"""
from __future__ import annotations

#: target -> radar-receiver association: ISTN paper Algorithm 1 and the rules of spec istn.md §1.5
ISTN_ASSOC = ("proposed", "nearest", "greedy", "random")
#: the ISTN paper's baselines (Sec. IV, Figs. 4-10; ``solvers.istn.baselines``)
ISTN_BASELINES = ("interference-free", "zf-eps", "greedy", "uniform", "coop-uniform")
#: ``satisac istn solve --method``: the proposed P1 -> P2 -> P3 pipeline and the baselines
ISTN_SOLVE = ("proposed",) + ISTN_BASELINES
#: ``satisac ntn solve --method`` (``solvers.ntn.allocate``): Algorithm 1 + 2, without the
#: handover penalty inside the optimiser, and the DMRAB benchmark (Algorithm 3)
NTN_ALLOCATE = ("jmra", "jmra-nohop", "dmrab")
