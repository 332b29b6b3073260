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


def test_the_camelyon_entry_verifies_each_part_with_its_own_manifest(emulate):
    """The real `camelyon` entry names CAMELYON16/ and CAMELYON17/checksums.md5: each speaks only for
    its own part, so the two README.md files get their own part's checksum."""
    import hashlib

    from emulators.s3 import S3Emulator

    from histodata.http import new_session
    from histodata.registry.loader import load_registry
    from histodata.sources.resolve import list_source

    bucket = emulate(S3Emulator(bucket="camelyon-dataset", region="us-west-2"))
    objects = {"CAMELYON16/README.md": b"readme 16", "CAMELYON16/images/normal_001.tif": b"slide 16",
               "CAMELYON17/README.md": b"readme 17", "CAMELYON17/images/patient_000_node_0.tif": b"slide 17"}
    bucket.objects.update(objects)
    for part in ("CAMELYON16", "CAMELYON17"):
        bucket.objects[f"{part}/checksums.md5"] = "".join(
            f"{hashlib.sha256(data).hexdigest()}  ./{key[len(part) + 1:]}\n"
            for key, data in objects.items() if key.startswith(part)).encode()
    entry = load_registry().entry("camelyon")
    listed = {r.name: r for r in list_source(entry, 0, entry.sources[0], new_session())}
    for key, data in objects.items():
        assert listed[key].checksums["sha256"] == hashlib.sha256(data).hexdigest(), key
    assert "sha256" not in listed["CAMELYON17/checksums.md5"].checksums


def test_several_manifests_leave_files_outside_their_folders_alone(emulate):
    import hashlib

    from emulators.s3 import S3Emulator

    from histodata.http import new_session
    from histodata.registry.models import Source
    from histodata.sources.resolve import list_source

    bucket = emulate(S3Emulator())
    bucket.objects.update({"A/x.bin": b"a", "B/x.bin": b"b", "C/x.bin": b"c",
                           "A/sums.txt": f"{hashlib.sha256(b'a').hexdigest()}  x.bin\n".encode(),
                           "B/sums.txt": f"{hashlib.sha256(b'b').hexdigest()}  x.bin\n".encode()})
    source = Source(kind="s3", bucket=bucket.bucket, region=bucket.region,
                    checksums_file=["A/sums.txt", "B/sums.txt"])
    listed = {r.name: r.checksums.get("sha256") for r in list_source(None, 0, source, new_session())}
    assert listed["A/x.bin"] == hashlib.sha256(b"a").hexdigest()
    assert listed["B/x.bin"] == hashlib.sha256(b"b").hexdigest()
    assert listed["C/x.bin"] is None                    # one manifest alone would have matched x.bin
