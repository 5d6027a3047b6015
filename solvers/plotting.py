"""Matplotlib helpers shared by the figure modules: headless backend, save-and-close."""
from __future__ import annotations


def pyplot():
    """``matplotlib.pyplot`` on the non-interactive Agg backend (no display needed)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def save_figure(fig, path, dpi: int = 130) -> None:
    """Lay out, write ``path`` as PNG atomically (``solvers.npzio.atomic_writer``) and free the figure."""
    from solvers.npzio import atomic_writer
    with atomic_writer(path) as tmp:
        fig.savefig(tmp, dpi=dpi, bbox_inches="tight", format="png")
    pyplot().close(fig)
