"""A Ctrl-C/SIGTERM whose exception Python swallows (it landed inside a gc callback, as XLA's
``_xla_gc_callback`` in CI) must still stop the command before it writes its output."""
from __future__ import annotations

import gc
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from solvers import interrupts
from solvers.npzio import atomic_writer


def _swallow_sigterm_in_gc_callback() -> bool:
    """Deliver SIGTERM while a gc callback runs; the raised exception is 'ignored' by Python."""
    hit = []

    def callback(phase, info):
        if phase == "start" and not hit:
            hit.append(1)
            os.kill(os.getpid(), signal.SIGTERM)
            for _ in range(10_000):  # bytecodes: the handler runs here and its exception is lost
                pass

    gc.callbacks.append(callback)
    try:
        gc.collect()
    finally:
        gc.callbacks.remove(callback)
    return bool(hit)


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_swallowed_sigterm_is_raised_at_the_commit_point(tmp_path):
    before = signal.getsignal(signal.SIGTERM)
    previous = interrupts.install()
    try:
        assert _swallow_sigterm_in_gc_callback()
        assert interrupts.pending() == signal.SIGTERM  # the command did not see it ...
        out = tmp_path / "sol.npz"
        with pytest.raises(interrupts.Interrupted) as e:  # ... but it cannot write
            with atomic_writer(out) as tmp:
                tmp.write_bytes(b"complete-looking output")
        assert e.value.signum == signal.SIGTERM
        assert list(tmp_path.iterdir()) == []  # neither output nor temporary
    finally:
        interrupts.restore(previous)
    assert interrupts.pending() is None
    assert signal.getsignal(signal.SIGTERM) is before  # the caller's handler is back


def test_without_a_signal_the_writer_commits(tmp_path):
    previous = interrupts.install()
    try:
        with atomic_writer(tmp_path / "a.bin") as tmp:
            tmp.write_bytes(b"x")
    finally:
        interrupts.restore(previous)
    assert (tmp_path / "a.bin").read_bytes() == b"x"


def test_ignored_sigint_is_left_alone():
    old = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        previous = interrupts.install()
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN and signal.SIGINT not in previous
        interrupts.restore(previous)
    finally:
        signal.signal(signal.SIGINT, old)


def test_swallowed_interrupt_prints_no_traceback():
    """Outside pytest (whose own hook turns lost exceptions into warnings) Python prints
    'Exception ignored ... Traceback' for the lost interrupt; the CLI's one line says what
    happened, so that print is kept quiet -- and other lost exceptions still print."""
    script = textwrap.dedent("""
        import gc, os, signal, sys
        from solvers import interrupts
        prev = interrupts.install()
        def cb(phase, info):
            if phase == "start" and not getattr(cb, "hit", 0):
                cb.hit = 1
                os.kill(os.getpid(), signal.SIGTERM)
                for _ in range(10_000):
                    pass
        gc.callbacks.append(cb); gc.collect(); gc.callbacks.remove(cb)
        print("pending", interrupts.pending(), flush=True)
        class Boom:
            def __del__(self):
                raise RuntimeError("other lost error")
        Boom()
        interrupts.restore(prev)
    """)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          cwd=Path(__file__).resolve().parents[2], timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert f"pending {int(signal.SIGTERM)}" in proc.stdout
    assert "Interrupted" not in proc.stderr and "SIGTERM" not in proc.stderr, proc.stderr
    assert "other lost error" in proc.stderr  # everything else still reported
