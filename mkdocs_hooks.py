"""MkDocs hooks: generate the catalog, dataset, notes, standardizers and CLI pages (and each dataset's
Croissant file) at build time."""
from __future__ import annotations

import os

from mkdocs.structure.files import File


def on_files(files, config):
    os.environ.setdefault("COLUMNS", "100")  # stable --help wrapping in the CLI page
    from pathlib import Path

    from histodata import docsgen
    from histodata.cli import build_parser
    from histodata.registry.loader import load_folder

    # The registry of the checkout being built (not whichever histodata is installed).
    folder = Path(config.config_file_path).resolve().parent / "registry"
    entries = sorted(load_folder(folder), key=lambda e: e["id"])
    pages = {
        "catalog/index.md": docsgen.catalog_page(entries),
        "catalog-notes.md": docsgen.catalog_notes_page(entries),
        "cli.md": docsgen.cli_page(build_parser()),
        "standardizers.md": docsgen.standardizers_page(),
        "catalog.json": docsgen.catalog_json(entries),
    }
    pages.update({f"datasets/{e['id']}/index.md": docsgen.dataset_page(e) for e in entries})
    pages.update({f"datasets/{e['id']}/{docsgen.CROISSANT_FILE}": docsgen.croissant_text(e) for e in entries})
    for src_uri, content in pages.items():
        existing = files.get_file_from_path(src_uri)
        if existing is not None:
            files.remove(existing)
        files.append(File.generated(config, src_uri, content=content))
    return files
