//! Gemm, MatMul and Einsum, which tract declutters into `EinSum`.

use super::{const_f32, strides, unsupported, Registry};
use crate::error::Result;
use crate::quantize::{concrete, Builder, QuantSettings};
use std::collections::HashMap;
use tract_onnx::prelude::*;
use tract_onnx::tract_core::ops::einsum::EinSum;
use zkinfer_circuits::ops::{AffineRow, Bilinear, Linear, Op};
use zkinfer_circuits::TensorId;

pub(crate) fn register(reg: &mut Registry) {
    reg.op::<EinSum>("EinSum", &["MatMul"], einsum);
}

/// For each output element of `a,b->out`, the `(a index, b index)` pairs summed into it:
/// every assignment of the axes absent from the output.
fn einsum_pairs(
    node: &TypedNode,
    expr: &str,
    (a_axes, a_shape): (&[char], &[usize]),
    (b_axes, b_shape): (&[char], &[usize]),
    (out_axes, out_shape): (&[char], &[usize]),
) -> Result<Vec<Vec<(u32, u32)>>> {
    if a_axes.len() != a_shape.len()
        || b_axes.len() != b_shape.len()
        || out_axes.len() != out_shape.len()
    {
        return Err(unsupported(node, "axes", expr));
    }
    let mut size: HashMap<char, usize> = HashMap::new();
    for (a, d) in a_axes
        .iter()
        .zip(a_shape)
        .chain(b_axes.iter().zip(b_shape))
        .chain(out_axes.iter().zip(out_shape))
    {
        let e = size.entry(*a).or_insert(*d);
        if *e != *d {
            return Err(unsupported(
                node,
                "axes",
                format!("{expr} with mismatched size of `{a}`"),
            ));
        }
    }
    let mut summed: Vec<char> = vec![];
    for a in a_axes.iter().chain(b_axes) {
        if !out_axes.contains(a) && !summed.contains(a) {
            summed.push(*a);
        }
    }
    let (sa, sb, so) = (strides(a_shape), strides(b_shape), strides(out_shape));
    let n_sum: usize = summed.iter().map(|a| size[a]).product();
    let mut coord: HashMap<char, usize> = HashMap::new();
    let mut rows = Vec::with_capacity(out_shape.iter().product());
    for o in 0..out_shape.iter().product::<usize>() {
        for (i, a) in out_axes.iter().enumerate() {
            coord.insert(*a, (o / so[i]) % out_shape[i]);
        }
        let mut pairs = Vec::with_capacity(n_sum);
        for s in 0..n_sum {
            let mut rem = s;
            for a in summed.iter().rev() {
                coord.insert(*a, rem % size[a]);
                rem /= size[a];
            }
            let ai: usize = a_axes
                .iter()
                .enumerate()
                .map(|(i, a)| coord[a] * sa[i])
                .sum();
            let bi: usize = b_axes
                .iter()
                .enumerate()
                .map(|(i, a)| coord[a] * sb[i])
                .sum();
            pairs.push((ai as u32, bi as u32));
        }
        rows.push(pairs);
    }
    Ok(rows)
}

/// `y = Σ a·b` over the axes absent from the output: a sparse linear map when one operand is
/// constant (its values become weights), inner products on the bilinear gate otherwise.
fn einsum(b: &mut Builder, node: &TypedNode, op: &EinSum) -> Result<()> {
    if op.q_params.is_some() || node.inputs.len() != 2 {
        return Err(unsupported(node, "quantized einsum", op.q_params));
    }
    let expr = format!("{}", op.axes);
    let (ins, out_axes) = expr
        .split_once("->")
        .ok_or_else(|| unsupported(node, "axes", &expr))?;
    let ins: Vec<Vec<char>> = ins.split(',').map(|s| s.chars().collect()).collect();
    let out_axes: Vec<char> = out_axes.chars().collect();
    let out_shape = concrete(node, 0)?;
    let (c0, c1) = (const_f32(b, node.inputs[0])?, const_f32(b, node.inputs[1])?);
    if c0.is_none() && c1.is_none() {
        let x = b.tensor(node.inputs[0], &node.name)?;
        let y = b.tensor(node.inputs[1], &node.name)?;
        let (x, y) = (b.at_act_scale(x, &node.name), b.at_act_scale(y, &node.name));
        let (xs, ys) = (b.graph.shape(x).to_vec(), b.graph.shape(y).to_vec());
        let rows = einsum_pairs(
            node,
            &expr,
            (&ins[0], &xs),
            (&ins[1], &ys),
            (&out_axes, &out_shape),
        )?;
        // A term with an operand the graph fixes at 0 (a masked softmax's output) is left
        // out.
        let zero = |t: TensorId, i: u32| b.graph.known_value(t, i as usize) == Some(0);
        let rows = rows
            .into_iter()
            .map(|r| {
                r.into_iter()
                    .filter(|(i, j)| !zero(x, *i) && !zero(y, *j))
                    .collect()
            })
            .collect();
        let scale = b.graph.scale(x) + b.graph.scale(y);
        return b.emit(
            node,
            Op::Bilinear(Bilinear { rows }),
            vec![x, y],
            out_shape,
            scale,
        );
    }
    let (x_slot, w) = match (c0, c1) {
        (None, Some(w)) => (0, w),
        (Some(w), None) => (1, w),
        _ => return Err(unsupported(node, "operands", "both constant")),
    };
    let x = b.tensor(node.inputs[x_slot], &node.name)?;
    let x = b.at_act_scale(x, &node.name);
    let x_shape = b.graph.shape(x).to_vec();
    let pairs = einsum_pairs(
        node,
        &expr,
        (&ins[x_slot], &x_shape),
        (&ins[1 - x_slot], w.shape()),
        (&out_axes, &out_shape),
    )?;
    let ws = b.settings.weight_scale;
    let w_flat: Vec<f32> = w.iter().copied().collect();
    let rows = pairs
        .into_iter()
        .map(|p| AffineRow {
            bias: 0,
            terms: p
                .into_iter()
                .map(|(xi, wi)| (xi, QuantSettings::quantize(w_flat[wi as usize], ws)))
                .collect(),
        })
        .collect();
    let scale = b.graph.scale(x) + ws;
    b.emit(node, Op::Linear(Linear { rows }), vec![x], out_shape, scale)
}
