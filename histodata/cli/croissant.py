"""`histodata croissant ID [-o FILE] [--root DIR]`: Croissant 1.0 JSON-LD of an entry (and of its
local standardized dataset, when there is one)."""
from __future__ import annotations

import sys
from pathlib import Path

from ..croissant import dataset_croissant
from ..errors import HistodataError


def croissant(args) -> int:
    output = Path(args.output) if args.output else None
    result = dataset_croissant(args.id, args.root, folder=output.parent if output else None)
    text = result.text() + "\n"
    if output is None:
        sys.stdout.write(text)
    else:
        try:
            output.write_text(text, encoding="utf-8")
        except OSError as err:
            raise HistodataError(f"cannot write {output}: {err.strerror or err}.",
                                 "Choose another -o FILE (its folder must exist and be writable).") from None
        print(f"wrote {output}", file=sys.stderr)
    result.warn(args.id)
    return 0
