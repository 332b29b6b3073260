"""`histodata fetch` end to end for every kind of this module family (figshare, Dataverse,
Mendeley, HTTP, FTP; Zenodo in test_fetch.py, S3 in sources/test_s3.py): custom entries through
$HISTODATA_REGISTRY, emulators and real servers through $HISTODATA_MIRRORS, the real CLI."""
import hashlib
import io
import json

import pytest
from PIL import Image

from helpers import run_cli
from emulators.dataverse import DataverseEmulator
from emulators.entries import entry_yaml
from emulators.figshare import FigshareEmulator
from emulators.mendeley import MendeleyEmulator
import histodata
from histodata.layout import dataset_paths, read_record
from servers.ftp import FTPServer
from servers.nginx import nginx  # noqa: F401 - the fixture


def fetch_json(*args, env=None) -> dict:
    result = run_cli("fetch", *args, "--json", env=env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def png(color) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), color).save(buffer, "PNG")
    return buffer.getvalue()


def raw_bytes(dataset: str) -> dict[str, bytes]:
    raw = dataset_paths(dataset).raw
    return {p.relative_to(raw).as_posix(): p.read_bytes() for p in raw.rglob("*") if p.is_file()}


@pytest.fixture
def fig(emulate, monkeypatch):
    emulator = emulate(FigshareEmulator(max_page_size=10, www_download_urls=True))
    monkeypatch.setenv("HISTODATA_BACKOFF", "0")
    monkeypatch.setenv("HISTODATA_RETRIES", "2")
    return emulator


def test_figshare_article_with_paging_folders_and_standardization(fig, extra_registry):
    files = {f"train/{label}/{i:02d}.png": png(color) for i in range(12)
             for label, color in (("tumor", "red"), ("normal", "blue"))}
    article = fig.add_article(files)
    extra_registry(entry_yaml("fig-tiles", {"kind": "figshare", "article": article.id},
                              standardize={"with": "folder-per-class"}))
    document = fetch_json("fig-tiles")
    assert raw_bytes("fig-tiles") == files                       # 24 files: three pages of 10
    assert document["complete"] and document["standardized"]
    assert dataset_paths("fig-tiles").manifest.exists()
    assert all(f["checksum"] == "md5 (provider)" for f in document["files"])
    assert not fig.www.requests                                  # WAF-guarded host never asked


def test_a_subset_is_standardized_when_samples_are_independent_and_no_standardize_skips_it(
        fig, extra_registry):
    files = {"train/tumor/a.png": png("red"), "train/normal/b.png": png("blue")}
    extra_registry(entry_yaml("fig-small", {"kind": "figshare", "article": fig.add_article(files).id},
                              standardize={"with": "folder-per-class"}))
    subset = fetch_json("fig-small", "--files", "train/tumor/*")
    assert subset["standardized"] and not subset["complete"]         # tiles: each one stands alone
    ds = histodata.load("fig-small")
    assert ds.partial and ds.manifest.label.tolist() == ["tumor"]

    extra_registry(entry_yaml("fig-arrays", {"kind": "figshare", "article": fig.add_article(files).id},
                              standardize={"with": "pcam"}))
    subset = fetch_json("fig-arrays", "--files", "train/tumor/*")     # arrays wait for every file
    assert not subset["standardized"] and "only part" in subset["standardize_note"]
    whole = fetch_json("fig-arrays", "--no-standardize")
    assert whole["complete"] and not whole["standardized"]
    assert not dataset_paths("fig-arrays").manifest.exists()


def test_figshare_collection_and_link_only_files(fig, extra_registry):
    first = fig.add_article({"a.txt": b"first"})
    second = fig.add_article({"a.txt": b"second", "site.html": b"<html>external</html>"},
                             link_only={"site.html"})
    fig.add_collection(4242, [first.id, second.id])
    extra_registry(entry_yaml("fig-coll", {"kind": "figshare", "collection": 4242}))
    result = run_cli("fetch", "fig-coll")
    assert result.returncode == 0, result.stderr
    assert raw_bytes("fig-coll") == {f"{first.id}/a.txt": b"first", f"{second.id}/a.txt": b"second",
                                     f"{second.id}/site.html": b"<html>external</html>"}
    assert "1 file(s) are unverified" in result.stderr


