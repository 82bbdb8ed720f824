//! Elementwise binary ops (tract `TypedBinOp`): Add, Sub, Mul with a constant or a computed
//! operand, Max with a zero constant (ONNX Relu), and Pow of two computed tensors as
//! `exp(y·ln x)` for a positive base.

use super::nonlinear::{tabulate, Bounds};
use super::{broadcast_index, const_f32, unsupported, Registry};
use crate::error::Result;
use crate::quantize::{concrete, Builder, QuantSettings};
use tract_onnx::prelude::*;
use tract_onnx::tract_core::ops::binary::TypedBinOp;
use zkinfer_circuits::ops::{Add, AffineRow, Cand, Linear, Max, Mul, Op, Relu};
use zkinfer_circuits::TensorId;

pub(crate) fn register(reg: &mut Registry) {
    reg.op::<TypedBinOp>("Add", &["Add", "Sum"], binary);
    reg.op::<TypedBinOp>("Sub", &["Sub"], binary);
    reg.op::<TypedBinOp>("Mul", &["Mul"], binary);
    reg.op::<TypedBinOp>("Max", &["Max", "Relu"], binary);
    reg.op::<TypedBinOp>("Min", &["Min"], binary);
    reg.op::<TypedBinOp>("Pow", &["Pow"], binary);
}

fn binary(b: &mut Builder, node: &TypedNode, op: &TypedBinOp) -> Result<()> {
    let kind = op.0.name().to_string();
    let out_shape = concrete(node, 0)?;
    let (c0, c1) = (const_f32(b, node.inputs[0])?, const_f32(b, node.inputs[1])?);
    let t = match (c0, c1) {
        (None, None) => two_tensors(b, node, &kind, out_shape)?,
        (Some(c), None) => with_const(b, node, &kind, 1, c, true, out_shape)?,
        (None, Some(c)) => with_const(b, node, &kind, 0, c, false, out_shape)?,
        (Some(_), Some(_)) => return Err(unsupported(node, "operands", "both constant")),
    };
    b.bind(node, t);
    Ok(())
}

fn index(node: &TypedNode, out: &[usize], input: &[usize]) -> Result<Vec<u32>> {
    broadcast_index(out, input).ok_or_else(|| unsupported(node, "broadcast", (input, out)))
}

fn with_const(
    b: &mut Builder,
    node: &TypedNode,
    kind: &str,
    slot: usize,
    c: tract_ndarray::ArrayD<f32>,
    const_first: bool,
    out_shape: Vec<usize>,
) -> Result<TensorId> {
    let x = b.tensor(node.inputs[slot], &node.name)?;
    let cvals: Vec<f32> = c.iter().copied().collect();
    let cidx = index(node, &out_shape, c.shape())?;
    match kind {
        "Max" | "Min" => {
            let x = b.at_act_scale(x, &node.name);
            let xidx = index(node, &out_shape, b.graph.shape(x))?;
            let scale = b.graph.scale(x);
            if kind == "Max"
                && cvals.iter().all(|v| *v == 0.0)
                && xidx.iter().enumerate().all(|(i, x)| *x as usize == i)
            {
                return Ok(b.push(&node.name, Op::Relu(Relu {}), vec![x], out_shape, scale));
            }
            let windows = xidx
                .iter()
                .zip(&cidx)
                .map(|(xi, ci)| {
                    vec![
                        Cand::of(*xi),
                        Cand::Const(QuantSettings::quantize(cvals[*ci as usize], scale)),
                    ]
                })
                .collect();
            Ok(b.push(
                &node.name,
                Op::Max(Max {
                    min: kind == "Min",
                    windows,
                }),
                vec![x],
                out_shape,
                scale,
            ))
        }
        "Add" | "Sub" => {
            let scale = b.graph.scale(x);
            let xidx = index(node, &out_shape, b.graph.shape(x))?;
            let (xw, cs) = match (kind, const_first) {
                ("Sub", true) => (-1, 1.0),
                ("Sub", false) => (1, -1.0),
                _ => (1, 1.0),
            };
            let rows = xidx
                .iter()
                .zip(&cidx)
                .map(|(xi, ci)| AffineRow {
                    bias: QuantSettings::quantize(cs * cvals[*ci as usize], scale),
                    terms: vec![(*xi, xw)],
                })
                .collect::<Vec<_>>();
            if let Some(t) = fold_into_linear(b, node, slot, x, &rows) {
                return Ok(t);
            }
            Ok(b.push(
                &node.name,
                Op::Linear(Linear { rows }),
                vec![x],
                out_shape,
                scale,
            ))
        }
        "Mul" => scaled(b, node, &node.name, x, &cvals, &cidx, out_shape),
        "Pow" => {
            // x^c = exp(c·ln x) for a constant exponent tensor (a scalar one is tract's
            // PowConst); c^y = exp(ln c·y) for a constant base.
            let name = node.name.clone();
            let (t, weights) = if const_first {
                let ln: Vec<f32> = cvals.iter().map(|c| c.ln()).collect();
                if let Some(c) = cvals.iter().find(|c| **c <= 0.0) {
                    return Err(unsupported(node, "constant base", c));
                }
                (x, ln)
            } else {
                let ln = ln(b, &name, x)?;
                (ln, cvals)
            };
            let product_name = format!("{name}.y_ln_x");
            let product = scaled(b, node, &product_name, t, &weights, &cidx, out_shape)?;
            tabulate(b, &name, product, "exp", f64::exp, Bounds::default())
        }
        _ => Err(unsupported(node, "binary op", kind)),
    }
}

