//! Bounds the circuit enforces on whole tensors, derived through the equations between them.
//!
//! [`Graph::checked_bits`] knows the bounds a node's readers put on its output directly (a
//! range check, a lookup). A transformer's residual stream is bounded less directly: an
//! attention or MLP output `h` is read only by the residual addition `r = 2^s·x + h`, whose
//! sum a LayerNorm reads, and the LayerNorm range-checks its centred value `r − m` (a rescale
//! bounds what it reads) and its mean `m`. Every accepted assignment then has `r` small, and
//! `h = r − 2^s·x` too, so the wide layout's packed dot products can pin `h` without range
//! checks of its own ([`Ctx::shared_dot_checks`](crate::chip::Ctx::shared_dot_checks)).
//!
//! Each bound here is a fact about every assignment the circuit accepts, derived from facts
//! already established (a least fixpoint, built up from nothing):
//!
//! * an input is range-checked; a rescale that checks its output bounds it by `2^23`;
//!   [`Graph::checked_bits`] bounds what later nodes bound;
//! * an addition, a product, or a dot product laid out row by row (never packed: no two of
//!   its rows read the same inputs) holds exactly its inputs' combination, so its bound
//!   follows from theirs;
//! * an addition `y = a·u + b·v` with `|a| = 1` reading every element of `u` ties
//!   `u = ±(y − b·v)`: bounded by `|y| + |b|·|v|`.
//!
//! A dot product that may be packed gets no bound from its inputs: its cells are pinned only
//! once bounded, so that would argue in a circle. Nodes fused into another's gadget, and dead
//! ones, constrain nothing of their own here.

use crate::graph::Graph;
use crate::ops::fused::Fusion;
use crate::ops::{Op, Rescale};

/// Passes over the graph at most: each carries bounds one addition back or forth; a residual
/// stream needs three.
const MAX_PASSES: usize = 16;

/// Bounds past this are no bound (their integers could wrap around the field).
const LIMIT: f64 = 1e60;

impl Graph {
    /// For each tensor (the inputs, then the nodes), a bound on every element's magnitude in
    /// every assignment the circuit accepts, infinity where none is derived: what lets the
    /// wide layout pack a dot product without range checks of its own. The bounds are built up
    /// from none: an input is range-checked, a rescale that checks its output bounds it by
    /// `2^23`, [`Graph::checked_bits`] bounds what later nodes bound; an addition, a product or
    /// a dot product that is never packed holds exactly its inputs' combination; an addition
    /// `y = a·u + b·v` with `|a| = 1` that reads every element of `u` bounds `u` by
    /// `|y| + |b|·|v|`. A dot product that may be packed gets no bound from its inputs, and dead
    /// or fused nodes none at all (`docs/soundness.md` §4).
    pub fn packing_bounds(&self) -> Vec<f64> {
        let live = self.live_nodes();
        let checked = self.checked_bits();
        let fused = crate::ops::fused::plan(self, &live, &checked);
        self.enforced_bounds(&live, &checked, &fused)
    }

    /// For each tensor (the inputs, then the nodes), a bound on the magnitude of every element
    /// that every assignment the circuit accepts respects, or infinity where none is derived
    /// (see the [module docs](self)). `live`, `checked` and `fused` are the graph's
    /// [`Graph::live_nodes`], [`Graph::checked_bits`] and fusion plan.
    pub(crate) fn enforced_bounds(
        &self,
        live: &[bool],
        checked: &[Option<u32>],
        fused: &[Option<Fusion>],
    ) -> Vec<f64> {
        let n_in = self.inputs.len();
        let mut e = self.bounds_given(checked);
        e.iter_mut().skip(n_in).for_each(|b| *b = f64::INFINITY);
        let laid_out = |n: usize| live[n] && fused[n].is_none();
        for _ in 0..MAX_PASSES {
            let mut changed = false;
            let mut tighten = |e: &mut Vec<f64>, id: usize, b: f64| {
                if b < e[id] && b < LIMIT {
                    e[id] = b;
                    changed = true;
                }
            };
            for (n, node) in self.nodes.iter().enumerate().filter(|(n, _)| laid_out(*n)) {
                let id = n_in + n;
                if let Some(bits) = checked[n] {
                    tighten(&mut e, id, 2f64.powi(bits as i32));
                }
                let ins: Vec<f64> = node.inputs.iter().map(|i| e[*i]).collect();
                let exact = match &node.op {
                    Op::Rescale(_) if !Rescale::trusts_later(checked[n]) => {
                        tighten(&mut e, id, crate::chip::ACT_BOUND as f64);
                        false
                    }
                    Op::Add(_) | Op::Mul(_) => true,
                    Op::Linear(l) => l.never_packed(),
                    _ => false,
                };
                if exact && ins.iter().all(|b| b.is_finite()) {
                    tighten(&mut e, id, rounded_up(node.op.bound(&ins, None)));
                }
                let Op::Add(add) = &node.op else { continue };
                let sides = [
                    (0, add.lhs_mul, &add.lhs, add.rhs_mul),
                    (1, add.rhs_mul, &add.rhs, add.lhs_mul),
                ];
                for (side, mul, idx, other_mul) in sides {
                    let (u, v) = (node.inputs[side], node.inputs[1 - side]);
                    let elements: usize = self.shape(u).iter().product();
                    if mul.unsigned_abs() == 1 && covers(idx, elements) {
                        let b = e[id] + other_mul.unsigned_abs() as f64 * e[v];
                        tighten(&mut e, u, rounded_up(b));
                    }
                }
            }
            if !changed {
                break;
            }
        }
        e
    }
}

/// `b` with a margin for the rounding of the floating-point sums and products it came from.
fn rounded_up(b: f64) -> f64 {
    b * (1.0 + 1e-9) + 1.0
}

/// Whether `idx` names every index below `n`.
fn covers(idx: &[u32], n: usize) -> bool {
    let mut seen = vec![false; n];
    for &i in idx {
        if let Some(s) = seen.get_mut(i as usize) {
            *s = true;
        }
    }
    seen.into_iter().all(|s| s)
}
