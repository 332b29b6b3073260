"""Rasterise polygons into label or instance masks (rule: a pixel is inside when its centre is)."""
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np


def burn(mask: np.ndarray, geometry, value: int) -> int:
    """Set the pixels of `mask` whose centre lies inside `geometry` (holes respected) to `value`.

    Returns how many pixels were set. Later calls overwrite earlier ones (later objects win).
    """
    import numpy as np  # heavy: imported when a mask is drawn (the standardizer catalog imports this module)
    import shapely

    if geometry.is_empty:
        return 0
    minx, miny, maxx, maxy = geometry.bounds
    height, width = mask.shape[:2]
    x0, y0 = max(int(np.floor(minx)), 0), max(int(np.floor(miny)), 0)
    x1, y1 = min(int(np.ceil(maxx)), width), min(int(np.ceil(maxy)), height)
    if x1 <= x0 or y1 <= y0:
        return 0
    ys, xs = np.mgrid[y0:y1, x0:x1]
    inside = shapely.contains_xy(geometry, xs + 0.5, ys + 0.5)
    mask[y0:y1, x0:x1][inside] = value
    return int(inside.sum())


def instance_mask(features: list[dict], shape: tuple[int, int], dtype="int32") -> np.ndarray:
    """An instance map: the n-th polygon feature gets id n (1-based); 0 is background."""
    import numpy as np  # heavy: imported when a mask is drawn
    from shapely.geometry import shape as to_shape

    mask = np.zeros(shape, dtype=dtype)
    instance = 0
    for feature in features:
        if feature["geometry"]["type"] not in ("Polygon", "MultiPolygon"):
            continue
        instance += 1
        burn(mask, to_shape(feature["geometry"]).buffer(0), instance)
    return mask
