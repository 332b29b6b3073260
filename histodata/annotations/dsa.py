"""DSA / Girder (large_image) annotation JSON -> features.

Accepts an annotation `{name, elements[]}`, a Girder document `{_id, annotation{...}}`, a list of
either, or a bare list of elements. Element `group` (else `label.value`, else the annotation
name) becomes the classification; z is dropped, x and y are kept exactly.
"""
from __future__ import annotations

from typing import Any

from . import geometry as g

SKIPPED_TYPES = {"heatmap", "griddata", "image", "pixelmap", "rectanglegrid"}
ELEMENT_TYPES = {"polyline", "rectangle", "ellipse", "circle", "point", "arrow"} | SKIPPED_TYPES


def looks_like_dsa(data: Any) -> bool:
    items = data if isinstance(data, list) else [data]
    if not items or not all(isinstance(i, dict) for i in items):
        return False
    first = items[0]
    return ("annotation" in first and isinstance(first.get("annotation"), dict)) or "elements" in first \
        or _is_element(first)


def _is_element(item: Any) -> bool:
    return isinstance(item, dict) and "elements" not in item and "annotation" not in item \
        and isinstance(item.get("type"), str) and item["type"] in ELEMENT_TYPES


def _annotations(data: Any, label: str) -> list[dict]:
    """Normalise every accepted top level to a list of {name, elements} annotations."""
    items = data if isinstance(data, list) else [data]
    if items and all(_is_element(i) for i in items):
        return [{"name": None, "elements": items}]
    result = []
    for item in items:
        if not isinstance(item, dict):
            raise g.AnnotationFormatError(f"{label}: expected annotation objects, found {type(item).__name__}.")
        annotation = item.get("annotation", item)
        if not isinstance(annotation, dict) or not isinstance(annotation.get("elements", []), list):
            raise g.AnnotationFormatError(f"{label}: an annotation without an `elements` list.")
        result.append(annotation)
    return result


def _points(element: dict, key: str, where: str) -> list[g.Point]:
    points = element.get(key)
    if not isinstance(points, list):
        raise g.AnnotationFormatError(f"{where}: `{key}` must be a list of [x, y, z] points.")
    return [g.xy(p, where) for p in points]


def _polyline(element: dict, where: str) -> dict:
    points = _points(element, "points", where)
    if element.get("closed"):
        holes = element.get("holes") or []
        if not isinstance(holes, list):
            raise g.AnnotationFormatError(f"{where}: `holes` must be a list of point lists.")
        return g.closed_shape(points, where, [[g.xy(p, where) for p in h] for h in holes if isinstance(h, list)])
    return g.open_shape(points, where)


def _center(element: dict, where: str) -> g.Point:
    return g.xy(element.get("center"), where)


def _rectangle(element: dict, where: str) -> dict:
    cx, cy = _center(element, where)
    w, h = g.number(element.get("width"), where), g.number(element.get("height"), where)
    return g.polygon(g.rectangle(cx, cy, w, h, g.number(element.get("rotation", 0) or 0, where)), where)


def _ellipse(element: dict, where: str) -> dict:
    cx, cy = _center(element, where)
    w, h = g.number(element.get("width"), where), g.number(element.get("height"), where)
    return g.polygon(g.ellipse(cx, cy, w / 2, h / 2, g.number(element.get("rotation", 0) or 0, where)), where)


def _circle(element: dict, where: str) -> dict:
    cx, cy = _center(element, where)
    r = g.number(element.get("radius"), where)
    return g.polygon(g.ellipse(cx, cy, r, r), where)


def _point(element: dict, where: str) -> dict:
    return g.point(_center(element, where))


def _arrow(element: dict, where: str) -> dict:
    return g.open_shape(_points(element, "points", where), where)


_BUILDERS = {"polyline": _polyline, "rectangle": _rectangle, "ellipse": _ellipse, "circle": _circle,
             "point": _point, "arrow": _arrow}


def _classification(element: dict, annotation_name: Any) -> str | None:
    label = element.get("label")
    label_value = label.get("value") if isinstance(label, dict) else None
    for value in (element.get("group"), label_value, annotation_name):
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None


def read_dsa(data: Any, label: str) -> list[dict]:
    """Every vector element as a feature; raster overlays (heatmap, pixelmap, ...) are left out."""
    features = []
    for a_index, annotation in enumerate(_annotations(data, label)):
        for e_index, element in enumerate(annotation.get("elements") or []):
            where = f"{label}: annotation {a_index} element {e_index}"
            kind = element.get("type") if isinstance(element, dict) else None
            kind = kind if isinstance(kind, str) else repr(kind)
            if kind in SKIPPED_TYPES:
                continue
            if kind not in _BUILDERS:
                raise g.AnnotationFormatError(f"{where}: unknown element type {str(kind)[:40]!r}.")
            color = g.rgb_from_css(element.get("lineColor")) or g.rgb_from_css(element.get("fillColor"))
            extra = {"dsaType": kind}
            if isinstance(element.get("id"), str):
                extra["dsaId"] = element["id"]
            label_obj = element.get("label")
            name = label_obj.get("value") if isinstance(label_obj, dict) and isinstance(label_obj.get("value"), str) else None
            geom = _BUILDERS[kind](element, where)
            if geom is None:
                continue   # no vertices: nothing to keep
            features.append(g.feature(geom, seed=f"dsa:{label}:{a_index}:{e_index}",
                                      classification=_classification(element, annotation.get("name")),
                                      color=color, name=name, extra=extra))
    return features
