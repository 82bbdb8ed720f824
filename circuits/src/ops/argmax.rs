//! ArgMax over windows (the reduced axis), first or last occurrence.
//!
//! With `y = max(window)` (max gadget) and a one-hot witness `e` (booleans, `Σ e = 1`,
//! `Σ e_i·x_i = y`), the index is `Σ i·e_i`. Occurrence: a flag `f_j = [j before the chosen
//! index]` (a running sum of `e`) must satisfy `y − x_j − f_j ≥ 0`, so every earlier
//! candidate is strictly below the maximum. About `4·m` rows per window of `m`.

use super::{check_indices, OpImpl};
use crate::chip::{Ctx, Wire};
use crate::error::{CircuitError, Result};
use crate::tensor::Tensor;
use serde::{Deserialize, Serialize};

/// `y[o] = position of the max of windows[o]` (first, or last with `last`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArgMax {
    /// Take the last occurrence of the maximum.
    #[serde(default)]
    pub last: bool,
    /// Flat input indices of each window, in axis order.
    pub windows: Vec<Vec<u32>>,
}

fn position(vals: &[i128], last: bool) -> usize {
    let max = vals.iter().max().copied().unwrap_or(0);
    let mut it = vals
        .iter()
        .enumerate()
        .filter(|(_, v)| **v == max)
        .map(|(i, _)| i);
    if last { it.next_back() } else { it.next() }.unwrap_or(0)
}

impl OpImpl for ArgMax {
    fn bound(&self, _inputs: &[f64]) -> f64 {
        self.windows.iter().map(Vec::len).max().unwrap_or(0) as f64
    }

    fn check(&self, node: &str) -> Result<()> {
        match self.windows.iter().position(Vec::is_empty) {
            Some(o) => Err(CircuitError::MalformedGraph {
                node: node.into(),
                reason: format!("empty argmax window for output {o}"),
            }),
            None => Ok(()),
        }
    }

    fn eval(&self, node: &str, inputs: &[&Tensor], out_shape: &[usize]) -> Result<Tensor> {
        let x = inputs[0];
        let mut data = Vec::with_capacity(self.windows.len());
        for w in &self.windows {
            check_indices(node, "window", w, x.len())?;
            if w.is_empty() {
                return Err(CircuitError::MalformedGraph {
                    node: node.into(),
                    reason: "empty argmax window".into(),
                });
            }
            let vals: Vec<i128> = w.iter().map(|i| x.data[*i as usize]).collect();
            data.push(position(&vals, self.last) as i128);
        }
        // The max gadget's range checks bound the spread; reuse its evaluation for errors.
        let max = super::Max {
            min: false,
            windows: self
                .windows
                .iter()
                .map(|w| w.iter().map(|i| super::Cand::of(*i)).collect())
                .collect(),
        };
        max.eval(node, inputs, &[self.windows.len()])?;
        Ok(Tensor::new(out_shape.to_vec(), data))
    }

    fn assign(&self, ctx: &mut Ctx, inputs: &[&[Wire]], out: &Tensor) -> Vec<Wire> {
        let one = ctx.constant(1);
        self.windows
            .iter()
            .zip(&out.data)
            .map(|(w, pos)| {
                let xs: Vec<&Wire> = w.iter().map(|i| &inputs[0][*i as usize]).collect();
                let y_val = xs.iter().map(|x| x.value).max().unwrap_or(0);
                let y = ctx.max(&xs, y_val, false);
                let e: Vec<Wire> = (0..xs.len())
                    .map(|i| ctx.boolean(i128::from(i as i128 == *pos)))
                    .collect();
                let total = ctx.dot(0, &e.iter().map(|b| (b, 1)).collect::<Vec<_>>());
                ctx.constrain_equal(&total, &one);
                let picked =
                    ctx.bilinear(&e.iter().zip(&xs).map(|(b, x)| (b, *x)).collect::<Vec<_>>());
                ctx.constrain_equal(&picked, &y);
                // f_j = Σ e_i over the candidates after j (first occurrence) or before j (last).
                let order: Vec<usize> = if self.last {
                    (0..xs.len()).collect()
                } else {
                    (0..xs.len()).rev().collect()
                };
                let mut flag = ctx.zero();
                for (k, &j) in order.iter().enumerate() {
                    if k > 0 {
                        let prev = order[k - 1];
                        flag = ctx.dot(0, &[(&flag, 1), (&e[prev], 1)]);
                    }
                    ctx.check_nonneg(&[(&y, 1), (xs[j], -1), (&flag, -1)]);
                }
                ctx.dot(
                    0,
                    &e.iter()
                        .enumerate()
                        .map(|(i, b)| (b, i as i128))
                        .collect::<Vec<_>>(),
                )
            })
            .collect()
    }
}
