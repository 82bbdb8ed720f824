//! The integer op set. Each op module holds the op's integer semantics (`eval`, the oracle)
//! and its chip (`assign`, built from the gadgets of [`crate::chip`]).

mod add;
mod linear;
mod maxpool;
mod mul;
mod relu;
mod rescale;
mod reshape;

pub use add::Add;
pub use linear::{AffineRow, Linear};
pub use maxpool::MaxPool;
pub use mul::Mul;
pub use relu::Relu;
pub use rescale::Rescale;
pub use reshape::Reshape;

use crate::chip::{Ctx, Wire};
use crate::error::Result;
use crate::tensor::Tensor;
use serde::{Deserialize, Serialize};

/// One op of the quantized graph.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Op {
    /// Sparse affine map with constant weights (Gemm, MatMul, Conv, pooling sums, biases).
    Linear(Linear),
    /// Elementwise weighted sum of two tensors.
    Add(Add),
    /// Elementwise product of two tensors.
    Mul(Mul),
    /// Rounding division by a power of two.
    Rescale(Rescale),
    /// `max(x, 0)`.
    Relu(Relu),
    /// Maximum over windows.
    MaxPool(MaxPool),
    /// Same data, new shape.
    Reshape(Reshape),
}

/// What every op provides.
pub(crate) trait OpImpl {
    /// Integer semantics: the output for `inputs` (the single oracle).
    fn eval(&self, node: &str, inputs: &[&Tensor], out_shape: &[usize]) -> Result<Tensor>;
    /// Lays out constraints proving `out` from the input wires.
    fn assign(&self, ctx: &mut Ctx, inputs: &[&[Wire]], out: &Tensor) -> Vec<Wire>;
}

impl Op {
    fn inner(&self) -> &dyn OpImpl {
        match self {
            Op::Linear(op) => op,
            Op::Add(op) => op,
            Op::Mul(op) => op,
            Op::Rescale(op) => op,
            Op::Relu(op) => op,
            Op::MaxPool(op) => op,
            Op::Reshape(op) => op,
        }
    }

    /// Evaluates the op's integer semantics.
    pub fn eval(&self, node: &str, inputs: &[&Tensor], out_shape: &[usize]) -> Result<Tensor> {
        self.inner().eval(node, inputs, out_shape)
    }

    /// Lays the op out; `out` is the oracle's output for the wires' values.
    pub fn assign(&self, ctx: &mut Ctx, inputs: &[&[Wire]], out: &Tensor) -> Vec<Wire> {
        self.inner().assign(ctx, inputs, out)
    }

    /// Short name, for errors and reports.
    pub fn name(&self) -> &'static str {
        match self {
            Op::Linear(_) => "linear",
            Op::Add(_) => "add",
            Op::Mul(_) => "mul",
            Op::Rescale(_) => "rescale",
            Op::Relu(_) => "relu",
            Op::MaxPool(_) => "maxpool",
            Op::Reshape(_) => "reshape",
        }
    }
}

/// Checks that every value lies in `[min, max]`.
pub(crate) fn check_range(node: &str, t: &Tensor, min: i128, max: i128) -> Result<()> {
    match t.data.iter().position(|v| *v < min || *v > max) {
        None => Ok(()),
        Some(index) => Err(crate::CircuitError::ValueOutOfRange {
            node: node.to_string(),
            index,
            value: t.data[index],
            min,
            max,
        }),
    }
}

/// Checks that an index list only points inside a tensor of `len` elements.
pub(crate) fn check_indices(node: &str, what: &str, idx: &[u32], len: usize) -> Result<()> {
    match idx.iter().find(|i| **i as usize >= len) {
        None => Ok(()),
        Some(i) => Err(crate::CircuitError::MalformedGraph {
            node: node.to_string(),
            reason: format!("{what} index {i} out of bounds for {len} elements"),
        }),
    }
}
