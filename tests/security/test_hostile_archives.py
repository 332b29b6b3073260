"""Hostile zips and tars of our own, fetched through the normal path: `histodata fetch <entry>`
downloads them from a real web server (nginx behind $HISTODATA_MIRRORS) and the folder-per-class
standardizer extracts them. Nothing may be written outside the dataset folder, the error names the
member, there is no traceback, the exit status is non-zero, and nothing half-extracted stays."""
from __future__ import annotations

import stat
import tarfile

import pytest
from helpers import run_cli

from histodata.layout import dataset_paths, read_record

from .hostile import BENIGN, PNG, cli, snapshot, tar_bytes, tar_member, written_between, zip_bytes

# symlinks that each stay inside when read alone, but resolve, one through another, ever higher up
CHAIN = {"tiles/a": ".", "tiles/l1": "a/..", "tiles/l2": "l1/..", "tiles/l3": "l2/..", "tiles/l4": "l3/..",
         "tiles/l5": "l4/.."}


def hostile_zips(tmp_path) -> dict[str, tuple[bytes, str]]:
    """name -> (zip bytes, the member the error must name)."""
    outside = f"{tmp_path}/outside/abs.png"
    return {
        "dotdot": (zip_bytes(BENIGN + [("../../../../escape.png", PNG)]), "../../../../escape.png"),
        "absolute": (zip_bytes(BENIGN + [(outside, PNG)]), outside),
        "drive-letter": (zip_bytes(BENIGN + [("C:/escape.png", PNG)]), "C:/escape.png"),
        "backslashes": (zip_bytes(BENIGN + [("..\\..\\..\\..\\escape.png", PNG)]), "..\\\\..\\\\"),
        "symlink-outside": (zip_bytes(BENIGN, symlinks={"tiles/tumor/link.png": "../../../../../../etc/passwd"}),
                            "tiles/tumor/link.png"),
        "symlink-absolute": (zip_bytes(BENIGN, symlinks={"tiles/tumor/link.png": "/etc/passwd"}),
                             "tiles/tumor/link.png"),
        "char-device": (zip_bytes(BENIGN, specials={"tiles/tumor/null": stat.S_IFCHR}), "tiles/tumor/null"),
        "fifo": (zip_bytes(BENIGN, specials={"tiles/tumor/pipe": stat.S_IFIFO}), "tiles/tumor/pipe"),
        # a file member written through a link of the same name that resolves outside
        "symlink-chain-then-file": (zip_bytes(BENIGN + [("tiles/evil.png", PNG)],
                                              symlinks={**CHAIN, "tiles/evil.png": "l5/escape.png"}),
                                    "tiles/"),
        # a link resolving outside through other links, each harmless alone
        "symlink-chain": (zip_bytes(BENIGN, symlinks=CHAIN), "tiles/l"),
    }


def hostile_tars(tmp_path) -> dict[str, tuple[bytes, str]]:
    benign = [tar_member(name, data=data) for name, data in BENIGN]
    outside = f"{tmp_path}/outside/abs.png"
    chain = [tar_member(name, tarfile.SYMTYPE, link=target) for name, target in CHAIN.items()]
    return {
        "dotdot": (tar_bytes(benign + [tar_member("../../../../escape.png", data=PNG)]), "../../../../escape.png"),
        "absolute": (tar_bytes(benign + [tar_member(outside, data=PNG)]), outside),
        "symlink-outside": (tar_bytes(benign + [tar_member("tiles/tumor/l.png", tarfile.SYMTYPE,
                                                           link="../../../../../../etc/passwd")]), "tiles/tumor/l.png"),
        "hardlink-outside": (tar_bytes(benign + [tar_member("tiles/tumor/h.png", tarfile.LNKTYPE,
                                                            link="../../outside.png")]), "tiles/tumor/h.png"),
        "hardlink-absolute": (tar_bytes(benign + [tar_member("tiles/tumor/h.png", tarfile.LNKTYPE,
                                                             link="/etc/passwd")]), "tiles/tumor/h.png"),
        "char-device": (tar_bytes(benign + [tar_member("tiles/tumor/null", tarfile.CHRTYPE)]), "tiles/tumor/null"),
        "block-device": (tar_bytes(benign + [tar_member("tiles/tumor/sda", tarfile.BLKTYPE)]), "tiles/tumor/sda"),
        "fifo": (tar_bytes(benign + [tar_member("tiles/tumor/pipe", tarfile.FIFOTYPE)]), "tiles/tumor/pipe"),
        "symlink-chain-then-file": (tar_bytes(benign + chain + [
            tar_member("tiles/evil.png", tarfile.SYMTYPE, link="l5/escape.png"),
            tar_member("tiles/evil.png", data=PNG)]), "tiles/"),
        "file-through-a-link": (tar_bytes(benign + chain + [tar_member("tiles/l5/escape.png", data=PNG)]),
                                "tiles/"),
    }


