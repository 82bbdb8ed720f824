//! Sparse affine maps with constant weights: `y[o] = b[o] + Σ_k w[o,k]·x[i[o,k]]`.
//!
//! Gemm, MatMul and Conv (by im2col), sum pooling and constant biases all lower to this op in
//! the importer. Each output is one dot-product chain of `⌈terms / LANES⌉` rows whose weights
//! are fixed cells; the input cells are copy-constrained into the lanes.

use super::{check_indices, check_outputs, checked_sum, OpImpl};
use crate::chip::{Ctx, Wire};
use crate::error::Result;
use crate::tensor::Tensor;
use serde::{Deserialize, Serialize};

/// One output element: its bias and its `(input index, weight)` terms.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AffineRow {
    /// Constant term.
    pub bias: i64,
    /// `(flat input index, weight)` pairs.
    pub terms: Vec<(u32, i64)>,
}

/// A sparse affine map; `rows[o]` defines output element `o`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Linear {
    /// One row per output element, in row-major output order.
    pub rows: Vec<AffineRow>,
}

impl OpImpl for Linear {
    fn eval(&self, node: &str, inputs: &[&Tensor], out_shape: &[usize]) -> Result<Tensor> {
        let x = inputs[0];
        check_outputs(node, self.rows.len(), out_shape)?;
        let mut data = Vec::with_capacity(self.rows.len());
        for (o, row) in self.rows.iter().enumerate() {
            let idx: Vec<u32> = row.terms.iter().map(|t| t.0).collect();
            check_indices(node, "input", &idx, x.len())?;
            let terms = row
                .terms
                .iter()
                .map(|(i, w)| (x.data[*i as usize], i128::from(*w)));
            data.push(checked_sum(node, o, i128::from(row.bias), terms)?);
        }
        Ok(Tensor::new(out_shape.to_vec(), data))
    }

    fn assign(&self, ctx: &mut Ctx, inputs: &[&[Wire]], _out: &Tensor) -> Vec<Wire> {
        let x = inputs[0];
        self.rows
            .iter()
            .map(|row| {
                let terms: Vec<(&Wire, i128)> = row
                    .terms
                    .iter()
                    .filter(|(_, w)| *w != 0)
                    .map(|(i, w)| (&x[*i as usize], i128::from(*w)))
                    .collect();
                ctx.dot(i128::from(row.bias), &terms)
            })
            .collect()
    }
}
