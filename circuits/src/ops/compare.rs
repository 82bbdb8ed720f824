//! Comparisons (Greater, Less, GreaterOrEqual, LessOrEqual, Equal) producing 0/1, and
//! Where (`c·x + (1 − c)·y`).
//!
//! `[a > b]` is proven by a boolean `t` with `2·t·d − d − t ≥ 0` for `d = a − b` (a range row
//! and two mul rows); `≥`, `<`, `≤` shift or negate `d`; `[a = b] = [d ≥ 0]·[d ≤ 0]`.

use super::{check_range, moved_bound, Cand, OpImpl};
use crate::chip::{Ctx, Wire, ACT_BOUND};
use crate::error::Result;
use crate::tensor::Tensor;
use serde::{Deserialize, Serialize};

/// Which comparison.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CmpKind {
    /// `a > b`.
    Gt,
    /// `a ≥ b`.
    Ge,
    /// `a < b`.
    Lt,
    /// `a ≤ b`.
    Le,
    /// `a = b`.
    Eq,
}

/// `y[i] = [lhs[i] ⋈ rhs[i]]`, operands from the inputs or constants.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Compare {
    /// The comparison.
    pub kind: CmpKind,
    /// Left operands.
    pub lhs: Vec<Cand>,
    /// Right operands.
    pub rhs: Vec<Cand>,
}

impl CmpKind {
    fn holds(self, a: i128, b: i128) -> bool {
        match self {
            CmpKind::Gt => a > b,
            CmpKind::Ge => a >= b,
            CmpKind::Lt => a < b,
            CmpKind::Le => a <= b,
            CmpKind::Eq => a == b,
        }
    }

    /// The differences `a − b` the circuit decides, `[min, max]`: its sign check takes
    /// `d ∈ (−2^24, 2^24]` (`Ctx::is_positive`) for `d = a − b` (`>`), `a − b + 1` (`≥`),
    /// `b − a` (`<`) or `b − a + 1` (`≤`); `=` needs both `≥` and `≤`.
    pub fn decided(self) -> (i128, i128) {
        let h = 2 * ACT_BOUND;
        match self {
            CmpKind::Gt | CmpKind::Le => (-h + 1, h),
            CmpKind::Ge | CmpKind::Lt => (-h, h - 1),
            CmpKind::Eq => (-h + 1, h - 1),
        }
    }
}

impl OpImpl for Compare {
    fn bound(&self, _inputs: &[f64]) -> f64 {
        1.0
    }

    fn eval(&self, node: &str, inputs: &[&Tensor], out_shape: &[usize]) -> Result<Tensor> {
        let mut diffs = Vec::with_capacity(self.lhs.len());
        let mut data = Vec::with_capacity(self.lhs.len());
        for (l, r) in self.lhs.iter().zip(&self.rhs) {
            let (a, b) = (l.value(node, inputs)?, r.value(node, inputs)?);
            diffs.push(a - b);
            data.push(i128::from(self.kind.holds(a, b)));
        }
        // The oracle is defined exactly where the circuit decides the comparison.
        let (min, max) = self.kind.decided();
        check_range(node, &Tensor::new(vec![diffs.len()], diffs), min, max)?;
        Ok(Tensor::new(out_shape.to_vec(), data))
    }

    fn assign(&self, ctx: &mut Ctx, inputs: &[&[Wire]], _out: &Tensor) -> Vec<Wire> {
        self.lhs
            .iter()
            .zip(&self.rhs)
            .map(|(l, r)| {
                let (a, b) = (l.wire(ctx, inputs), r.wire(ctx, inputs));
                // [a > b] = [a − b > 0]; [a ≥ b] = [a − b + 1 > 0]; < and ≤ swap the sides.
                let positive = |ctx: &mut Ctx, x: &Wire, y: &Wire, k: i128| {
                    let d = ctx.dot(k, &[(x, 1), (y, -1)]);
                    ctx.is_positive(&d)
                };
                match self.kind {
                    CmpKind::Gt => positive(ctx, &a, &b, 0),
                    CmpKind::Ge => positive(ctx, &a, &b, 1),
                    CmpKind::Lt => positive(ctx, &b, &a, 0),
                    CmpKind::Le => positive(ctx, &b, &a, 1),
                    CmpKind::Eq => {
                        let ge = positive(ctx, &a, &b, 1);
                        let le = positive(ctx, &b, &a, 1);
                        ctx.mul(&ge, &le)
                    }
                }
            })
            .collect()
    }
}

/// `y[i] = cond[i] ? x[i] : u[i]`; `cond` must be 0/1 (a comparison's output).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Where {
    /// Conditions (from input 0).
    pub cond: Vec<u32>,
    /// Values where true.
    pub then: Vec<Cand>,
    /// Values where false.
    pub otherwise: Vec<Cand>,
}

impl OpImpl for Where {
    fn bound(&self, inputs: &[f64]) -> f64 {
        let cands: Vec<Cand> = self.then.iter().chain(&self.otherwise).copied().collect();
        moved_bound(inputs, &cands)
    }

    fn eval(&self, node: &str, inputs: &[&Tensor], out_shape: &[usize]) -> Result<Tensor> {
        let mut data = Vec::with_capacity(self.cond.len());
        for ((c, x), y) in self.cond.iter().zip(&self.then).zip(&self.otherwise) {
            let c = Cand::of(*c).value(node, inputs)?;
            if c != 0 && c != 1 {
                return Err(crate::CircuitError::MalformedGraph {
                    node: node.into(),
                    reason: format!("Where condition {c} is not boolean"),
                });
            }
            data.push(if c == 1 {
                x.value(node, inputs)?
            } else {
                y.value(node, inputs)?
            });
        }
        Ok(Tensor::new(out_shape.to_vec(), data))
    }

    fn assign(&self, ctx: &mut Ctx, inputs: &[&[Wire]], _out: &Tensor) -> Vec<Wire> {
        self.cond
            .iter()
            .zip(&self.then)
            .zip(&self.otherwise)
            .map(|((c, x), y)| {
                let c = inputs[0][*c as usize];
                let (x, y) = (x.wire(ctx, inputs), y.wire(ctx, inputs));
                let diff = ctx.dot(0, &[(&x, 1), (&y, -1)]);
                let picked = ctx.mul(&c, &diff);
                ctx.dot(0, &[(&y, 1), (&picked, 1)])
            })
            .collect()
    }
}
