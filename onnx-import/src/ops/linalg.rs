//! Gemm and MatMul, which tract declutters into `EinSum` with one constant operand.

use super::{const_f32, strides, unsupported, BuildFn};
use crate::error::Result;
use crate::quantize::{concrete, Builder, QuantSettings};
use std::collections::HashMap;
use tract_onnx::prelude::*;
use tract_onnx::tract_core::ops::einsum::EinSum;
use zkinfer_circuits::ops::{AffineRow, Linear, Op};

pub(crate) fn register(reg: &mut HashMap<&'static str, BuildFn>) {
    reg.insert("EinSum", einsum);
}

/// `y = Σ x·w` over the axes absent from the output, with `w` constant.
fn einsum(b: &mut Builder, node: &TypedNode) -> Result<()> {
    let op = node.op_as::<EinSum>().expect("registered for EinSum");
    if op.q_params.is_some() || node.inputs.len() != 2 {
        return Err(unsupported(node, "quantized einsum", op.q_params));
    }
    let expr = format!("{}", op.axes);
    let (ins, out_axes) = expr
        .split_once("->")
        .ok_or_else(|| unsupported(node, "axes", &expr))?;
    let ins: Vec<&str> = ins.split(',').collect();
    let (c0, c1) = (const_f32(b, node.inputs[0])?, const_f32(b, node.inputs[1])?);
    let (x_slot, w) = match (c0, c1) {
        (None, Some(w)) => (0, w),
        (Some(w), None) => (1, w),
        _ => {
            return Err(unsupported(
                node,
                "operands",
                "both computed or both constant",
            ))
        }
    };
    let x = b.tensor(node.inputs[x_slot], &node.name)?;
    let x = b.at_act_scale(x, &node.name);
    let x_shape = b.graph.shape(x).to_vec();
    let (x_axes, w_axes): (Vec<char>, Vec<char>) = (
        ins[x_slot].chars().collect(),
        ins[1 - x_slot].chars().collect(),
    );
    let out_axes: Vec<char> = out_axes.chars().collect();
    let out_shape = concrete(node, 0)?;
    if x_axes.len() != x_shape.len()
        || w_axes.len() != w.ndim()
        || out_axes.len() != out_shape.len()
    {
        return Err(unsupported(node, "axes", &expr));
    }
    let mut size: HashMap<char, usize> = HashMap::new();
    for (a, d) in x_axes
        .iter()
        .zip(&x_shape)
        .chain(w_axes.iter().zip(w.shape()))
        .chain(out_axes.iter().zip(&out_shape))
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
    let summed: Vec<char> = x_axes
        .iter()
        .chain(&w_axes)
        .filter(|a| !out_axes.contains(a))
        .fold(vec![], |mut v, a| {
            if !v.contains(a) {
                v.push(*a);
            }
            v
        });
    let ws = b.settings.weight_scale;
    let (xs, wst, os) = (strides(&x_shape), strides(w.shape()), strides(&out_shape));
    let n_out: usize = out_shape.iter().product();
    let n_sum: usize = summed.iter().map(|a| size[a]).product();
    let w_flat: Vec<f32> = w.iter().copied().collect();
    let mut rows = Vec::with_capacity(n_out);
    let mut coord: HashMap<char, usize> = HashMap::new();
    for o in 0..n_out {
        for (i, a) in out_axes.iter().enumerate() {
            coord.insert(*a, (o / os[i]) % out_shape[i]);
        }
        let mut terms = Vec::new();
        for s in 0..n_sum {
            let mut rem = s;
            for a in summed.iter().rev() {
                coord.insert(*a, rem % size[a]);
                rem /= size[a];
            }
            let xi: usize = x_axes
                .iter()
                .enumerate()
                .map(|(i, a)| coord[a] * xs[i])
                .sum();
            let wi: usize = w_axes
                .iter()
                .enumerate()
                .map(|(i, a)| coord[a] * wst[i])
                .sum();
            terms.push((xi as u32, QuantSettings::quantize(w_flat[wi], ws)));
        }
        rows.push(AffineRow { bias: 0, terms });
    }
    let scale = b.graph.scale(x) + ws;
    let t = b.push(
        &node.name,
        Op::Linear(Linear { rows }),
        vec![x],
        out_shape,
        scale,
    );
    b.bind(node, t);
    Ok(())
}
