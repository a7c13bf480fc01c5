"""A run's log: what the runner says, timestamped, on the console and in
``reports/<client>/<period>/run.log`` (appended run after run), as text or
as JSON lines (``--log-format json``) for a log collector."""

from __future__ import annotations

import datetime as dt
import json
import sys
from collections.abc import Callable
from pathlib import Path

FORMATS = ("text", "json")


class RunLog:
    """Callable: ``log("message")`` timestamps a line, echoes it, keeps it.

    Parameters
    ----------
    fmt : ``text`` or ``json``
        How lines are written, on the console and in the file.
    echo : callable, optional
        Where each formatted line goes as it happens (default: stderr);
        ``None`` keeps the lines for the file only.
    """

    def __init__(self, fmt: str = "text", echo: Callable[[str], None] | None = print,
                 client: str | None = None, period: str | None = None):
        if fmt not in FORMATS:
            raise ValueError(f"log format {fmt!r}: use one of {', '.join(FORMATS)}")
        self.fmt = fmt
        self.echo = echo
        self.client, self.period = client, period
        self.lines: list[str] = []

    def format(self, message: str, when: dt.datetime | None = None, **fields) -> str:
        """One line: ``2026-11-01T06:00:03+09:00 message`` or a JSON object
        with ``time``, ``client``, ``period``, ``message`` and ``fields``."""
        when = when or dt.datetime.now().astimezone()
        stamp = when.isoformat(timespec="seconds")
        if self.fmt == "json":
            return json.dumps({"time": stamp, "client": self.client, "period": self.period, "message": message,
                               **fields}, ensure_ascii=False)
        return f"{stamp} {message}"

    def __call__(self, message: str, **fields) -> None:
        line = self.format(message, **fields)
        self.lines.append(line)
        if self.echo is print:
            print(line, file=sys.stderr, flush=True)
        elif self.echo is not None:
            self.echo(line)

    def append_to(self, path: Path) -> None:
        """Append this run's lines to ``path`` (created with its folder)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "a", encoding="utf-8") as f:
            for line in self.lines:
                f.write(line + "\n")
