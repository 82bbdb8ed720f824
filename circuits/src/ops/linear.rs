//! Sparse affine maps with constant weights: `y[o] = b[o] + Σ_k w[o,k]·x[i[o,k]]`.
//!
//! Gemm, MatMul and Conv (by im2col), sum pooling and constant biases all lower to this op in
//! the importer. Each output is one dot-product chain of `⌈terms / LANES⌉` rows whose weights
//! are fixed cells; the input cells are copy-constrained into the lanes.

use super::{check_indices, check_outputs, checked_sum, OpImpl};
use crate::chip::{Ctx, Wire, BLOCK, LANES, WIDE_CELLS, WIDE_IN, WIDE_OUT};
use crate::error::Result;
use crate::tensor::Tensor;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

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
    fn bound(&self, inputs: &[f64]) -> f64 {
        let row = |r: &AffineRow| {
            let terms: f64 = r.terms.iter().map(|(_, w)| (*w as f64).abs()).sum();
            (r.bias as f64).abs() + terms * inputs[0]
        };
        self.rows.iter().map(row).fold(0.0, f64::max)
    }

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

    fn assign(&self, ctx: &mut Ctx, inputs: &[&[Wire]], out: &Tensor) -> Vec<Wire> {
        let x = inputs[0];
        // A later check covers the node's declared elements: one per row here.
        let checks = ctx
            .shared_dot_checks()
            .filter(|_| out.len() == self.rows.len());
        let Some(checks) = checks else {
            return self.rows.iter().map(|row| dot(ctx, x, row)).collect();
        };
        // Rows reading the same inputs in the same order (a convolution's output channels at
        // one position, a dense layer's outputs) share wide blocks where that is cheaper,
        // their outputs range-checked `checks` rows each where no later node does it (the
        // packed wide gate pins an output only when its magnitude is bounded).
        let mut out: Vec<Option<Wire>> = vec![None; self.rows.len()];
        for members in self.shared_inputs() {
            let terms = self.rows[members[0]].terms.len();
            if !shared_pays(terms, members.len(), checks) {
                for &o in &members {
                    out[o] = Some(dot(ctx, x, &self.rows[o]));
                }
                continue;
            }
            let xs: Vec<&Wire> = self.rows[members[0]]
                .terms
                .iter()
                .map(|(i, _)| &x[*i as usize])
                .collect();
            for chunk in members.chunks(WIDE_OUT) {
                let weights: Vec<Vec<i128>> = chunk
                    .iter()
                    .map(|o| {
                        self.rows[*o]
                            .terms
                            .iter()
                            .map(|t| i128::from(t.1))
                            .collect()
                    })
                    .collect();
                let outs: Vec<(i128, &[i128])> = chunk
                    .iter()
                    .zip(&weights)
                    .map(|(o, w)| (i128::from(self.rows[*o].bias), w.as_slice()))
                    .collect();
                let wires = ctx.shared_dot(&xs, &outs);
                for w in wires.iter().filter(|_| checks > 0) {
                    ctx.check_magnitude(w, checks);
                }
                for (o, w) in chunk.iter().zip(wires) {
                    out[*o] = Some(w);
                }
            }
        }
        out.into_iter()
            .map(|w| w.expect("every row is laid out"))
            .collect()
    }
}

impl Linear {
    /// Whether the wide layout never packs this node's rows: no two read the same inputs in
    /// the same order, so each is a dot-product chain of its own, which pins its output.
    pub fn never_packed(&self) -> bool {
        self.shared_inputs().iter().all(|g| !may_share(g.len()))
    }

    /// The rows grouped by their input indices (in order of first appearance).
    fn shared_inputs(&self) -> Vec<Vec<usize>> {
        let mut groups: Vec<Vec<usize>> = Vec::new();
        let mut index: HashMap<Vec<u32>, usize> = HashMap::new();
        for (o, row) in self.rows.iter().enumerate() {
            let key: Vec<u32> = row.terms.iter().map(|t| t.0).collect();
            let g = *index.entry(key).or_insert_with(|| {
                groups.push(Vec::new());
                groups.len() - 1
            });
            groups[g].push(o);
        }
        groups
    }
}

/// Whether `outputs` dot products of `terms` shared inputs take fewer circuit rows in wide
/// blocks, with `checks` range rows per output, than as tall dot-product chains.
fn shared_pays(terms: usize, outputs: usize, checks: usize) -> bool {
    let wide = WIDE_CELLS * terms.div_ceil(WIDE_IN).max(1) * outputs.div_ceil(WIDE_OUT)
        + BLOCK * checks * outputs;
    let tall = BLOCK * terms.div_ceil(LANES).max(1) * outputs;
    may_share(outputs) && wide < tall
}

/// Whether `outputs` rows reading the same inputs may share wide blocks: a row of its own is
/// always a tall chain ([`Linear::never_packed`] relies on it).
fn may_share(outputs: usize) -> bool {
    outputs > 1
}

/// One output as a tall dot-product chain (zero weights take no lane).
fn dot(ctx: &mut Ctx, x: &[Wire], row: &AffineRow) -> Wire {
    let terms: Vec<(&Wire, i128)> = row
        .terms
        .iter()
        .filter(|(_, w)| *w != 0)
        .map(|(i, w)| (&x[*i as usize], i128::from(*w)))
        .collect();
    ctx.dot(i128::from(row.bias), &terms)
}
