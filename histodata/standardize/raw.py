"""`raw`: no specific standardizer fits yet; every raw file is listed as one sample.

Options: reason (why, shown in the docs), extract: false (true: extract archives and list
their members instead).
"""
from __future__ import annotations

from .base import Context, Result


def standardize(ctx: Context) -> Result:
    inputs = ctx.inputs() if ctx.option("extract", False) else [(p, ctx.raw_name(p)) for p in ctx.raw_files()]
    rows = [{"sample_id": ctx.rel(path).split("/", 1)[1], "image": ctx.rel(path), "source": source,
             "bytes": path.stat().st_size} for path, source in inputs]
    return Result(rows, {}, {"reason": ctx.option("reason")} if ctx.option("reason") else {})
