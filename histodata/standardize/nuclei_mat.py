"""Shared by `consep` and `lizard`: `.mat` label files into type and instance masks."""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import StandardizeError
from .optional import require

if TYPE_CHECKING:
    import numpy as np


def load_mat(path: Path) -> dict:
    scipy_io = require("scipy.io", "mat")
    try:
        return scipy_io.loadmat(str(path))
    except (ValueError, OSError, NotImplementedError, TypeError) as err:
        raise StandardizeError(f"cannot read {path.name} as a MATLAB file ({err}).",
                               "The file may be incomplete; fetch it again.") from err


def type_map_from_instances(inst_map: np.ndarray, ids: np.ndarray, classes: np.ndarray) -> np.ndarray:
    """Per-pixel classes from an instance map and explicit (id, class) pairs (Lizard)."""
    import numpy as np  # heavy: imported when a dataset is standardized, not with the catalog

    ids, classes = np.asarray(ids).reshape(-1).astype(np.int64), np.asarray(classes).reshape(-1).astype(np.int64)
    lookup = np.zeros(int(max(inst_map.max(), ids.max(initial=0))) + 1, dtype=np.uint8)
    lookup[ids] = classes
    return lookup[inst_map.astype(np.int64)]
