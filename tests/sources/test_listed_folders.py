"""Sources that list themselves from a place on a plain server: an FTP `folder` (a real pyftpdlib
server, with MLSD and without) and an HTTP directory `index` (a real nginx with autoindex, and an
Apache mod_autoindex page served as it is). Reached through $HISTODATA_MIRRORS, fetched with the
real CLI, so the real listing and download paths run."""
from __future__ import annotations

import hashlib
import json
from collections import Counter

import pytest
from emulators.entries import entry_yaml
from helpers import run_cli
from servers.ftp import FTPServer
from servers.nginx import nginx  # noqa: F401 - the fixture

from histodata.layout import dataset_paths

TREE = {
    "BRACS.xlsx": b"workbook" * 10,
    "BRACS_RoI/latest_version/train/0_N/BRACS_1_N_1.png": b"N" * 700,
    "BRACS_RoI/latest_version/train/1_PB/BRACS_2_PB_1.png": b"P" * 900,
    "BRACS_RoI/latest_version/test/0_N/BRACS_3_N_1.png": b"n" * 500,
    "BRACS_WSI/train/Group_BT/Type_N/BRACS_1.svs": b"S" * 4000,
}
ROIS = {name: data for name, data in TREE.items() if name.startswith("BRACS_RoI/")}


def plant(root, files):
    for name, data in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def fetch(*args) -> tuple[int, dict]:
    result = run_cli("fetch", *args, "--json")
    return result.returncode, json.loads(result.stdout)


def raw_files(dataset: str) -> dict[str, bytes]:
    raw = dataset_paths(dataset).raw
    return {p.relative_to(raw).as_posix(): p.read_bytes() for p in raw.rglob("*") if p.is_file()}


# ----------------------------------------------------------------------------- FTP folders
@pytest.fixture(params=[(), ("MLSD",), ("MLSD", "LIST")], ids=["mlsd", "list", "nlst-and-size"])
def bracs_ftp(request, tmp_path, monkeypatch):
    """The BRACS layout on an anonymous FTP server, reached as ftp://histoimage.example.org/; the real
    server has no MLSD (LIST it is), older ones not even a LIST."""
    with FTPServer(tmp_path / "ftp", without=request.param) as server:
        plant(server.root, TREE)
        monkeypatch.setenv("HISTODATA_MIRRORS", f"ftp://histoimage.example.org={server.url}")
        yield server


def test_an_ftp_folder_is_listed_at_any_depth_with_sizes_and_fetched(bracs_ftp, extra_registry):
    extra_registry(entry_yaml("ftp-listed", {"kind": "ftp", "folder": "ftp://histoimage.example.org/",
                                             "include": ["BRACS_RoI/*", "BRACS.xlsx"]}))
    code, plan = fetch("ftp-listed", "--dry-run")
    assert code == 0
    expected = {name: len(data) for name, data in TREE.items() if name in ROIS or name == "BRACS.xlsx"}
    assert {f["name"]: f["size"] for f in plan["files"]} == expected
    assert plan["total_bytes"] == sum(expected.values())

    code, document = fetch("ftp-listed")
    assert code == 0 and document["complete"]
    assert raw_files("ftp-listed") == {name: TREE[name] for name in expected}
    assert {f["checksum"] for f in document["files"]} == {"size only (unverified)"}


def test_a_pin_on_a_listed_ftp_file_is_checked_and_a_wrong_one_fails_only_that_file(bracs_ftp, extra_registry):
    good = "BRACS_RoI/latest_version/train/0_N/BRACS_1_N_1.png"
    bad = "BRACS_RoI/latest_version/test/0_N/BRACS_3_N_1.png"
    extra_registry(entry_yaml("ftp-pinned", {
        "kind": "ftp", "folder": "ftp://histoimage.example.org/BRACS_RoI/", "files": [
            {"name": good.removeprefix("BRACS_RoI/"), "md5": hashlib.md5(TREE[good]).hexdigest()},
            {"name": bad.removeprefix("BRACS_RoI/"), "md5": "0" * 32}]}))
    code, plan = fetch("ftp-pinned", "--dry-run")
    checked = {f["name"]: f["checksum"] for f in plan["files"]}
    assert checked[good.removeprefix("BRACS_RoI/")] == "md5 (registry)"
    assert checked["latest_version/train/1_PB/BRACS_2_PB_1.png"] == "size only (unverified)"
    code, document = fetch("ftp-pinned")
    assert code == 1 and document["error"]["type"] == "ChecksumError"
    assert "BRACS_3_N_1.png" in document["error"]["message"]
    assert set(raw_files("ftp-pinned")) == {name.removeprefix("BRACS_RoI/") for name in ROIS if name != bad}


