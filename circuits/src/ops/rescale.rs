//! Rounding division by `2^shift`, the rescale after every multiplication.
//!
//! `y = ⌊(x + 2^(shift-1)) / 2^shift⌋` (round half up), proven by `x + half = y·2^shift + r`
//! with the remainder `r ∈ [0, 2^shift)` decomposed into looked-up limbs, and `y` itself
//! range-checked to `[-2^23, 2^23)`: without a bound on `y` a prover could pick another
//! remainder and shift `y` by a multiple of `2^-shift` in the field. Where later nodes
//! already bound every element of `y` below `2^`[`TRUSTED_BITS`] (a ReLU, a max pooling with
//! a constant candidate, a table lookup, an interpolation, another rescale:
//! `Graph::checked_bits`), that bound pins `y` and the rescale skips its own check: two
//! solutions `(y, r)`, `(y', r')` would give `(y − y')·2^shift = r' − r` in the field, both
//! sides far below its size, so over the integers, and `|r' − r| < 2^shift` leaves `y = y'`.

use super::{check_range, per_element, Elements, OpImpl};
use crate::chip::{
    Ctx, Wire, ACT_BOUND, LIMB_BITS, RANGE_BITS, RESCALE_UNIT_ELEMS, RESCALE_UNIT_SHIFT,
};
use crate::error::{CircuitError, Result};
use crate::tensor::Tensor;
use serde::{Deserialize, Serialize};

/// `y = round(x / 2^shift)`, ties up.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rescale {
    /// Power of two to divide by, `1..=24`.
    pub shift: u32,
}

/// The widest bound of later nodes on a rescale's output that lets it skip its own range
/// check of it: `|y| < 2^48` keeps `(y − y')·2^shift` below `2^73`, far below the field's
/// size. (The wide layout packs the input, bounded by `2^(b + shift + 1)`, where that is at
/// most `2^`[`WIDE_BOUND_BITS`](crate::chip::WIDE_BOUND_BITS): for a ReLU's `b = 24`, any shift.)
pub const TRUSTED_BITS: u32 = 2 * RANGE_BITS;

impl Rescale {
    /// Whether later nodes bound every element of the output (below `2^output_checked`)
    /// tightly enough for the rescale to skip its own range check of it.
    pub fn trusts_later(output_checked: Option<u32>) -> bool {
        output_checked.is_some_and(|b| b <= TRUSTED_BITS)
    }

    /// The bound of the output where the rescale skips its own check
    /// ([`Rescale::trusts_later`]): the later nodes' `2^output_checked`, and the true
    /// quotient's (the only one they leave), `|x| / 2^shift + 1`; not the range check's
    /// `2^23` (`Rescale::eval_unchecked` does not check it either).
    pub fn bound_trusting(&self, inputs: &[f64], output_checked: Option<u32>) -> f64 {
        let later = output_checked.map_or(f64::INFINITY, |b| 2f64.powi(b as i32));
        (inputs[0] / 2f64.powi(self.shift as i32) + 1.0).min(later)
    }

    /// The quotients, unchecked: the integer semantics where the rescale skips its own check
    /// ([`Rescale::trusts_later`]); the later nodes' own semantics refuse what their rows
    /// refuse, so the oracle accepts exactly what the circuit proves.
    pub(crate) fn eval_unchecked(
        &self,
        node: &str,
        inputs: &[&Tensor],
        out_shape: &[usize],
    ) -> Result<Tensor> {
        self.check(node)?;
        let data = inputs[0]
            .data
            .iter()
            .map(|x| round_shift(*x, self.shift))
            .collect();
        Ok(Tensor::new(out_shape.to_vec(), data))
    }

    /// Layout rows one element takes in rows (`Ctx::rescale`; not in rescale units, five to
    /// six rows in the wide layout, `RescaleUnit`): the remainder's range row (and its
    /// upper bound when `shift` is not a multiple of the limb width), then `y`'s range check
    /// unless later nodes bound `y` ([`Rescale::trusts_later`]).
    pub fn rows(&self, output_checked: Option<u32>) -> usize {
        1 + usize::from(!self.shift.is_multiple_of(LIMB_BITS))
            + usize::from(!Self::trusts_later(output_checked))
    }
}

impl Rescale {
    /// Whether the rescale, where it checks its output, fits a rescale unit
    /// ([`RescaleUnit`](crate::chip::RescaleUnit)): one by `2^16`.
    pub fn fits_unit(&self) -> bool {
        self.shift == RESCALE_UNIT_SHIFT
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
        ACT_BOUND as f64
    }

    fn bounds_input(&self, elements: Elements, output_checked: Option<u32>) -> Option<u32> {
        // `x + half = y·2^shift + r` with `r ∈ [0, 2^shift)` and `|y| < 2^b`: `|x| <
        // 2^(b + shift)`. With its own check `y ∈ [-2^23, 2^23)` (and `2^(24 + shift)` leaves
        // room for a remainder of up to `shift + 7` bits); without it, `b` is what later
        // nodes bound `y` to, plus a bit of margin.
        elements.elementwise(
            match output_checked.filter(|_| Self::trusts_later(output_checked)) {
                Some(b) => b + self.shift + 1,
                None => RANGE_BITS + self.shift,
            },
        )
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
        let out = self.eval_unchecked(node, inputs, out_shape)?;
        check_range(node, &out, -ACT_BOUND, ACT_BOUND - 1)?;
        Ok(out)
    }

    fn assign(&self, ctx: &mut Ctx, inputs: &[&[Wire]], out: &Tensor) -> Vec<Wire> {
        let check_y = !Self::trusts_later(ctx.output_checked());
        if !(check_y && self.fits_unit() && ctx.has_rescale_unit()) {
            return per_element(ctx, inputs, out, |ctx, x, y| {
                ctx.rescale(x, self.shift, y, check_y)
            });
        }
        // Five at a time in rescale units, the rest in rows.
        let whole = out.data.len() - out.data.len() % RESCALE_UNIT_ELEMS;
        let mut wires = Vec::with_capacity(out.data.len());
        for (xs, ys) in inputs[0][..whole]
            .chunks(RESCALE_UNIT_ELEMS)
            .zip(out.data.chunks(RESCALE_UNIT_ELEMS))
        {
            let xs: Vec<&Wire> = xs.iter().collect();
            wires.extend(ctx.rescale_unit(&xs, ys));
        }
        for (x, y) in inputs[0][whole..].iter().zip(&out.data[whole..]) {
            wires.push(ctx.rescale(x, self.shift, *y, true));
        }
        wires
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
            assert_eq!(c.node_rows()[0].len(), op.rows(None), "shift {shift}");
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
