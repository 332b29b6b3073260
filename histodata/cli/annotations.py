"""`histodata annotations convert IN OUT`."""
from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

from ..annotations import detect_format, read_annotations, write_geojson
from ..annotations.geometry import AnnotationFormatError


def convert(args) -> int:
    source = Path(args.input)
    try:
        kind, _ = detect_format(source.read_bytes(), source.name)
    except OSError as err:
        raise AnnotationFormatError(f"cannot read {source}: {err.strerror or err}.",
                                    "Check the path.") from err
    features = read_annotations(source)
    write_geojson(features, args.output)
    kinds = Counter(f["geometry"]["type"] for f in features)
    classes = Counter((f["properties"].get("classification") or {}).get("name", "unclassified")
                      for f in features)
    summary = ", ".join(f"{n} {k}" for k, n in sorted(kinds.items())) or "no objects"
    print(f"{source.name} ({kind}): {summary}; classes: "
          f"{', '.join(f'{c} ({n})' for c, n in sorted(classes.items())) or 'none'} -> {args.output}",
          file=sys.stderr)
    return 0
