"""Shared fixtures for the VST3 checks: the bundle under test and signal helpers."""

import functools
import json
import os
import pathlib

import numpy as np
import pedalboard
import pytest
from juce_state import plugin_state

WORKSPACE = pathlib.Path(__file__).resolve().parents[2]

# The fallback fade, a fixed term of the documented latency formula (geometry.rs).
FADE_S = 0.005


def bundle(env: str, default: str) -> pathlib.Path:
    path = pathlib.Path(os.environ.get(env, WORKSPACE / default))
    if not path.exists():
        pytest.fail(f"{path} is missing: run `cargo xtask test`, which builds it")
    return path


@pytest.fixture(scope="session")
def vst3_path() -> pathlib.Path:
    return bundle("RVC_LIVE_VST3", "target/bundled/RVC Live.vst3")


@pytest.fixture(scope="session")
def alloc_check_vst3_path() -> pathlib.Path:
    return bundle("RVC_LIVE_VST3_ALLOC_CHECK", "target/alloc-check/bundled/RVC Live.vst3")


@pytest.fixture
def plugin(vst3_path):
    return pedalboard.load_plugin(str(vst3_path))


@functools.cache
def default_stream_settings(vst3_path: pathlib.Path) -> dict:
    """The stream settings a fresh instance saves: the plugin's defaults, read rather than copied."""
    state = plugin_state(pedalboard.load_plugin(str(vst3_path)).raw_state)
    return json.loads(state["fields"]["stream"])


def expected_latency(vst3_path: pathlib.Path, sample_rate: int, max_buffer: int) -> int:
    """The documented latency formula, at the plugin's default stream settings."""
    stream = default_stream_settings(vst3_path)

    # Rust rounds halves away from zero; Python's round() would round them to even.
    def samples(seconds: float) -> int:
        return int(np.floor(seconds * sample_rate + 0.5))

    block = samples(np.floor(stream["block_ms"] / 10 + 0.5) * 10 / 1000)
    return (
        block
        + max_buffer
        + int(np.ceil(block * stream["worker_budget"]))
        + max(1, samples(FADE_S))
        + samples(stream["crossfade_ms"] / 1000)
        + samples(stream["sola_search_ms"] / 1000)
    )


def left_only(signal: np.ndarray) -> np.ndarray:
    """Stereo with the signal on the left and silence on the right."""
    return np.stack([signal, np.zeros_like(signal)]).astype(np.float32)


def with_noise_right(signal: np.ndarray, seed: int = 7) -> np.ndarray:
    """Stereo with the signal on the left and seeded noise, uncorrelated with it, on the right:
    where nothing converts each output channel must be its own input channel, and a mono downmix
    (or a channel leaking into the other) is off by about the signal itself."""
    rng = np.random.default_rng(seed)
    right = rng.uniform(-0.5, 0.5, signal.shape)
    return np.stack([signal, right]).astype(np.float32)


def chirp(sample_rate: int, seconds: float, f0=60.0, f1=None) -> np.ndarray:
    f1 = f1 or 0.45 * sample_rate
    t = np.arange(int(seconds * sample_rate)) / sample_rate
    k = (f1 - f0) / seconds
    return (0.5 * np.sin(2 * np.pi * (f0 * t + 0.5 * k * t * t))).astype(np.float32)
