//! Data movement, lowered to zero-row `Gather` nodes: Transpose (tract `MoveAxis`), Slice,
//! Concat, Gather with constant indices, Expand (`MultiBroadcastTo`) and constant Pad.

use super::{broadcast_index, const_f32, strides, unsupported, Registry};
use crate::error::Result;
use crate::quantize::{concrete, Builder, Mapped, QuantSettings};
use tract_onnx::prelude::*;
use tract_onnx::tract_core::internal::DimLike;
use tract_onnx::tract_core::ops::array::{
    Gather, MultiBroadcastTo, Pad, PadMode, Slice, TypedConcat,
};
use tract_onnx::tract_core::ops::change_axes::AxisOp;
use tract_onnx::tract_core::ops::Downsample;
use zkinfer_circuits::ops::{Cand, Gather as QGather, Op};

pub(crate) fn register(reg: &mut Registry) {
    reg.op::<AxisOp>("MoveAxis", &["Transpose"], move_axis);
    reg.op::<Slice>("Slice", &["Slice"], slice);
    reg.op::<TypedConcat>("Concat", &["Concat"], concat);
    reg.op::<Gather>("Gather", &["Gather"], gather);
    reg.op::<MultiBroadcastTo>("MultiBroadcastTo", &["Expand"], broadcast);
    reg.op::<Pad>("Pad", &["Pad"], pad);
    // Slice with steps.
    reg.op::<Downsample>("Downsample", &["Slice"], downsample);
}

/// Emits a Gather whose output element at each coordinate comes from `f(coord)`.
fn emit(
    b: &mut Builder,
    node: &TypedNode,
    inputs: Vec<usize>,
    scale: i32,
    f: impl Fn(&[usize]) -> Cand,
) -> Result<()> {
    let shape = concrete(node, 0)?;
    let st = strides(&shape);
    let n: usize = shape.iter().product();
    let mut coord = vec![0; shape.len()];
    let items = (0..n)
        .map(|o| {
            for (d, c) in coord.iter_mut().enumerate() {
                *c = (o / st[d]) % shape[d];
            }
            f(&coord)
        })
        .collect();
    b.emit(node, Op::Gather(QGather { items }), inputs, shape, scale)
}

fn flat(coord: &[usize], shape: &[usize]) -> u32 {
    coord
        .iter()
        .zip(strides(shape))
        .map(|(c, s)| c * s)
        .sum::<usize>() as u32
}

fn move_axis(b: &mut Builder, node: &TypedNode, op: &AxisOp) -> Result<()> {
    let AxisOp::Move(from, to) = op else {
        return Err(unsupported(node, "axis op", "not a move"));
    };
    let x = b.tensor(node.inputs[0], &node.name)?;
    let in_shape = b.graph.shape(x).to_vec();
    let mut axes: Vec<usize> = (0..in_shape.len()).collect();
    let a = axes.remove(*from);
    axes.insert(*to, a);
    let scale = b.graph.scale(x);
    emit(b, node, vec![x], scale, |out| {
        let mut c = vec![0; out.len()];
        for (i, v) in out.iter().enumerate() {
            c[axes[i]] = *v;
        }
        Cand::of(flat(&c, &in_shape))
    })
}

fn slice(b: &mut Builder, node: &TypedNode, op: &Slice) -> Result<()> {
    let start = op
        .start
        .to_usize()
        .map_err(|_| unsupported(node, "start", &op.start))?;
    let x = b.tensor(node.inputs[0], &node.name)?;
    let in_shape = b.graph.shape(x).to_vec();
    let scale = b.graph.scale(x);
    let axis = op.axis;
    emit(b, node, vec![x], scale, |out| {
        let mut c = out.to_vec();
        c[axis] += start;
        Cand::of(flat(&c, &in_shape))
    })
}

/// Each operand of a data-movement op: a tensor of the graph or a quantized constant.
enum Operand {
    Tensor { input: u32, shape: Vec<usize> },
    Const { shape: Vec<usize>, values: Vec<i64> },
}

