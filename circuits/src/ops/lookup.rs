//! Nonlinear functions (Sigmoid, Tanh, Exp, Erf, Gelu, Sqrt, Log, Reciprocal, …) as lookup
//! tables sized to the calibrated input range.
//!
//! The importer rescales the input to a coarse table scale and tabulates
//! `round(f(x / 2^in_scale)·2^out_scale)` for every `x` in the calibrated range; one row per
//! element proves `(x, y)` is a table entry (halo2 lookup argument, Plookup-style). Tables
//! with equal contents are shared across layers. An input outside the table is an error,
//! never an extrapolation.

use super::{Elements, OpImpl};
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

    /// The smallest and the largest input it holds.
    pub fn domain(&self) -> (i128, i128) {
        let lo = i128::from(self.in_min);
        (lo, lo + self.values.len() as i128 - 1)
    }

    /// Table rows it takes: one per entry, twice that with a second output.
    pub fn rows(&self) -> usize {
        self.values.len() * (1 + usize::from(self.has_second()))
    }
}

/// `y = table(x)` elementwise.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lookup {
    /// The table.
    pub table: FnTable,
}

impl Lookup {
    /// Layout rows `elements` elements take: lookups packed up to three to a row
    /// ([`Ctx::lookups`](crate::chip::Ctx::lookups)).
    pub fn rows(&self, elements: usize) -> usize {
        crate::chip::lookup_rows(elements)
    }

    /// The lookup pins every input to an entry of the table, `x ∈ [in_min, in_max]`: below
    /// `2^input_bits` in magnitude.
    pub fn input_bits(&self) -> u32 {
        let (lo, hi) = self.table.domain();
        super::bit_len(lo.unsigned_abs().max(hi.unsigned_abs()))
    }
}

impl OpImpl for Lookup {
    fn bound(&self, _inputs: &[f64]) -> f64 {
        // Every output is a table value (the lookup argument).
        let values = self.table.values.iter().map(|v| (*v as f64).abs());
        values.fold(0.0, f64::max)
    }

    fn bounds_input(&self, elements: Elements, _output_checked: Option<u32>) -> Option<u32> {
        elements.elementwise(self.input_bits())
    }

    fn eval(&self, node: &str, inputs: &[&Tensor], out_shape: &[usize]) -> Result<Tensor> {
        let t = &self.table;
        let (lo, hi) = t.domain();
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
        let xs: Vec<&Wire> = inputs[0].iter().collect();
        ctx.lookups(&xs, &out.data, &self.table)
    }
}

#[cfg(test)]
mod tests {
    use super::{FnTable, Lookup};
    use crate::ops::Op;
    use crate::testing::one_node;
    use crate::{ModelCircuit, Visibility};

    #[test]
    fn rows_are_the_layout_and_table_rows() {
        let table = FnTable {
            function: "square".into(),
            in_min: -2,
            values: vec![4, 1, 0, 1, 4],
            second: vec![],
        };
        assert_eq!(table.rows(), 5);
        let op = Lookup { table };
        let graph = one_node(Op::Lookup(op.clone()), 3, 0, None);
        let c = ModelCircuit::new(graph, &[vec![-2, 0, 2]], Visibility::default()).unwrap();
        assert_eq!(c.node_rows()[0].len(), op.rows(3));
        assert_eq!((op.rows(2), op.rows(5), op.rows(6)), (1, 2, 3));
        let two = FnTable {
            second: vec![0; 5],
            ..op.table
        };
        assert_eq!(two.rows(), 10);
    }
}
