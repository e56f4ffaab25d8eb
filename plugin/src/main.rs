//! The standalone RVC Live app (JACK, ALSA, or a dummy backend for headless use).

use nice_plug::prelude::*;

fn main() {
    nice_export_standalone::<rvc_live::RvcLive>();
}
