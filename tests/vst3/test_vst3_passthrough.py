"""Where nothing converts, stereo stays stereo in pedalboard too: with no voice, in bypass and at
dry/wet 0 %, each output channel is its own input channel. pedalboard compensates the reported
latency, so the output must equal the input sample for sample. The channels are uncorrelated
noise: a mono downmix is off by about the signal itself.
"""

import json

import numpy as np
import pytest

from conftest import WORKSPACE
from juce_state import plugin_state, with_plugin_state

SAMPLE_RATE = 48_000


def analytic(name: str) -> str:
    path = WORKSPACE / ".cache" / "models" / "analytic" / name
    if not path.is_file():
        pytest.fail(f"{path} is missing: run `cargo xtask models` (or `cargo xtask test`)")
    return str(path)


def stereo_noise(seconds: float = 1.5) -> np.ndarray:
    rng = np.random.default_rng(41)
    return rng.uniform(-0.5, 0.5, (2, int(seconds * SAMPLE_RATE))).astype(np.float32)


def choose_analytic_voice(plugin) -> None:
    """The analytic voice (a sine at the tracked pitch), chosen through the plugin's saved state."""
    state = plugin_state(plugin.raw_state)
    state["fields"]["voice"] = json.dumps({
        "synthesizer": analytic("analytic_synth_v2_40k.onnx"),
        "content_encoder": analytic("analytic_content_units.onnx"),
        "pitch_model": None,
        "index": None,
        "speaker_id": 0,
    })
    plugin.raw_state = with_plugin_state(plugin.raw_state, state)
    assert json.loads(plugin_state(plugin.raw_state)["fields"]["voice"])["synthesizer"].endswith(
        "analytic_synth_v2_40k.onnx")


def assert_each_channel_passes_through(y: np.ndarray, x: np.ndarray) -> None:
    assert y.shape == x.shape
    assert np.isfinite(y).all()
    downmix = np.allclose(y, x.mean(axis=0, keepdims=True), atol=1e-6)
    for channel in range(x.shape[0]):
        np.testing.assert_allclose(
            y[channel], x[channel], atol=1e-6,
            err_msg=f"channel {channel}{' (the output is the mono downmix)' if downmix else ''}")


@pytest.mark.parametrize("buffer_size", [64, 512])
def test_with_no_voice_each_channel_passes_through(plugin, buffer_size):
    x = stereo_noise()
    assert_each_channel_passes_through(plugin.process(x, SAMPLE_RATE, buffer_size=buffer_size), x)


@pytest.mark.parametrize("voice", ["no voice", "analytic voice"])
@pytest.mark.parametrize("parameter, raw_value", [("bypass", 1.0), ("dry_wet", 0.0)], ids=["bypass", "dry_wet_0"])
def test_in_bypass_or_at_dry_wet_0_each_channel_passes_through(plugin, voice, parameter, raw_value):
    if voice == "analytic voice":
        choose_analytic_voice(plugin)
    plugin.parameters[parameter].raw_value = raw_value
    x = stereo_noise()
    assert_each_channel_passes_through(plugin.process(x, SAMPLE_RATE, buffer_size=512), x)


def test_the_analytic_voice_converts_when_not_bypassed(plugin):
    """Without this, the voice cases above would pass just as well with a voice that never loaded."""
    choose_analytic_voice(plugin)
    t = np.arange(2 * SAMPLE_RATE) / SAMPLE_RATE
    tone = (0.3 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)
    y = plugin.process(np.stack([tone, tone]), SAMPLE_RATE, buffer_size=512)
    # The analytic voice sings at 0.5 whatever the input's level.
    assert np.max(np.abs(y[:, SAMPLE_RATE // 2:])) == pytest.approx(0.5, rel=0.03)
