"""Ctrl-C and SIGTERM as exceptions that cannot be lost.

Python runs a signal handler in the main thread between two bytecodes.  When those bytecodes
belong to a callback whose exceptions Python swallows -- XLA's garbage-collection callback, a
``__del__`` -- the ``KeyboardInterrupt`` the handler raises is printed as "Exception ignored"
and the command carries on to the end and writes its output.  So the handler here also
*records* the signal, and every commit point (:func:`solvers.npzio.atomic_writer` just before
its rename, the ISTN cell loop after each refill) calls :func:`raise_if_pending`: an interrupt
that was swallowed is raised again there, before anything is written.
"""
from __future__ import annotations

import signal
import sys

__all__ = ["Interrupted", "install", "restore", "raise_if_pending", "pending"]

_pending: int | None = None


class Interrupted(KeyboardInterrupt):
    """SIGINT or SIGTERM turned into an exception, so ``finally`` blocks remove temporaries."""

    def __init__(self, signum: int = signal.SIGTERM):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def _handler(signum, frame):
    global _pending
    _pending = signum
    raise Interrupted(signum)


def pending() -> int | None:
    """The signal received since :func:`install`, or None."""
    return _pending


def raise_if_pending() -> None:
    """Raise :class:`Interrupted` if a signal arrived (even one whose exception was swallowed)."""
    if _pending is not None:
        raise Interrupted(_pending)


def _unraisable(hook):
    """``sys.unraisablehook`` that stays quiet about an interrupt it swallowed (it is recorded
    and raised again at the next commit point) and passes everything else to ``hook``."""
    def quiet(info):
        if isinstance(info.exc_value, Interrupted):
            return
        hook(info)
    return quiet


def install() -> dict:
    """Route SIGTERM, and SIGINT where it has Python's default handler, to :func:`_handler`.
    Returns the previous handlers for :func:`restore`; outside the main thread nothing changes."""
    global _pending
    _pending = None
    previous = {"unraisablehook": sys.unraisablehook}
    sys.unraisablehook = _unraisable(sys.unraisablehook)
    for sig in (signal.SIGTERM, signal.SIGINT):
        try:
            old = signal.getsignal(sig)
            if sig == signal.SIGINT and old is not signal.default_int_handler:
                continue  # ignored or handled by the caller: leave it alone
            signal.signal(sig, _handler)
            previous[sig] = old
        except ValueError:  # not the main thread
            sys.unraisablehook = previous["unraisablehook"]
            return {}
    return previous


def restore(previous: dict) -> None:
    """Put back the handlers :func:`install` replaced and forget any recorded signal."""
    global _pending
    previous = dict(previous)
    if "unraisablehook" in previous:
        sys.unraisablehook = previous.pop("unraisablehook")
    for sig, old in previous.items():
        try:
            signal.signal(sig, old)
        except (ValueError, TypeError):  # pragma: no cover
            pass
    _pending = None
