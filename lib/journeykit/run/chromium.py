"""Headless Chromium driven over its DevTools pipe, to print HTML to PDF.

One :class:`Browser` loads a page once and can change it and print it
again: the report's PDF is printed twice (once to find the page each part
starts on, once with those numbers in its contents), and the second print
reuses the first one's browser, page and decoded charts instead of
starting Chromium and laying the document out again.

The protocol is the Chrome DevTools Protocol over
``--remote-debugging-pipe``: JSON messages ending in a NUL byte, written
to the browser's file descriptor 3 and read from its descriptor 4 (the
transport Puppeteer and Playwright use), so no port is opened and no
package beyond the standard library is needed. Chromium and its helpers
run in a session of their own: a Ctrl-C at the terminal reaches the run
only, which then kills them all (:func:`stop_all`).
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import select
import signal
import subprocess
import tempfile
import time
from pathlib import Path

from journeykit.core.errors import JourneykitError

FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-extensions", "--hide-scrollbars")
"""Chromium's flags for printing: offline, no downloads, no first-run pages."""

PRINT_OPTIONS = {"printBackground": True, "preferCSSPageSize": True, "displayHeaderFooter": False,
                 "transferMode": "ReturnAsStream"}
"""``Page.printToPDF``'s options: what ``chromium --headless --print-to-pdf
--no-pdf-header-footer`` does (the page size and margins of the
document's ``@page`` rules, backgrounds printed, no header or footer)."""

RUNNING: set = set()
"""Chromium processes of this process still running (in any thread)."""


def stop_all() -> None:
    """Kill every Chromium of this process still running, with its helpers
    (its whole session); a call waiting on one then fails."""
    for proc in list(RUNNING):
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except OSError:
            pass


def _high_fd(fd: int) -> int:
    """``fd`` moved to a number of 10 or more (closing the old one), so
    bash can put it at 3 or 4 without overwriting the other end."""
    new = fcntl.fcntl(fd, fcntl.F_DUPFD, 10)
    os.close(fd)
    return new


