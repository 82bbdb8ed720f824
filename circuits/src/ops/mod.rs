//! The integer op set. Each op module holds the op's integer semantics (`eval`, the oracle)
//! and its chip (`assign`, built from the gadgets of [`crate::chip`]).

mod add;
mod argmax;
mod bilinear;
mod compare;
pub mod fused;
mod gather;
mod interp;
mod linear;
mod lookup;
mod max;
mod mul;
mod relu;
mod requant;
mod rescale;
mod reshape;
mod to_int;

pub use add::Add;
pub use argmax::ArgMax;
pub use bilinear::Bilinear;
pub use compare::{CmpKind, Compare, Where};
pub use gather::Gather;
pub use interp::Interp;
pub use linear::{AffineRow, Linear};
pub use lookup::{FnTable, Lookup};
pub use max::Max;
pub use mul::Mul;
pub use relu::Relu;
pub use requant::{requantize, requantize_float_zp, Requant};
pub use rescale::{round_shift, Rescale, TRUSTED_BITS};
pub use reshape::Reshape;
pub use to_int::ToInt;

use crate::chip::{Ctx, Wire, BLOCK};
use crate::error::Result;
use crate::tensor::Tensor;
use serde::{Deserialize, Serialize};

/// Circuit rows of `layout_rows` layout rows: each is a block of [`BLOCK`] cells of one
/// column. Table rows (fixed columns) are circuit rows already.
pub fn circuit_rows(layout_rows: usize) -> usize {
    layout_rows * BLOCK
}

/// One op of the quantized graph.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Op {
    /// Sparse affine map with constant weights (Gemm, MatMul, Conv, pooling sums, biases).
    Linear(Linear),
    /// Elementwise weighted sum of two tensors.
    Add(Add),
    /// Elementwise product of two tensors.
    Mul(Mul),
    /// Inner products of two computed tensors.
    Bilinear(Bilinear),
    /// Rounding division by a power of two.
    Rescale(Rescale),
    /// `max(x, 0)`.
    Relu(Relu),
    /// Maximum or minimum over windows of candidates.
    Max(Max),
    /// Data movement (no rows).
    Gather(Gather),
    /// A tabulated nonlinear function.
    Lookup(Lookup),
    /// A nonlinear function interpolated over range-decomposed segments.
    Interp(Interp),
    /// A comparison giving 0/1.
    Compare(Compare),
    /// Selection by a 0/1 condition.
    Where(Where),
    /// Index of the maximum over windows.
    ArgMax(ArgMax),
    /// Same data, new shape.
    Reshape(Reshape),
    /// onnxruntime's requantization of an accumulator to int8/uint8.
    Requant(Requant),
    /// Exact cast of fixed-point values to integers.
    ToInt(ToInt),
}

/// What every op provides.
pub(crate) trait OpImpl {
    /// Integer semantics: the output for `inputs` (the single oracle).
    fn eval(&self, node: &str, inputs: &[&Tensor], out_shape: &[usize]) -> Result<Tensor>;
    /// Lays out constraints proving `out` from the input wires.
    fn assign(&self, ctx: &mut Ctx, inputs: &[&[Wire]], out: &Tensor) -> Vec<Wire>;
    /// Checks the op's parameters (shifts, tables, windows) before anything is laid out: the
    /// gadgets rely on them, keygen included.
    fn check(&self, _node: &str) -> Result<()> {
        Ok(())
    }
    /// A bound on the magnitude of every output element, given bounds on the inputs' (in
    /// input order): what [`crate::Graph::validate`] keeps below the field's size.
    fn bound(&self, inputs: &[f64]) -> f64;
    /// `Some(bits)` when its rows constrain every element of its first input below `2^bits`
    /// in magnitude, whatever the prover assigns, given the element counts and that later
    /// nodes so constrain every element of its output below `2^output_checked` (see
    /// [`Op::bounds_input`]).
    fn bounds_input(&self, _elements: Elements, _output_checked: Option<u32>) -> Option<u32> {
        None
    }
}

/// Element counts of a node's first input and of its output.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Elements {
    /// Elements of the first input.
    pub input: usize,
    /// Elements of the output.
    pub output: usize,
}

impl Elements {
    /// `bits` for an elementwise check: it covers as many elements as the output has, all
    /// of the input's only when the counts agree.
    pub(crate) fn elementwise(self, bits: u32) -> Option<u32> {
        (self.input == self.output).then_some(bits)
    }
}

/// Bits that hold every magnitude up to `m`: the least `bits` with `m < 2^bits`.
pub(crate) fn bit_len(m: u128) -> u32 {
    u128::BITS - m.leading_zeros()
}

