//! Nonlinear functions by piecewise-linear interpolation over range-decomposed segments: the
//! alternative to a full lookup table when the table would set the circuit's size.
//!
//! The input `x` (at its activation scale) is split as `x − x_min = h·2^seg_bits + l` with
//! `l ∈ [0, 2^seg_bits)` range-checked and the segment `h` looked up in a small table of
//! per-segment coefficients `(h, e_h, d_h)`; then
//! `y = round((x·d_h + e_h) / 2^out_shift)` (half up), proven by
//! `x·d_h + e_h + 2^(out_shift−1) = y·2^out_shift + r` with `r` range-checked and `y`
//! range-checked as a signed activation. `d_h` is the segment's slope and `e_h` its
//! intercept (both scaled by `2^out_shift`, the intercept already shifted to the global
//! coordinate `x`), so the table has one row per segment instead of one per input value.
//! An input outside the segments is an error, never an extrapolation.
//!
//! Rows per element: 5 when `seg_bits` is a multiple of the limb width, else 6 (a second
//! range row bounds `l` from above; [`Interp::rows_per_element`]): two or three more than a
//! table lookup behind a rescale, with `2^seg_bits` times fewer table rows.

use super::rescale::round_shift;
use super::{activation, per_element, Elements, FnTable, OpImpl};
use crate::chip::{Ctx, Wire, LIMB_BITS, RANGE_BITS};
use crate::error::{CircuitError, Result};
use crate::tensor::Tensor;
use serde::{Deserialize, Serialize};

/// `y = round((x·d_h + e_h) / 2^out_shift)` on the segment `h` holding `x`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Interp {
    /// Segment coefficients: `in_min` is 0, `values[h] = e_h`, `second[h] = d_h`.
    pub table: FnTable,
    /// Smallest input covered.
    pub x_min: i64,
    /// Each segment covers `2^seg_bits` consecutive inputs.
    pub seg_bits: u32,
    /// Power of two the coefficients are scaled by: a multiple of [`LIMB_BITS`], at most
    /// [`RANGE_BITS`].
    pub out_shift: u32,
}

impl Interp {
    /// Number of segments.
    pub fn segments(&self) -> usize {
        self.table.values.len()
    }

    /// Rows one element takes (`Ctx::interp`): the segment lookup, the decomposition (and
    /// the upper bound of its low part when `seg_bits` is not a multiple of the limb width),
    /// the product, the remainder and the output's range check.
    pub fn rows_per_element(&self) -> usize {
        5 + usize::from(!self.seg_bits.is_multiple_of(LIMB_BITS))
    }

    /// Largest input covered.
    pub fn x_max(&self) -> i128 {
        i128::from(self.x_min) + ((self.segments() as i128) << self.seg_bits) - 1
    }

    /// The segment of `x` and its coefficients `(h, e_h, d_h)`, or `None` outside.
    pub fn segment(&self, x: i128) -> Option<(i128, i128, i128)> {
        if x < i128::from(self.x_min) || x > self.x_max() {
            return None;
        }
        let h = (x - i128::from(self.x_min)) >> self.seg_bits;
        let e = i128::from(self.table.values[h as usize]);
        let d = i128::from(*self.table.second.get(h as usize).unwrap_or(&0));
        Some((h, e, d))
    }

    /// The integer semantics of one element (`None` outside the segments).
    pub fn apply(&self, x: i128) -> Option<i128> {
        let (_, e, d) = self.segment(x)?;
        Some(round_shift(x * d + e, self.out_shift))
    }

    fn check_params(&self, node: &str) -> Result<()> {
        let bad = |reason: String| {
            Err(CircuitError::MalformedGraph {
                node: node.into(),
                reason,
            })
        };
        if self.out_shift == 0
            || self.out_shift > RANGE_BITS
            || !self.out_shift.is_multiple_of(LIMB_BITS)
            || self.seg_bits > RANGE_BITS
        {
            return bad(format!(
                "interpolation shifts {}/{}: segments up to 2^{RANGE_BITS}, output shift a \
                 multiple of {LIMB_BITS} up to {RANGE_BITS}",
                self.seg_bits, self.out_shift
            ));
        }
        if self.table.in_min != 0 || self.table.values.is_empty() {
            return bad("interpolation segments must be indexed from 0".into());
        }
        if !self.table.second.is_empty() && self.table.second.len() != self.segments() {
            return bad("interpolation slopes do not match the segments".into());
        }
        Ok(())
    }
}

impl OpImpl for Interp {
    fn bound(&self, _inputs: &[f64]) -> f64 {
        // The output is range-checked (`Ctx::interp`).
        crate::chip::ACT_BOUND as f64
    }

    fn bounds_input(&self, elements: Elements, _output_checked: Option<u32>) -> Option<u32> {
        // `x = x_min + 2^seg_bits·h + l` with the segment `h` an entry of the table and
        // `l ∈ [0, 2^seg_bits)` range-checked (`Ctx::interp`).
        let (lo, hi) = self.table.domain();
        let x_min = i128::from(self.x_min);
        let ends = [
            x_min + (lo << self.seg_bits),
            x_min + ((hi + 1) << self.seg_bits) - 1,
        ];
        elements.elementwise(super::bit_len(
            ends[0].unsigned_abs().max(ends[1].unsigned_abs()),
        ))
    }

    fn eval(&self, node: &str, inputs: &[&Tensor], out_shape: &[usize]) -> Result<Tensor> {
        self.check_params(node)?;
        let data = inputs[0]
            .data
            .iter()
            .enumerate()
            .map(|(index, x)| {
                self.apply(*x).ok_or_else(|| CircuitError::ValueOutOfRange {
                    node: node.into(),
                    index,
                    value: *x,
                    min: i128::from(self.x_min),
                    max: self.x_max(),
                    scale: None,
                })
            })
            .collect::<Result<_>>()?;
        activation(node, out_shape, data)
    }

    fn check(&self, node: &str) -> Result<()> {
        self.check_params(node)
    }

    fn assign(&self, ctx: &mut Ctx, inputs: &[&[Wire]], out: &Tensor) -> Vec<Wire> {
        per_element(ctx, inputs, out, |ctx, x, y| ctx.interp(x, y, self))
    }
}
