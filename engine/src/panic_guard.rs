//! The last line of defence: a panic anywhere in RVC Live must not cross into the host (a panic
//! in an `extern "C"` callback aborts the host process, and with it the user's session). Every
//! thread and entry point that runs RVC Live's code runs it through [`catch`], turns a panic into
//! an error state with a message, and keeps the audio flowing dry.

use std::any::Any;
use std::panic::{self, AssertUnwindSafe};

/// Run `f`; a panic comes back as its message. The caller decides what state is left usable
/// (hence `AssertUnwindSafe`: every caller drops or replaces what the panic may have broken).
pub fn catch<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    panic::catch_unwind(AssertUnwindSafe(f)).map_err(|payload| message(payload.as_ref()))
}

/// The text a panic was raised with.
pub fn message(payload: &(dyn Any + Send)) -> String {
    if let Some(text) = payload.downcast_ref::<&str>() {
        (*text).to_owned()
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text.clone()
    } else {
        "a panic without a message".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_becomes_its_message_and_a_value_passes_through() {
        assert_eq!(catch(|| 7), Ok(7));
        let caught = catch(|| -> u8 { panic!("the {} broke", "resampler") });
        assert_eq!(caught, Err("the resampler broke".to_owned()));
    }
}
