//! Cast of a fixed-point tensor to integers where every value is integral (ONNX Cast from a
//! float type to an integer type): `y = x / 2^shift` exactly, proven by `x = y·2^shift` on
//! the linear gate with `y` range-checked. A value that is not an integer at its fixed-point
//! scale is an error, never a silent truncation.

use super::{activation, per_element, OpImpl};
use crate::chip::{Ctx, Wire, RANGE_BITS};
use crate::error::{CircuitError, Result};
use crate::tensor::Tensor;
use serde::{Deserialize, Serialize};

/// `y = x / 2^shift`, defined only where it is an integer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToInt {
    /// The input's fixed-point scale exponent, `0..=24`.
    pub shift: u32,
}

impl OpImpl for ToInt {
    fn bound(&self, _inputs: &[f64]) -> f64 {
        // The output is range-checked (`Ctx::exact_div`).
        crate::chip::ACT_BOUND as f64
    }

    fn check(&self, node: &str) -> Result<()> {
        if self.shift > RANGE_BITS {
            return Err(CircuitError::MalformedGraph {
                node: node.into(),
                reason: format!("cast shift {} above {RANGE_BITS}", self.shift),
            });
        }
        Ok(())
    }

    fn eval(&self, node: &str, inputs: &[&Tensor], out_shape: &[usize]) -> Result<Tensor> {
        self.check(node)?;
        let d = 1i128 << self.shift;
        let mut data = Vec::with_capacity(inputs[0].len());
        for (index, x) in inputs[0].data.iter().enumerate() {
            if x.rem_euclid(d) != 0 {
                return Err(CircuitError::NotIntegral {
                    node: node.into(),
                    index,
                    value: *x as f64 / d as f64,
                });
            }
            data.push(x.div_euclid(d));
        }
        activation(node, out_shape, data)
    }

    fn assign(&self, ctx: &mut Ctx, inputs: &[&[Wire]], out: &Tensor) -> Vec<Wire> {
        per_element(ctx, inputs, out, |ctx, x, y| {
            ctx.exact_div(x, self.shift, y)
        })
    }
}
