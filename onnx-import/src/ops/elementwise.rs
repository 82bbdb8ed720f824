//! Unary elementwise ops built from linear rows and the max gadget: Neg, Abs
//! (`max(x, −x)`), LeakyRelu (`max(x, αx)` for α ≤ 1, `min` otherwise).

use super::Registry;
use crate::error::Result;
use crate::quantize::{concrete, Builder, QuantSettings};
use tract_onnx::prelude::*;
use tract_onnx::tract_core::ops::element_wise::ElementWiseOp;
use tract_onnx::tract_core::ops::nn::LeakyRelu;
use zkinfer_circuits::ops::{AffineRow, Cand, Linear, Max, Op};
use zkinfer_circuits::TensorId;

pub(crate) fn register(reg: &mut Registry) {
    reg.op::<ElementWiseOp>("Neg", &["Neg"], neg);
    reg.op::<ElementWiseOp>("Abs", &["Abs"], abs);
    reg.elementwise::<LeakyRelu>("LeakyRelu", &["LeakyRelu"], leaky_relu);
}

/// `w·x` elementwise (weight at `extra_scale` bits), as a linear node.
fn scaled(b: &mut Builder, name: &str, x: TensorId, w: i64, extra_scale: i32) -> TensorId {
    let shape = b.graph.shape(x).to_vec();
    let n: usize = shape.iter().product();
    let rows = (0..n as u32)
        .map(|i| AffineRow {
            bias: 0,
            terms: vec![(i, w)],
        })
        .collect();
    let scale = b.graph.scale(x) + extra_scale;
    b.push(name, Op::Linear(Linear { rows }), vec![x], shape, scale)
}

fn neg(b: &mut Builder, node: &TypedNode, _: &ElementWiseOp) -> Result<()> {
    let x = b.tensor(node.inputs[0], &node.name)?;
    let t = scaled(b, &node.name, x, -1, 0);
    b.bind(node, t);
    Ok(())
}

/// `max(x, y)` (or min) elementwise over two tensors of the same shape and scale.
fn pairwise(b: &mut Builder, node: &TypedNode, x: TensorId, y: TensorId, min: bool) -> Result<()> {
    let shape = concrete(node, 0)?;
    let n: u32 = shape.iter().product::<usize>() as u32;
    let windows = (0..n)
        .map(|i| {
            vec![
                Cand::Elem { input: 0, index: i },
                Cand::Elem { input: 1, index: i },
            ]
        })
        .collect();
    let scale = b.graph.scale(x);
    b.emit(
        node,
        Op::Max(Max { min, windows }),
        vec![x, y],
        shape,
        scale,
    )
}

fn abs(b: &mut Builder, node: &TypedNode, _: &ElementWiseOp) -> Result<()> {
    let x = b.tensor(node.inputs[0], &node.name)?;
    let x = b.at_act_scale(x, &node.name);
    let negx = scaled(b, &format!("{}.neg", node.name), x, -1, 0);
    pairwise(b, node, x, negx, false)
}

fn leaky_relu(b: &mut Builder, node: &TypedNode, op: &LeakyRelu) -> Result<()> {
    let alpha = op.alpha;
    let x = b.tensor(node.inputs[0], &node.name)?;
    let x = b.at_act_scale(x, &node.name);
    let ws = b.settings.weight_scale;
    let ax = scaled(
        b,
        &format!("{}.alpha", node.name),
        x,
        QuantSettings::quantize(alpha, ws),
        ws,
    );
    let ax = b.at_scale(ax, b.graph.scale(x), &node.name);
    pairwise(b, node, x, ax, alpha > 1.0)
}
