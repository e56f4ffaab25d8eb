//! Model outputs are untrusted input: a broken fp16 export, an overflowing network or a file that
//! is not what it claims gives NaN, infinities, absurd values or the wrong element type. Every
//! runner reads its outputs through here, so nothing of that reaches the resamplers (whose FFTs
//! panic on NaN), the SOLA join or the host.

use half::f16;
use ort::value::{DynValue, TensorElementType};

use super::model_error::{BadValues, ModelError, ModelRole};

/// Check that every value is finite and within the role's bound.
pub fn check_values(role: ModelRole, values: &[f32]) -> Result<(), ModelError> {
    let bound = role.magnitude_bound();
    let mut peak = 0.0f32;
    for &v in values {
        if v.is_nan() {
            return Err(ModelError::BadOutput { role, values: BadValues::NaN });
        }
        if v.is_infinite() {
            return Err(ModelError::BadOutput { role, values: BadValues::Infinite });
        }
        peak = peak.max(v.abs());
    }
    if peak > bound {
        return Err(ModelError::BadOutput { role, values: BadValues::OutOfRange { peak } });
    }
    Ok(())
}

/// The shape and checked values of a float output, in f32. An fp16 output (w-okada's half
/// precision exports) is converted into `scratch`, which grows only the first time a longer output
/// comes (the warm-ups size it); any other element type is refused.
pub fn float_output<'a>(
    role: ModelRole,
    value: &'a DynValue,
    scratch: &'a mut Vec<f32>,
) -> Result<(Vec<i64>, &'a [f32]), ModelError> {
    let (shape, data) = float_values(role, value, scratch)?;
    check_values(role, data)?;
    Ok((shape, data))
}

/// Like [`float_output`], but the values are left for the caller to check: a pitch model's f0 is
/// undefined (often NaN) in frames its confidence calls unvoiced, and only voiced frames count.
pub fn float_values<'a>(
    role: ModelRole,
    value: &'a DynValue,
    scratch: &'a mut Vec<f32>,
) -> Result<(Vec<i64>, &'a [f32]), ModelError> {
    let failed = |e: ort::Error| ModelError::Invalid(format!("{role} gave an output that cannot be read: {e}"));
    let (shape, data): (Vec<i64>, &[f32]) = match value.dtype().tensor_type() {
        Some(TensorElementType::Float32) => {
            let (shape, data) = value.try_extract_tensor::<f32>().map_err(failed)?;
            (shape.to_vec(), data)
        }
        Some(TensorElementType::Float16) => {
            let (shape, data) = value.try_extract_tensor::<f16>().map_err(failed)?;
            if scratch.len() < data.len() {
                scratch.resize(data.len(), 0.0);
            }
            for (out, &h) in scratch.iter_mut().zip(data) {
                *out = h.to_f32();
            }
            (shape.to_vec(), &scratch[..data.len()])
        }
        Some(other) => {
            return Err(ModelError::Invalid(format!(
                "{role}'s output is {}, not a float tensor",
                format!("{other:?}").to_lowercase()
            )));
        }
        None => return Err(ModelError::Invalid(format!("{role}'s output is not a tensor"))),
    };
    Ok((shape, data))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_of_bad_value_is_named_with_its_model() {
        let message = |values: &[f32]| check_values(ModelRole::Voice, values).unwrap_err().to_string();
        assert_eq!(message(&[0.1, f32::NAN]), "the voice model produced NaN values");
        assert_eq!(message(&[f32::NEG_INFINITY]), "the voice model produced infinite values");
        assert!(message(&[0.5, 1e30]).starts_with("the voice model produced out-of-range values"));
        assert!(check_values(ModelRole::Voice, &[0.0, -1.0, 0.99]).is_ok());
        let encoder = check_values(ModelRole::ContentEncoder, &[f32::NAN]).unwrap_err().to_string();
        assert_eq!(encoder, "the content encoder produced NaN values");
    }

    #[test]
    fn nan_is_reported_before_a_large_value_that_precedes_it() {
        let e = check_values(ModelRole::PitchModel, &[1e30, f32::NAN]).unwrap_err();
        assert_eq!(e, ModelError::BadOutput { role: ModelRole::PitchModel, values: BadValues::NaN });
    }
}
