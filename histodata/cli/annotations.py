"""`histodata annotations convert IN OUT`."""
from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

from ..annotations import detect_format, read_annotations, write_geojson
from ..annotations.geometry import AnnotationFormatError


def output_path(source: Path, output: str) -> Path:
    """OUT as given, or `<folder>/<IN's stem>.geojson` for a folder; never the input itself."""
    target = Path(output)
    if target.is_dir() or output.endswith(("/", "\\")):
        target = target / f"{source.stem}.geojson"
    if target.exists() and source.exists() and target.resolve() == source.resolve():
        raise AnnotationFormatError(f"{output} is the input file; converting would overwrite it.",
                                    "Give another OUT, e.g. a .geojson file or a folder.")
    return target


def convert(args) -> int:
    source = Path(args.input)
    output = output_path(source, args.output)
    try:
        kind, _ = detect_format(source.read_bytes(), source.name)
    except OSError as err:
        raise AnnotationFormatError(f"cannot read {source}: {err.strerror or err}.",
                                    "Check the path.") from err
    features = read_annotations(source)
    output.parent.mkdir(parents=True, exist_ok=True)
    write_geojson(features, output)
    kinds = Counter(f["geometry"]["type"] for f in features)
    classes = Counter((f["properties"].get("classification") or {}).get("name", "unclassified")
                      for f in features)
    summary = ", ".join(f"{n} {k}" for k, n in sorted(kinds.items())) or "no objects"
    print(f"{source.name} ({kind}): {summary}; classes: "
          f"{', '.join(f'{c} ({n})' for c, n in sorted(classes.items())) or 'none'} -> {output}",
          file=sys.stderr)
    return 0
