"""`fetch --shard I/N`: deterministic parts of the selected files for job arrays; shards run at once
into one root without clashing; a later plain fetch finishes and standardizes; verify sees all."""
import os
import random

import pytest

from helpers import finish, md5, run_cli, start_cli
from emulators.entries import entry_yaml
from histodata.errors import HistodataError
from histodata.layout import dataset_paths, read_record
from histodata.shards import in_shard, parse_shard, unit_of
from histodata.sources.base import RemoteFile
from servers.faults import running


@pytest.mark.parametrize("value, expected", [("3/8", (3, 8)), (" 1 / 1 ", (1, 1)), ((2, 4), (2, 4)),
                                             (None, None)])
def test_a_shard_is_read_as_i_of_n(value, expected):
    assert parse_shard(value) == expected


@pytest.mark.parametrize("value", ["0/3", "4/3", "a/b", "3", (1,), "-1/2"])
def test_a_shard_out_of_range_says_how_to_write_it(value):
    with pytest.raises(HistodataError, match=r"1 <= I <= N.*SLURM_ARRAY_TASK_ID"):
        parse_shard(value)


def listing(count: int = 300) -> list[RemoteFile]:
    files = [RemoteFile(name=f"TCGA-BRCA/case-{n}/slide-{n}.svs", url=f"https://x/{n}", source_kind="gdc")
             for n in range(count)]
    for series in range(count // 10):          # IDC: a series is a folder of .dcm instances
        files += [RemoteFile(name=f"coll/patient/1.2.{series}/{k}.dcm", url=f"https://y/{series}/{k}",
                             source_kind="idc") for k in range(4)]
    return files


def test_shards_split_the_files_into_disjoint_parts_that_cover_them_all():
    files = listing()
    parts = [in_shard(files, (i, 7)) for i in range(1, 8)]
    names = [r.name for part in parts for r in part]
    assert sorted(names) == sorted(r.name for r in files)        # each file in exactly one shard
    assert all(len(part) > len(files) / 7 / 2 for part in parts)  # roughly even
    for part in parts:                                            # an IDC series stays whole
        series = {unit_of(r) for r in part if r.source_kind == "idc"}
        assert all(sum(unit_of(r) == s for r in part) == 4 for s in series)


def test_an_idc_series_is_one_unit_of_work_and_other_files_their_own():
    from histodata.shards import units

    grouped = units(listing(20))
    assert sorted(len(group) for group in grouped) == [1] * 20 + [4] * 2
    assert all(len({unit_of(r) for r in group}) == 1 for group in grouped)


def test_a_file_stays_in_its_shard_whatever_the_listing_order_or_length():
    files = listing()
    before = {r.name for r in in_shard(files, (3, 5))}
    shuffled = files[:]
    random.Random(1).shuffle(shuffled)
    later = shuffled + [RemoteFile(name=f"new-{n}.svs", url="https://z", source_kind="gdc")
                        for n in range(50)]
    after = {r.name for r in in_shard(later, (3, 5))}
    assert before == after - {f"new-{n}.svs" for n in range(50)}


def test_three_shards_at_once_into_one_root_then_a_plain_fetch_finishes(extra_registry):
    files = {f"slide-{n:02d}.bin": os.urandom(20_000 + n) for n in range(15)}
    with running(delay=0.5) as server:
        listed = [{"name": n, "url": server.add("/" + n, d), "size": len(d), "md5": md5(d)}
                  for n, d in files.items()]
        extra_registry(entry_yaml("arrayed", {"kind": "http", "files": listed}, standardize={"with": "raw"}))
        shards = [start_cli("fetch", "arrayed", "--shard", f"{i}/3", "--workers", "2") for i in (1, 2, 3)]
        outcomes = [finish(process, timeout=240) for process in shards]
        assert [code for code, _, _ in outcomes] == [0, 0, 0], [err for _, _, err in outcomes]
        assert all("Standardization skipped: shard" in err for _, _, err in outcomes)
        paths = dataset_paths("arrayed")
        assert sorted(len(server.requests_for("/" + n)) for n in files) == [1] * len(files)   # no clash
        assert server.max_active >= 3          # the shards ran at once (each one: 2 at a time)
        assert sorted(read_record(paths)["files"]) == sorted(files)     # every shard's files recorded
        assert not paths.manifest.exists()
        verify = run_cli("verify", "arrayed")
        assert verify.returncode == 0 and f"{len(files)} ok, 0 missing" in verify.stderr
        requests = len(server.log)
        plain = run_cli("fetch", "arrayed")
        assert plain.returncode == 0, plain.stderr
        assert len(server.log) == requests and paths.manifest.exists()    # nothing fetched, standardized
    assert read_record(paths)["standardized"]["samples"] == len(files)