def test_a_missing_ftp_folder_is_a_clear_error(tmp_path, monkeypatch, extra_registry):
    with FTPServer(tmp_path / "ftp") as server:
        monkeypatch.setenv("HISTODATA_MIRRORS", f"ftp://histoimage.example.org={server.url}")
        extra_registry(entry_yaml("ftp-gone", {"kind": "ftp", "folder": "ftp://histoimage.example.org/gone/"}))
        result = run_cli("fetch", "ftp-gone")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "FTP server refused" in result.stderr and "550" in result.stderr


def test_an_unreachable_ftp_server_is_retried_then_a_clear_error(monkeypatch, extra_registry):
    from servers.nginx import free_port

    monkeypatch.setenv("HISTODATA_MIRRORS", f"ftp://histoimage.example.org=ftp://127.0.0.1:{free_port()}")
    monkeypatch.setenv("HISTODATA_RETRIES", "3")
    monkeypatch.setenv("HISTODATA_BACKOFF", "0")
    extra_registry(entry_yaml("ftp-down", {"kind": "ftp", "folder": "ftp://histoimage.example.org/data/"}))
    result = run_cli("fetch", "ftp-down", "--dry-run")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "gave up after 3 tries" in result.stderr and "ftp://histoimage.example.org/data/" in result.stderr


# ----------------------------------------------------------------------------- HTTP directory indexes
SLIDES = {
    "slides_1/case 001.svs": b"A" * 3000,
    "slides_1/case%2.svs": b"B" * 1200,
    "slides_2/deeper/case_003.tiff": b"C" * 800,
    "README.txt": b"read me",
}


def test_an_nginx_autoindex_is_crawled_down_with_exact_sizes_and_fetched(nginx, monkeypatch, extra_registry):
    plant(nginx.root / "imp", SLIDES)
    monkeypatch.setenv("HISTODATA_MIRRORS", f"https://imp.example.org/data={nginx.url}/index/imp")
    extra_registry(entry_yaml("http-listed", {"kind": "http", "index": "https://imp.example.org/data/",
                                              "include": ["slides_*"]}))
    code, plan = fetch("http-listed", "--dry-run")
    assert code == 0
    wanted = {name: data for name, data in SLIDES.items() if name.startswith("slides_")}
    assert {f["name"]: f["size"] for f in plan["files"]} == {name: len(data) for name, data in wanted.items()}

    code, document = fetch("http-listed")
    assert code == 0 and document["complete"]
    assert raw_files("http-listed") == wanted
    # Each folder page was asked for once per listing (the dry run's and the fetch's), nothing above it.
    pages = Counter(r["uri"] for r in nginx.requests() if r["uri"].endswith("/"))
    assert set(pages.values()) == {2} and all(p.startswith("/index/imp/") for p in pages)
    assert len(pages) == 4                      # imp/, slides_1/, slides_2/, slides_2/deeper/


