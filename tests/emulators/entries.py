"""Registry entries (YAML text) for datasets served by the emulators, for `extra_registry`."""
from __future__ import annotations

import json


def entry_yaml(entry_id: str, *sources: dict, access: str = "open", instructions: str | None = None,
               **fields) -> str:
    """A minimal valid entry whose `sources` are the given dicts (written as JSON, which is YAML)."""
    document = {"id": entry_id, "name": f"Test dataset {entry_id}", "organs": ["breast"], "stains": ["h&e"],
                "tasks": ["classification"], "modality": "patch", "license": "CC-BY-4.0", "access": access,
                "sources": list(sources), **fields}
    if instructions:
        document["instructions"] = instructions
    lines = [f"id: {document.pop('id')}"]   # bare: conftest's write_entry names the file after it
    return "\n".join(lines + [f"{key}: {json.dumps(value)}" for key, value in document.items()])
