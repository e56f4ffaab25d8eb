"""RVC's own model code (`infer_pack`: models, modules, attentions, commons), as published under
the MIT licence in the PyPI package `inferrvc` 1.0 (copyright liujing04, 源文雨, Ftps).

`inferrvc/__init__.py` imports its inference pipeline (fairseq, faiss, librosa, ...), so the
subpackage is loaded on its own, under the name `rvc_infer_pack`, without running that file.
"""

import importlib
import importlib.machinery
import importlib.util
import pathlib
import sys

NAME = "rvc_infer_pack"


def load():
    """Returns the `rvc_infer_pack` package with `commons`, `modules`, `attentions`, `models`."""
    if NAME in sys.modules:
        return sys.modules[NAME]
    spec = importlib.util.find_spec("inferrvc")
    if spec is None or spec.origin is None:
        raise ImportError("inferrvc is not installed: pip install --no-deps -r models/requirements-torch.txt")
    folder = pathlib.Path(spec.origin).parent / "infer_pack"
    pkg = importlib.util.module_from_spec(importlib.machinery.ModuleSpec(NAME, None, is_package=True))
    pkg.__path__ = [str(folder)]
    sys.modules[NAME] = pkg
    for sub in ("commons", "modules", "attentions", "models"):
        setattr(pkg, sub, importlib.import_module(f"{NAME}.{sub}"))
    return pkg
