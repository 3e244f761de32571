"""Simulating a folder that cannot be written (read-only, disk full) in-process, for the tests
of the error contract: the tests run as root, where ``chmod`` does not stop a write."""

from __future__ import annotations

import builtins
import errno
import io
import os
from pathlib import Path
from typing import Any

import pytest

MESSAGES = {errno.EROFS: "Read-only file system", errno.ENOSPC: "No space left on device"}


def refuse_writes_under(monkeypatch: pytest.MonkeyPatch, folder: Path,
                        code: int = errno.EROFS) -> None:
    """Make creating or opening for writing any file or folder under ``folder`` fail with
    ``OSError(code)`` (``EROFS``: read-only; ``ENOSPC``: disk full), as the kernel would."""
    def guard(real: Any) -> Any:
        def call(path: Any, *args: Any, **kwargs: Any) -> Any:
            mode = args[0] if args else kwargs.get("mode", "r")
            writing = real is not io.open or any(c in str(mode) for c in "wax+")
            if str(path).startswith(str(folder)) and writing:
                raise OSError(code, MESSAGES.get(code, os.strerror(code)), str(path))
            return real(path, *args, **kwargs)
        return call

    monkeypatch.setattr(os, "mkdir", guard(os.mkdir))
    monkeypatch.setattr(os, "open", guard(os.open))
    monkeypatch.setattr(io, "open", guard(io.open))
    monkeypatch.setattr(builtins, "open", io.open)
