"""`histodata registry validate|schema|lock`: check entries, print the format, pin providers' files."""
from __future__ import annotations

import sys
from pathlib import Path

from ..console import emit_json
from ..pinning import lock_entry
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


def lock(args) -> int:
    result = lock_entry(args.id, source_number=args.source, max_files=args.max_files)
    if args.write and result.changed:
        result.write()
    if args.json:
        emit_json({**result.as_dict(), "written": bool(args.write and result.changed)})
        return 0
    for source in result.sources:
        print(f"{result.dataset_id}: {source.summary()}", file=sys.stderr)
    if not result.changed:
        print(f"{result.path}: already up to date.", file=sys.stderr)
    elif args.write:
        print(f"{result.path}: written.", file=sys.stderr)
    else:
        sys.stdout.write(result.diff())
        print(f"Nothing written; run `histodata registry lock {result.dataset_id} --write` to save this "
              f"into {result.path}.", file=sys.stderr)
    return 0
