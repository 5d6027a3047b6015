"""Several writers on one run store: the run-directory lock, shards and chunk claims.

A run directory (:mod:`solvers.runner.store`) may be filled by one whole-run writer, or by
``n`` independent *shard* jobs (``satisac reproduce ... --shard i/n``, a SLURM array, the
processes of a ``--distributed`` run) on a shared filesystem:

* **Lock** ``run_dir/.lock`` (``fcntl.flock``, never blocking).  A whole run takes it
  exclusively, a shard job shared.  So a second whole run, or a whole run while shards are
  at work, stops at once with one line ("run directory X is in use by pid N (host H); wait
  for it or use --shard") instead of both computing every chunk; shards run side by side.
  The file holds the pid, host and start time of the last writer that took it.
* **Shares** chunk ``k`` of the run's global chunk list (sweep points x chunks, in order)
  belongs to shard ``k mod n``: each job computes about ``1/n`` of the chunks.
* **Claims** before computing a chunk a shard job creates
  ``point-XXXX/.chunk-YYYYYY.claim`` with ``os.open(O_CREAT | O_EXCL)`` (atomic also on
  NFS v3+), holding ``pid host time``; it writes the chunk (temporary file +
  ``os.replace``) and removes the claim.  A claim that exists is skipped, unless it is
  *stale*: its pid is dead on this host, or its file was not touched for ``lease_s``
  seconds (the owner refreshes the file's time every ``lease_s / 8`` seconds while it
  computes, so a slow chunk never looks stale).  A stale claim is taken over atomically
  (renamed away and checked before the new claim is created), so two jobs never compute
  the same chunk and a killed job's chunks are done by whichever job runs next.
* **Temporaries** a chunk's temporary file (``.chunk-YYYYYY.parquet.*.tmp``) is removed at
  start-up only when nobody can own it: under the exclusive lock always, under a shared
  lock only when its chunk has no live claim.
"""
from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import re
import socket
import sys
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Mapping

from solvers.configio import ConfigError

LOCK = ".lock"
DEFAULT_LEASE_S = 900.0
LEASE_ENV = "SATISAC_CLAIM_LEASE_S"
HOST = socket.gethostname()
_TMP = re.compile(r"^\.(chunk-\d+\.parquet)\..*\.tmp$")


@dataclass(frozen=True)
class Shard:
    """Job ``index`` of ``count`` (0 <= index < count)."""

    index: int
    count: int

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


def parse_shard(text: str, where: str = "--shard") -> Shard:
    """``"i/n"`` -> :class:`Shard` (0-based ``i``).  ConfigError naming ``where`` otherwise."""
    m = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", str(text))
    if not m or int(m.group(2)) < 1 or int(m.group(1)) >= int(m.group(2)):
        raise ConfigError(f"{where}: expected i/n with 0 <= i < n (e.g. 0/4), got {text!r}")
    return Shard(int(m.group(1)), int(m.group(2)))


def shard_from_env(env: Mapping[str, str] | None = None) -> Shard | None:
    """The shard of a SLURM array task (``SLURM_ARRAY_TASK_ID`` minus ``SLURM_ARRAY_TASK_MIN``
    of ``SLURM_ARRAY_TASK_COUNT``), or None outside an array job."""
    env = os.environ if env is None else env
    if "SLURM_ARRAY_TASK_ID" not in env or "SLURM_ARRAY_TASK_COUNT" not in env:
        return None
    try:
        tid, cnt = int(env["SLURM_ARRAY_TASK_ID"]), int(env["SLURM_ARRAY_TASK_COUNT"])
        lo = int(env.get("SLURM_ARRAY_TASK_MIN", "0"))
    except ValueError:
        raise ConfigError("SLURM_ARRAY_TASK_ID/SLURM_ARRAY_TASK_COUNT/SLURM_ARRAY_TASK_MIN: expected "
                          f"integers, got {env.get('SLURM_ARRAY_TASK_ID')!r}/{env.get('SLURM_ARRAY_TASK_COUNT')!r}"
                          f"/{env.get('SLURM_ARRAY_TASK_MIN')!r}") from None
    return parse_shard(f"{tid - lo}/{cnt}", "SLURM_ARRAY_TASK_ID - SLURM_ARRAY_TASK_MIN / SLURM_ARRAY_TASK_COUNT")


