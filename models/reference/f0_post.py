"""RVC's pitch post-processing, executed from RVC's own published code (inferrvc, MIT).

`inferrvc.pipeline` cannot be imported here (it needs parselmouth, pyworld and huggingface_hub,
which are not installed), so this reads `Pipeline.get_f0` from its source with `ast` and runs its
own statements: the 50/1100 Hz range, the shift `f0 *= pow(2, f0_up_key / 12)`, and the coarse mel
mapping from `f0bak = f0.copy()` to the return. Prints JSON: for each shift, the input f0 sweep,
the shifted f0 and the coarse pitch, for the Rust parity test.

    .cache/venv-models/bin/python models/reference/f0_post.py
"""

import ast
import importlib.util
import json
import pathlib

import numpy as np


def rvc_get_f0_statements() -> tuple[list[ast.stmt], ast.stmt, list[ast.stmt]]:
    source = pathlib.Path(importlib.util.find_spec("inferrvc").origin).parent.joinpath("pipeline.py").read_text()
    tree = ast.parse(source)
    get_f0 = next(n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name == "get_f0")
    body = get_f0.body
    text = [ast.unparse(s) for s in body]
    # The range constants at the top of the function.
    setup = [s for s, t in zip(body, text) if t.startswith(("f0_min", "f0_max", "f0_mel_min", "f0_mel_max"))]
    shift = next(s for s, t in zip(body, text) if t.startswith("f0 *= pow(2, f0_up_key / 12)"))
    start = next(i for i, t in enumerate(text) if t.startswith("f0bak = f0.copy()"))
    return setup, shift, body[start:]


def rvc_post(f0: np.ndarray, f0_up_key: float) -> tuple[np.ndarray, np.ndarray]:
    setup, shift, tail = rvc_get_f0_statements()
    module = ast.Module(
        body=[
            ast.FunctionDef(
                name="post",
                args=ast.arguments(posonlyargs=[], args=[ast.arg("f0"), ast.arg("f0_up_key")], kwonlyargs=[],
                                   kw_defaults=[], defaults=[]),
                body=setup + [shift] + tail,
                decorator_list=[],
                returns=None,
                type_params=[],
            )
        ],
        type_ignores=[],
    )
    namespace = {"np": np}
    exec(compile(ast.fix_missing_locations(module), "rvc_get_f0", "exec"), namespace)
    coarse, shifted = namespace["post"](f0.astype(np.float64).copy(), f0_up_key)
    return shifted, coarse


def main() -> None:
    # Unvoiced, below, inside and above RVC's range, densely enough to hit every coarse step.
    sweep = np.concatenate([[0.0], np.geomspace(20.0, 3000.0, 4000)]).astype(np.float32)
    cases = []
    for key in (-24.0, -12.0, -7.5, -0.25, 0.0, 3.0, 12.0, 19.37):
        shifted, coarse = rvc_post(sweep, key)
        cases.append({"semitones": key, "f0": sweep.tolist(), "shifted": shifted.tolist(), "coarse": coarse.tolist()})
    print(json.dumps(cases))


if __name__ == "__main__":
    main()