def test_figshare_waf_challenge_is_a_failure_not_an_empty_file(fig, extra_registry):
    fig.waf_everywhere = True
    article = fig.add_article({"a.bin": b"abc"})
    extra_registry(entry_yaml("fig-waf", {"kind": "figshare", "article": article.id}))
    result = run_cli("fetch", "fig-waf")
    assert result.returncode == 1 and "WAF" in result.stderr and "Traceback" not in result.stderr
    assert not dataset_paths("fig-waf").raw_file("a.bin").exists()


def test_dataverse_dataset_with_tabular_original(emulate, extra_registry):
    dv = emulate(DataverseEmulator())
    original = b"slide,label\ns1,tumor\n"
    dv.add("10.7910/DVN/XYZ123", dv.file("labels.tab", b"slide\tlabel\ns1\ttumor\n", original=original,
                                          original_name="labels.csv"),
           dv.file("s1.svs", b"slide bytes", directory="slides", algorithm="SHA-256"))
    extra_registry(entry_yaml("dv", {"kind": "dataverse", "server": "https://dataverse.harvard.edu",
                                     "doi": "doi:10.7910/DVN/XYZ123"}))
    fetch_json("dv")
    assert raw_bytes("dv") == {"labels.csv": original, "slides/s1.svs": b"slide bytes"}
    files = read_record(dataset_paths("dv"))["files"]
    assert files["labels.csv"]["verified"] == {"md5": hashlib.md5(original).hexdigest()}
    assert files["slides/s1.svs"]["verified"] == {"sha256": hashlib.sha256(b"slide bytes").hexdigest()}


def test_mendeley_dataset_with_folders_and_sha256(emulate, extra_registry):
    files = {"images/benign/a.png": png("green"), "images/malignant/a.png": png("black"), "readme.txt": b"r"}
    md = emulate(MendeleyEmulator())
    md.add("fkw49mz3xs", files, version=2)
    extra_registry(entry_yaml("md", {"kind": "mendeley", "dataset": "fkw49mz3xs", "version": 2}))
    document = fetch_json("md")
    assert raw_bytes("md") == files
    assert {f["checksum"] for f in document["files"]} == {"sha256 (provider)"}


def test_http_source_through_the_mirror_map(nginx, monkeypatch, extra_registry):
    (nginx.root / "files").mkdir()
    (nginx.root / "files" / "a.zip").write_bytes(b"A" * 1000)
    monkeypatch.setenv("HISTODATA_MIRRORS", f"https://data.example.org={nginx.url}")
    extra_registry(entry_yaml("web", {"kind": "http", "files": [
        {"name": "a.zip", "url": "https://data.example.org/files/a.zip", "size": 1000,
         "sha256": hashlib.sha256(b"A" * 1000).hexdigest()},
        {"name": "sub/again-a.zip", "url": "https://data.example.org/files/a.zip"}]}))
    document = fetch_json("web")
    assert raw_bytes("web") == {"a.zip": b"A" * 1000, "sub/again-a.zip": b"A" * 1000}
    assert {f["name"]: f["checksum"] for f in document["files"]} == {
        "a.zip": "sha256 (registry)", "sub/again-a.zip": "size only (unverified)"}


def test_ftp_source_through_the_engine(tmp_path, extra_registry):
    with FTPServer(tmp_path / "ftp") as ftp:
        (ftp.root / "pub").mkdir()
        (ftp.root / "pub" / "slide.tif").write_bytes(b"TIFF" * 300)
        extra_registry(entry_yaml("ftp-data", {"kind": "ftp", "files": [
            {"name": "CAMELYON16/slide.tif", "url": ftp.url_for("pub/slide.tif"),
             "md5": hashlib.md5(b"TIFF" * 300).hexdigest()}]}))
        fetch_json("ftp-data")
    assert raw_bytes("ftp-data") == {"CAMELYON16/slide.tif": b"TIFF" * 300}
