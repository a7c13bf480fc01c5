"""Errors that reach a user: each says what is wrong, where, and the fix.

The CLI prints them without a traceback. Anything else that escapes is a
bug in journeykit.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Sequence


class JourneykitError(Exception):
    """Base class of every error journeykit reports to a user."""

    def __init__(self, message: str, *, fix: str | None = None):
        self.message = message
        self.fix = fix
        super().__init__(self.render())

    def render(self) -> str:
        text = self.message
        if self.fix:
            text += f"\n  fix: {self.fix}"
        return text


class ConfigError(JourneykitError):
    """A client file, the defaults or a command-line override is wrong."""


class OperationalError(JourneykitError):
    """The machine is in the way: a full disk, a read-only or forbidden
    folder, a path too long for the file system. :func:`operational`
    turns the ``OSError`` into one that names the path and the fix."""


_OS_FIXES = {
    errno.ENOSPC: ("no space left on the disk", "free space on that disk (old reports, data/.cache), then run again"),
    errno.EDQUOT: ("the disk quota is exceeded", "free space within your quota, then run again"),
    errno.EROFS: ("the file system is read-only", "make the folder writable (or point the project at a writable one)"),
    errno.EACCES: ("permission denied", "give this user write access to the folder (chmod/chown), or run as its owner"),
    errno.EPERM: ("operation not permitted", "give this user write access to the folder (chmod/chown), or run as its owner"),
    errno.ENAMETOOLONG: ("a file name is too long for the file system",
                         "use a shorter client name or project path"),
}


def operational(e: BaseException, doing: str) -> "OperationalError | None":
    """The :class:`OperationalError` for a failure a user can fix (full
    disk, read-only or forbidden folder, name too long), or ``None`` for any
    other (a bug). ``e`` is an ``OSError``, or an engine's error whose text
    carries the system's message (DuckDB: ``Could not write file …: No space
    left on device``). ``doing`` says what journeykit was doing."""
    code = e.errno if isinstance(e, OSError) else None
    if code not in _OS_FIXES:
        text = str(e)
        code = next((c for c in _OS_FIXES if os.strerror(c) in text), None)
    if code is None:
        return None
    what, fix = _OS_FIXES[code]
    where = f" ({e.filename})" if getattr(e, "filename", None) else ""
    if not where and not isinstance(e, OSError):
        where = f" ({str(e).strip().splitlines()[0][:200]})"
    return OperationalError(f"{doing}: {what}{where}", fix=fix)


def _examples(values: Sequence[object], limit: int = 5) -> str:
    shown = ", ".join(repr(v) for v in list(values)[:limit])
    return shown or "(none)"


class DataError(JourneykitError):
    """A client's data breaks the data contract.

    Parameters
    ----------
    client, table, column : str
        Where the problem is (``column`` may be ``None`` for a whole table).
    problem : str
        What is wrong, in one line.
    n_rows : int, optional
        How many rows have the problem.
    examples : sequence, optional
        A few offending values.
    fix : str
        What the user should do.
    """

    def __init__(
        self,
        *,
        client: str,
        table: str,
        column: str | None,
        problem: str,
        fix: str,
        n_rows: int | None = None,
        examples: Sequence[object] = (),
        file: str | None = None,
    ):
        self.client = client
        self.table = table
        self.column = column
        self.problem = problem
        self.n_rows = n_rows
        self.examples = list(examples)[:5]
        self.file = file
        where = f"client '{client}', table '{table}'"
        if column:
            where += f", column '{column}'"
        if file:
            where += f" (file {file})"
        lines = [f"{where}: {problem}"]
        if n_rows is not None:
            lines.append(f"  rows affected: {n_rows:,}")
        if self.examples:
            lines.append(f"  examples: {_examples(self.examples)}")
        super().__init__("\n".join(lines), fix=fix)


class DataErrors(JourneykitError):
    """Several contract violations found in one load, reported together."""

    def __init__(self, errors: Sequence[DataError]):
        self.errors = list(errors)
        n = len(self.errors)
        head = f"{n} problem{'s' if n != 1 else ''} in the client's data:"
        body = "\n\n".join(e.render() for e in self.errors)
        super().__init__(f"{head}\n\n{body}")


class SectionNotAvailable(Exception):
    """Raised inside a section notebook when the client lacks its tables.

    The runner records the section as ``not_available`` (metrics ``null``),
    not as failed.
    """
