"""What ``chainrule train`` checks before it trains, so that no fit is thrown away at the end:
the run folder (not an old run, unless ``--force`` or ``--resume``; no output is an input),
that the model file can hold what it must record, and the data (with a hint where a CSV
file's target is likely not its last column). numpy and the persistence layer are imported
inside the functions."""

from __future__ import annotations

import csv
import io
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
#: bytes of ``meta.json`` that a model takes besides the data's description: measured 2,808
#: for one hidden layer and 53 more per layer (parameters, layers, array records), for
#: `chainrule train --data digits`; this is about twice that
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
    check_outputs([*paths, *([args.resume] if args.resume else [])], inputs=[data])
    return paths[0], paths[1]


def load_data(args, load):
    """``load(args.data, target=args.target)``; where a CSV file fails and ``--target`` was
    not given, the error says how to name the target when its first column looks like one."""
    try:
        data = load(args.data, target=args.target)
    except ValueError as e:
        first = _first_column(args)
        if first is not None and f"'{first}'" in str(e):
            raise ValueError(f"{e}; {_target_hint(first)}") from e
        raise
    first = _first_column(args, data)
    if first is not None and first.lower() in TARGET_NAMES:
        print(f"chainrule train: note: {_target_hint(first)}", file=sys.stderr)
    return data


def _first_column(args, data=None) -> str | None:
    """The first column of a CSV file trained on without ``--target``, else None. Only a
    regular file is opened, and only its first :data:`HEADER_BYTES` bytes are read."""
    if args.target is not None or args.data in datasets.BUILTIN or Path(args.data).is_dir():
        return None
    if data is not None:
        return data.feature_names[0]
    if args.data == datasets.STDIN or not Path(args.data).is_file():
        return None
    try:
        with open(args.data, "rb") as f:
            start = f.read(HEADER_BYTES).decode("utf-8-sig", errors="replace")
        header = next(csv.reader(io.StringIO(start, newline="")), None)
    except (OSError, csv.Error):
        return None
    return header[0].strip() if header else None


def _target_hint(first: str) -> str:
    return (
        f"the target is the last column unless --target names another: if it is the first "
        f"column, pass --target {shlex.quote(first)}"
    )


def check_savable(info: dict, n_layers: int) -> None:
    """Refuse, before training, a model that could not be saved: its ``meta.json`` over the
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
