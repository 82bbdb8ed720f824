//! Reductions over axes (tract `Reduce`): Sum (GlobalAveragePool, ReduceSum, ReduceMean with
//! the scaling Mul after it) as linear rows, Max/Min as max windows, MeanOfSquares (inside
//! LayerNormalization) as squares by the mul gate summed with weight `1/n`, ArgMax as the
//! argmax gadget (indices at scale 0).

use super::{strides, unsupported, BuildFn};
use crate::error::Result;
use crate::quantize::{concrete, Builder, QuantSettings};
use std::collections::HashMap;
use tract_onnx::prelude::*;
use tract_onnx::tract_core::ops::nn::{Reduce, Reducer};
use zkinfer_circuits::ops::{AffineRow, ArgMax, Cand, Linear, Max, Mul, Op};

pub(crate) fn register(reg: &mut HashMap<&'static str, BuildFn>) {
    for name in [
        "Reduce<Sum>",
        "Reduce<Max>",
        "Reduce<Min>",
        "Reduce<MeanOfSquares>",
        "Reduce<ArgMax(false)>",
        "Reduce<ArgMax(true)>",
    ] {
        reg.insert(name, reduce);
    }
}

/// For each output element, the flat input indices reduced into it.
fn groups(in_shape: &[usize], out_shape: &[usize], axes: &[usize]) -> Vec<Vec<u32>> {
    let (is, os) = (strides(in_shape), strides(out_shape));
    let mut groups: Vec<Vec<u32>> = vec![vec![]; out_shape.iter().product()];
    for i in 0..in_shape.iter().product::<usize>() {
        let o: usize = (0..in_shape.len())
            .filter(|d| !axes.contains(d))
            .map(|d| ((i / is[d]) % in_shape[d]) * os[d])
            .sum();
        groups[o].push(i as u32);
    }
    groups
}

fn reduce(b: &mut Builder, node: &TypedNode) -> Result<()> {
    let op = node.op_as::<Reduce>().expect("registered for Reduce");
    let x = b.tensor(node.inputs[0], &node.name)?;
    let out_shape = concrete(node, 0)?;
    let (x, weight, extra) = match op.reducer {
        Reducer::Sum => (x, 1, 0),
        Reducer::Max | Reducer::Min | Reducer::ArgMax(_) => (b.at_act_scale(x, &node.name), 0, 0),
        Reducer::MeanOfSquares => {
            let x = b.at_act_scale(x, &node.name);
            let shape = b.graph.shape(x).to_vec();
            let idx: Vec<u32> = (0..shape.iter().product::<usize>() as u32).collect();
            let scale = 2 * b.graph.scale(x);
            let sq = b.push(
                &format!("{}.square", node.name),
                Op::Mul(Mul {
                    lhs: idx.clone(),
                    rhs: idx,
                }),
                vec![x, x],
                shape,
                scale,
            );
            let sq = b.at_act_scale(sq, &node.name);
            let n: usize = op.axes.iter().map(|a| b.graph.shape(sq)[*a]).product();
            let ws = b.settings.weight_scale;
            (sq, QuantSettings::quantize(1.0 / n as f32, ws), ws)
        }
        _ => return Err(unsupported(node, "reducer", op.reducer)),
    };
    let groups = groups(b.graph.shape(x), &out_shape, &op.axes);
    let scale = b.graph.scale(x) + extra;
    if let Reducer::ArgMax(last) = op.reducer {
        let t = b.push(
            &node.name,
            Op::ArgMax(ArgMax {
                last,
                windows: groups,
            }),
            vec![x],
            out_shape,
            0,
        );
        b.bind(node, t);
        return Ok(());
    }
    let op = match op.reducer {
        Reducer::Max | Reducer::Min => Op::Max(Max {
            min: matches!(op.reducer, Reducer::Min),
            windows: groups
                .into_iter()
                .map(|g| g.into_iter().map(Cand::of).collect())
                .collect(),
        }),
        _ => Op::Linear(Linear {
            rows: groups
                .into_iter()
                .map(|g| AffineRow {
                    bias: 0,
                    terms: g.into_iter().map(|i| (i, weight)).collect(),
                })
                .collect(),
        }),
    };
    let t = b.push(&node.name, op, vec![x], out_shape, scale);
    b.bind(node, t);
    Ok(())
}
