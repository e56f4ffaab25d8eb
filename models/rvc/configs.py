"""RVC synthesizer configurations, in the order RVC stores them in a checkpoint's `config` list.

The "full" configurations are RVC's published ones (inferrvc 1.0 `configs/v1/40k.json`,
`configs/v2/48k.json`; upstream has no v2/40k.json, so v2 40k models use v1/40k.json, as RVC does).
"tiny" keeps every module type and every interface (192 latent channels, so the WebUI `rnd` input
is still [1,192,T]; the same hop and upsampling factors) with much smaller widths and depths, for
fast tests.
"""

from __future__ import annotations

import dataclasses

# Order of RVC's `cpt["config"]` (and of the SynthesizerTrn* constructor arguments).
CONFIG_FIELDS = (
    "spec_channels", "segment_size", "inter_channels", "hidden_channels", "filter_channels", "n_heads",
    "n_layers", "kernel_size", "p_dropout", "resblock", "resblock_kernel_sizes", "resblock_dilation_sizes",
    "upsample_rates", "upsample_initial_channel", "upsample_kernel_sizes", "spk_embed_dim", "gin_channels",
    "sr",
)

_COMMON_FULL = dict(
    spec_channels=1025, inter_channels=192, hidden_channels=192, filter_channels=768, n_heads=2, n_layers=6,
    kernel_size=3, p_dropout=0, resblock="1", resblock_kernel_sizes=[3, 7, 11],
    resblock_dilation_sizes=[[1, 3, 5], [1, 3, 5], [1, 3, 5]], upsample_initial_channel=512,
    spk_embed_dim=109, gin_channels=256,
)

_RATES = {
    # (version, sr): (segment_size in frames, upsample_rates, upsample_kernel_sizes), as RVC's
    # configs/{v1,v2}/*.json give them (the segment size is the training segment over the hop).
    # v1 32k and 48k decode in five stages; v2 has no 40k config of its own and uses v1's.
    ("v1", 32000): (40, [10, 4, 2, 2, 2], [16, 16, 4, 4, 4]),
    ("v1", 40000): (32, [10, 10, 2, 2], [16, 16, 4, 4]),
    ("v1", 48000): (24, [10, 6, 2, 2, 2], [16, 16, 4, 4, 4]),
    ("v2", 32000): (40, [10, 8, 2, 2], [20, 16, 4, 4]),
    ("v2", 40000): (32, [10, 10, 2, 2], [16, 16, 4, 4]),
    ("v2", 48000): (36, [12, 10, 2, 2], [24, 20, 4, 4]),
}
# The linear spectrogram's bins (filter_length // 2 + 1): 32k uses a 1024-point STFT.
_SPEC_CHANNELS = {32000: 513, 40000: 1025, 48000: 1025}

_TINY = dict(
    spec_channels=1025, inter_channels=192, hidden_channels=64, filter_channels=128, n_heads=2, n_layers=2,
    kernel_size=3, p_dropout=0, resblock="1", resblock_kernel_sizes=[3],
    resblock_dilation_sizes=[[1, 3, 5]], upsample_initial_channel=64, spk_embed_dim=4, gin_channels=64,
)


@dataclasses.dataclass(frozen=True)
class SynthConfig:
    """One synthesizer: its RVC version (v1: 256-wide features, v2: 768), f0 or not, sample rate and
    size ("full" or "tiny")."""

    version: str  # "v1" | "v2"
    sr: int
    f0: bool = True
    size: str = "full"

    @property
    def emb_channels(self) -> int:
        return 768 if self.version == "v2" else 256

    @property
    def sr_tag(self) -> str:
        return f"{self.sr // 1000}k"

    @property
    def hop(self) -> int:
        return self.sr // 100

    @property
    def class_name(self) -> str:
        width = 768 if self.version == "v2" else 256
        return f"SynthesizerTrnMs{width}NSFsid" + ("" if self.f0 else "_nono")

    @property
    def stem(self) -> str:
        """File-name stem, e.g. rvc_v2_40k, rvc_v2_40k_tiny, rvc_v2_40k_nof0."""
        return f"rvc_{self.version}_{self.sr_tag}" + ("" if self.f0 else "_nof0") + (
            "_tiny" if self.size == "tiny" else "")

    def values(self) -> dict:
        base = dict(_TINY if self.size == "tiny" else _COMMON_FULL)
        segment, rates, kernels = _RATES[(self.version, self.sr)]
        base.update(spec_channels=_SPEC_CHANNELS[self.sr], segment_size=segment, upsample_rates=rates,
                    upsample_kernel_sizes=kernels, sr=self.sr)
        return base

    def config_list(self) -> list:
        """The checkpoint's `config` list, exactly as RVC writes it."""
        v = self.values()
        return [v[name] for name in CONFIG_FIELDS]

    def to_json(self) -> dict:
        return {"version": self.version, "sr": self.sr, "f0": self.f0, "size": self.size,
                "config": self.config_list()}
