"""One progress display for one or many downloads: rich on a terminal, nothing otherwise."""
from __future__ import annotations

import contextlib
import sys
import threading
from typing import Iterable, Iterator

from .console import stderr_console

LARGE_FILE = 8 << 20  # files at least this big (or of unknown size) get their own bar


def is_quiet(quiet: bool | None) -> bool:
    """`None` means: quiet unless standard error is a terminal."""
    return (not sys.stderr.isatty()) if quiet is None else bool(quiet)


class TransferDisplay:
    """Overall bytes/files plus a bar per large file. Thread-safe; a no-op when quiet."""

    def __init__(self, quiet: bool | None = None, files: int = 1, total_bytes: int | None = None):
        self._progress = None if is_quiet(quiet) else _rich_progress()
        self._files = files
        self._done = 0
        self._lock = threading.Lock()
        self._overall = None
        if self._progress is not None and files > 1:
            self._overall = self._progress.add_task(self._overall_text(), total=total_bytes or None)

    def __enter__(self) -> "TransferDisplay":
        if self._progress is not None:
            self._progress.start()
        return self

    def __exit__(self, *exc) -> None:
        if self._progress is not None:
            self._progress.stop()

    def _overall_text(self) -> str:
        return f"{self._done}/{self._files} files"

    def start_file(self, name: str, total: int | None, completed: int = 0):
        """A handle for `advance`; a bar is shown for a single or large file."""
        if self._progress is None:
            return None
        if self._overall is not None and completed:
            self._progress.advance(self._overall, completed)
        if self._overall is not None and total is not None and total < LARGE_FILE:
            return None
        return self._progress.add_task(name, total=total, completed=completed)

    def advance(self, handle, nbytes: int) -> None:
        if self._progress is None:
            return
        if handle is not None:
            self._progress.advance(handle, nbytes)
        if self._overall is not None:
            self._progress.advance(self._overall, nbytes)

    def set_total(self, handle, total: int) -> None:
        """The size announced by the server, when the caller did not know it."""
        if self._progress is not None and handle is not None:
            self._progress.update(handle, total=total)

    def rewind(self, handle, nbytes: int) -> None:
        """Take back bytes counted for a download that restarted from zero."""
        self.advance(handle, -nbytes)

    def finish_file(self, handle) -> None:
        if self._progress is None:
            return
        if handle is not None and self._overall is not None:
            self._progress.remove_task(handle)
        with self._lock:
            self._done += 1
        if self._overall is not None:
            self._progress.update(self._overall, description=self._overall_text())


def listing_status(label: str, quiet: bool | None):
    """A spinner on standard error while a source is listed (a terminal only, unless quiet)."""
    if is_quiet(quiet):
        return contextlib.nullcontext()
    return stderr_console().status(f"Listing the files of {label} ...")


def track_items(items: Iterable, total: int | None, description: str, quiet: bool | None = None,
                unit: str = "files") -> Iterator:
    """Iterate with the download display's look for counted work (standardizing): count, rate,
    ETA, on standard error; nothing when quiet (`None`: quiet unless standard error is a terminal)."""
    if is_quiet(quiet):
        yield from items
        return
    progress = _rich_items_progress(unit)
    with progress:
        task = progress.add_task(description, total=total)
        for item in items:
            yield item
            progress.advance(task)


def _rich_items_progress(unit: str):
    # heavy: rich, imported on first use
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        ProgressColumn,
        TextColumn,
        TimeRemainingColumn,
    )
    from rich.text import Text  # heavy: rich, imported on first use

    class RateColumn(ProgressColumn):
        def render(self, task) -> Text:
            speed = task.finished_speed or task.speed
            return Text("?" if speed is None else f"{speed:,.0f} {unit}/s", style="progress.data.speed")

    return Progress(TextColumn("[bold]{task.description}", table_column=None), BarColumn(),
                    MofNCompleteColumn(), RateColumn(), TimeRemainingColumn(),
                    console=stderr_console(), transient=True, refresh_per_second=5)


def _rich_progress():
    # heavy: rich, imported on first use
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )

    return Progress(TextColumn("[bold]{task.description}", table_column=None), BarColumn(),
                    DownloadColumn(), TransferSpeedColumn(), TimeRemainingColumn(),
                    console=stderr_console(), transient=False, refresh_per_second=5)
