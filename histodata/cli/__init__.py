"""The `histodata` command: the top layer. Nothing in the package imports it.

`main` parses the arguments (`cli/parser.py`), sets up what a person sees on standard error (the
library logs through the `histodata` logger; here its messages become plain lines), runs the
command's handler from its module in this package, and turns expected failures into one paragraph
and an exit status, without a traceback.
"""
from __future__ import annotations

import importlib
import logging
import sys
import traceback

from ..console import emit_json
from ..errors import HistodataError
from ..redact import RedactingFilter, redact
from .parser import build_parser

__all__ = ["main", "build_parser"]


class MessageFormatter(logging.Formatter):
    """The library's messages as a person reads them: INFO as it is, WARNING and above prefixed."""

    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        return message if record.levelno < logging.WARNING else f"{record.levelname.lower()}: {message}"


def setup_logging(verbose: bool) -> None:
    """Messages (INFO and up) on standard error, redacted; `-v` adds the debug log and urllib3's."""
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(RedactingFilter())
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s") if verbose
                         else MessageFormatter())
    root = logging.getLogger("histodata")
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    if verbose:
        urllib3 = logging.getLogger("urllib3")
        urllib3.handlers[:] = [handler]
        urllib3.setLevel(logging.DEBUG)


def error_document(err: HistodataError) -> dict:
    """An expected failure as JSON: {"error": {"type", "message", "hint", "exit_code"}}."""
    return {"error": {"type": type(err).__name__, "message": err.message, "hint": err.hint,
                      "exit_code": err.exit_code}}


def run_handler(name: str, args) -> int:
    """Run `module:function` of histodata.cli (the module is imported only now)."""
    module_name, function = name.split(":")
    module = importlib.import_module(f"{__name__}.{module_name}")
    return getattr(module, function)(args)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    setup_logging(args.verbose)
    if not getattr(args, "handler", None):
        parser.print_help(sys.stderr)
        return 2
    try:
        return run_handler(args.handler, args)
    except HistodataError as err:
        print(f"error: {err}", file=sys.stderr)
        if getattr(args, "json", False) and not getattr(err, "json_reported", False):
            emit_json(error_document(err))     # a script reading stdout gets an answer too
        return err.exit_code
    except KeyboardInterrupt:
        print("interrupted; run the same command again to resume.", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except Exception as err:  # an unexpected failure: short message, details with -v
        if args.verbose:
            sys.stderr.write(redact(traceback.format_exc()))
        print(f"error: unexpected {type(err).__name__}: {redact(str(err))} "
              "(this is a bug; run with -v for details and report it)", file=sys.stderr)
        return 70


if __name__ == "__main__":
    sys.exit(main())
