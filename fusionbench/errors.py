"""The error contract: one exception class per kind of problem, each with its exit code.

Every problem fusionbench detects on purpose is a :class:`FusionbenchError`; the CLI prints it as
``error: <message>`` (one or two lines naming the file or option and what to do) and exits with
the class's ``exit_code``. A traceback is printed only with ``fusionbench --debug``.

==== ======================================================================================
code meaning
==== ======================================================================================
0    success
1    bad input: a file, card, dataset, image, method, metric, template or weights file is not
     usable (:class:`ImageError`, :class:`DatasetError`, :class:`NothingToScoreError`,
     :class:`MethodError`, :class:`MetricError`, :class:`TemplateError`, :class:`WeightsError`
     and every other :class:`FusionbenchError`)
2    bad command-line option or argument; nothing was done (:class:`UsageError`)
3    the run finished but some pairs failed (each named with its reason)
4    ``regress`` found a value that got worse, turned NaN or went missing
5    the results store stayed busy with another fusionbench process's writes past the busy
     timeout, or another process dropped this run (``clean``, ``--force``) while it was
     writing; run again (:class:`RunLockedError`)
6    a file could not be written: disk full, no permission, read-only file system
     (:class:`OutputError`)
70   internal error: an unexpected exception (a bug; rerun with ``--debug`` and report it)
130  interrupted (Ctrl-C); finished pairs are kept
==== ======================================================================================

>>> raise ImageError("a.png", "file is empty")
Traceback (most recent call last):
...
fusionbench.errors.ImageError: a.png: file is empty
>>> OutputError.from_os_error(OSError(28, "No space left on device", "/r/x.png")).exit_code
6
"""

from __future__ import annotations

import errno
from pathlib import Path

EXIT_OK = 0
EXIT_INPUT = 1
EXIT_USAGE = 2
EXIT_PAIRS_FAILED = 3
EXIT_REGRESSED = 4
EXIT_LOCKED = 5
EXIT_OUTPUT = 6
EXIT_INTERNAL = 70
EXIT_INTERRUPTED = 130

#: ``errno`` values that mean "this place cannot be written", with what the user should do.
OUTPUT_ERRNOS: dict[int, str] = {
    errno.ENOSPC: "the disk is full: free some space or choose another folder",
    errno.EDQUOT: "the disk quota is exceeded: free some space or choose another folder",
    errno.EACCES: "permission denied: choose a folder you can write to",
    errno.EPERM: "operation not permitted: choose a folder you can write to",
    errno.EROFS: "the file system is read-only: choose a writable folder",
}


class FusionbenchError(Exception):
    """Base class of every error fusionbench raises on purpose.

    ``exit_code`` is the process exit status the CLI uses for this kind of problem.
    """

    exit_code: int = EXIT_INPUT


class UsageError(FusionbenchError):
    """A command-line option or argument is invalid; nothing was done (exit 2)."""

    exit_code = EXIT_USAGE


class ImageError(FusionbenchError):
    """An image file could not be read, written, or used as it is."""

    def __init__(self, path: str | Path, problem: str) -> None:
        self.path = str(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")


class DatasetError(FusionbenchError):
    """A dataset card or a dataset folder is not usable."""


class NothingToScoreError(DatasetError):
    """A dataset (or a folder of fused images) yielded no pair at all; the message says why."""


class MethodError(FusionbenchError):
    """A method card is invalid, a method is unknown, or a method failed on a pair."""


class MetricError(FusionbenchError):
    """A metric or profile is unknown, or its inputs cannot be scored."""


class TemplateError(FusionbenchError):
    """A report template (e.g. from ``--template-dir``) cannot be parsed or rendered."""


class WeightsError(MethodError):
    """A weights or checkpoint file is missing, not a weights file, corrupt, not finite, or
    does not match (the model, the card's sha256)."""


class RunLockedError(FusionbenchError):
    """Another process kept the results store busy past the busy timeout, or dropped this run
    while it was writing (exit 5: run again)."""

    exit_code = EXIT_LOCKED


class OutputError(FusionbenchError):
    """A file or folder cannot be written: disk full, permission denied, read-only (exit 6)."""

    exit_code = EXIT_OUTPUT

    def __init__(self, folder: str | Path, problem: str) -> None:
        self.folder = str(folder)
        self.problem = problem
        super().__init__(f"cannot write in {self.folder}: {problem}")

    @classmethod
    def from_os_error(cls, exc: OSError, target: str | Path | None = None) -> OutputError:
        """The error for an ``OSError`` raised while writing ``target`` (or ``exc.filename``).

        The folder named is the one holding the file (the file itself when it is a folder).
        """
        where = Path(target if target is not None else (exc.filename or "."))
        folder = where if where.is_dir() else where.parent
        advice = OUTPUT_ERRNOS.get(exc.errno or 0, exc.strerror or str(exc))
        return cls(folder, advice)


def is_output_os_error(exc: BaseException) -> bool:
    """Whether ``exc`` is an ``OSError`` meaning "cannot write here" (see :data:`OUTPUT_ERRNOS`).

    >>> is_output_os_error(OSError(errno.EROFS, "Read-only file system"))
    True
    >>> is_output_os_error(KeyError("x"))
    False
    """
    return isinstance(exc, OSError) and exc.errno in OUTPUT_ERRNOS


class FusionbenchWarning(UserWarning):
    """Something was skipped or assumed; the CLI prints it as ``warning: <message>``."""


class PluginWarning(FusionbenchWarning):
    """A third-party method plugin was skipped (import failure, bad card, name collision)."""


class MetricWarning(RuntimeWarning):
    """A metric's own warning, with the metric it concerns as data.

    ``nan=True`` means the metric's value is NaN and ``reason`` says why; the runner stores that
    reason beside the NaN instead of dropping it. Other metric warnings (``nan=False``) are
    recorded with the pair.

    >>> w = MetricWarning("VIF", "source a is constant (0/0)", nan=True)
    >>> str(w), w.metric, w.nan
    ('VIF is NaN: source a is constant (0/0)', 'VIF', True)
    """

    def __init__(self, metric: str, reason: str, *, nan: bool = False) -> None:
        self.metric = metric
        self.reason = reason
        self.nan = nan
        super().__init__(f"{metric} is NaN: {reason}" if nan else f"{metric}: {reason}")
