"""``chainrule``'s entry point: the parser, assembled from the command modules, and the error
handling every command shares.

Exit status: 0 on success, 1 on an error (one line, ``chainrule CMD: error: ...``; the
traceback only under ``--debug``), 2 on bad usage (argparse), 130 on Ctrl-C. A warning is one
line too, ``chainrule CMD: warning: ...`` (as Python shows it under ``--debug``).
"""

from __future__ import annotations

import argparse
import difflib
import importlib
import os
import re
import sys
import warnings

from chainrule.cli.common import debug_parent

#: the command modules of ``chainrule.cli``, in the order ``--help`` lists them; adding a
#: command is adding its module's name here
COMMANDS = [
    "train",
    "predict",
    "evaluate",
    "explain",
    "plot",
    "demo",
    "calc",
    "export",
    "playground",
    "data",
]

#: exit status after Ctrl-C (128 + SIGINT), as a shell reports it
INTERRUPTED = 130

# errors whose own message says what went wrong; any other exception is named by its type
_PLAIN = (ValueError, TypeError, OSError, RuntimeError, ImportError)


class CommandParser(argparse.ArgumentParser):
    """A sub-command's parser: an argument it does not know is an error that shows the
    sub-command's own usage and names the nearest flag (``--hiden``: did you mean
    ``--hidden``?), rather than the top-level usage."""

    def parse_known_args(self, args=None, namespace=None):
        namespace, extras = super().parse_known_args(args, namespace)
        if extras:
            self.error(unrecognized(extras, self))
        return namespace, extras


def unrecognized(extras: list[str], parser: argparse.ArgumentParser) -> str:
    """The error for arguments ``parser`` does not know, with the nearest of its flags."""
    message = f"unrecognized arguments: {' '.join(extras)}"
    flags = re.findall(r"(?<![\w-])--?\w[\w-]*", parser.format_help())
    for extra in extras:
        if extra.startswith("-"):
            near = difflib.get_close_matches(extra.split("=")[0], flags, n=1)
            if near:
                return f"{message} (did you mean {near[0]}?)"
    return message


def build_parser() -> argparse.ArgumentParser:
    """The ``chainrule`` parser, with one sub-parser per module in :data:`COMMANDS`."""
    common = debug_parent()
    parser = argparse.ArgumentParser(
        prog="chainrule",
        description="Multi-layer perceptrons trained by backpropagation.",
        parents=[common],
    )
    sub = parser.add_subparsers(
        dest="command", required=True, metavar="COMMAND", parser_class=CommandParser
    )
    for name in COMMANDS:
        module = importlib.import_module(f"chainrule.cli.{name}")
        command = sub.add_parser(
            module.NAME, parents=[common], help=module.HELP, description=module.HELP
        )
        module.add_arguments(command)
        command.set_defaults(run=module.run)
    return parser


def error_line(error: BaseException) -> str:
    """An exception as one line: its message's first line, its type where that says more."""
    text = str(error).strip()
    first = text.splitlines()[0] if text else ""
    if isinstance(error, MemoryError):
        return f"not enough memory{': ' + first if first else ''}"
    if isinstance(error, OSError) and error.strerror and error.filename is not None:
        return f"{error.filename}: {error.strerror[:1].lower()}{error.strerror[1:]}"
    if isinstance(error, _PLAIN) and first:
        return first
    return f"{type(error).__name__}{': ' + first if first else ''} (--debug shows the traceback)"


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    try:
        args = build_parser().parse_args(argv)
    except KeyboardInterrupt:
        print("chainrule: interrupted", file=sys.stderr)
        return INTERRUPTED
    show = warnings.showwarning
    if not args.debug:
        warnings.showwarning = _warning_line(args.command)
    try:
        return args.run(args)
    except KeyboardInterrupt:
        if args.debug:
            raise
        print(f"chainrule {args.command}: interrupted", file=sys.stderr)
        return INTERRUPTED
    except BrokenPipeError:  # the reader of our output went away (e.g. `| head`)
        sys.stdout = open(os.devnull, "w")
        return 1
    except Exception as e:
        if args.debug:
            raise
        print(f"chainrule {args.command}: error: {error_line(e)}", file=sys.stderr)
        return 1
    finally:
        warnings.showwarning = show


def _warning_line(command: str):
    """A ``warnings.showwarning`` that prints a warning's first line, as errors are printed."""

    def show(message, category, filename, lineno, file=None, line=None) -> None:
        text = str(message).strip()
        text = text.splitlines()[0] if text else category.__name__
        print(f"chainrule {command}: warning: {text}", file=sys.stderr if file is None else file)

    return show


if __name__ == "__main__":
    sys.exit(main())
