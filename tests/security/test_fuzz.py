"""Fuzzing what tests/annotations/test_fuzz.py and tests/test_archives.py do not: MUTATED valid
files (bytes flipped, inserted, cut) rather than generated ones, for the annotation readers and the
archive code, and the classic XML and JSON attacks through `histodata annotations convert`. Always
a result or one clear error; never a crash, a hang, or a byte outside the target."""
from __future__ import annotations

import gzip
import io
import json
import os
import tarfile
import zipfile

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from histodata import archives
from histodata.annotations import read_annotations
from histodata.errors import HistodataError

from .hostile import cli, snapshot, written_between

SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

ANNOTATIONS = {
    "asap": b'<?xml version="1.0"?><ASAP_Annotations><Annotations><Annotation Name="A1" Type="Polygon" '
            b'PartOfGroup="tumor"><Coordinates><Coordinate Order="0" X="10" Y="10"/><Coordinate Order="1" '
            b'X="50" Y="10"/><Coordinate Order="2" X="50" Y="40"/></Coordinates></Annotation></Annotations>'
            b'<AnnotationGroups><Group Name="tumor" PartOfGroup="None" Color="#ff0000"/></AnnotationGroups>'
            b'</ASAP_Annotations>',
    "aperio": b'<Annotations MicronsPerPixel="0.25"><Annotation Id="1" Name="tumor" LineColor="255">'
              b'<Regions><Region Id="1" Type="0" NegativeROA="0"><Vertices><Vertex X="1" Y="1"/>'
              b'<Vertex X="9" Y="1"/><Vertex X="9" Y="9"/></Vertices></Region></Regions></Annotation>'
              b'</Annotations>',
    "qupath": json.dumps({"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": {
        "type": "Polygon", "coordinates": [[[0, 0], [5, 0], [5, 5], [0, 0]]]}, "properties": {
        "objectType": "annotation", "classification": {"name": "Tumor", "color": [200, 0, 0]}}}]}).encode(),
    "dsa": json.dumps({"annotation": {"name": "a", "elements": [
        {"type": "polyline", "closed": True, "points": [[0, 0, 0], [4, 0, 0], [4, 4, 0]], "label": {"value": "x"}},
        {"type": "rectangle", "center": [5, 5, 0], "width": 4, "height": 2, "rotation": 0},
        {"type": "point", "center": [1, 2, 0]}]}}).encode(),
}


@st.composite
def mutated(draw, original: bytes) -> bytes:
    """`original` with a few bytes flipped, inserted or cut (what a damaged download looks like)."""
    data = bytearray(original)
    for _ in range(draw(st.integers(1, 4))):
        action = draw(st.sampled_from(["flip", "insert", "delete", "truncate"]))
        at = draw(st.integers(0, max(len(data) - 1, 0)))
        if action == "flip" and data:
            data[at] ^= draw(st.integers(1, 255))
        elif action == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=8))
        elif action == "delete" and data:
            del data[at:at + draw(st.integers(1, 8))]
        else:
            del data[at:]
    return bytes(data)


def test_the_samples_are_valid():
    for kind, data in ANNOTATIONS.items():
        assert read_annotations(data), kind


@pytest.mark.parametrize("kind", sorted(ANNOTATIONS))
def test_mutated_annotation_files_give_features_or_a_clear_error(kind):
    @SETTINGS
    @given(data=mutated(ANNOTATIONS[kind]))
    def check(data):
        try:
            features = read_annotations(data)
        except HistodataError as err:
            assert str(err)
            return
        json.dumps(features, allow_nan=False)

    check()


# ----------------------------------------------------------------------------- attacks through the CLI
XXE = (b'<?xml version="1.0"?><!DOCTYPE a [<!ENTITY secret SYSTEM "file://{path}">]>'
       b'<ASAP_Annotations><Annotations><Annotation Name="&secret;" Type="Dot"><Coordinates>'
       b'<Coordinate Order="0" X="1" Y="1"/></Coordinates></Annotation></Annotations></ASAP_Annotations>')