def lease_seconds(value: float | None = None) -> float:
    """``value``, else ``$SATISAC_CLAIM_LEASE_S``, else 900 s; ConfigError if not > 0."""
    raw = value if value is not None else os.environ.get(LEASE_ENV, DEFAULT_LEASE_S)
    try:
        lease = float(raw)
    except (TypeError, ValueError):
        lease = float("nan")
    if not lease > 0:
        raise ConfigError(f"{LEASE_ENV} / lease_s: expected a number of seconds > 0, got {raw!r}")
    return lease


def _owner_line() -> bytes:
    return f"{os.getpid()} {HOST} {time.time():.6f} {uuid.uuid4().hex}\n".encode()


def _parse_owner(data: bytes) -> tuple[int | None, str | None]:
    parts = data.decode(errors="replace").split()
    try:
        return int(parts[0]), parts[1]
    except (IndexError, ValueError):
        return None, None


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


# ----------------------------------------------------------------------------- the lock
@contextlib.contextmanager
def run_lock(run_dir: str | os.PathLike, shared: bool) -> Iterator[bool]:
    """Hold ``run_dir/.lock`` (exclusive for a whole run, shared for a shard) or raise
    ConfigError with one line naming the holder.  Released when the block (or process) ends.

    Yields True, or False on a filesystem without ``flock`` (e.g. Lustre mounted without
    ``-o flock``): a warning is printed and the run goes on unlocked, as a shard would
    (removing only temporaries without a live claim)."""
    d = Path(run_dir)
    d.mkdir(parents=True, exist_ok=True)
    fd = os.open(d / LOCK, os.O_RDWR | os.O_CREAT, 0o666)
    try:
        try:
            fcntl.flock(fd, (fcntl.LOCK_SH if shared else fcntl.LOCK_EX) | fcntl.LOCK_NB)
        except OSError as e:
            if e.errno in (errno.ENOLCK, errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP):
                print(f"satisac: warning: {d}: this filesystem has no flock ({e.strerror}); "
                      "not locking the run directory", file=sys.stderr)
                yield False
                return
            if e.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise
            pid, host = _parse_owner(os.pread(fd, 256, 0))
            who = f"pid {pid} (host {host})" if pid is not None else "another process"
            raise ConfigError(f"run directory {d} is in use by {who}; "
                              + ("a whole (unsharded) run holds it: wait for it" if shared
                                 else "wait for it or use --shard")) from None
        os.ftruncate(fd, 0)  # the latest holder names itself
        os.pwrite(fd, _owner_line(), 0)
        yield True
    finally:
        os.close(fd)  # releases the flock


# ----------------------------------------------------------------------------- claims
def claim_path(chunk_file: Path) -> Path:
    return chunk_file.with_name("." + chunk_file.name.replace(".parquet", ".claim"))


def claimed_chunk(claim: Path) -> Path:
    """The chunk file a claim stands for (the inverse of :func:`claim_path`)."""
    return claim.with_name(claim.name[1:].replace(".claim", ".parquet"))


def claim_is_stale(path: Path, lease_s: float, data: bytes | None = None) -> bool:
    """True if the claim's pid is dead on this host or the file is older than ``lease_s``."""
    try:
        if data is None:
            data = path.read_bytes()
        age = time.time() - path.stat().st_mtime
    except FileNotFoundError:
        return True
    pid, host = _parse_owner(data)
    if host == HOST and pid is not None and not pid_alive(pid):
        return True
    return age > lease_s


def _create(path: Path) -> bool:
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    except FileExistsError:
        return False
    try:
        os.write(fd, _owner_line())
    finally:
        os.close(fd)
    return True