def fetch_and_check_nothing_escaped(site, tmp_path, dataset_id: str, files: dict[str, bytes]):
    """Fetch (and standardize) the entry; return the CLI result after checking that nothing was
    written outside <root>/<id>/ and that no extraction leftovers stay in it."""
    site.entry(dataset_id, files)
    paths = dataset_paths(dataset_id)
    paths.root.mkdir(parents=True, exist_ok=True)
    cache = tmp_path / "cache"        # the registry index cache: written legitimately
    before = snapshot(tmp_path, paths.base, cache)
    result = cli("-v", "fetch", dataset_id)
    assert written_between(before, snapshot(tmp_path, paths.base, cache)) == []
    assert not (tmp_path / "escape.png").exists() and not (tmp_path / "outside").exists()
    leftovers = [p for p in paths.base.rglob(".extract-*")]
    assert leftovers == []
    return result


def assert_refused(result, member_fragment: str, archive: str):
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    error = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(error) == 1, result.stderr
    assert archive in error[0] and member_fragment in error[0], error[0]


@pytest.mark.parametrize("case", ["dotdot", "absolute", "drive-letter", "backslashes", "symlink-outside",
                                  "symlink-absolute", "char-device", "fifo", "symlink-chain-then-file",
                                  "symlink-chain"])
def test_hostile_zip_is_refused_and_nothing_escapes(site, tmp_path, case):
    data, member = hostile_zips(tmp_path)[case]
    result = fetch_and_check_nothing_escaped(site, tmp_path, "hostile-zip", {"tiles.zip": data})
    assert_refused(result, member, "tiles.zip")
    images = dataset_paths("hostile-zip").images
    assert not images.exists() or list(images.rglob("*.png")) == []       # nothing half-extracted


@pytest.mark.parametrize("case", ["dotdot", "absolute", "symlink-outside", "hardlink-outside", "hardlink-absolute",
                                  "char-device", "block-device", "fifo", "symlink-chain-then-file",
                                  "file-through-a-link"])
def test_hostile_tar_is_refused_and_nothing_escapes(site, tmp_path, case):
    data, member = hostile_tars(tmp_path)[case]
    result = fetch_and_check_nothing_escaped(site, tmp_path, "hostile-tar", {"tiles.tar.gz": data})
    assert_refused(result, member, "tiles.tar.gz")


def test_benign_archives_of_each_kind_standardize(site, tmp_path):
    """The control: the same path works for honest archives (links inside included)."""
    files = {"a.zip": zip_bytes([("a/tumor/1.png", PNG), ("a/normal/2.png", PNG)],
                                symlinks={"a/tumor/3.png": "1.png"}),
             "b.tar.gz": tar_bytes([tar_member("b/tumor/1.png", data=PNG), tar_member("b/normal/2.png", data=PNG),
                                    tar_member("b/normal/3.png", tarfile.SYMTYPE, link="2.png")]),
             "c.tar.xz": tar_bytes([tar_member("c/tumor/1.png", data=PNG)], mode="w:xz")}
    result = fetch_and_check_nothing_escaped(site, tmp_path, "honest", files)
    assert result.returncode == 0, result.stderr
    assert run_cli("fetch", "honest").returncode == 0         # the command itself, in its own process
    standardized = read_record(dataset_paths("honest"))["standardized"]
    assert standardized["labels"] == {"normal": 2, "tumor": 3}


def test_zip_bomb_by_ratio_is_refused_then_allowed_by_the_option(site, tmp_path):
    bomb = zip_bytes(BENIGN + [("tiles/tumor/zeros.png", b"\0" * (30 << 20))])
    assert len(bomb) < 100_000
    result = fetch_and_check_nothing_escaped(site, tmp_path, "bomb", {"tiles.zip": bomb})
    assert_refused(result, "tiles/tumor/zeros.png", "tiles.zip")
    assert "compression ratio" in result.stderr and "HISTODATA_ARCHIVE_MAX_RATIO" in result.stderr
    again = run_cli("fetch", "bomb", env={"HISTODATA_ARCHIVE_MAX_RATIO": "1000000"})
    assert again.returncode == 0, again.stderr
    assert (dataset_paths("bomb").images / "tiles" / "tumor" / "zeros.png").stat().st_size == 30 << 20


def test_tar_bomb_by_total_size_is_refused(site, tmp_path, monkeypatch):
    monkeypatch.setenv("HISTODATA_ARCHIVE_MAX_BYTES", "1000000")
    bomb = tar_bytes([tar_member(f"tiles/tumor/{i}.png", data=bytes(400_000)) for i in range(4)], mode="w:bz2")
    result = fetch_and_check_nothing_escaped(site, tmp_path, "tar-bomb", {"tiles.tar.bz2": bomb})
    assert_refused(result, "tiles/tumor/2.png", "tiles.tar.bz2")
    assert "HISTODATA_ARCHIVE_MAX_BYTES" in result.stderr


def test_too_many_members_is_refused(site, tmp_path, monkeypatch):
    monkeypatch.setenv("HISTODATA_ARCHIVE_MAX_MEMBERS", "50")
    many = zip_bytes([(f"tiles/tumor/{i}.png", PNG) for i in range(60)])
    result = fetch_and_check_nothing_escaped(site, tmp_path, "many", {"tiles.zip": many})
    assert_refused(result, "tiles/tumor/50.png", "tiles.zip")
    assert "HISTODATA_ARCHIVE_MAX_MEMBERS" in result.stderr