class Browser:
    """One headless Chromium with one page; a context manager.

    ``open(path)`` loads an HTML file and waits until it, its images and its
    fonts are loaded; ``evaluate(js)`` runs JavaScript in it (awaiting a
    promise; DevTools' evaluation is not bound by the page's
    Content-Security-Policy, which forbids the page's own scripts);
    ``pdf(path)`` prints it. Every call gives up after ``timeout`` seconds
    (then Chromium is killed and :class:`JourneykitError` raised)."""

    def __init__(self, executable: str, timeout: float = 180):
        self.timeout = timeout
        self._profile = tempfile.TemporaryDirectory(prefix="jk-chromium-", ignore_cleanup_errors=True)
        self._stderr = tempfile.TemporaryFile()
        r_ours, w_theirs = os.pipe()
        r_theirs, w_ours = os.pipe()
        r_theirs, w_theirs = _high_fd(r_theirs), _high_fd(w_theirs)
        # bash puts the pipe's ends at 3 and 4 and becomes Chromium (no preexec_fn: the brief prints
        # from another thread, where a Python hook in the child could deadlock; dash cannot name fd 10)
        script = f'exec "$0" "$@" 3<&{r_theirs} 4>&{w_theirs} {r_theirs}<&- {w_theirs}>&-'
        cmd = ["bash", "-c", script, executable, *FLAGS, f"--user-data-dir={self._profile.name}",
               "--remote-debugging-pipe", "about:blank"]
        try:
            self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                         stderr=self._stderr, pass_fds=(r_theirs, w_theirs), start_new_session=True)
        except OSError as e:
            for fd in (r_ours, w_ours):
                os.close(fd)
            self._stderr.close()
            self._profile.cleanup()
            raise JourneykitError(f"could not start Chromium ({executable}) through bash: {e}",
                                  fix="check that `bash` and `chromium --headless` run on this machine, "
                                      "or set report.pdf: false") from None
        finally:
            os.close(r_theirs)
            os.close(w_theirs)
        RUNNING.add(self.proc)
        self._read_fd, self._write_fd = r_ours, w_ours
        self._buffer = b""
        self._next_id = 0
        self._events: list[dict] = []
        self._session: str | None = None
        self._what = "starting"

    # -- the protocol ------------------------------------------------------
    def _fail(self, message: str) -> JourneykitError:
        self._kill()
        self._stderr.seek(0)
        tail = self._stderr.read().decode("utf-8", "replace").strip().splitlines()[-3:]
        detail = f": {' | '.join(tail)}" if tail else ""
        return JourneykitError(f"Chromium {message} ({self._what}){detail}",
                               fix="check that `chromium --headless` runs on this machine, or set report.pdf: false")

    def _message(self, deadline: float) -> dict:
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                raise self._fail(f"did not answer within {self.timeout:.0f} s")
            ready, _, _ = select.select([self._read_fd], [], [], left)
            if not ready:
                continue
            chunk = os.read(self._read_fd, 1 << 20)
            if not chunk:
                raise self._fail("stopped")
            self._buffer += chunk
        message, _, self._buffer = self._buffer.partition(b"\0")
        return json.loads(message)

    def send(self, method: str, params: dict | None = None, *, page: bool = True) -> dict:
        """Call a DevTools method (on the page's session unless ``page`` is
        false) and return its result; events that arrive meanwhile are kept
        for :meth:`wait_for`."""
        self._next_id += 1
        message = {"id": self._next_id, "method": method, "params": params or {}}
        if page and self._session:
            message["sessionId"] = self._session
        data = json.dumps(message).encode() + b"\0"
        try:
            while data:
                data = data[os.write(self._write_fd, data):]
        except OSError:
            raise self._fail("stopped") from None
        deadline = time.monotonic() + self.timeout
        while True:
            reply = self._message(deadline)
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise self._fail(f"refused {method}: {reply['error'].get('message')}")
                return reply.get("result", {})
            if "method" in reply:
                self._events.append(reply)

    def wait_for(self, event: str) -> dict:
        """The next event ``event`` of the page (one that came already first)."""
        for i, e in enumerate(self._events):
            if e["method"] == event and e.get("sessionId") == self._session:
                return self._events.pop(i)
        deadline = time.monotonic() + self.timeout
        while True:
            e = self._message(deadline)
            if e.get("method") == event and e.get("sessionId") == self._session:
                return e
            if "method" in e:
                self._events.append(e)

    # -- what the report needs -------------------------------------------
    def open(self, html_path: Path) -> Browser:
        """Load ``html_path`` and wait for its images and fonts."""
        self._what = f"opening {html_path.name}"
        if self._session is None:
            target = self.send("Target.createTarget", {"url": "about:blank"}, page=False)["targetId"]
            self._session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True},
                                      page=False)["sessionId"]
            self.send("Page.enable")
        nav = self.send("Page.navigate", {"url": Path(html_path).resolve().as_uri()})
        if nav.get("errorText"):
            raise self._fail(f"could not open {html_path.name}: {nav['errorText']}")
        self.wait_for("Page.loadEventFired")
        self.evaluate("document.fonts.ready.then(() => true)")
        return self

    def evaluate(self, script: str):
        """The value of a JavaScript expression in the page (a promise is awaited)."""
        r = self.send("Runtime.evaluate", {"expression": script, "awaitPromise": True, "returnByValue": True})
        if "exceptionDetails" in r:
            d = r["exceptionDetails"]
            raise self._fail(f"could not run a script: {(d.get('exception') or {}).get('description') or d.get('text')}")
        return (r.get("result") or {}).get("value")

    def pdf(self, pdf_path: Path) -> None:
        """Print the page to ``pdf_path`` (written whole, then moved into place)."""
        self._what = f"printing {Path(pdf_path).name}"
        handle = self.send("Page.printToPDF", PRINT_OPTIONS)["stream"]
        part = Path(pdf_path).with_name(f".{Path(pdf_path).name}.part")
        try:
            with open(part, "wb") as f:
                while True:
                    chunk = self.send("IO.read", {"handle": handle, "size": 1 << 22})
                    data = chunk.get("data", "")
                    f.write(base64.b64decode(data) if chunk.get("base64Encoded") else data.encode())
                    if chunk.get("eof"):
                        break
            self.send("IO.close", {"handle": handle})
        except BaseException:
            part.unlink(missing_ok=True)   # a print cut short leaves no half file
            raise
        if part.stat().st_size == 0:
            part.unlink()
            raise self._fail("printed nothing")
        os.replace(part, pdf_path)

    # -- lifetime ---------------------------------------------------------
    def _kill(self) -> None:
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except OSError:
            pass

    def close(self) -> None:
        """Stop Chromium and its helpers and remove its profile."""
        if self.proc.poll() is None:
            try:
                os.write(self._write_fd, json.dumps({"id": 0, "method": "Browser.close"}).encode() + b"\0")
                self.proc.wait(timeout=5)
            except (OSError, subprocess.TimeoutExpired):
                pass
        self._kill()   # and any helper left behind
        self.proc.wait()
        RUNNING.discard(self.proc)
        for fd in (self._read_fd, self._write_fd):
            try:
                os.close(fd)
            except OSError:
                pass
        self._stderr.close()
        self._profile.cleanup()

    def __enter__(self) -> Browser:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


__all__ = ["FLAGS", "PRINT_OPTIONS", "RUNNING", "stop_all", "Browser"]
