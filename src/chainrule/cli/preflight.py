"""What ``chainrule train`` checks before it trains, so that no fit is thrown away at the end:
the run folder (not an old run, unless ``--force`` or ``--resume``; no output is an input, the
``--validation`` file included),
that the model file can hold what it must record, and the data (with a hint where a CSV
file's target is likely not its last column). numpy and the persistence layer are imported
inside the functions."""

from __future__ import annotations

import csv
import io
import itertools
import json
import shlex
import sys
from pathlib import Path

from chainrule import datasets
from chainrule.cli.common import MODEL_FILE, check_outputs

#: the plot of the loss curve inside a run folder
PLOT_FILE = "loss.png"
#: column names that usually hold a target; a CSV file whose first column has one gets a hint
TARGET_NAMES = frozenset({"target", "label", "labels", "class", "y", "species", "outcome"})
#: the bytes of a CSV file read for the name of its first column
HEADER_BYTES = 65536
#: bytes of a model file's meta that a model takes besides the data's description: measured
#: 2,808 for one hidden layer and 53 more per layer (parameters, layers, array records), for
#: `chainrule train --data digits` in format 1 (indented JSON); this is about twice that, and
#: format 2's compact JSON takes less (`tests/cli/test_common.py` holds it to saved files)
META_ROOM_BASE, META_ROOM_PER_LAYER = 6144, 128


def run_folder(args) -> tuple[Path, Path]:
    """The model and plot paths in ``--out``, checked (and the folder made) before training.

    A folder that holds a run already is not replaced without ``--force`` (``--resume``
    continues it); no output may be the data or another output.
    """
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise NotADirectoryError(f"--out {out} is a file; give a folder for the run's outputs")
    paths = [out / MODEL_FILE, out / PLOT_FILE]
    old = [p.name for p in paths if p.exists() or p.is_symlink()]
    if old and not (args.force or args.resume):
        raise FileExistsError(
            f"{out} holds a run already ({', '.join(old)}): pass --force to replace it, or "
            "--out to name a new folder"
        )
    out.mkdir(parents=True, exist_ok=True)
    data = None if args.data in datasets.BUILTIN else args.data
    validation = getattr(args, "validation", None)
    check_outputs([*paths, *([args.resume] if args.resume else [])], inputs=[data, validation])
    return paths[0], paths[1]


def load_data(args, load):
    """``load(args.data, target=args.target)``. Without ``--target``, a CSV file whose first
    column holds labels (its error names that column) or has a target's name (``label``, ...)
    gets a hint to name the target, which is otherwise the last column."""
    try:
        data = load(args.data, target=args.target)
    except ValueError as e:
        name, cell = _first_column(args)
        if name is not None and f"'{name}'" in str(e) and not datasets.is_number(cell):
            raise ValueError(f"{e}; {_target_hint(name)}") from e
        raise
    if _untargeted_csv(args) and data.feature_names[0].lower() in TARGET_NAMES:
        print(f"chainrule train: note: {_target_hint(data.feature_names[0])}", file=sys.stderr)
    return data


def _untargeted_csv(args) -> bool:
    """Whether ``train`` reads a CSV file (or standard input) without ``--target``."""
    builtin_or_folder = args.data in datasets.BUILTIN or Path(args.data).is_dir()
    return args.target is None and not builtin_or_folder


def _first_column(args) -> tuple[str | None, str]:
    """The name and the first cell of the first column of a CSV file read without
    ``--target`` (None where there is none). Only a regular file is opened, and only its first
    :data:`HEADER_BYTES` bytes are read."""
    if not _untargeted_csv(args) or not Path(args.data).is_file():
        return None, ""
    try:
        with open(args.data, "rb") as f:
            start = f.read(HEADER_BYTES).decode("utf-8-sig", errors="replace")
        rows = list(itertools.islice(csv.reader(io.StringIO(start, newline="")), 2))
    except (OSError, csv.Error):
        return None, ""
    if not rows or not rows[0]:
        return None, ""
    return rows[0][0].strip(), rows[1][0] if len(rows) > 1 and rows[1] else ""


def _target_hint(first: str) -> str:
    return (
        f"the target is the last column unless --target names another: if it is the first "
        f"column, pass --target {shlex.quote(first)}"
    )


def check_savable(info: dict, n_layers: int) -> None:
    """Refuse, before training, a model that could not be saved: its meta over the
    limit (:func:`chainrule.persistence.check_meta`), e.g. with 260,000 long column names.
    ``n_layers``: the network's layers of weights."""
    from chainrule.persistence import check_meta

    room = META_ROOM_BASE + META_ROOM_PER_LAYER * n_layers
    try:
        check_meta({"kind": "Standardized", "info": info}, room=room)
    except ValueError as e:
        names = len(json.dumps(info.get("features", [])))
        raise ValueError(
            f"the model could not be saved: {e} ({len(info.get('features', []))} feature "
            f"names take {names} bytes of it); shorten the column names"
        ) from None
