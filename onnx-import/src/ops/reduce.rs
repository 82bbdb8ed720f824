//! Reductions over axes (tract `Reduce`): Sum (GlobalAveragePool, ReduceSum, ReduceMean with
//! the scaling Mul after it) as linear rows, Max/Min as max windows, MeanOfSquares (inside
//! LayerNormalization) as sums of squares on the bilinear gate weighted by `1/n`,
//! ArgMax as the argmax gadget (indices at scale 0).

use super::{strides, unsupported, Registry};
use crate::error::Result;
use crate::quantize::{concrete, Builder};
use tract_onnx::prelude::*;
use tract_onnx::tract_core::ops::nn::{Reduce, Reducer};
use zkinfer_circuits::ops::{AffineRow, ArgMax, Cand, Linear, Max, Op};

pub(crate) fn register(reg: &mut Registry) {
    reg.op::<Reduce>("Reduce<Sum>", &["ReduceSum"], reduce);
    reg.op::<Reduce>("Reduce<Max>", &["ReduceMax"], reduce);
    reg.op::<Reduce>("Reduce<Min>", &["ReduceMin"], reduce);
    // Inside LayerNormalization.
    reg.op::<Reduce>("Reduce<MeanOfSquares>", &[], reduce);
    reg.op::<Reduce>("Reduce<ArgMax(false)>", &["ArgMax"], reduce);
    reg.op::<Reduce>("Reduce<ArgMax(true)>", &["ArgMax"], reduce);
}

/// Reducing `axes` of `shape` (kept with size 1): the reduced shape, the group of each input
/// element, and each group's members.
pub(crate) fn reduce_map(shape: &[usize], axes: &[usize]) -> (Vec<usize>, Vec<u32>, Vec<Vec<u32>>) {
    let red: Vec<usize> = shape
        .iter()
        .enumerate()
        .map(|(d, n)| if axes.contains(&d) { 1 } else { *n })
        .collect();
    let (is, rs) = (strides(shape), strides(&red));
    let mut groups = vec![vec![]; red.iter().product()];
    let mut of = Vec::with_capacity(shape.iter().product());
    for i in 0..shape.iter().product::<usize>() {
        let g: usize = (0..shape.len())
            .filter(|d| !axes.contains(d))
            .map(|d| ((i / is[d]) % shape[d]) * rs[d])
            .sum();
        groups[g].push(i as u32);
        of.push(g as u32);
    }
    (red, of, groups)
}

fn reduce(b: &mut Builder, node: &TypedNode, op: &Reduce) -> Result<()> {
    let x = b.tensor(node.inputs[0], &node.name)?;
    let out_shape = concrete(node, 0)?;
    let x = match op.reducer {
        Reducer::Sum => x,
        Reducer::Max | Reducer::Min | Reducer::ArgMax(_) => b.at_act_scale(x, &node.name),
        Reducer::MeanOfSquares => {
            let x = b.at_act_scale(x, &node.name);
            let (_, _, groups) = reduce_map(b.graph.shape(x), &op.axes);
            let mean_scale = b.scale_of(&node.name);
            let t = b.mean_of_squares(&node.name, x, &groups, out_shape, (0.0, mean_scale))?;
            b.bind(node, t);
            return Ok(());
        }
        _ => return Err(unsupported(node, "reducer", op.reducer)),
    };
    let (_, _, groups) = reduce_map(b.graph.shape(x), &op.axes);
    let scale = b.graph.scale(x);
    if let Reducer::ArgMax(last) = op.reducer {
        return b.emit(
            node,
            Op::ArgMax(ArgMax {
                last,
                windows: groups,
            }),
            vec![x],
            out_shape,
            0,
        );
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
                    terms: g.into_iter().map(|i| (i, 1)).collect(),
                })
                .collect(),
        }),
    };
    b.emit(node, op, vec![x], out_shape, scale)
}
