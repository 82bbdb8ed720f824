//! Nonlinear functions (Sigmoid, Tanh, Exp, Erf, Gelu, Sqrt, Log, Reciprocal, …) as lookup
//! tables sized to the calibrated input range.
//!
//! The importer rescales the input to a coarse table scale and tabulates
//! `round(f(x / 2^in_scale)·2^out_scale)` for every `x` in the calibrated range; one row per
//! element proves `(x, y)` is a table entry (halo2 lookup argument, Plookup-style). Tables
//! with equal contents are shared across layers. An input outside the table is an error,
//! never an extrapolation.

use super::{per_element, OpImpl};
use crate::chip::{Ctx, Wire};
use crate::error::{CircuitError, Result};
use crate::tensor::Tensor;
use serde::{Deserialize, Serialize};

/// A tabulated function: `f(in_min + i) = values[i]`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct FnTable {
    /// What it tabulates, for reports (`"sigmoid"`).
    pub function: String,
    /// Smallest input.
    pub in_min: i64,
    /// Outputs for `in_min, in_min + 1, …`.
    pub values: Vec<i64>,
    /// A second output per input (empty: all zero), looked up in the same row.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub second: Vec<i64>,
}

impl FnTable {
    /// Whether the table has a second output.
    pub fn has_second(&self) -> bool {
        !self.second.is_empty()
    }
}

/// `y = table(x)` elementwise.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lookup {
    /// The table.
    pub table: FnTable,
}

impl OpImpl for Lookup {
    fn eval(&self, node: &str, inputs: &[&Tensor], out_shape: &[usize]) -> Result<Tensor> {
        let t = &self.table;
        let (lo, hi) = (
            i128::from(t.in_min),
            i128::from(t.in_min) + t.values.len() as i128 - 1,
        );
        let data = inputs[0]
            .data
            .iter()
            .enumerate()
            .map(|(index, x)| {
                if *x < lo || *x > hi {
                    return Err(CircuitError::ValueOutOfRange {
                        node: node.into(),
                        index,
                        value: *x,
                        min: lo,
                        max: hi,
                        scale: None,
                    });
                }
                Ok(i128::from(t.values[(*x - lo) as usize]))
            })
            .collect::<Result<_>>()?;
        Ok(Tensor::new(out_shape.to_vec(), data))
    }

    fn assign(&self, ctx: &mut Ctx, inputs: &[&[Wire]], out: &Tensor) -> Vec<Wire> {
        per_element(ctx, inputs, out, |ctx, x, y| ctx.lookup(x, y, &self.table))
    }
}
