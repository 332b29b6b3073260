"""Published checksum manifests (`checksums_file`): parsing and matching by path (a fetch that
uses one: sources/test_s3.py)."""
from histodata.sources.manifests import ManifestIndex, parse_manifest

MD5 = "d41d8cd98f00b204e9800998ecf8427e"
SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


def test_gnu_binary_and_bsd_lines_are_read_and_other_lines_ignored():
    text = (f"{MD5}  ./images/a.tif\n{MD5.upper()} *masks/a.tif\n# a comment\n\n"
            f"SHA256 (images/b.tif) = {SHA256}\nnot a checksum line\n{SHA256}  images/a.tif\n")
    assert parse_manifest(text) == {"images/a.tif": {"md5": MD5, "sha256": SHA256},
                                    "masks/a.tif": {"md5": MD5}, "images/b.tif": {"sha256": SHA256}}


def test_lookup_by_relative_path_then_unique_suffix_never_an_ambiguous_base_name():
    index = ManifestIndex({"CAMELYON16/images/a.tif": {"md5": "1" * 32},
                           "CAMELYON16/masks/a.tif": {"md5": "2" * 32},
                           "CAMELYON16/README.md": {"md5": "3" * 32}})
    assert index.lookup("CAMELYON16/images/a.tif") == {"md5": "1" * 32}
    assert index.lookup("masks/a.tif") == {"md5": "2" * 32}
    assert index.lookup("elsewhere/README.md") == {"md5": "3" * 32}
    assert index.lookup("a.tif") is None               # two files have that base name
