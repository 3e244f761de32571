"""Atomic file writes: readers see the old file or the new one, never half of it.

Files are created with the process umask applied to ``0o666`` (``0644`` under the usual umask
``022``), like any file ``open()`` creates; an atomic replacement keeps that mode. A write that
fails because the disk is full, permission is denied or the file system is read-only raises
:class:`~fusionbench.errors.OutputError` naming the folder, and leaves nothing behind.

>>> import tempfile, pathlib
>>> p = pathlib.Path(tempfile.mkdtemp()) / "a.txt"
>>> atomic_write_text(p, "hello")
>>> p.read_text()
'hello'
"""

from __future__ import annotations

import errno
import os
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from fusionbench.errors import OutputError, is_output_os_error


def _create_temporary(path: Path) -> tuple[int, Path]:
    """A new, exclusively created ``.<name>.<pid>-<random>.tmp`` beside ``path`` (mode
    0o666 & ~umask). The process id lets :func:`remove_stale_temporaries` tell a killed
    writer's leftovers from a live one's file.

    ``os.open`` lets the kernel apply the umask, unlike ``tempfile.mkstemp`` (always 0600).
    """
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    while True:
        tmp = path.parent / f".{path.name}.{os.getpid()}-{secrets.token_hex(6)}.tmp"
        try:
            return os.open(tmp, flags, 0o666), tmp
        except FileExistsError:
            continue


@contextmanager
def atomic_file(path: Path, mode: str = "wb") -> Iterator[IO[Any]]:
    """Open a temporary file beside ``path``; on success it replaces ``path`` atomically.

    Readers see the old file or the new one, never half of it; on error nothing changes.
    """
    path = Path(path)
    tmp: Path | None = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = _create_temporary(path)
        text = {} if "b" in mode else {"encoding": "utf-8", "newline": ""}
        with os.fdopen(fd, mode, **text) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        if tmp is not None:
            try:
                tmp.unlink(missing_ok=True)
            except OSError:
                pass  # the original error is the one worth reporting
        if is_output_os_error(exc):
            raise OutputError.from_os_error(exc, path) from exc  # type: ignore[arg-type]
        raise


def link_new_file(path: Path, build: Callable[[Path], None]) -> bool:
    """Make ``path`` only if absent, whole or not at all: ``build`` fills a temporary file
    beside it, which is then hard-linked into place (never replacing a file another process
    made meanwhile). Returns whether this call made it.

    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "new.txt"
    >>> [link_new_file(p, lambda tmp: tmp.write_text(text)) for text in ("first", "second")]
    [True, False]
    >>> p.read_text()
    'first'
    """
    path = Path(path)
    tmp: Path | None = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = _create_temporary(path)
        os.close(fd)
        build(tmp)
        try:
            os.link(tmp, path)
        except FileExistsError:
            return False
        except OSError as exc:  # a file system without hard links (FAT, some network mounts)
            if exc.errno not in (errno.EPERM, errno.EOPNOTSUPP, errno.ENOSYS):
                raise
            if path.exists():
                return False
            os.replace(tmp, path)  # the small race left here only exists on such systems
        return True
    except OSError as exc:
        if is_output_os_error(exc):
            raise OutputError.from_os_error(exc, path) from exc
        raise
    finally:
        if tmp is not None:
            try:
                tmp.unlink(missing_ok=True)
            except OSError:
                pass  # the original error (if any) is the one worth reporting


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically (see :func:`atomic_file`)."""
    with atomic_file(path, "w") as fh:
        fh.write(text)


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (see :func:`atomic_file`)."""
    with atomic_file(path, "wb") as fh:
        fh.write(data)


def _writer_alive(pid: int) -> bool:
    """Whether process ``pid`` still runs (a zombie, killed but not yet reaped, does not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's live process
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True  # no /proc (not Linux): trust the signal check
    return stat.rsplit(")", 1)[-1].split()[0] not in ("Z", "X")


def remove_stale_temporaries(folder: Path) -> int:
    """Delete the ``.*.tmp`` files in ``folder`` whose writing process is gone (a run killed
    with SIGKILL leaves them); a live process's temporaries are left alone. Returns how many
    were removed.

    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / ".x.png.999999999-ab.tmp").write_text("half")  # no such process
    >>> remove_stale_temporaries(d), list(d.iterdir())
    (1, [])
    """
    removed = 0
    if not Path(folder).is_dir():
        return 0
    for tmp in Path(folder).glob(".*.tmp"):
        pid_part = tmp.name[:-len(".tmp")].rsplit(".", 1)[-1].split("-", 1)[0]
        if pid_part.isdigit() and _writer_alive(int(pid_part)):
            continue
        tmp.unlink(missing_ok=True)
        removed += 1
    return removed