/// The largest of the input bounds and of the constants `cands` hold: the bound of an op that
/// moves or selects its operands.
pub(crate) fn moved_bound(inputs: &[f64], cands: &[Cand]) -> f64 {
    let consts = cands.iter().filter_map(|c| match c {
        Cand::Const(v) => Some((*v as f64).abs()),
        Cand::Elem { .. } => None,
    });
    inputs.iter().copied().chain(consts).fold(0.0, f64::max)
}

impl Op {
    fn inner(&self) -> &dyn OpImpl {
        match self {
            Op::Linear(op) => op,
            Op::Add(op) => op,
            Op::Mul(op) => op,
            Op::Bilinear(op) => op,
            Op::Rescale(op) => op,
            Op::Relu(op) => op,
            Op::Max(op) => op,
            Op::Gather(op) => op,
            Op::Lookup(op) => op,
            Op::Interp(op) => op,
            Op::Compare(op) => op,
            Op::Where(op) => op,
            Op::ArgMax(op) => op,
            Op::Reshape(op) => op,
            Op::Requant(op) => op,
            Op::ToInt(op) => op,
        }
    }

    /// Evaluates the op's integer semantics, given what later nodes bound its output to
    /// ([`crate::Graph::checked_bits`]): a rescale so bounded leaves its range to them, as
    /// its rows do ([`Rescale::trusts_later`]).
    pub fn eval(
        &self,
        node: &str,
        inputs: &[&Tensor],
        out_shape: &[usize],
        output_checked: Option<u32>,
    ) -> Result<Tensor> {
        let out = match self {
            Op::Rescale(r) if Rescale::trusts_later(output_checked) => {
                r.eval_unchecked(node, inputs, out_shape)
            }
            op => op.inner().eval(node, inputs, out_shape),
        }?;
        // Every op defines one value per element of its declared shape, which the layout
        // and the later nodes' indices rely on (a malformed graph file is refused here).
        check_outputs(node, out.data.len(), out_shape)?;
        Ok(out)
    }

    /// Checks the op's parameters ([`Graph::validate`](crate::Graph::validate) runs it for
    /// every node, so keygen does too).
    pub fn check(&self, node: &str) -> Result<()> {
        self.inner().check(node)
    }

    /// A bound on the magnitude of every output element, given bounds on the inputs' and
    /// what later nodes bound the output to (as for [`Op::eval`]).
    pub fn bound(&self, inputs: &[f64], output_checked: Option<u32>) -> f64 {
        match self {
            Op::Rescale(r) if Rescale::trusts_later(output_checked) => {
                r.bound_trusting(inputs, output_checked)
            }
            op => op.inner().bound(inputs),
        }
    }

    /// `Some(bits)` when the op's rows constrain every one of the `in_elements` elements of
    /// its first input below `2^bits` in magnitude, whatever the prover assigns, given that
    /// later nodes so constrain every one of its `out_elements` output elements below
    /// `2^output_checked` ([`crate::Graph::checked_bits`]). What lets a rescale skip its own
    /// range check of its output (`Ctx::rescale`) and the wide layout pack the dot products
    /// that compute such an input (`Ctx::shared_dot`).
    pub fn bounds_input(
        &self,
        in_elements: usize,
        out_elements: usize,
        output_checked: Option<u32>,
    ) -> Option<u32> {
        let elements = Elements {
            input: in_elements,
            output: out_elements,
        };
        self.inner().bounds_input(elements, output_checked)
    }

    /// Lays the op out; `out` is the oracle's output for the wires' values.
    pub fn assign(&self, ctx: &mut Ctx, inputs: &[&[Wire]], out: &Tensor) -> Vec<Wire> {
        self.inner().assign(ctx, inputs, out)
    }

    /// Multiply-accumulates the op computes: a term of an affine map (by a constant weight,
    /// zero weights included), a product of two computed values; elementwise ops count none.
    pub fn macs(&self) -> usize {
        match self {
            Op::Linear(l) => l.rows.iter().map(|r| r.terms.len()).sum(),
            Op::Bilinear(b) => b.rows.iter().map(Vec::len).sum(),
            _ => 0,
        }
    }

    /// How many inputs the op reads, where that is fixed (its `eval` and `bound` index
    /// them); `None` where its candidates name their inputs (Compare, Where, Max, Gather).
    pub fn input_count(&self) -> Option<usize> {
        match self {
            Op::Add(_) | Op::Mul(_) | Op::Bilinear(_) => Some(2),
            Op::Compare(_) | Op::Where(_) | Op::Max(_) | Op::Gather(_) => None,
            _ => Some(1),
        }
    }