/// `ln x` for a positive `x` (refused, naming the node, where its range reaches 0).
fn ln(b: &mut Builder, name: &str, x: TensorId) -> Result<TensorId> {
    let domain = Bounds::domain(f64::MIN_POSITIVE);
    tabulate(b, &format!("{name}.ln"), x, "ln", f64::ln, domain)
}

/// `x·w` elementwise for constant weights `w` (indexed by `widx`, broadcast to `out_shape`),
/// one Linear node at the weight scale, named `name`.
fn scaled(
    b: &mut Builder,
    node: &TypedNode,
    name: &str,
    x: TensorId,
    w: &[f32],
    widx: &[u32],
    out_shape: Vec<usize>,
) -> Result<TensorId> {
    let x = b.at_act_scale(x, name);
    let xidx = index(node, &out_shape, b.graph.shape(x))?;
    let ws = b.settings.weight_scale;
    let rows = xidx
        .iter()
        .zip(widx)
        .map(|(xi, wi)| AffineRow {
            bias: 0,
            terms: vec![(*xi, QuantSettings::quantize(w[*wi as usize], ws))],
        })
        .collect();
    let scale = b.graph.scale(x) + ws;
    Ok(b.push(name, Op::Linear(Linear { rows }), vec![x], out_shape, scale))
}

/// Adds a bias into the Linear node that produced `x`, when this node is its only consumer
/// and reads it elementwise; saves one row per element.
fn fold_into_linear(
    b: &mut Builder,
    node: &TypedNode,
    slot: usize,
    x: TensorId,
    rows: &[AffineRow],
) -> Option<usize> {
    let producer = b.model.node(node.inputs[slot].node);
    if producer.outputs[node.inputs[slot].slot].successors.len() != 1 {
        return None;
    }
    let n = x.checked_sub(b.graph.inputs.len())?;
    let Op::Linear(lin) = &mut b.graph.nodes[n].op else {
        return None;
    };
    if lin.rows.len() != rows.len()
        || rows
            .iter()
            .enumerate()
            .any(|(i, r)| r.terms != [(i as u32, 1)])
    {
        return None;
    }
    for (dst, src) in lin.rows.iter_mut().zip(rows) {
        dst.bias += src.bias;
    }
    Some(x)
}

fn two_tensors(
    b: &mut Builder,
    node: &TypedNode,
    kind: &str,
    out_shape: Vec<usize>,
) -> Result<TensorId> {
    let x = b.tensor(node.inputs[0], &node.name)?;
    let y = b.tensor(node.inputs[1], &node.name)?;
    match kind {
        "Add" | "Sub" => {
            let (sx, sy) = (b.graph.scale(x), b.graph.scale(y));
            let s = sx.max(sy);
            let (lhs, rhs) = (
                index(node, &out_shape, b.graph.shape(x))?,
                index(node, &out_shape, b.graph.shape(y))?,
            );
            let sign = if kind == "Sub" { -1 } else { 1 };
            let op = Add {
                lhs_mul: 1 << (s - sx),
                rhs_mul: sign * (1 << (s - sy)),
                lhs,
                rhs,
            };
            Ok(b.push(&node.name, Op::Add(op), vec![x, y], out_shape, s))
        }
        "Mul" => {
            let (x, y) = (b.at_act_scale(x, &node.name), b.at_act_scale(y, &node.name));
            let (lhs, rhs) = (
                index(node, &out_shape, b.graph.shape(x))?,
                index(node, &out_shape, b.graph.shape(y))?,
            );
            let scale = b.graph.scale(x) + b.graph.scale(y);
            Ok(b.push(
                &node.name,
                Op::Mul(Mul { lhs, rhs }),
                vec![x, y],
                out_shape,
                scale,
            ))
        }
        "Max" | "Min" => {
            let (xy, _) = b.at_common_scale(&[x, y], &node.name);
            let (x, y) = (xy[0], xy[1]);
            let (lhs, rhs) = (
                index(node, &out_shape, b.graph.shape(x))?,
                index(node, &out_shape, b.graph.shape(y))?,
            );
            let windows = lhs
                .iter()
                .zip(&rhs)
                .map(|(l, r)| {
                    vec![
                        Cand::Elem {
                            input: 0,
                            index: *l,
                        },
                        Cand::Elem {
                            input: 1,
                            index: *r,
                        },
                    ]
                })
                .collect();
            let scale = b.graph.scale(x);
            Ok(b.push(
                &node.name,
                Op::Max(Max {
                    min: kind == "Min",
                    windows,
                }),
                vec![x, y],
                out_shape,
                scale,
            ))
        }
        "Pow" => pow(b, node, x, y, out_shape),
        _ => Err(unsupported(node, "binary op on two computed tensors", kind)),
    }
}

/// `x^y = exp(y·ln x)` elementwise (with broadcasting): the logarithm and the exponential are
/// nonlinear functions over their calibrated ranges, the product is the linear gate's product
/// term. A base whose calibrated range reaches 0 or below is refused by the logarithm, naming
/// the node.
fn pow(
    b: &mut Builder,
    node: &TypedNode,
    x: TensorId,
    y: TensorId,
    out_shape: Vec<usize>,
) -> Result<TensorId> {
    let name = &node.name;
    let ln = ln(b, name, x)?;
    let y = b.at_act_scale(y, name);
    let (lhs, rhs) = (
        index(node, &out_shape, b.graph.shape(y))?,
        index(node, &out_shape, b.graph.shape(ln))?,
    );
    let scale = b.graph.scale(y) + b.graph.scale(ln);
    let op = Op::Mul(Mul { lhs, rhs });
    let product = b.push(&format!("{name}.y_ln_x"), op, vec![y, ln], out_shape, scale);
    tabulate(b, name, product, "exp", f64::exp, Bounds::default())
}
