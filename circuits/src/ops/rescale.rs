//! Rounding division by `2^shift`, the rescale after every multiplication.
//!
//! `y = ⌊(x + 2^(shift-1)) / 2^shift⌋` (round half up), proven by `x + half = y·2^shift + r`
//! with the remainder `r ∈ [0, 2^shift)` decomposed into looked-up limbs, and `y` itself
//! range-checked to `[-2^23, 2^23)`: without the check on `y` a prover could pick another
//! remainder and shift `y` by a multiple of `2^-shift` in the field.

use super::{activation, per_element, OpImpl};
use crate::chip::{Ctx, Wire, LIMB_BITS, RANGE_BITS};
use crate::error::{CircuitError, Result};
use crate::tensor::Tensor;
use serde::{Deserialize, Serialize};

/// `y = round(x / 2^shift)`, ties up.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rescale {
    /// Power of two to divide by, `1..=24`.
    pub shift: u32,
}

impl Rescale {
    /// Layout rows one element takes (`Ctx::rescale`): the remainder's range row (and its
    /// upper bound when `shift` is not a multiple of the limb width), then `y`'s range check.
    pub fn rows(&self) -> usize {
        2 + usize::from(!self.shift.is_multiple_of(LIMB_BITS))
    }
}

/// The integer semantics of one element.
pub fn round_shift(x: i128, shift: u32) -> i128 {
    let d = 1i128 << shift;
    (x + d / 2).div_euclid(d)
}

impl OpImpl for Rescale {
    fn bound(&self, _inputs: &[f64]) -> f64 {
        // The output is range-checked (`Ctx::rescale`).
        crate::chip::ACT_BOUND as f64
    }

    fn bounds_input(&self) -> Option<u32> {
        // `x + half = y·2^shift + r` with `y ∈ [-2^23, 2^23)` and `r ∈ [0, 2^bits)`, `bits ≤
        // shift + 7`: `|x| < 2^(23 + shift) + 2^(shift + 7) + 2^shift ≤ 2^(24 + shift)`.
        Some(RANGE_BITS + self.shift)
    }

    fn check(&self, node: &str) -> Result<()> {
        if self.shift == 0 || self.shift > RANGE_BITS {
            return Err(CircuitError::MalformedGraph {
                node: node.into(),
                reason: format!("rescale shift {} outside 1..={RANGE_BITS}", self.shift),
            });
        }
        Ok(())
    }

    fn eval(&self, node: &str, inputs: &[&Tensor], out_shape: &[usize]) -> Result<Tensor> {
        self.check(node)?;
        let data = inputs[0]
            .data
            .iter()
            .map(|x| round_shift(*x, self.shift))
            .collect();
        activation(node, out_shape, data)
    }

    fn assign(&self, ctx: &mut Ctx, inputs: &[&[Wire]], out: &Tensor) -> Vec<Wire> {
        per_element(ctx, inputs, out, |ctx, x, y| ctx.rescale(x, self.shift, y))
    }
}

#[cfg(test)]
mod tests {
    use super::{round_shift, Rescale};
    use crate::ops::Op;
    use crate::testing::one_node;
    use crate::{ModelCircuit, Visibility};

    #[test]
    fn rows_are_the_layout_rows_of_an_element() {
        for shift in [1, 8, 12, 16, 20, 24] {
            let op = Rescale { shift };
            let graph = one_node(Op::Rescale(op.clone()), 1, 0, None);
            let c = ModelCircuit::new(graph, &[vec![-1000]], Visibility::default()).unwrap();
            assert_eq!(c.node_rows()[0].len(), op.rows(), "shift {shift}");
        }
    }

    #[test]
    fn rounds_half_up_on_both_signs() {
        assert_eq!(round_shift(3, 1), 2); // 1.5 -> 2
        assert_eq!(round_shift(-3, 1), -1); // -1.5 -> -1
        assert_eq!(round_shift(-5, 2), -1); // -1.25 -> -1
        assert_eq!(round_shift(6, 2), 2); // 1.5 -> 2
        assert_eq!(round_shift(0, 8), 0);
    }
}
