"""ASAP XML (CAMELYON16/17 lesion annotations) -> features. Groups become classifications."""
from __future__ import annotations

from xml.etree.ElementTree import Element

from . import geometry as g

POLYGON_TYPES = {"polygon", "rectangle", "spline"}
POINT_TYPES = {"dot"}
MULTIPOINT_TYPES = {"pointset"}
LINE_TYPES = {"polyline", "line", "measurement", "arrow"}


def _group_colors(root: Element) -> dict[str, list[int]]:
    colors = {}
    for group in root.iter("Group"):
        color = g.rgb_from_css(group.get("Color"))
        if group.get("Name") and color:
            colors[group.get("Name")] = color
    return colors


def _ordered_points(annotation: Element, where: str) -> list[g.Point]:
    coordinates = annotation.findall("./Coordinates/Coordinate")

    def order(item: tuple[int, Element]) -> float:
        index, element = item
        value = element.get("Order")
        return g.number(value, f"{where} Order") if value is not None else index

    ordered = sorted(enumerate(coordinates), key=order)
    return [(g.number(c.get("X"), f"{where} X"), g.number(c.get("Y"), f"{where} Y")) for _, c in ordered]


def _geometry(kind: str, points: list[g.Point], where: str) -> dict | None:
    if not points:
        return None
    if kind in POINT_TYPES or kind in MULTIPOINT_TYPES:
        return g.point(points[0]) if kind in POINT_TYPES and len(points) == 1 else g.multipoint(points, where)
    if kind in LINE_TYPES:
        return g.open_shape(points, where)
    return g.closed_shape(points, where)


def read_asap(root: Element, label: str) -> list[dict]:
    """Every <Annotation> as a feature: its PartOfGroup as classification, Name as name."""
    colors = _group_colors(root)
    features = []
    for index, annotation in enumerate(root.iter("Annotation")):
        name = annotation.get("Name") or f"Annotation {index}"
        kind = (annotation.get("Type") or "Polygon").strip().lower()
        where = f"{label}: annotation {name!r}"
        group = annotation.get("PartOfGroup")
        group = None if group in (None, "", "None") else group
        color = (colors.get(group) if group else None) or g.rgb_from_css(annotation.get("Color"))
        geom = _geometry(kind, _ordered_points(annotation, where), where)
        if geom is None:
            continue   # an annotation without coordinates: nothing to keep
        features.append(g.feature(geom, seed=f"asap:{label}:{index}", classification=group, color=color,
                                  name=name, extra={"asapType": annotation.get("Type") or "Polygon"}))
    return features
