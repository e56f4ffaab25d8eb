//! The committed graph templates (`engine/templates/`, written by `models/generate_templates.py`
//! from RVC's own model code), built into the engine so a `.pth` or `rmvpe.pt` needs nothing
//! beside it.

macro_rules! templates {
    ($($stem:literal),* $(,)?) => {
        /// (file stem, gzipped template): one per RVC voice configuration, then RMVPE's and HuBERT's.
        pub const TEMPLATES: &[(&str, &[u8])] =
            &[$(($stem, include_bytes!(concat!("../templates/", $stem, ".template.onnx.gz")))),*];
    };
}

templates!(
    "rvc_v1_32k",
    "rvc_v1_32k_nof0",
    "rvc_v1_40k",
    "rvc_v1_40k_nof0",
    "rvc_v1_48k",
    "rvc_v1_48k_nof0",
    "rvc_v2_32k",
    "rvc_v2_32k_nof0",
    "rvc_v2_40k",
    "rvc_v2_40k_nof0",
    "rvc_v2_48k",
    "rvc_v2_48k_nof0",
    // The test voices' (models/generate_models.py): tiny widths, RVC's modules.
    "rvc_v2_40k_tiny",
    "rvc_v1_48k_tiny",
    "rvc_v2_32k_nof0_tiny",
    // RVC's rmvpe.pt, and the tests' tiny RMVPE.
    "rmvpe",
    "rmvpe_tiny",
    // RVC's hubert_base.pt (fairseq's layout), and the tests' tiny encoder.
    "hubert_base",
    "hubert_base_tiny",
);
