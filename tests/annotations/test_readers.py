"""Annotation readers: every format in, QuPath-compatible GeoJSON out, vertices kept exactly."""
from __future__ import annotations

import json

import pytest

from histodata.annotations import AnnotationFormatError, detect_format, read_annotations, write_geojson
from helpers import run_cli

ASAP = """<?xml version="1.0"?>
<ASAP_Annotations>
  <Annotations>
    <Annotation Name="Annotation 0" Type="Polygon" PartOfGroup="_0" Color="#F4FA58">
      <Coordinates>
        <Coordinate Order="2" X="22900.125" Y="16600.5" />
        <Coordinate Order="0" X="22851.3281" Y="16551.1797" />
        <Coordinate Order="1" X="22950.0001" Y="16551.1797" />
      </Coordinates>
    </Annotation>
    <Annotation Name="Annotation 1" Type="Dot" PartOfGroup="None" Color="#000000">
      <Coordinates><Coordinate Order="0" X="10.5" Y="20.25" /></Coordinates>
    </Annotation>
    <Annotation Name="Annotation 2" Type="PointSet" PartOfGroup="_2" Color="#000000">
      <Coordinates><Coordinate Order="0" X="1" Y="2" /><Coordinate Order="1" X="3" Y="4" /></Coordinates>
    </Annotation>
  </Annotations>
  <AnnotationGroups>
    <Group Name="_0" PartOfGroup="None" Color="#ff0000"><Attributes /></Group>
    <Group Name="_2" PartOfGroup="None" Color="#00ff00"><Attributes /></Group>
  </AnnotationGroups>
</ASAP_Annotations>"""

APERIO = """<Annotations MicronsPerPixel="0.252100">
  <Annotation Id="1" Name="" ReadOnly="0" Type="4" LineColor="65280" Visible="1">
    <Attributes><Attribute Name="Description" Id="0" Value="tumor"/></Attributes>
    <Regions>
      <RegionAttributeHeaders><AttributeHeader Id="9999" Name="Region"/></RegionAttributeHeaders>
      <Region Id="1" Type="0" NegativeROA="0">
        <Attributes/>
        <Vertices><Vertex X="0" Y="0" Z="0"/><Vertex X="100.75" Y="0"/><Vertex X="100" Y="100"/><Vertex X="0" Y="100"/></Vertices>
      </Region>
      <Region Id="2" Type="0" NegativeROA="1">
        <Vertices><Vertex X="40" Y="40"/><Vertex X="60" Y="40"/><Vertex X="60" Y="60"/></Vertices>
      </Region>
      <Region Id="3" Type="4">
        <Vertices><Vertex X="200" Y="200"/><Vertex X="300" Y="250"/></Vertices>
      </Region>
    </Regions>
    <Plots/>
  </Annotation>
</Annotations>"""


def dsa_document():
    elements = [
        {"type": "polyline", "id": "a" * 24, "closed": True, "group": "mostly_tumor",
         "label": {"value": "mostly_tumor"}, "fillColor": "rgba(255,0,0,0.2)", "lineColor": "#ff0000",
         "points": [[1.5, 2.5, 0], [10, 2.5, 0], [10, 12.125, 0]]},
        {"type": "polyline", "closed": False, "points": [[0, 0, 0], [5, 5, 0]], "label": {"value": "path"}},
        {"type": "point", "center": [7, 8, 0], "group": "lymphocyte"},
        {"type": "rectangle", "center": [50, 50, 0], "width": 20, "height": 10, "rotation": 0,
         "group": "roi"},
        {"type": "heatmap", "points": [[1, 2, 0, 0.5]]},
    ]
    return {"_id": "b" * 24, "_modelType": "annotation", "_version": 1, "itemId": "c" * 24,
            "annotation": {"name": "left-44350_top-43750_mostly_tumor-0", "elements": elements}}


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text if isinstance(text, str) else json.dumps(text))
    return path


def test_asap_groups_orders_and_kinds(tmp_path):
    features = read_annotations(write(tmp_path, "tumor_001.xml", ASAP))
    polygon, dot, points = features
    assert polygon["geometry"] == {"type": "Polygon", "coordinates": [[
        [22851.3281, 16551.1797], [22950.0001, 16551.1797], [22900.125, 16600.5], [22851.3281, 16551.1797]]]}
    assert polygon["properties"]["classification"] == {"name": "_0", "color": [255, 0, 0]}
    assert polygon["properties"]["objectType"] == "annotation"
    assert dot["geometry"] == {"type": "Point", "coordinates": [10.5, 20.25]}
    assert "classification" not in dot["properties"]
    assert points["geometry"]["type"] == "MultiPoint"
    assert points["properties"]["classification"]["name"] == "_2"


