"""Where the terminal tree starts: on a line of its own when the app may have left one open.

The tree goes to a stream; the app writes to ``sys.stdout`` and ``sys.stderr``, possibly a
partial line (a streamed answer printed chunk by chunk). Before each tree, decided from what
the printer already paid for (one ``os.fstat`` of the tree's stream and one of stdout, none at
all when the tree goes to stdout; no read, no ``isatty``):

1. stdout writes where the tree goes (the same object, the same file, pipe or device, or two
   terminals): stdout is flushed, so what the app buffered comes first, and the tree is preceded
   by a line break; in a regular file (``> app.log 2>&1``), only as in 3 (one more ``fstat``,
   after the flush);
2. otherwise the tree goes to a terminal (stderr on a terminal, stdout elsewhere): a line break,
   as the cursor's column cannot be seen;
3. otherwise to a regular file (``2> app.log``): a line break unless the file is empty or still
   ends where the previous tree ended (nothing was written since, by stderr or anyone);
4. otherwise (a pipe or socket carrying stderr alone, an in-memory stream): written as is.

A line break that was not needed only costs an empty line.
"""

from __future__ import annotations

import contextlib
import io
import os
import stat
import sys
from typing import TextIO

__all__ = ["LineStart"]

_UNKNOWN = (AttributeError, OSError, ValueError, io.UnsupportedOperation)


def _stat(stream: TextIO) -> os.stat_result | None:
    try:
        return os.fstat(stream.fileno())
    except _UNKNOWN:
        return None  # in-memory, closed, or not a file object


def _flush(stream: TextIO) -> None:
    with contextlib.suppress(*_UNKNOWN):
        stream.flush()


def _same_place(a: os.stat_result, b: os.stat_result) -> bool:
    """The same file, pipe or device, or two terminals (or character devices)."""
    if (a.st_dev, a.st_ino) == (b.st_dev, b.st_ino):
        return True
    return stat.S_ISCHR(a.st_mode) and stat.S_ISCHR(b.st_mode)


def _encoded_size(stream: TextIO, text: str) -> int | None:
    encoding = getattr(stream, "encoding", None) or "utf-8"
    errors = getattr(stream, "errors", None) or "strict"
    try:
        return len(text.encode(encoding, errors))
    except (LookupError, UnicodeError):
        return None


class LineStart:
    """The line break (or none) that must precede the next tree on a stream.

    Not thread-safe: the printer calls :meth:`prefix`, writes, then calls :meth:`wrote`, all
    under its write lock. The rule is in the module docstring.
    """

    __slots__ = ("_end", "_file")

    def __init__(self) -> None:
        # (st_dev, st_ino, size) of the regular file where the last tree ended
        self._end: tuple[int, int, int] | None = None
        # (st_dev, st_ino, size) of the regular file the current tree is written to
        self._file: tuple[int, int, int] | None = None

    def prefix(self, stream: TextIO) -> str:
        """``"\\n"`` when the tree must break the line ``stream`` may be on, else ``""``."""
        self._file = None
        out = sys.stdout
        if out is not None and out is stream:
            _flush(out)
            return "\n"
        _flush(stream)  # the app's buffered partial line (stderr) first: it counts in the size
        here = _stat(stream)
        if here is None:
            return ""
        if out is not None and (there := _stat(out)) is not None and _same_place(there, here):
            _flush(out)
            if stat.S_ISREG(here.st_mode) and (flushed := _stat(stream)) is not None:
                return self._in_file(flushed)  # what stdout had buffered counts in the size
            return "\n"
        if stat.S_ISCHR(here.st_mode):
            return "\n"
        if stat.S_ISREG(here.st_mode):
            return self._in_file(here)
        return ""

    def _in_file(self, here: os.stat_result) -> str:
        """Rule 3: a break unless the file is empty or ends where the previous tree ended."""
        self._file = (here.st_dev, here.st_ino, here.st_size)
        return "" if here.st_size == 0 or self._file == self._end else "\n"

    def wrote(self, stream: TextIO, text: str) -> None:
        """``text`` (the prefix included) was written to ``stream`` and flushed."""
        size = None if self._file is None else _encoded_size(stream, text)
        if self._file is None or size is None:
            self._end = None
            return
        dev, ino, before = self._file
        self._end = (dev, ino, before + size)