def try_claim(chunk_file: Path, lease_s: float) -> bool:
    """Claim ``chunk_file`` for this process (atomic); take over a stale claim.  False when a
    live job holds it."""
    path = claim_path(chunk_file)
    path.parent.mkdir(parents=True, exist_ok=True)
    if _create(path):
        return True
    try:
        seen = path.read_bytes()
    except FileNotFoundError:
        return _create(path)
    if not claim_is_stale(path, lease_s, seen):
        return False
    private = path.with_name(f"{path.name}.{HOST}.{os.getpid()}.{uuid.uuid4().hex}.old")
    try:
        os.rename(path, private)
    except FileNotFoundError:  # another job took it over (or the owner finished) first
        return _create(path)
    if private.read_bytes() != seen:  # we moved a claim made after our check: give it back
        with contextlib.suppress(FileExistsError):
            os.link(private, path)
        private.unlink()
        return False
    private.unlink()
    return _create(path)


def release_claim(chunk_file: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        claim_path(chunk_file).unlink()


class Heartbeat:
    """Touch this process's current claims every ``period`` seconds (a daemon thread).

    ``current``: the claim path being computed, a tuple of them (a batched call), or None."""

    def __init__(self, period: float):
        self.period = max(float(period), 0.05)
        self.current: Path | tuple[Path, ...] | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name="satisac-claim-heartbeat", daemon=True)
        self._thread.start()

    def _beat(self) -> None:
        while not self._stop.wait(self.period):
            cur = self.current
            for p in (cur if isinstance(cur, tuple) else (cur,) if cur is not None else ()):
                with contextlib.suppress(OSError):
                    os.utime(p)

    def close(self) -> None:
        self._stop.set()
        self._thread.join()


def clean_temporaries(run_dir: str | os.PathLike, exclusive: bool, lease_s: float) -> None:
    """Remove chunk temporaries no live writer can own (module docstring); under the
    exclusive lock also every claim (no shard can be running), under a shared one the stale
    claims of chunks already written."""
    d = Path(run_dir)
    for p in d.glob("point-*/.*.tmp"):
        m = _TMP.match(p.name)
        if not exclusive and (m is None or not claim_is_stale(claim_path(p.with_name(m.group(1))), lease_s)):
            continue
        with contextlib.suppress(FileNotFoundError):
            p.unlink()
    if exclusive:
        for p in [*d.glob("point-*/.*.claim"), *d.glob("point-*/.*.claim.*.old")]:
            with contextlib.suppress(FileNotFoundError):
                p.unlink()
        return
    # a writer killed after writing its chunk but before releasing the claim leaves a stale
    # claim on a finished chunk, which no later job would ever take over
    for p in d.glob("point-*/.*.claim"):
        if claimed_chunk(p).exists() and claim_is_stale(p, lease_s):
            with contextlib.suppress(FileNotFoundError):
                p.unlink()


# ----------------------------------------------------------------------------- scope
@dataclass
class ShardScope:
    """How :func:`solvers.runner.montecarlo.run_sweep` calls inside :func:`shard_scope` run.

    Attributes:
      shard: this job's share (None: the whole run).
      barrier: called after this job's share of every store (a ``--distributed`` run waits
        there for the other processes); None for independent jobs.
      alias: ``(scratch, real)``: a run directory under ``scratch`` is read and written under
        ``real`` instead (a job that must not write figure files writes them to ``scratch``
        while its runs land in the shared store).
      computed, skipped, busy: chunks this job computed, found done, found claimed by a live job.
      failed: a ``run_sweep`` in the scope raised (the work failed or the store was locked).
    """

    shard: Shard | None = None
    barrier: object = None
    alias: tuple[Path, Path] | None = None
    computed: int = 0
    skipped: int = 0
    busy: int = 0
    failed: bool = False


_SCOPE: list[ShardScope] = []


@contextlib.contextmanager
def shard_scope(scope: ShardScope) -> Iterator[ShardScope]:
    """Make every ``run_sweep`` in the block follow ``scope`` (see :class:`ShardScope`)."""
    _SCOPE.append(scope)
    try:
        yield scope
    finally:
        _SCOPE.pop()


def current_scope() -> ShardScope | None:
    return _SCOPE[-1] if _SCOPE else None


def resolve(run_dir: str | os.PathLike) -> Path:
    """``run_dir`` with the current scope's alias applied."""
    p = Path(run_dir)
    sc = current_scope()
    if sc is not None and sc.alias is not None:
        scratch, real = sc.alias
        with contextlib.suppress(ValueError):
            return Path(real) / Path(os.path.abspath(p)).relative_to(os.path.abspath(scratch))
    return p
