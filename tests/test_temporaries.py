"""Temporaries name their owner (pid@host): after a real `kill -9` in the middle of an extraction,
a decompression or a manifest write, the next run removes what the dead process left."""
from __future__ import annotations

import gzip
import os
import signal
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import histodata
from histodata import archives, temporaries

# Runs one call in a child that stops (for good) at its first rename into place, with its temporary written.
CHILD = """
import os, sys, time
real = os.replace
def stuck(*args, **kwargs):
    print("ready", flush=True)
    time.sleep(120)
os.replace = stuck
from histodata import archives
{call}
"""


def killed_while(call: str) -> None:
    env = {**os.environ, "PYTHONPATH": str(Path(histodata.__file__).resolve().parent.parent)}
    child = subprocess.Popen([sys.executable, "-c", CHILD.format(call=call)], stdout=subprocess.PIPE, env=env)
    try:
        assert child.stdout.readline().strip() == b"ready"
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.kill()
        child.wait()


def hidden(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.rglob(".*") if p.name != archives.MARKER_NAME)


def test_an_extraction_killed_with_sigkill_is_reclaimed_by_the_next_run(tmp_path):
    archive = tmp_path / "tiles.zip"
    with zipfile.ZipFile(archive, "w") as bundle:
        for i in range(20):
            bundle.writestr(f"ADI/{i}.png", os.urandom(2000))
    out = tmp_path / "out"
    for _ in range(2):
        killed_while(f"archives.extract({str(archive)!r}, {str(out)!r})")
    left = hidden(out)   # the second run already removed the first one's; its own stays (kill -9)
    assert len(left) == 1 and left[0].startswith(".extract.")
    assert archives.extract(archive, out).changed
    assert hidden(out) == []
    assert len(list((out / "ADI").iterdir())) == 20


def test_a_killed_gunzip_is_reclaimed(tmp_path):
    source = tmp_path / "x.h5.gz"
    source.write_bytes(gzip.compress(b"payload" * 1000))
    killed_while(f"archives.gunzip({str(source)!r}, {str(tmp_path / 'out' / 'x.h5')!r})")
    assert len(hidden(tmp_path / "out")) == 1
    assert archives.gunzip(source, tmp_path / "out" / "x.h5")
    assert hidden(tmp_path / "out") == [] and (tmp_path / "out" / "x.h5").read_bytes() == b"payload" * 1000


def test_temporaries_of_live_processes_and_other_hosts_are_kept(tmp_path):
    mine = temporaries.beside(tmp_path / "a.bin")
    mine.write_bytes(b"in use")
    other_host = tmp_path / f".b.bin.1@{'x' + temporaries.host()}.abc.tmp"
    other_host.write_bytes(b"not ours to judge")
    parent = tmp_path / f".c.bin.{os.getppid()}@{temporaries.host()}.abc.tmp"
    parent.write_bytes(b"alive")
    assert temporaries.reclaim(tmp_path, once=False) == []
    assert mine.exists() and other_host.exists() and parent.exists()


@pytest.mark.parametrize("name", ["a.bin.tmp", ".a.bin.12.tmp", ".a.bin.notapid@host.abc.tmp"])
def test_names_that_are_not_ours_are_never_touched(tmp_path, name):
    (tmp_path / name).write_bytes(b"x")
    assert temporaries.reclaim(tmp_path, once=False) == [] and (tmp_path / name).exists()


@pytest.mark.parametrize("writer", ["record", "geojson"])
def test_record_and_annotation_writes_killed_with_sigkill_are_reclaimed(tmp_path, writer):
    """The same rule for every atomic write: dataset.json, annotation GeoJSON (and the registry
    index, DSA crops and adopted files, which use the same helper)."""
    if writer == "record":
        call = (f"from histodata.layout import dataset_paths, write_record\n"
                f"write_record(dataset_paths('ds', {str(tmp_path)!r}), {{'files': {{}}}})")
        folder = tmp_path / "ds"
    else:
        call = (f"from histodata.annotations import write_geojson\n"
                f"write_geojson([], {str(tmp_path / 'out' / 'a.geojson')!r})")
        folder = tmp_path / "out"
    killed_while(call)
    left = [p.name for p in folder.iterdir() if p.name.endswith(".tmp")]
    assert left, "the child should have died with its temporary written"
    if writer == "record":
        from histodata.layout import dataset_paths, write_record
        write_record(dataset_paths("ds", tmp_path), {"files": {}})
    else:
        from histodata.annotations import write_geojson
        write_geojson([], tmp_path / "out" / "a.geojson")
    assert not [p.name for p in folder.iterdir() if p.name.endswith(".tmp")]
