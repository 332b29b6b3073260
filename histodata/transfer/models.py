"""What callers pass to and get from the download engine."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path


@dataclass
class DownloadTask:
    """One file for `download_many`."""

    url: str
    path: str | Path
    checksums: dict[str, str] = field(default_factory=dict)
    size: int | None = None
    headers: dict[str, str] = field(default_factory=dict, repr=False)  # credentials: never shown
    name: str = ""  # shown in progress and errors; defaults to the file name
    allow_html: bool = False
    work_dir: str | Path | None = None  # where its partial, state and lock live (default: beside path)

    @property
    def label(self) -> str:
        return self.name or Path(self.path).name


@dataclass
class DownloadResult:
    """A verified file in place."""

    path: Path
    size: int
    hashes: dict[str, str]          # algorithm -> hex, always includes sha256
    verified: list[str]             # algorithms checked against expected values
    resumed_from: int = 0           # bytes kept from a previous run
    url: str = ""

    def to_dict(self) -> dict:
        return {**asdict(self), "path": str(self.path)}
