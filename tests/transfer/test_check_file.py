"""check_file: the one place that hashes a finished file and compares it."""
import hashlib

import pytest

from histodata.errors import DownloadError
from histodata.transfer.hashing import FileCheck, check_file

DATA = b"histodata" * 100_000


@pytest.fixture
def sample(tmp_path):
    path = tmp_path / "sample.bin"
    path.write_bytes(DATA)
    return path


def test_matching_file_gives_every_expected_digest_plus_sha256(sample):
    md5 = hashlib.md5(DATA).hexdigest()
    check = check_file(sample, {"MD5": f"md5:{md5.upper()}"}, len(DATA))
    assert isinstance(check, FileCheck) and check.ok
    assert check.size == len(DATA) and check.problems == [] and check.failed == []
    assert check.digests == {"md5": md5, "sha256": hashlib.sha256(DATA).hexdigest()}


def test_nothing_expected_still_gives_size_and_sha256(sample):
    check = check_file(sample)
    assert check.ok and check.size == len(DATA) and set(check.digests) == {"sha256"}


def test_a_wrong_checksum_is_named(sample):
    wrong = "0" * 40
    check = check_file(sample, {"sha1": wrong, "md5": hashlib.md5(DATA).hexdigest()})
    assert not check.ok and check.failed == ["sha1"]
    assert check.problems == [f"sha1 expected {wrong} got {hashlib.sha1(DATA).hexdigest()}"]


def test_a_wrong_size_is_reported_without_reading_the_file(sample):
    seen = []
    check = check_file(sample, {"md5": "0" * 32}, len(DATA) + 1, progress=seen.append)
    assert not check.ok and check.failed == ["size"] and seen == []
    assert check.problems == [f"size expected {len(DATA) + 1} got {len(DATA)}"] and check.digests == {}


def test_progress_sees_every_byte_once(sample):
    seen = []
    assert check_file(sample, progress=seen.append).ok
    assert sum(seen) == len(DATA) and len(seen) >= 1


def test_unknown_algorithm_or_bad_hex_is_an_error(sample):
    with pytest.raises(DownloadError, match="unknown checksum algorithm"):
        check_file(sample, {"crc99": "00"})
    with pytest.raises(DownloadError, match="hex digits"):
        check_file(sample, {"md5": "xyz"})
