"""The verdict rule of ``../shared/spec/claims.md`` ("Rules of judgement"), as pure functions.

A claim's metric has a point estimate, a 95 % confidence interval [lo, hi] and a band
(two-sided ``[a, b]`` or one-sided ``[a, inf)`` / ``(-inf, b]``):

* ``holds``: the whole CI lies inside the band;
* ``consistent``: the estimate is inside the band but the CI is not;
* ``differs``: the whole CI lies outside the band;
* ``inconclusive``: the estimate is outside the band but the CI reaches into it (claims.md
  names no verdict for this case; it is neither "consistent" nor "differs");
* ``not measured``: no finite estimate.

A metric without a sampling interval (a pattern over the runs, e.g. "DMRAB infeasible in
exactly one setting") is judged with CI = [estimate, estimate], so it holds or differs.
A claim with several parts ("at every P_BS", "for both methods") is judged per part and
takes the worst part's verdict (:func:`combine`); "somewhere" claims take the best part
(:func:`combine_any`).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

HOLDS, CONSISTENT, INCONCLUSIVE, DIFFERS, NOT_MEASURED = (
    "holds", "consistent", "inconclusive", "differs", "not measured")
# worst first
ORDER = (DIFFERS, INCONCLUSIVE, CONSISTENT, HOLDS)


@dataclass(frozen=True)
class Band:
    """Closed interval ``[lo, hi]``; ``-inf``/``inf`` make it one-sided."""

    lo: float = -math.inf
    hi: float = math.inf
    lo_open: bool = False  # strict bound: "> lo"
    hi_open: bool = False  # strict bound: "< hi"

    def __post_init__(self):
        if not (self.lo <= self.hi):
            raise ValueError(f"Band: expected lo <= hi, got [{self.lo}, {self.hi}]")

    def contains(self, x: float) -> bool:
        above = x > self.lo if self.lo_open else x >= self.lo
        below = x < self.hi if self.hi_open else x <= self.hi
        return above and below

    def below(self, x: float) -> bool:
        """``x`` lies below the band."""
        return x <= self.lo if self.lo_open else x < self.lo

    def above(self, x: float) -> bool:
        """``x`` lies above the band."""
        return x >= self.hi if self.hi_open else x > self.hi

    def text(self) -> str:
        lo_s, hi_s = (">" if self.lo_open else ">="), ("<" if self.hi_open else "<=")
        if math.isinf(self.lo) and math.isinf(self.hi):
            return "any"
        if math.isinf(self.lo):
            return f"{hi_s} {self.hi:g}"
        if math.isinf(self.hi):
            return f"{lo_s} {self.lo:g}"
        if self.lo == self.hi:
            return f"= {self.lo:g}"
        return f"{'(' if self.lo_open else '['}{self.lo:g}, {self.hi:g}{')' if self.hi_open else ']'}"


def above(lo: float) -> Band:
    """One-sided ``> lo``."""
    return Band(lo, math.inf, lo_open=True)


def below(hi: float) -> Band:
    """One-sided ``< hi``."""
    return Band(-math.inf, hi, hi_open=True)


def judge(estimate: float, ci_low: float, ci_high: float, band: Band) -> str:
    """Verdict of one metric against its band (module docstring)."""
    if estimate is None or not math.isfinite(estimate):
        return NOT_MEASURED
    have_ci = ci_low is not None and ci_high is not None and not (math.isnan(ci_low) or math.isnan(ci_high))
    if band.contains(estimate):
        if have_ci and band.contains(ci_low) and band.contains(ci_high):
            return HOLDS
        return CONSISTENT
    if have_ci and (band.below(ci_high) or band.above(ci_low)):
        return DIFFERS
    return INCONCLUSIVE


def combine(verdicts) -> str:
    """All parts must hold: the worst measured verdict (``not measured`` only if none was)."""
    got = [v for v in verdicts if v != NOT_MEASURED]
    if not got:
        return NOT_MEASURED
    return min(got, key=ORDER.index)


def combine_any(verdicts) -> str:
    """One part suffices ("somewhere"): the best measured verdict."""
    got = [v for v in verdicts if v != NOT_MEASURED]
    if not got:
        return NOT_MEASURED
    return max(got, key=ORDER.index)
