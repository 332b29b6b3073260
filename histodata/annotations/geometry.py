"""Build QuPath-compatible GeoJSON features (the one output shape of every annotation reader)."""
from __future__ import annotations

import math
import re
import uuid
from typing import Any, Iterable, Sequence

from ..errors import StandardizeError

_NAMESPACE = uuid.UUID("6f1c1a52-3a57-4b6e-9f0e-8f3bd1f0c0de")


class AnnotationFormatError(StandardizeError):
    """An annotation file could not be read: malformed, unsupported or not an annotation file."""


Point = tuple[float, float]


def number(value: Any, where: str) -> float:
    """A finite float, or AnnotationFormatError naming where the bad value was."""
    try:
        result = float(value)
    except (TypeError, ValueError, OverflowError):
        raise AnnotationFormatError(f"{where}: {value!r} is not a number.") from None
    if not math.isfinite(result):
        raise AnnotationFormatError(f"{where}: coordinate {value!r} is not finite.")
    return result


def xy(point: Sequence[Any], where: str) -> Point:
    """The x, y of a 2- or 3-element point (z dropped), as finite floats."""
    if not isinstance(point, (list, tuple)) or len(point) < 2:
        raise AnnotationFormatError(f"{where}: expected a point [x, y(, z)], got {str(point)[:60]!r}.")
    return number(point[0], where), number(point[1], where)


def ring(points: Sequence[Point], where: str) -> list[list[float]]:
    """A closed linear ring (first vertex repeated at the end if needed); every vertex kept."""
    coords = [[x, y] for x, y in points]
    if len(coords) >= 1 and coords[0] != coords[-1]:
        coords.append(list(coords[0]))
    if len(coords) < 4:
        raise AnnotationFormatError(f"{where}: a polygon needs at least 3 distinct vertices "
                                    f"(got {len(points)}).")
    return coords


def polygon(points: Sequence[Point], where: str, holes: Iterable[Sequence[Point]] = ()) -> dict:
    return {"type": "Polygon", "coordinates": [ring(points, where)] + [ring(h, where) for h in holes]}


def closed_shape(points: Sequence[Point], where: str, holes: Iterable[Sequence[Point]] = ()) -> dict | None:
    """A polygon, degraded like a drawing tool would show it when it has too few vertices:
    2 distinct vertices -> a line, 1 -> a point, none -> None (nothing to keep)."""
    distinct = list(points[:-1]) if len(points) > 1 and points[0] == points[-1] else list(points)
    if len(distinct) >= 3:
        return polygon(points, where, holes)
    if len(distinct) == 2:
        return line(distinct, where)
    return point(distinct[0]) if distinct else None


def open_shape(points: Sequence[Point], where: str) -> dict | None:
    """A line; 1 vertex -> a point, none -> None."""
    if len(points) >= 2:
        return line(points, where)
    return point(points[0]) if points else None


def line(points: Sequence[Point], where: str) -> dict:
    if len(points) < 2:
        raise AnnotationFormatError(f"{where}: a line needs at least 2 vertices (got {len(points)}).")
    return {"type": "LineString", "coordinates": [[x, y] for x, y in points]}


def point(p: Point) -> dict:
    return {"type": "Point", "coordinates": [p[0], p[1]]}


def multipoint(points: Sequence[Point], where: str) -> dict:
    if not points:
        raise AnnotationFormatError(f"{where}: a point set without points.")
    return {"type": "MultiPoint", "coordinates": [[x, y] for x, y in points]}


def ellipse(cx: float, cy: float, rx: float, ry: float, rotation: float = 0.0, n: int = 64) -> list[Point]:
    """Vertices of an ellipse (QuPath also exports ellipses as polygons)."""
    cos, sin = math.cos(rotation), math.sin(rotation)
    out = []
    for i in range(n):
        t = 2 * math.pi * i / n
        x, y = rx * math.cos(t), ry * math.sin(t)
        out.append((cx + x * cos - y * sin, cy + x * sin + y * cos))
    return out


def rectangle(cx: float, cy: float, width: float, height: float, rotation: float = 0.0) -> list[Point]:
    cos, sin = math.cos(rotation), math.sin(rotation)
    corners = [(-width / 2, -height / 2), (width / 2, -height / 2), (width / 2, height / 2), (-width / 2, height / 2)]
    return [(cx + x * cos - y * sin, cy + x * sin + y * cos) for x, y in corners]


# ----------------------------------------------------------------------------- colours
def rgb_from_int(value: int) -> list[int]:
    """A signed or unsigned 0xRRGGBB integer (QuPath colorRGB) as [r, g, b]."""
    value = int(value) & 0xFFFFFF
    return [(value >> 16) & 255, (value >> 8) & 255, value & 255]


def rgb_from_colorref(value: int) -> list[int]:
    """A Windows COLORREF 0x00BBGGRR (Aperio LineColor) as [r, g, b]."""
    value = int(value) & 0xFFFFFF
    return [value & 255, (value >> 8) & 255, (value >> 16) & 255]


_CSS_RGB = re.compile(r"^rgba?\(\s*([\d.]+)\s*,\s*([\d.]+)\s*,\s*([\d.]+)")


def rgb_from_css(text: Any) -> list[int] | None:
    """'#RRGGBB', '#RGB', 'rgb(...)', 'rgba(...)' as [r, g, b]; None when not a colour."""
    if not isinstance(text, str):
        return None
    text = text.strip()
    if re.fullmatch(r"#[0-9a-fA-F]{6}", text):
        return [int(text[i:i + 2], 16) for i in (1, 3, 5)]
    if re.fullmatch(r"#[0-9a-fA-F]{3}", text):
        return [int(c * 2, 16) for c in text[1:]]
    match = _CSS_RGB.match(text)
    if match:
        return [max(0, min(255, int(float(v)))) for v in match.groups()]
    return None


# ----------------------------------------------------------------------------- features
def feature(geometry: dict, *, seed: str, classification: str | list[str] | None = None,
            color: list[int] | None = None, name: str | None = None, object_type: str = "annotation",
            extra: dict | None = None, feature_id: str | None = None) -> dict:
    """A QuPath 0.4+ style Feature. `seed` makes the id deterministic (same input, same output)."""
    properties: dict[str, Any] = {"objectType": object_type}
    if classification:
        names = classification if isinstance(classification, list) else [classification]
        cls: dict[str, Any] = {"name": ": ".join(names)} if len(names) > 1 else {"name": names[0]}
        if len(names) > 1:
            cls["names"] = names
        if color:
            cls["color"] = color
        properties["classification"] = cls
    if name:
        properties["name"] = name
    if color:
        properties["color"] = color
    properties["isLocked"] = False
    if extra:
        properties.update(extra)
    return {"type": "Feature", "id": feature_id or str(uuid.uuid5(_NAMESPACE, seed)),
            "geometry": geometry, "properties": properties}


def feature_collection(features: list[dict]) -> dict:
    return {"type": "FeatureCollection", "features": features}