def test_aperio_regions_holes_lines_and_colour(tmp_path):
    features = read_annotations(write(tmp_path, "TCGA-18-5592-01Z-00-DX1.xml", APERIO))
    assert [f["geometry"]["type"] for f in features] == ["Polygon", "LineString"]
    polygon = features[0]["geometry"]["coordinates"]
    assert polygon[0][1] == [100.75, 0.0] and len(polygon) == 2            # the negative region is a hole
    assert polygon[1] == [[40.0, 40.0], [60.0, 40.0], [60.0, 60.0], [40.0, 40.0]]
    assert features[0]["properties"]["classification"] == {"name": "tumor", "color": [0, 255, 0]}


def test_dsa_document_elements_and_lists(tmp_path):
    features = read_annotations(write(tmp_path, "bcss.json", dsa_document()))
    kinds = [f["geometry"]["type"] for f in features]
    assert kinds == ["Polygon", "LineString", "Point", "Polygon"]   # heatmap left out
    assert features[0]["geometry"]["coordinates"][0][:3] == [[1.5, 2.5], [10.0, 2.5], [10.0, 12.125]]
    assert features[0]["properties"]["classification"]["name"] == "mostly_tumor"
    assert features[1]["properties"]["classification"]["name"] == "path"
    assert features[2]["properties"]["classification"]["name"] == "lymphocyte"
    assert features[3]["geometry"]["coordinates"][0][0] == [40.0, 45.0]
    as_list = read_annotations(write(tmp_path, "slide.json", [dsa_document(), dsa_document()]))
    assert len(as_list) == 8
    bare = read_annotations(write(tmp_path, "elements.json", dsa_document()["annotation"]["elements"]))
    assert [f["geometry"]["type"] for f in bare] == kinds


QUPATH_02 = [{"type": "Feature", "id": "PathAnnotationObject",
              "geometry": {"type": "Polygon", "coordinates": [[[0, 0], [5.5, 0], [5.5, 5], [0, 0]]]},
              "properties": {"classification": {"name": "Tumor", "colorRGB": -3670016}, "isLocked": False,
                             "measurements": [{"name": "Area", "value": 12.5}]}},
             {"type": "Feature", "id": "PathCellObject",
              "geometry": {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 0]]]},
              "nucleusGeometry": {"type": "Polygon", "coordinates": [[[0, 0], [0.5, 0], [0.5, 0.5], [0, 0]]]},
              "properties": {"classification": {"name": "Lymphocyte", "colorRGB": -16711936}}}]
QUPATH_03 = {"type": "Feature", "geometry": {"type": "LineString", "coordinates": [[1, 2], [3, 4]]},
             "properties": {"object_type": "annotation", "classification": {"name": "Stroma", "colorRGB": 255},
                            "color": [0, 0, 255]}}
QUPATH_05 = {"type": "FeatureCollection", "features": [
    {"type": "Feature", "id": "0b0c7d5e-3d4b-4f62-9f6c-3d6f0c9d0a11",
     "geometry": {"type": "MultiPolygon", "coordinates": [[[[0, 0], [4, 0], [4, 4], [0, 0]],
                                                         [[1, 1], [2, 1], [2, 2], [1, 1]]]]},
     "properties": {"objectType": "annotation", "isLocked": True,
                    "classification": {"names": ["Tumor", "Positive"], "color": [200, 0, 0]},
                    "measurements": {"Area": 3.0}}}]}


def test_qupath_versions_are_normalised(tmp_path):
    v02 = read_annotations(write(tmp_path, "v02.geojson", QUPATH_02))
    assert v02[0]["properties"]["objectType"] == "annotation"
    assert v02[0]["properties"]["classification"] == {"name": "Tumor", "color": [200, 0, 0]}
    assert v02[0]["properties"]["measurements"] == {"Area": 12.5}
    assert v02[1]["properties"]["objectType"] == "cell" and "nucleusGeometry" in v02[1]
    assert v02[0]["id"] != "PathAnnotationObject"
    v03 = read_annotations(write(tmp_path, "v03.geojson", QUPATH_03))
    assert v03[0]["properties"]["objectType"] == "annotation" and "object_type" not in v03[0]["properties"]
    assert v03[0]["properties"]["classification"]["color"] == [0, 0, 255]
    v05 = read_annotations(write(tmp_path, "v05.geojson", QUPATH_05))
    assert v05[0]["id"] == "0b0c7d5e-3d4b-4f62-9f6c-3d6f0c9d0a11"
    assert v05[0]["geometry"] == QUPATH_05["features"][0]["geometry"]   # holes and vertices untouched
    assert v05[0]["properties"]["classification"]["names"] == ["Tumor", "Positive"]


def test_round_trip_is_stable(tmp_path):
    first = read_annotations(write(tmp_path, "a.xml", ASAP))
    out = write_geojson(first, tmp_path / "a.geojson")
    again = read_annotations(out)
    assert again == first
    document = json.loads(out.read_text())
    assert document["type"] == "FeatureCollection" and len(document["features"]) == 3