LAUGHS = (b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "lol">' +
          b"".join(b'<!ENTITY %c "%s">' % (98 + i, b"".join(b"&%c;" % (97 + i) for _ in range(10)))
                   for i in range(8)) + b']><ASAP_Annotations>&i;</ASAP_Annotations>')


@pytest.mark.parametrize("attack", ["external entity", "billion laughs", "deep json", "deep xml", "huge numbers"])
def test_hostile_annotation_files_through_the_cli(tmp_path, attack):
    secret_file = tmp_path / "secret.txt"
    secret_file.write_text("the contents of a private file")
    documents = {
        "external entity": XXE.replace(b"{path}", str(secret_file).encode()),
        "billion laughs": LAUGHS,
        "deep json": b"[" * 200_000 + b"]" * 200_000,
        "deep xml": b"<Annotations>" + b"<a>" * 100_000 + b"</a>" * 100_000 + b"</Annotations>",
        "huge numbers": json.dumps({"type": "Feature", "properties": {}, "geometry": {
            "type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1]]]}}).encode().replace(b"[1, 1]", b"[1e400, -1e400]"),
    }
    source, output = tmp_path / "in.xml", tmp_path / "out" / "x.geojson"
    source.write_bytes(documents[attack])
    result = cli("annotations", "convert", str(source), str(output))
    if result.returncode == 0:   # a valid file after all: what was written must be finite, honest GeoJSON
        assert attack == "deep xml" or json.loads(output.read_text())["type"] == "FeatureCollection"
        assert "private file" not in output.read_text()
        return
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.startswith("error: in.xml") and len(result.stderr.splitlines()) == 1, result.stderr
    assert "private file" not in result.stderr and not output.exists()


# ----------------------------------------------------------------------------- archives
def zip_sample() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("top/a/one.txt", b"one " * 50)
        zf.writestr("top/b/two.txt", b"two " * 50)
        zf.writestr("top/three.bin", bytes(range(256)))
    return buffer.getvalue()


def tar_sample(mode: str) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode=mode) as tf:
        for name, data in (("top/a/one.txt", b"one " * 50), ("top/three.bin", bytes(range(256)))):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
        link = tarfile.TarInfo("top/a/alias.txt")
        link.type, link.linkname = tarfile.SYMTYPE, "one.txt"
        tf.addfile(link)
    return buffer.getvalue()


ARCHIVES = {"zip": (".zip", zip_sample()), "tar": (".tar", tar_sample("w")), "tgz": (".tar.gz", tar_sample("w:gz")),
            "txz": (".tar.xz", tar_sample("w:xz"))}


@pytest.mark.parametrize("kind", sorted(ARCHIVES))
def test_mutated_archives_extract_or_fail_clearly_and_never_escape(tmp_path, kind):
    suffix, original = ARCHIVES[kind]
    counter = iter(range(10**6))

    @SETTINGS
    @given(data=mutated(original))
    def check(data):
        case = tmp_path / f"case{next(counter)}"
        target = case / "deep" / "target"
        target.mkdir(parents=True)
        archive = case / f"a{suffix}"
        archive.write_bytes(data)
        before = snapshot(case, target)
        try:
            archives.extract(archive, target, limits=archives.Limits(max_bytes=1 << 20))
        except HistodataError as err:
            assert str(err)
            assert [p.name for p in target.iterdir()] == []        # nothing half-extracted
        assert written_between(before, snapshot(case, target)) == []
        for folder, _dirs, files in os.walk(target):
            for name in files:
                assert os.path.realpath(os.path.join(folder, name)).startswith(str(target.resolve()) + os.sep)

    check()


GZIP = gzip.compress(b"payload " * 500)


def test_mutated_gzip_files_decompress_or_fail_clearly(tmp_path):
    counter = iter(range(10**6))

    @SETTINGS
    @given(data=mutated(GZIP))
    def check(data):
        case = tmp_path / f"case{next(counter)}"
        case.mkdir()
        source, dest = case / "x.bin.gz", case / "out" / "x.bin"
        source.write_bytes(data)
        try:
            archives.gunzip(source, dest)
        except HistodataError as err:
            assert str(err)
            assert not dest.exists()                       # a failure writes nothing under the final name
        assert [p.name for p in dest.parent.glob(".*.tmp")] == []

    check()
