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
    /// candidate of a window that bounds it, and every window is laid out (one per output
    /// element, of `outputs`): the rows then bound it below `2^bits`, whatever the prover
    /// assigns. For a max, `y − a ∈ [0, 2^24)` puts `a` in `(y − 2^24, y]`, and `y` is
    /// bounded by a constant `c` of the window (`y − c ∈ [0, 2^24)`: `a ∈ (c − 2^24, c +
    /// 2^24)`, a max pooling after a ReLU, a clip) or by the later nodes reading the output
    /// (`|y| < 2^output_checked`: `|a| < 2^output_checked + 2^24`, a max pooling before a
    /// requantization); for a min the same with the signs swapped.
    pub fn bounds_candidates(
        &self,
        elements: usize,
        outputs: usize,
        output_checked: Option<u32>,
    ) -> Option<u32> {
        if self.windows.len() != outputs {
            return None;
        }
        let span = (1u128 << RANGE_BITS) - 1;
        let by_output = output_checked
            .and_then(|b| 1u128.checked_shl(b))
            .map(|p| p.saturating_add(span));
        let mut covered = vec![false; elements];
        let mut widest = 0u128;
        for window in &self.windows {
            let consts = window.iter().filter_map(|c| match c {
                Cand::Const(v) => Some(u128::from(v.unsigned_abs()) + span),
                Cand::Elem { .. } => None,
            });
            let Some(bound) = consts.chain(by_output).min() else {
                continue;
            };
            for cand in window {
                if let Cand::Elem { input: 0, index } = cand {
                    if let Some(seen) = covered.get_mut(*index as usize) {
                        *seen = true;
                        widest = widest.max(bound);
                    }
                }
            }
        }
        covered.iter().all(|c| *c).then(|| super::bit_len(widest))
    }
}

impl OpImpl for Max {
    fn bounds_input(&self, elements: Elements, output_checked: Option<u32>) -> Option<u32> {
        self.bounds_candidates(elements.input, elements.output, output_checked)
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
