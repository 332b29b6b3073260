"""Standardizing shows the download display's count, rate and ETA on a terminal; nothing in a pipe
or when quiet (`fetch --json`, `--quiet`)."""
from __future__ import annotations

import io
import sys

import numpy as np
from std_helpers import make_entry, save_png

from histodata.layout import dataset_paths
from histodata.standardize import standardize_dataset


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def tiles(dataset_id: str, count: int = 60):
    paths = dataset_paths(dataset_id)
    for i in range(count):
        save_png(np.full((4, 4, 3), i, np.uint8), paths.raw / "train" / ("A" if i % 2 else "B") / f"{i}.png")
    return paths


def test_standardizing_shows_count_rate_and_eta_on_a_terminal(monkeypatch):
    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    paths = tiles("shown")
    report = standardize_dataset(make_entry("shown", "folder-per-class"), paths)
    shown = terminal.getvalue()
    assert report.samples == 60
    assert "shown: reading image sizes" in shown and "60/60" in shown and "files/s" in shown
    assert "0:00:00" in shown or "-:--:--" in shown       # the time-remaining column


def test_standardizing_is_quiet_in_a_pipe_and_when_asked(monkeypatch):
    pipe = io.StringIO()
    monkeypatch.setattr(sys, "stderr", pipe)
    standardize_dataset(make_entry("piped", "folder-per-class"), tiles("piped"))
    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    standardize_dataset(make_entry("asked", "folder-per-class"), tiles("asked"), quiet=True)
    assert pipe.getvalue() == "" and terminal.getvalue() == ""
