"""The ``chainrule`` command: one module per sub-command, assembled by :mod:`.main`.

Each command module defines ``NAME``, ``HELP``, ``add_arguments(parser)`` and ``run(args) ->
int`` and imports nothing heavy at module level, so that ``chainrule --help`` stays fast.
"""

from chainrule.cli.main import main

__all__ = ["main"]
