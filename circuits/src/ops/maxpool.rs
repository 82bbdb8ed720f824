//! Maximum over windows (MaxPool; padding cells are simply absent from a window).
//!
//! Per window of `m` candidates, `m` rows: each `y − a_i` is range-checked non-negative and a
//! running product of the differences, kept in `z`, must end at zero, so `y` is one of them.

use super::{check_indices, OpImpl};
use crate::chip::{Ctx, Wire, RANGE_BITS};
use crate::error::{CircuitError, Result};
use crate::tensor::Tensor;
use serde::{Deserialize, Serialize};

/// `y[o] = max_{i ∈ windows[o]} x[i]`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MaxPool {
    /// Flat input indices of each output's window; none is empty.
    pub windows: Vec<Vec<u32>>,
}

impl OpImpl for MaxPool {
    fn eval(&self, node: &str, inputs: &[&Tensor], out_shape: &[usize]) -> Result<Tensor> {
        let x = inputs[0];
        let mut data = Vec::with_capacity(self.windows.len());
        for (o, w) in self.windows.iter().enumerate() {
            check_indices(node, "window", w, x.len())?;
            let vals: Vec<i128> = w.iter().map(|i| x.data[*i as usize]).collect();
            let (Some(max), Some(min)) = (vals.iter().max(), vals.iter().min()) else {
                return Err(CircuitError::MalformedGraph {
                    node: node.into(),
                    reason: format!("empty window for output {o}"),
                });
            };
            if max - min >= 1i128 << RANGE_BITS {
                return Err(CircuitError::ValueOutOfRange {
                    node: node.into(),
                    index: o,
                    value: max - min,
                    min: 0,
                    max: (1i128 << RANGE_BITS) - 1,
                });
            }
            data.push(*max);
        }
        Ok(Tensor::new(out_shape.to_vec(), data))
    }

    fn assign(&self, ctx: &mut Ctx, inputs: &[&[Wire]], out: &Tensor) -> Vec<Wire> {
        self.windows
            .iter()
            .zip(&out.data)
            .map(|(w, y)| {
                let cands: Vec<&Wire> = w.iter().map(|i| &inputs[0][*i as usize]).collect();
                ctx.max(&cands, *y)
            })
            .collect()
    }
}
