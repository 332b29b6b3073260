"""Deterministic parts of a file list (`fetch --shard I/N`, job arrays) and the unit of work.

A unit is what one task downloads: a file, or for `idc` a whole series (its folder, one slide).
A unit belongs to shard `1 + sha256(unit) mod N`: the same for every process whatever the order or
length of its listing, so N shards started at once (or at different times, from listings taken
minutes apart) each take their own units and never the same one.
"""
from __future__ import annotations

import hashlib
import re

from .errors import HistodataError

SERIES_KINDS = {"idc"}        # kinds whose unit is the series folder (the files of one slide)
_SHARD = re.compile(r"\s*(\d+)\s*/\s*(\d+)\s*")


def parse_shard(value) -> tuple[int, int] | None:
    """`"3/8"`, `(3, 8)` or None -> (3, 8); I runs from 1 to N."""
    if value is None:
        return None
    if isinstance(value, str):
        match = _SHARD.fullmatch(value)
        numbers = (int(match.group(1)), int(match.group(2))) if match else None
    else:
        try:
            index, count = value
            numbers = (int(index), int(count))
        except (TypeError, ValueError):
            numbers = None
    if numbers is None or not 1 <= numbers[0] <= numbers[1]:
        raise HistodataError(f"--shard {value!r} is not a part I/N with 1 <= I <= N.",
                             "Give e.g. --shard 3/8 (in a SLURM job array: #SBATCH --array=1-8 and "
                             "--shard $SLURM_ARRAY_TASK_ID/8).")
    return numbers


def unit_of(remote) -> str:
    """The unit a file is downloaded with: its series folder (idc), else its own name."""
    if remote.source_kind in SERIES_KINDS and "/" in remote.name:
        return remote.name.rsplit("/", 1)[0]
    return remote.name


def units(remotes: list) -> list[list]:
    """The files grouped by unit, in listing order."""
    grouped: dict[str, list] = {}
    for remote in remotes:
        grouped.setdefault(unit_of(remote), []).append(remote)
    return list(grouped.values())


def shard_number(unit: str, count: int) -> int:
    digest = hashlib.sha256(unit.encode("utf-8")).digest()
    return 1 + int.from_bytes(digest[:8], "big") % count


def in_shard(remotes: list, shard: tuple[int, int] | None) -> list:
    """The files of the shard's units (all of them without a shard)."""
    if shard is None:
        return list(remotes)
    index, count = shard
    return [r for r in remotes if shard_number(unit_of(r), count) == index]