    /// Short name, for errors and reports.
    pub fn name(&self) -> &'static str {
        match self {
            Op::Linear(_) => "linear",
            Op::Add(_) => "add",
            Op::Mul(_) => "mul",
            Op::Bilinear(_) => "bilinear",
            Op::Rescale(_) => "rescale",
            Op::Relu(_) => "relu",
            Op::Max(op) if op.min => "min",
            Op::Max(_) => "max",
            Op::Gather(_) => "gather",
            Op::Lookup(_) => "lookup",
            Op::Interp(_) => "interp",
            Op::Compare(_) => "compare",
            Op::Where(_) => "where",
            Op::ArgMax(_) => "argmax",
            Op::Reshape(_) => "reshape",
            Op::Requant(_) => "requant",
            Op::ToInt(_) => "to_int",
        }
    }

    /// The function tables the op looks up (registered with the circuit, deduplicated).
    pub fn tables(&self) -> Vec<FnTable> {
        match self {
            Op::Lookup(l) => vec![l.table.clone()],
            Op::Interp(i) => vec![i.table.clone()],
            Op::Requant(r) => r.all_tables(),
            _ => vec![],
        }
    }
}

/// An operand of a [`Max`] window or a [`Gather`]: an element of an input, or a constant.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Cand {
    /// `inputs[input].data[index]`.
    Elem {
        /// Which input of the node.
        input: u32,
        /// Flat index into it.
        index: u32,
    },
    /// A constant.
    Const(i64),
}

impl Cand {
    /// Shorthand for an element of the first input.
    pub fn of(index: u32) -> Self {
        Cand::Elem { input: 0, index }
    }

    pub(crate) fn value(&self, node: &str, inputs: &[&Tensor]) -> Result<i128> {
        match *self {
            Cand::Const(v) => Ok(i128::from(v)),
            Cand::Elem { input, index } => inputs
                .get(input as usize)
                .and_then(|t| t.data.get(index as usize))
                .copied()
                .ok_or_else(|| crate::CircuitError::MalformedGraph {
                    node: node.to_string(),
                    reason: format!("operand ({input}, {index}) out of bounds"),
                }),
        }
    }

    pub(crate) fn wire(&self, ctx: &mut Ctx, inputs: &[&[Wire]]) -> Wire {
        match *self {
            Cand::Const(v) => ctx.constant(i128::from(v)),
            Cand::Elem { input, index } => inputs[input as usize][index as usize],
        }
    }
}

/// Lays out an elementwise op: `gadget(ctx, x, y)` for each input wire `x` of the first input
/// and its oracle output `y`.
pub(crate) fn per_element(
    ctx: &mut Ctx,
    inputs: &[&[Wire]],
    out: &Tensor,
    mut gadget: impl FnMut(&mut Ctx, &Wire, i128) -> Wire,
) -> Vec<Wire> {
    inputs[0]
        .iter()
        .zip(&out.data)
        .map(|(x, y)| gadget(ctx, x, *y))
        .collect()
}

/// An op's output: `data` at `out_shape`, every value a range-checked activation.
pub(crate) fn activation(node: &str, out_shape: &[usize], data: Vec<i128>) -> Result<Tensor> {
    let out = Tensor::new(out_shape.to_vec(), data);
    check_range(
        node,
        &out,
        -crate::chip::ACT_BOUND,
        crate::chip::ACT_BOUND - 1,
    )?;
    Ok(out)
}

/// `bias + Σ a·b` in checked `i128` arithmetic: an overflow is an error naming the node and
/// the output element, never a wrapped value (the circuit computes in a field of 254 bits and
/// would prove the exact sum).
pub(crate) fn checked_sum(
    node: &str,
    index: usize,
    bias: i128,
    terms: impl IntoIterator<Item = (i128, i128)>,
) -> Result<i128> {
    terms
        .into_iter()
        .try_fold(bias, |acc, (a, b)| a.checked_mul(b)?.checked_add(acc))
        .ok_or_else(|| crate::CircuitError::Overflow {
            node: node.to_string(),
            index,
        })
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
            scale: None,
        }),
    }
}

/// Checks that an op defines exactly one output per element of `out_shape`.
pub(crate) fn check_outputs(node: &str, n: usize, out_shape: &[usize]) -> Result<()> {
    if n == out_shape.iter().product::<usize>() {
        return Ok(());
    }
    Err(crate::CircuitError::MalformedGraph {
        node: node.to_string(),
        reason: format!("{n} outputs defined for output shape {out_shape:?}"),
    })
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
