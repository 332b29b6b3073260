"""Odd names from a folder or a provider: bytes that are not UTF-8, lone surrogates, a file and a
folder of the same name. None of them reaches the exit-70 "this is a bug" path or loses the other files."""
from __future__ import annotations

import json
import os

import pytest
from emulators.entries import entry_yaml
from emulators.figshare import FigshareEmulator
from emulators.zenodo import ZenodoEmulator
from helpers import run_cli

from histodata.layout import dataset_paths
from histodata.sources.base import safe_relative_path, valid_text

GATED = {"access": "registration", "instructions": "Download by hand."}


@pytest.mark.skipif(os.name != "posix", reason="file names are bytes only on POSIX")
def test_from_dir_with_a_name_that_is_not_utf8_adopts_it_under_a_safe_name(tmp_path, extra_registry):
    incoming = tmp_path / "dir"
    incoming.mkdir()
    with open(os.path.join(os.fsencode(incoming), b"\xff-slide.png"), "wb") as handle:
        handle.write(b"odd")
    (incoming / "ok.png").write_bytes(b"ok")
    extra_registry(entry_yaml("odd-names", {"kind": "manual"}, **GATED))
    result = run_cli("fetch", "odd-names", "--from", str(incoming), "--json")
    assert result.returncode == 0, result.stderr
    raw = dataset_paths("odd-names").raw
    assert (raw / "%FF-slide.png").read_bytes() == b"odd" and (raw / "ok.png").read_bytes() == b"ok"
    record = json.loads((raw.parent / "dataset.json").read_text(encoding="utf-8"))
    assert {"%FF-slide.png", "ok.png"} <= set(record["files"])
    assert run_cli("verify", "odd-names").returncode == 0


@pytest.mark.skipif(os.name != "posix", reason="file names are bytes only on POSIX")
def test_from_dir_names_that_read_the_same_are_reported_not_overwritten(tmp_path, extra_registry):
    incoming = tmp_path / "dir"
    incoming.mkdir()
    (incoming / "%FF.png").write_bytes(b"percent")
    with open(os.path.join(os.fsencode(incoming), b"\xff.png"), "wb") as handle:
        handle.write(b"byte")
    extra_registry(entry_yaml("same-names", {"kind": "manual"}, **GATED))
    result = run_cli("fetch", "same-names", "--from", str(incoming))
    assert result.returncode == 1, result.stderr
    assert "this is a bug" not in result.stderr and "%FF.png" in result.stderr
    assert (dataset_paths("same-names").raw / "%FF.png").read_bytes() == b"percent"


def test_a_provider_name_with_lone_surrogates_is_downloaded_under_a_safe_name(emulate, extra_registry):
    figshare = emulate(FigshareEmulator())
    article = figshare.add_article({"\udcff-a.png": b"escaped", "\ud800-b.png": b"lone", "ok.png": b"ok"})
    extra_registry(entry_yaml("fig-odd", {"kind": "figshare", "article": article.id}))
    result = run_cli("fetch", "fig-odd")
    assert result.returncode == 0, result.stderr
    raw = dataset_paths("fig-odd").raw
    assert {p.name: p.read_bytes() for p in raw.iterdir() if not p.name.startswith(".")} == {
        "%FF-a.png": b"escaped", "\ufffd-b.png": b"lone", "ok.png": b"ok"}


def test_a_file_and_a_folder_of_the_same_name_fail_before_any_byte_moves(emulate, extra_registry):
    zen = emulate(ZenodoEmulator())
    zen.add("1001", {"d": b"file", "d/e.bin": b"inside", "f.bin": b"other"})
    zen.add("1002", {"d.bin": b"file", "f.bin": b"other"})
    extra_registry(entry_yaml("clash", {"kind": "zenodo", "record": "1001"}))
    result = run_cli("fetch", "clash")
    assert result.returncode == 1, result.stderr
    assert "'d'" in result.stderr and "'d/e.bin'" in result.stderr and "this is a bug" not in result.stderr
    assert not zen.server.seen("/content")                       # nothing was downloaded
    extra_registry(entry_yaml("clash2", {"kind": "zenodo", "record": "1001"}, {"kind": "zenodo", "record": "1002"}))
    result = run_cli("fetch", "clash2")
    assert result.returncode == 0, result.stderr                 # the next source is used


@pytest.mark.parametrize("name, safe", [("\udcff.png", "%FF.png"), ("a/\ud83d.png", "a/\ufffd.png"),
                                        ("plain/é.png", "plain/é.png")])
def test_valid_text(name, safe):
    assert valid_text(name) == safe and safe_relative_path(name) == safe
    safe.encode("utf-8")
