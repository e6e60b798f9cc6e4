"""Progress of long work on a terminal: a one-line counter on stderr, shown only when stderr is a TTY and the
work has run for more than `delay` seconds (so pipes, logs and quick commands see nothing)."""

from __future__ import annotations

import sys
import time


class Progress:
    def __init__(self, total: int, what: str, delay: float = 2.0, stream=None) -> None:
        self.total, self.what, self.delay = total, what, delay
        self.stream = stream or sys.stderr
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.done, self.start, self.last, self.shown = 0, time.monotonic(), 0.0, False

    def advance(self, k: int = 1) -> None:
        self.done += k
        if not self.tty:
            return
        now = time.monotonic()
        if now - self.start >= self.delay and (now - self.last >= 0.2 or self.done >= self.total):
            self.last, self.shown = now, True
            rate = self.done / max(now - self.start, 1e-9)
            self.stream.write(f"\r{self.done:,}/{self.total:,} {self.what} ({rate:,.0f}/s)\x1b[K")
            self.stream.flush()

    def close(self) -> None:
        if self.shown:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
            self.shown = False

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
