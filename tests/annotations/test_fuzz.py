"""Malformed annotation files always give an AnnotationFormatError (a HistodataError), never a crash."""
from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from histodata.annotations import read_annotations
from histodata.errors import HistodataError

json_values = st.recursive(
    st.none() | st.booleans() | st.floats(allow_nan=False) | st.integers() | st.text(max_size=8),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(
        st.sampled_from(["type", "features", "geometry", "coordinates", "properties", "elements", "annotation",
                         "points", "center", "closed", "classification", "id", "group", "label", "width",
                         "height", "radius", "holes", "measurements", "colorRGB", "name"]), children, max_size=5),
    max_leaves=25)
types = st.sampled_from(["Feature", "FeatureCollection", "Polygon", "Point", "polyline", "point", "rectangle",
                         "circle", "ellipse", "LineString", "MultiPolygon", "GeometryCollection", "heatmap"])


def _check(data: bytes) -> None:
    try:
        features = read_annotations(data)
    except HistodataError as err:
        assert str(err)
        return
    json.dumps(features, allow_nan=False)   # what we return can always be written


@settings(max_examples=300, deadline=None)
@given(value=json_values)
def test_random_json(value):
    _check(json.dumps(value).encode())


@settings(max_examples=300, deadline=None)
@given(kind=types, inner=json_values, extra=json_values)
def test_random_typed_json(kind, inner, extra):
    _check(json.dumps({"type": kind, "geometry": {"type": kind, "coordinates": inner}, "elements": [
        {"type": kind, "points": inner, "center": extra, "closed": True}], "features": [extra]}).encode())


ATTRS = st.dictionaries(st.sampled_from(["X", "Y", "Order", "Type", "Name", "PartOfGroup", "NegativeROA",
                                         "LineColor", "Color", "Id"]),
                        st.text(alphabet="0123456789.-eEnaif_xyz#", max_size=6), max_size=5)


@st.composite
def xml_documents(draw):
    root = draw(st.sampled_from(["ASAP_Annotations", "Annotations"]))
    parts = []
    for _ in range(draw(st.integers(0, 3))):
        attrs = " ".join(f'{k}="{v}"' for k, v in draw(ATTRS).items())
        vertices = "".join(
            f'<{tag} {" ".join(f"{k}={chr(34)}{v}{chr(34)}" for k, v in draw(ATTRS).items())}/>'
            for tag in draw(st.lists(st.sampled_from(["Coordinate", "Vertex"]), max_size=5)))
        parts.append(f"<Annotation {attrs}><Coordinates>{vertices}</Coordinates><Regions><Region {attrs}>"
                     f"<Vertices>{vertices}</Vertices></Region></Regions></Annotation>")
    body = "".join(parts)
    if root == "ASAP_Annotations":
        body = f"<Annotations>{body}</Annotations>"
    return f"<{root}>{body}</{root}>".encode()


@settings(max_examples=300, deadline=None)
@given(document=xml_documents())
def test_random_xml(document):
    _check(document)


@settings(max_examples=200, deadline=None)
@given(data=st.binary(max_size=300))
def test_random_bytes(data):
    _check(data)
    _check(b"<" + data)
    _check(b"{" + data)
