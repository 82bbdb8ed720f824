//! Signed integers embedded in the BN254 scalar field.
//!
//! A value `v` is represented by `v mod p`; negative values sit near `p`. Every value the
//! circuit handles is bounded far below `p / 2` by range checks, so the map is injective.

use halo2_axiom::halo2curves::bn256::Fr;
use halo2_axiom::halo2curves::ff::PrimeField;

/// Embeds a signed integer in the field.
pub fn to_field(v: i128) -> Fr {
    let mag = Fr::from_u128(v.unsigned_abs());
    if v < 0 {
        -mag
    } else {
        mag
    }
}

/// Reads a field element as a signed integer, if it lies within `±2^126`.
pub fn from_field(f: &Fr) -> Option<i128> {
    let small = |x: &Fr| -> Option<u128> {
        let repr = x.to_repr();
        let bytes = repr.as_ref();
        if bytes[16..].iter().any(|b| *b != 0) {
            return None;
        }
        let mut lo = [0u8; 16];
        lo.copy_from_slice(&bytes[..16]);
        let v = u128::from_le_bytes(lo);
        (v < (1u128 << 126)).then_some(v)
    };
    if let Some(v) = small(f) {
        return Some(v as i128);
    }
    small(&-*f).map(|v| -(v as i128))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roundtrip_signed() {
        for v in [0i128, 1, -1, 255, -256, 1 << 40, -(1 << 100)] {
            assert_eq!(from_field(&to_field(v)), Some(v));
        }
    }

    #[test]
    fn huge_field_elements_are_not_integers() {
        let half = Fr::from_u128(1u128 << 127) * Fr::from_u128(1u128 << 127);
        assert_eq!(from_field(&half), None);
    }
}
