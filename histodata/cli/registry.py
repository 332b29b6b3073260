"""`histodata registry validate|schema`: check entries, print the format."""
from __future__ import annotations

import sys
from pathlib import Path

from ..console import emit_json
from ..registry.loader import builtin_dir, validate_folder


def validate(args) -> int:
    folder = Path(args.dir) if args.dir else builtin_dir()
    entries, problems = validate_folder(folder)
    if args.json:
        emit_json({"folder": str(folder), "valid": len(entries), "problems": [p.__dict__ for p in problems]})
    elif problems:
        for problem in problems:
            print(problem, file=sys.stderr)
        print(f"{len(problems)} problem(s) in {folder}; {len(entries)} valid entries.", file=sys.stderr)
    else:
        print(f"{folder}: {len(entries)} entries, all valid.", file=sys.stderr)
    return 1 if problems else 0


def schema(args) -> int:
    from ..registry.models import Entry  # heavy: the pydantic models, imported on first use

    emit_json(Entry.model_json_schema(by_alias=True))
    return 0