def test_detection_and_clear_errors(tmp_path):
    assert detect_format(ASAP.encode())[0] == "asap"
    assert detect_format(APERIO.encode())[0] == "aperio"
    with pytest.raises(AnnotationFormatError, match="neither ASAP"):
        read_annotations(b"<svg></svg>")
    with pytest.raises(AnnotationFormatError, match="not valid JSON"):
        read_annotations(b"{nope")
    with pytest.raises(AnnotationFormatError, match="not finite"):
        read_annotations(ASAP.replace('X="10.5"', 'X="nan"').encode())
    bomb = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;">]><ASAP_Annotations>&b;</ASAP_Annotations>'
    with pytest.raises(AnnotationFormatError, match="entities"):
        read_annotations(bomb)


def test_convert_cli(tmp_path):
    source = write(tmp_path, "tumor_001.xml", ASAP)
    result = run_cli("annotations", "convert", str(source), str(tmp_path / "out.geojson"))
    assert result.returncode == 0, result.stderr
    assert "asap" in result.stderr and "_0 (1)" in result.stderr
    assert len(json.loads((tmp_path / "out.geojson").read_text())["features"]) == 3
    bad = write(tmp_path, "bad.json", {"hello": 1})
    result = run_cli("annotations", "convert", str(bad), str(tmp_path / "x.geojson"))
    assert result.returncode == 1 and "Traceback" not in result.stderr and "bad.json" in result.stderr


def test_degenerate_shapes_degrade_like_the_drawing_tools_show_them(tmp_path):
    xml = APERIO.replace('<Vertex X="40" Y="40"/><Vertex X="60" Y="40"/><Vertex X="60" Y="60"/>',
                         '<Vertex X="40" Y="40"/><Vertex X="60" Y="40"/>')
    features = read_annotations(write(tmp_path, "a.xml", xml))
    assert [f["geometry"]["type"] for f in features] == ["Polygon", "LineString", "LineString"]
    asap = ASAP.replace('<Coordinate Order="2" X="22900.125" Y="16600.5" />', "")
    assert read_annotations(asap.encode())[0]["geometry"]["type"] == "LineString"
    one = {"elements": [{"type": "polyline", "closed": True, "points": [[1, 2, 0]]},
                        {"type": "polyline", "closed": True, "points": []}]}
    assert [f["geometry"] for f in read_annotations(json.dumps(one).encode())] == \
        [{"type": "Point", "coordinates": [1.0, 2.0]}]


def test_null_geometries_and_bare_geometry_lists(tmp_path):
    collection = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": None, "properties": {}},
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [1, 2]}, "properties": {}}]}
    assert len(read_annotations(json.dumps(collection).encode())) == 1
    bare = [{"type": "Point", "coordinates": [1, 2]}, {"type": "LineString", "coordinates": [[0, 0], [1, 1]]}]
    assert [f["properties"]["objectType"] for f in read_annotations(json.dumps(bare).encode())] == \
        ["annotation", "annotation"]


def test_variants_written_by_third_party_tools():
    """Empty measurement lists, unnamed classifications and region texts, as scripts in the wild write them."""
    features = [{"type": "Feature", "id": "PathAnnotationObject",
                 "geometry": {"type": "Polygon", "coordinates": [[[0, 0], [4, 0], [4, 4], [0, 0]]]},
                 "properties": {"classification": {"name": None}, "isLocked": True, "measurements": [],
                                "confidence": 0.9}}]
    feature = read_annotations(json.dumps(features).encode())[0]
    assert "classification" not in feature["properties"]
    assert feature["properties"]["measurements"] == {} and feature["properties"]["confidence"] == 0.9
    xml = APERIO.replace('<Region Id="1" Type="0" NegativeROA="0">', '<Region Id="1" Type="0" Text="gland 1">')
    assert read_annotations(xml.encode())[0]["properties"]["name"] == "gland 1"


def test_annotations_convert_never_overwrites_its_input_and_takes_a_folder(tmp_path):
    source = tmp_path / "tumor_001.xml"
    xml = ('<?xml version="1.0"?><ASAP_Annotations><Annotations><Annotation Name="a" Type="Polygon" '
           'PartOfGroup="Tumor"><Coordinates><Coordinate Order="0" X="1" Y="1"/><Coordinate Order="1" X="9" '
           'Y="1"/><Coordinate Order="2" X="9" Y="9"/></Coordinates></Annotation></Annotations>'
           '<AnnotationGroups/></ASAP_Annotations>')
    source.write_text(xml)
    same = run_cli("annotations", "convert", str(source), str(source))
    assert same.returncode == 1 and "overwrite" in same.stderr and source.read_text() == xml
    out = tmp_path / "geojson"
    out.mkdir()
    into_folder = run_cli("annotations", "convert", str(source), str(out))
    assert into_folder.returncode == 0, into_folder.stderr
    assert json.loads((out / "tumor_001.geojson").read_text())["features"]
