"""Exceptions with messages that name the file and the problem.

>>> raise ImageError("a.png", "file is empty")
Traceback (most recent call last):
...
fusionbench.errors.ImageError: a.png: file is empty
"""

from __future__ import annotations

from pathlib import Path


class FusionbenchError(Exception):
    """Base class of every error fusionbench raises on purpose.

    ``exit_code`` is the process exit status the CLI uses for this kind of problem.
    """

    exit_code: int = 1


class UsageError(FusionbenchError):
    """A command-line option or argument is invalid; nothing was done (exit 2)."""

    exit_code = 2


class ImageError(FusionbenchError):
    """An image file could not be read, written, or used as it is."""

    def __init__(self, path: str | Path, problem: str) -> None:
        self.path = str(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")


class DatasetError(FusionbenchError):
    """A dataset card or a dataset folder is not usable."""


class MethodError(FusionbenchError):
    """A method card is invalid, a method is unknown, or a method failed on a pair."""


class MetricError(FusionbenchError):
    """A metric or profile is unknown, or its inputs cannot be scored."""


class RunLockedError(FusionbenchError):
    """Another process is writing into the same run folder."""
