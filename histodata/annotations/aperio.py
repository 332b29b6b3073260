"""Aperio ImageScope XML (and MoNuSeg, which uses it) -> features, one per Region."""
from __future__ import annotations

from xml.etree.ElementTree import Element

from . import geometry as g

# Region@Type: 0 free-hand/polygon, 1 rectangle, 2 ellipse, 3 arrow, 4 ruler, 5 pin (point).
LINE_REGION_TYPES = {"3", "4"}
POINT_REGION_TYPES = {"5"}
ELLIPSE_REGION_TYPE = "2"


def _annotation_class(annotation: Element) -> str | None:
    """The annotation's Name, else its Description attribute value (empty means unclassified)."""
    name = (annotation.get("Name") or "").strip()
    if name:
        return name
    for attribute in annotation.findall("./Attributes/Attribute"):
        value = (attribute.get("Value") or "").strip()
        if value:
            return value
    return None


def _vertices(region: Element, where: str) -> list[g.Point]:
    return [(g.number(v.get("X"), f"{where} X"), g.number(v.get("Y"), f"{where} Y"))
            for v in region.findall("./Vertices/Vertex")]


def _region_geometry(region: Element, points: list[g.Point], where: str) -> dict:
    kind = (region.get("Type") or "0").strip()
    if kind in POINT_REGION_TYPES or len(points) == 1:
        return g.point(points[0]) if points else g.multipoint(points, where)
    if kind in LINE_REGION_TYPES:
        return g.open_shape(points, where)
    if kind == ELLIPSE_REGION_TYPE and len(points) == 2:  # stored as two corners of its box
        (x0, y0), (x1, y1) = points
        return g.polygon(g.ellipse((x0 + x1) / 2, (y0 + y1) / 2, abs(x1 - x0) / 2, abs(y1 - y0) / 2), where)
    return g.closed_shape(points, where)


def _contains(outer: list, inner: list) -> bool:
    from shapely.errors import GEOSException  # heavy: imported on first use
    from shapely.geometry import Polygon

    try:
        return Polygon(outer).contains(Polygon(inner))
    except (GEOSException, ValueError):
        return False


def _attach_holes(items: list[tuple[dict, bool]]) -> list[dict]:
    """NegativeROA regions become holes of the positive polygon containing them."""
    positives = [f for f, negative in items if not negative]
    result = list(positives)
    for hole, _ in (item for item in items if item[1]):
        coords = hole["geometry"]["coordinates"]
        is_polygon = hole["geometry"]["type"] == "Polygon"
        host = next((f for f in positives if is_polygon and f["geometry"]["type"] == "Polygon"
                     and _contains(f["geometry"]["coordinates"][0], coords[0])), None)
        if host is None:
            hole["properties"]["isNegative"] = True
            result.append(hole)
        else:
            host["geometry"]["coordinates"].append(coords[0])
    return result


def read_aperio(root: Element, label: str) -> list[dict]:
    """Every Region as a feature; the annotation's name/description is its classification."""
    features = []
    for a_index, annotation in enumerate(root.iter("Annotation")):
        classification = _annotation_class(annotation)
        color = g.rgb_from_colorref(int(g.number(annotation.get("LineColor") or 0, f"{label}: LineColor")))
        items = []
        for r_index, region in enumerate(annotation.findall("./Regions/Region")):
            where = f"{label}: annotation {annotation.get('Id', a_index)} region {region.get('Id', r_index)}"
            points = _vertices(region, where)
            if not points:
                continue   # a region without vertices: nothing to keep
            geom = _region_geometry(region, points, where)
            negative = (region.get("NegativeROA") or "0").strip() == "1"
            extra = {"regionId": region.get("Id")} if region.get("Id") else None
            features_item = g.feature(geom, seed=f"aperio:{label}:{a_index}:{r_index}",
                                      classification=classification, color=color, extra=extra,
                                      name=(region.get("Text") or "").strip() or None)
            items.append((features_item, negative))
        features.extend(_attach_holes(items))
    return features
