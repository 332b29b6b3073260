"""What exists: the registry of datasets (format, loader, search)."""