APACHE_PAGE = """<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 3.2 Final//EN">
<html><head><title>Index of /data</title></head><body><h1>Index of /data</h1>
<table>
<tr><th><a href="?C=N;O=D">Name</a></th><th><a href="?C=M;O=A">Last modified</a></th><th><a href="?C=S;O=A">Size</a></th></tr>
<tr><th colspan="5"><hr></th></tr>
<tr><td valign="top"><img src="/icons/back.gif" alt="[PARENTDIR]"></td><td><a href="/">Parent Directory</a></td><td>&nbsp;</td><td align="right">  - </td></tr>
<tr><td><a href="../">up</a></td><td align="right">2024-03-13 10:00  </td><td align="right">  - </td></tr>
<tr><td><a href="big.bin">big.bin</a></td><td align="right">2024-03-13 10:00  </td><td align="right">1.2M</td></tr>
<tr><td><a href="small.txt">small.txt</a></td><td align="right">2024-03-13 10:01  </td><td align="right">512</td></tr>
<tr><td><a href="http://elsewhere.example.org/steal.bin">steal.bin</a></td><td></td><td></td></tr>
<tr><td><a href="/index/other/x.bin">x.bin</a></td><td></td><td></td></tr>
<tr><td><a href="sub/">sub/</a></td><td align="right">2024-03-13 10:02  </td><td align="right">  - </td></tr>
<tr><td><a href="sub/">sub/ again</a></td><td></td><td></td></tr>
<tr><th colspan="5"><hr></th></tr>
</table><address>Apache/2.4.57 (Debian) Server</address></body></html>
"""
SUB_PAGE = """<html><body><h1>Index of /data/sub</h1><pre>
<a href="../">Parent Directory</a>
<a href="./">this folder</a>
<a href="c.bin">c.bin</a>    2024-03-13 10:03   3
</pre></body></html>"""


def test_an_apache_index_is_followed_down_never_up_across_hosts_or_to_sort_links(nginx, monkeypatch,
                                                                                 extra_registry):
    plant(nginx.root / "data", {"big.bin": b"x" * 1300, "small.txt": b"s" * 512, "sub/c.bin": b"ccc"})
    (nginx.root / "data" / "index.html").write_text(APACHE_PAGE)
    (nginx.root / "data" / "sub" / "index.html").write_text(SUB_PAGE)
    monkeypatch.setenv("HISTODATA_MIRRORS", f"https://files.example.org/data={nginx.url}/index/data")
    extra_registry(entry_yaml("apache-listed", {"kind": "http", "index": "https://files.example.org/data/"}))
    code, plan = fetch("apache-listed", "--dry-run")
    assert code == 0
    # Human sizes (1.2M) are not taken for bytes; exact ones (512, 3) are.
    assert {f["name"]: f["size"] for f in plan["files"]} == {"big.bin": None, "small.txt": 512, "sub/c.bin": 3}
    code, _ = fetch("apache-listed")
    assert code == 0 and raw_files("apache-listed") == {"big.bin": b"x" * 1300, "small.txt": b"s" * 512,
                                                        "sub/c.bin": b"ccc"}
    asked = {r["uri"] for r in nginx.requests()}
    assert not any("other" in uri or "?" in uri for uri in asked)


def test_an_index_without_end_is_stopped_by_the_page_cap_with_a_clear_error(nginx, monkeypatch, extra_registry):
    (nginx.root / "endless.html").write_text('<html><body><a href="deeper/">deeper/</a>'
                                             '<a href="f.bin">f.bin</a></body></html>')
    monkeypatch.setenv("HISTODATA_MIRRORS", f"https://trap.example.org={nginx.url}")
    monkeypatch.setenv("HISTODATA_MAX_PAGES", "25")
    extra_registry(entry_yaml("endless", {"kind": "http", "index": "https://trap.example.org/endless/x/"}))
    result = run_cli("fetch", "endless", "--dry-run")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "did not end after 25 pages" in result.stderr and "HISTODATA_MAX_PAGES" in result.stderr
    assert len([r for r in nginx.requests() if r["uri"].startswith("/endless/")]) == 25


def test_a_listing_source_validates_its_place_and_may_pin_files_without_urls(extra_registry):
    from histodata.registry.models import Source

    listed = Source.model_validate({"kind": "http", "index": "https://h.example.org/d/",
                                    "files": [{"name": "a.bin", "md5": "0" * 32}]})
    assert listed.files[0].url is None
    with pytest.raises(ValueError, match="absolute URL"):
        Source.model_validate({"kind": "ftp", "folder": "histoimage/BRACS"})
    with pytest.raises(ValueError, match="needs a url"):
        Source.model_validate({"kind": "http", "files": [{"name": "a.bin"}]})


def _png(color) -> bytes:
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (6, 4), color).save(buffer, "PNG")
    return buffer.getvalue()


