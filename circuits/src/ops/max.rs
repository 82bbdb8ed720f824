//! Maximum or minimum over windows of candidates: MaxPool (padding cells are simply absent
//! from a window), elementwise Max/Min of tensors, Clip against constants, ReduceMax.
//!
//! Per window of `m` candidates, `m` rows: each `y − a_i` (for a min, `a_i − y`) is
//! range-checked non-negative and a running product of the differences, kept in `z`, must
//! end at zero, so `y` is one of them.

use super::{check_outputs, moved_bound, Cand, Elements, OpImpl};
use crate::chip::{Ctx, Wire, RANGE_BITS};
use crate::error::{CircuitError, Result};
use crate::tensor::Tensor;
use serde::{Deserialize, Serialize};

/// `y[o] = max_{c ∈ windows[o]} c` (or `min`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Max {
    /// Take the minimum instead.
    #[serde(default)]
    pub min: bool,
    /// Candidates of each output; none is empty.
    pub windows: Vec<Vec<Cand>>,
}

impl Max {
    /// `Some(bits)` when every one of the `elements` elements of the first input is a
    /// candidate of a window that also holds a constant `c` (a max pooling after a ReLU, a
    /// clip), and every window is laid out (one per output element, of `outputs`): the rows
    /// then bound it below `2^bits`, whatever the prover assigns. For a max, `y − c` and
    /// `y − a` in `[0, 2^24)` put `a` in `(c − 2^24, c + 2^24)`; for a min the same from
    /// `c − y` and `a − y`.
    pub fn bounds_candidates(&self, elements: usize, outputs: usize) -> Option<u32> {
        if self.windows.len() != outputs {
            return None;
        }
        let mut covered = vec![false; elements];
        let mut widest = 0u128;
        for window in &self.windows {
            let consts = window.iter().filter_map(|c| match c {
                Cand::Const(v) => Some(v.unsigned_abs()),
                Cand::Elem { .. } => None,
            });
            let Some(c) = consts.min() else {
                continue;
            };
            for cand in window {
                if let Cand::Elem { input: 0, index } = cand {
                    if let Some(seen) = covered.get_mut(*index as usize) {
                        *seen = true;
                        widest = widest.max(u128::from(c) + (1 << RANGE_BITS) - 1);
                    }
                }
            }
        }
        covered.iter().all(|c| *c).then(|| super::bit_len(widest))
    }
}

impl OpImpl for Max {
    fn bounds_input(&self, elements: Elements, _output_checked: Option<u32>) -> Option<u32> {
        self.bounds_candidates(elements.input, elements.output)
    }

    fn bound(&self, inputs: &[f64]) -> f64 {
        let cands: Vec<Cand> = self.windows.iter().flatten().copied().collect();
        moved_bound(inputs, &cands)
    }

    fn check(&self, node: &str) -> Result<()> {
        match self.windows.iter().position(Vec::is_empty) {
            Some(o) => Err(CircuitError::MalformedGraph {
                node: node.into(),
                reason: format!("empty window for output {o}"),
            }),
            None => Ok(()),
        }
    }

    fn eval(&self, node: &str, inputs: &[&Tensor], out_shape: &[usize]) -> Result<Tensor> {
        check_outputs(node, self.windows.len(), out_shape)?;
        let mut data = Vec::with_capacity(self.windows.len());
        for (o, w) in self.windows.iter().enumerate() {
            let vals = w
                .iter()
                .map(|c| c.value(node, inputs))
                .collect::<Result<Vec<_>>>()?;
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
                    scale: None,
                });
            }
            data.push(if self.min { *min } else { *max });
        }
        Ok(Tensor::new(out_shape.to_vec(), data))
    }

    fn assign(&self, ctx: &mut Ctx, inputs: &[&[Wire]], out: &Tensor) -> Vec<Wire> {
        self.windows
            .iter()
            .zip(&out.data)
            .map(|(w, y)| {
                let cands: Vec<Wire> = w.iter().map(|c| c.wire(ctx, inputs)).collect();
                let refs: Vec<&Wire> = cands.iter().collect();
                ctx.max(&refs, *y, self.min)
            })
            .collect()
    }
}