fn concat(b: &mut Builder, node: &TypedNode, op: &TypedConcat) -> Result<()> {
    let mut tensors = Vec::new();
    for o in &node.inputs {
        if let Mapped::Tensor(t) = b.mapped(*o)? {
            tensors.push(t);
        }
    }
    let act = b.at_common_scale(&tensors, &node.name).1;
    let mut inputs = Vec::new();
    let mut operands = Vec::new();
    for o in &node.inputs {
        match b.mapped(*o)? {
            Mapped::Tensor(t) => {
                let t = b.at_scale(t, act, &node.name);
                operands.push(Operand::Tensor {
                    input: inputs.len() as u32,
                    shape: b.graph.shape(t).to_vec(),
                });
                inputs.push(t);
            }
            Mapped::Const(_) => {
                let c = const_f32(b, *o)?.expect("constant");
                let values = c.iter().map(|v| QuantSettings::quantize(*v, act)).collect();
                operands.push(Operand::Const {
                    shape: c.shape().to_vec(),
                    values,
                });
            }
        }
    }
    let axis = op.axis;
    emit(b, node, inputs, act, |out| {
        let mut c = out.to_vec();
        for operand in &operands {
            let shape = match operand {
                Operand::Tensor { shape, .. } | Operand::Const { shape, .. } => shape,
            };
            if c[axis] < shape[axis] {
                return match operand {
                    Operand::Tensor { input, shape } => Cand::Elem {
                        input: *input,
                        index: flat(&c, shape),
                    },
                    Operand::Const { shape, values } => {
                        Cand::Const(values[flat(&c, shape) as usize])
                    }
                };
            }
            c[axis] -= shape[axis];
        }
        unreachable!("output coordinate inside the concatenation")
    })
}

fn gather(b: &mut Builder, node: &TypedNode, op: &Gather) -> Result<()> {
    let x = b.tensor(node.inputs[0], &node.name)?;
    let idx =
        const_f32(b, node.inputs[1])?.ok_or_else(|| unsupported(node, "indices", "computed"))?;
    let in_shape = b.graph.shape(x).to_vec();
    let axis = op.axis;
    let (ir, ishape) = (idx.ndim(), idx.shape().to_vec());
    let idx: Vec<i64> = idx.iter().map(|v| *v as i64).collect();
    let dim = in_shape[axis] as i64;
    if let Some(bad) = idx.iter().find(|i| **i >= dim || **i < -dim) {
        return Err(unsupported(node, "index", bad));
    }
    let scale = b.graph.scale(x);
    emit(b, node, vec![x], scale, |out| {
        let i = idx[flat(&out[axis..axis + ir], &ishape) as usize];
        let mut c: Vec<usize> = out[..axis].to_vec();
        c.push(if i < 0 {
            (i + dim) as usize
        } else {
            i as usize
        });
        c.extend_from_slice(&out[axis + ir..]);
        Cand::of(flat(&c, &in_shape))
    })
}

fn broadcast(b: &mut Builder, node: &TypedNode, _: &MultiBroadcastTo) -> Result<()> {
    let x = b.tensor(node.inputs[0], &node.name)?;
    let out = concrete(node, 0)?;
    let map = broadcast_index(&out, b.graph.shape(x))
        .ok_or_else(|| unsupported(node, "broadcast", &out))?;
    let items = map.into_iter().map(Cand::of).collect();
    let scale = b.graph.scale(x);
    b.emit(node, Op::Gather(QGather { items }), vec![x], out, scale)
}

fn pad(b: &mut Builder, node: &TypedNode, op: &Pad) -> Result<()> {
    let PadMode::Constant(value) = &op.mode else {
        return Err(unsupported(node, "mode", &op.mode));
    };
    let x = b.tensor(node.inputs[0], &node.name)?;
    let scale = b.graph.scale(x);
    let v = value
        .cast_to_scalar::<f32>()
        .map_err(|_| unsupported(node, "pad value", value))?;
    let fill = QuantSettings::quantize(v, scale);
    let in_shape = b.graph.shape(x).to_vec();
    let pads = op.pads.clone();
    emit(b, node, vec![x], scale, |out| {
        let mut c = Vec::with_capacity(out.len());
        for (d, v) in out.iter().enumerate() {
            match v.checked_sub(pads[d].0) {
                Some(i) if i < in_shape[d] => c.push(i),
                _ => return Cand::Const(fill),
            }
        }
        Cand::of(flat(&c, &in_shape))
    })
}

/// Strided slice along `axis` (ndarray semantics over `modulo..len`): elements `modulo,
/// modulo + s, …` for a positive stride `s`; `len − 1, len − 1 − |s|, …` (down to `modulo`)
/// for a negative one.
fn downsample(b: &mut Builder, node: &TypedNode, op: &Downsample) -> Result<()> {
    let x = b.tensor(node.inputs[0], &node.name)?;
    let in_shape = b.graph.shape(x).to_vec();
    let (axis, step) = (op.axis, op.stride.unsigned_abs().max(1));
    let len = in_shape[axis];
    let picked: Vec<usize> = if op.stride < 0 {
        (op.modulo..len).rev().step_by(step).collect()
    } else {
        (op.modulo..len).step_by(step).collect()
    };
    let scale = b.graph.scale(x);
    emit(b, node, vec![x], scale, |out| {
        let mut c = out.to_vec();
        c[axis] = picked[out[axis]];
        Cand::of(flat(&c, &in_shape))
    })
}