def test_the_real_bracs_entry_is_listed_fetched_and_standardized_from_its_ftp_server(tmp_path, monkeypatch):
    import histodata

    rois = {f"BRACS_RoI/latest_version/{split}/{folder}/BRACS_{i}_{folder[2:]}_{n}.png": _png(color)
            for i, (split, folder, color) in enumerate([("train", "0_N", "red"), ("train", "1_PB", "blue"),
                                                        ("val", "6_IC", "green"), ("test", "0_N", "white")])
            for n in (1, 2)}
    old = {"BRACS_RoI/previous_version/train/0_N/BRACS_9_N_1.png": _png("black")}
    slides = {"BRACS_WSI/train/Group_BT/Type_N/BRACS_1.svs": b"S" * 5000}
    with FTPServer(tmp_path / "ftp", without=("MLSD",)) as server:      # the real server has no MLSD
        plant(server.root, {**rois, **old, **slides, "BRACS.xlsx": b"PK-workbook"})
        monkeypatch.setenv("HISTODATA_MIRRORS", f"ftp://histoimage.na.icar.cnr.it={server.url}")
        code, document = fetch("bracs")
    assert code == 0 and document["complete"] and document["standardized"]
    expected = {name.removeprefix("BRACS_RoI/latest_version/"): data for name, data in rois.items()}
    assert raw_files("bracs") == {**expected, "BRACS.xlsx": b"PK-workbook"}   # no slides, no old release
    manifest = histodata.load("bracs").manifest
    card = " ".join(run_cli("info", "bracs").stdout.split())
    assert "folder=ftp://histoimage.na.icar.cnr.it/BRACS_RoI/latest_version/, listed at fetch time" in card
    assert sorted(zip(manifest.split, manifest.label)) == sorted(
        [("train", "N")] * 2 + [("train", "PB")] * 2 + [("val", "IC")] * 2 + [("test", "N")] * 2)


def test_the_real_imp_crs_entry_lists_its_index_and_fetches_a_selection(nginx, monkeypatch):
    tree = {"CRS1/slides/CRC_1.svs": b"1" * 2100, "CRS2/slides/CRC_2.svs": b"2" * 2200,
            "CRS_Test/slides/CRC_3.svs": b"3" * 2300, "CRS_Test/slides/CRC_4.svs": b"4" * 2400}
    plant(nginx.root / "imp", tree)
    monkeypatch.setenv("HISTODATA_MIRRORS",
                       f"https://open-datasets.inesctec.pt/NQ3sxFMZ/IMP-CRS2024-Dataset={nginx.url}/index/imp")
    code, plan = fetch("imp-crs-2024", "--dry-run")
    assert code == 0 and plan["total_bytes"] == sum(map(len, tree.values()))
    code, document = fetch("imp-crs-2024", "--files", "CRS_Test/*")
    assert code == 0 and not document["complete"]
    assert raw_files("imp-crs-2024") == {name: data for name, data in tree.items() if name.startswith("CRS_Test/")}


def test_registry_lock_pins_the_names_and_sizes_an_ftp_folder_lists(bracs_ftp, extra_registry):
    import yaml

    from histodata.pinning import lock_entry

    path = extra_registry(
        "id: ftp-lock\nname: FTP lock\norgans: [breast]\nstains: [h&e]\ntasks: [classification]\n"
        "modality: patch\nlicense: CC-BY-4.0\naccess: open\nsources:\n  - kind: ftp\n"
        "    folder: ftp://histoimage.example.org/BRACS_RoI/\n    files:\n"
        "      - {name: notes.txt, url: \"ftp://histoimage.example.org/BRACS.xlsx\"}\n")
    result = lock_entry("ftp-lock")
    assert result.changed
    result.write()
    written = {f["name"]: f for f in yaml.safe_load(path.read_text())["sources"][0]["files"]}
    expected = {name.removeprefix("BRACS_RoI/"): {"name": name.removeprefix("BRACS_RoI/"), "size": len(data)}
                for name, data in ROIS.items()}
    assert {name: spec for name, spec in written.items() if name != "notes.txt"} == expected
    assert written["notes.txt"]["url"] == "ftp://histoimage.example.org/BRACS.xlsx"   # a file of its own URL stays
    code, _ = fetch("ftp-lock")
    assert code == 0 and raw_files("ftp-lock")["notes.txt"] == TREE["BRACS.xlsx"]
