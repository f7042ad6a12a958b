"""``chainrule export MODEL -o model.onnx``: a saved model as an ONNX file, written through
the same safe writer as model files."""

from __future__ import annotations

import argparse

from chainrule.cli.common import check_outputs, model_argument, model_path

NAME = "export"
HELP = "write a saved model as an ONNX file (needs chainrule[onnx])"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    model_argument(parser)
    parser.add_argument(
        "-o",
        "--output",
        metavar="PATH",
        help="the ONNX file to write (default: the model file's name with .onnx)",
    )
    parser.add_argument(
        "--opset", type=int, default=None, help="the ONNX opset (13 or later; default 17)"
    )


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from chainrule.persistence import DEFAULT_MAX_BYTES, atomic_write, load

    try:
        from chainrule.export import to_onnx
    except ImportError as e:  # onnx is an optional dependency
        raise ImportError(
            f'chainrule export needs the onnx package ({e}); pip install "chainrule[onnx]"'
        ) from e
    source = model_path(args.model)
    target = Path(args.output) if args.output else source.with_suffix(".onnx")
    if not target.parent.is_dir():
        raise FileNotFoundError(f"the output's folder {target.parent} does not exist")
    check_outputs([target], inputs=[source])  # before converting
    onnx_model = to_onnx(load(source, max_bytes=DEFAULT_MAX_BYTES), target_opset=args.opset)
    data = onnx_model.SerializeToString()
    with atomic_write(target) as f:  # a failed export leaves an old file whole
        f.write(data)
    graph = onnx_model.graph
    print(
        f"wrote {target} ({len(data):,} bytes): input {graph.input[0].name}, "
        f"outputs {', '.join(output.name for output in graph.output)}"
    )
    return 0
