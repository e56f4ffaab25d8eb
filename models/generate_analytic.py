"""Small ONNX models whose output is known exactly, for tests of the ONNX Runtime path.

Deterministic: the same script writes the same bytes. Usage:
    python models/generate_analytic.py --out .cache/models/analytic
"""

import argparse
import pathlib

import onnx
from onnx import TensorProto, helper

OPSET = 17
IR_VERSION = 8


def affine(scale: float, offset: float) -> onnx.ModelProto:
    """y = scale * x + offset over a [1, N] float tensor of any length N."""
    graph = helper.make_graph(
        nodes=[
            helper.make_node("Mul", ["x", "scale"], ["scaled"]),
            helper.make_node("Add", ["scaled", "offset"], ["y"]),
        ],
        name="affine",
        inputs=[helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, "N"])],
        outputs=[helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, "N"])],
        initializer=[
            helper.make_tensor("scale", TensorProto.FLOAT, [], [scale]),
            helper.make_tensor("offset", TensorProto.FLOAT, [], [offset]),
        ],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="rvc-live")
    model.ir_version = IR_VERSION
    model.metadata_props.add(key="rvc_live_analytic", value=f"y = {scale} * x + {offset}")
    onnx.checker.check_model(model)
    return model


def write_if_changed(path: pathlib.Path, data: bytes) -> None:
    if path.is_file() and path.read_bytes() == data:
        return
    path.write_bytes(data)
    print(f"wrote {path}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=pathlib.Path, required=True)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    write_if_changed(args.out / "affine.onnx", affine(0.5, 0.25).SerializeToString())


if __name__ == "__main__":
    main()
