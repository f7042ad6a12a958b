"""``chainrule export MODEL -o model.onnx``: a saved model as an ONNX file."""

from __future__ import annotations

import argparse

NAME = "export"
HELP = "write a saved model as an ONNX file (needs chainrule[onnx])"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model", metavar="MODEL", help="a model file saved by chainrule")
    parser.add_argument(
        "-o", "--output", metavar="PATH", help="the ONNX file to write (default: MODEL.onnx)"
    )
    parser.add_argument(
        "--opset", type=int, default=None, help="the ONNX opset (13 or later; default 17)"
    )


def run(args: argparse.Namespace) -> int:
    import os
    import tempfile
    from pathlib import Path

    from chainrule.persistence import load

    try:
        from chainrule.export import to_onnx
    except ImportError as e:  # onnx is an optional dependency
        raise ImportError(
            f"chainrule export needs the onnx package ({e}); pip install 'chainrule[onnx]'"
        ) from e
    source = Path(args.model)
    target = Path(args.output) if args.output else source.with_suffix(".onnx")
    if not target.parent.is_dir():
        raise FileNotFoundError(f"the output's folder {target.parent} does not exist")
    onnx_model = to_onnx(load(source), target_opset=args.opset)
    data = onnx_model.SerializeToString()
    # write next to the target, then rename: a failed export leaves an old file whole
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, target)
    except BaseException:
        os.unlink(tmp)
        raise
    graph = onnx_model.graph
    print(
        f"wrote {target} ({len(data):,} bytes): input {graph.input[0].name}, "
        f"outputs {', '.join(output.name for output in graph.output)}"
    )
    return 0
