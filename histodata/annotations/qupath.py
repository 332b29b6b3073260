"""QuPath GeoJSON of every version (0.2 / 0.3 / 0.4+) -> features in the 0.4+ shape.

Geometries are kept exactly (validated, never rewritten); properties are normalised: the object
type, the classification colour and the measurements take their current form.
"""
from __future__ import annotations

from typing import Any

from . import geometry as g

# QuPath 0.2 wrote the object class as the feature id.
OBJECT_TYPES_V02 = {"PathAnnotationObject": "annotation", "PathDetectionObject": "detection",
                    "PathCellObject": "cell", "PathTileObject": "tile", "TMACoreObject": "tma_core",
                    "PathRootObject": "root"}
GEOMETRY_DEPTH = {"Point": 1, "MultiPoint": 2, "LineString": 2, "MultiLineString": 3, "Polygon": 3,
                  "MultiPolygon": 4}


def looks_like_geojson(data: Any) -> bool:
    items = data if isinstance(data, list) else [data]
    first = items[0] if items else None
    kind = first.get("type") if isinstance(first, dict) else None
    return isinstance(kind, str) and (kind in ("Feature", "FeatureCollection", "GeometryCollection")
                                      or kind in GEOMETRY_DEPTH)


def _check_coordinates(value: Any, depth: int, where: str) -> None:
    if depth == 1:
        g.xy(value, where)
        return
    if not isinstance(value, list):
        raise g.AnnotationFormatError(f"{where}: malformed coordinates.")
    for item in value:
        _check_coordinates(item, depth - 1, where)


def check_geometry(geometry: Any, where: str, depth: int = 0) -> dict:
    """Validate a GeoJSON geometry (finite numbers, right nesting); returned unchanged."""
    if not isinstance(geometry, dict):
        raise g.AnnotationFormatError(f"{where}: a feature without a geometry object.")
    kind = geometry.get("type")
    kind = kind if isinstance(kind, str) else repr(kind)
    if kind == "GeometryCollection" and depth < 8:
        members = geometry.get("geometries")
        if not isinstance(members, list):
            raise g.AnnotationFormatError(f"{where}: a GeometryCollection without `geometries`.")
        for member in members:
            check_geometry(member, where, depth + 1)
        return geometry
    if kind not in GEOMETRY_DEPTH:
        raise g.AnnotationFormatError(f"{where}: unknown geometry type {str(kind)[:40]!r}.")
    _check_coordinates(geometry.get("coordinates"), GEOMETRY_DEPTH[kind], where)
    return geometry


def _features(data: Any, label: str) -> list[Any]:
    if isinstance(data, list):
        return data
    if isinstance(data, dict) and data.get("type") == "FeatureCollection" or (
            isinstance(data, dict) and "features" in data and "type" not in data):
        features = data.get("features")
        if not isinstance(features, list):
            raise g.AnnotationFormatError(f"{label}: a FeatureCollection without a `features` list.")
        return features
    if isinstance(data, dict) and isinstance(data.get("type"), str) and \
            data["type"] in GEOMETRY_DEPTH | {"GeometryCollection": 0}:
        return [{"type": "Feature", "geometry": data, "properties": {}}]
    return [data]


def _classification(value: Any) -> dict | None:
    if isinstance(value, str):
        return {"name": value}
    if not isinstance(value, dict):
        return None
    if not value.get("name") and not value.get("names"):
        return None   # `{"name": null}` as some writers emit: unclassified
    cls = {k: v for k, v in value.items() if k != "colorRGB"}
    if isinstance(value.get("colorRGB"), int) and "color" not in cls:
        cls["color"] = g.rgb_from_int(value["colorRGB"])
    if isinstance(cls.get("color"), int):
        cls["color"] = g.rgb_from_int(cls["color"])
    return cls


def _measurements(value: Any) -> Any:
    if isinstance(value, list):  # 0.2/0.3: [{name, value}]
        return {m["name"]: m.get("value") for m in value if isinstance(m, dict) and "name" in m}
    return value


def _object_type(feature: dict, properties: dict) -> str:
    for key in ("objectType", "object_type"):
        if isinstance(properties.get(key), str):
            return properties[key]
    if isinstance(feature.get("id"), str) and feature["id"] in OBJECT_TYPES_V02:
        return OBJECT_TYPES_V02[feature["id"]]
    if isinstance(properties.get("type"), str):
        return properties["type"]
    return "annotation"


def normalise_feature(feature: Any, index: int, label: str) -> dict:
    where = f"{label}: feature {index}"
    if not isinstance(feature, dict) or feature.get("type") not in ("Feature", None):
        raise g.AnnotationFormatError(f"{where}: not a GeoJSON Feature.")
    geometry = check_geometry(feature.get("geometry"), where)
    properties = feature.get("properties") or {}
    if not isinstance(properties, dict):
        raise g.AnnotationFormatError(f"{where}: `properties` must be an object.")
    props = {k: v for k, v in properties.items() if k not in ("object_type", "objectType")}
    props = {"objectType": _object_type(feature, properties), **props}
    if "classification" in props:
        props["classification"] = _classification(props["classification"])
        if props["classification"] is None:
            del props["classification"]
    if isinstance(props.get("color"), int):
        props["color"] = g.rgb_from_int(props["color"])
    if "measurements" in props:
        props["measurements"] = _measurements(props["measurements"])
    result = {"type": "Feature"}
    old_id = feature.get("id")
    result["id"] = old_id if isinstance(old_id, str) and old_id not in OBJECT_TYPES_V02 else \
        g.feature({}, seed=f"qupath:{label}:{index}")["id"]
    result["geometry"] = geometry
    if "nucleusGeometry" in feature:
        result["nucleusGeometry"] = check_geometry(feature["nucleusGeometry"], where + " nucleus")
    result["properties"] = props
    return result


def _as_feature(item: Any) -> Any:
    """A bare geometry inside a list becomes a feature without properties."""
    if isinstance(item, dict) and isinstance(item.get("type"), str) and \
            (item["type"] in GEOMETRY_DEPTH or item["type"] == "GeometryCollection"):
        return {"type": "Feature", "geometry": item, "properties": {}}
    return item


def read_qupath(data: Any, label: str) -> list[dict]:
    """Every feature normalised; features with a null geometry (allowed by GeoJSON, not by QuPath) are left out."""
    items = [_as_feature(f) for f in _features(data, label)]
    return [normalise_feature(f, i, label) for i, f in enumerate(items)
            if not (isinstance(f, dict) and "geometry" in f and f["geometry"] is None)]
