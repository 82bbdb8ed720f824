//! Which nodes the wide layout lays out inside the node that reads them: a rescale inside
//! the max pooling or ReLU that reads it (the rescale-max unit, [`FusedUnit`]) or the
//! lookup that reads it, a max pooling inside the requantization that reads it. A layout choice, not an op; the graph,
//! its semantics and every value stay those of the two nodes.
//!
//! A rescale is fused into its reader when
//! * the layout is wide and the rescale divides by `2^`[`FUSED_SHIFT`];
//! * its reader's rows bound its output, so it skips its own range check
//!   ([`Rescale::trusts_later`]) — the unit states exactly the rescale rows' equation and
//!   the max rows' bounds, and no range check of the rescaled value. This condition also
//!   means that every element is a candidate of some window (`Max::bounds_candidates`), so
//!   that every accumulator is copied into a unit, which bounds it below `2^41`: the bound
//!   the wide layout's packing of the accumulators relies on;
//! * exactly one live node reads it, as its only input, and it is no graph output: a max
//!   (not a min) whose every window holds the constant 0 and [`FUSED_SHAPES`](crate::chip::FUSED_SHAPES) elements, or a
//!   ReLU.
//!
//! The fused rescale then takes no rows of its own; its reader's rows are the units.
//!
//! A rescale by a multiple of the limb width that a lookup bounds, read by that lookup alone
//! (as its only input) and no graph output, is laid out with it: each element's range row
//! holds the lookup's output in its free `z` cell (`Ctx::rescale_lookups`: GELU's table
//! input and table, one row per element instead of a row and a third).
//!
//! Likewise a max over windows of four elements (no constants), read by exactly one live
//! node, a requantization, as its only input, and no graph output, is laid out inside that
//! requantization ([`RequantUnit`](crate::chip::RequantUnit), the form `onnx-import` gives a
//! pooled int8 graph: `Requant(Max(acc))`): the unit states exactly the max's rows and the
//! requantization's.

use super::{Cand, Op, Rescale};
use crate::chip::{Ctx, FusedUnit, Wire, FUSED_SHIFT, LIMB_BITS};
use crate::graph::Graph;
use crate::tensor::Tensor;

/// A node's part in a fusion.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fusion {
    /// A rescale or max laid out by the node that reads it.
    Inner,
    /// A max, ReLU, lookup or requantization laying out the node `node` (an index into the graph's
    /// nodes) with it.
    Outer {
        /// The fused node.
        node: usize,
    },
}

/// Each node's part in a fusion, if any (see the [module docs](self)).
pub fn plan(graph: &Graph, live: &[bool], checked: &[Option<u32>]) -> Vec<Option<Fusion>> {
    let n_in = graph.inputs.len();
    let mut plan = vec![None; graph.nodes.len()];
    if graph.layout != crate::chip::Layout::Wide {
        return plan;
    }
    let mut readers = vec![Vec::new(); graph.nodes.len()];
    for (m, node) in graph.nodes.iter().enumerate().filter(|(m, _)| live[*m]) {
        for n in node.inputs.iter().filter_map(|i| i.checked_sub(n_in)) {
            readers[n].push(m);
        }
    }
    for (n, node) in graph.nodes.iter().enumerate() {
        if let (Op::Max(max), true, [m]) = (&node.op, live[n], readers[n].as_slice()) {
            let reader = &graph.nodes[*m];
            let pools = !max.min
                && !max.windows.is_empty()
                && max.windows.iter().all(|w| {
                    w.len() == 4 && w.iter().all(|c| matches!(c, Cand::Elem { input: 0, .. }))
                });
            if pools
                && matches!(reader.op, Op::Requant(_))
                && reader.inputs == [n_in + n]
                && !graph.outputs.contains(&(n_in + n))
            {
                plan[n] = Some(Fusion::Inner);
                plan[*m] = Some(Fusion::Outer { node: n });
            }
            continue;
        }
        let Op::Rescale(Rescale { shift }) = node.op else {
            continue;
        };
        let fusable =
            live[n] && Rescale::trusts_later(checked[n]) && !graph.outputs.contains(&(n_in + n));
        if let (true, [m]) = (fusable, readers[n].as_slice()) {
            let reader = &graph.nodes[*m];
            if reader.inputs == [n_in + n] && reads_fusably(&reader.op, shift) {
                plan[n] = Some(Fusion::Inner);
                plan[*m] = Some(Fusion::Outer { node: n });
            }
        }
    }
    plan
}

/// Whether `op` can lay out the rescale by `2^shift` it reads: a ReLU, or a max whose every
/// window is the constant 0 and [`FUSED_SHAPES`](crate::chip::FUSED_SHAPES) elements, by
/// `2^`[`FUSED_SHIFT`]; a lookup, by a multiple of the limb width (`Ctx::rescale_lookups`).
fn reads_fusably(op: &Op, shift: u32) -> bool {
    match op {
        Op::Lookup(_) => shift.is_multiple_of(LIMB_BITS),
        _ if shift != FUSED_SHIFT => false,
        Op::Relu(_) => FusedUnit::of(1).is_some(),
        Op::Max(m) => {
            !m.min
                && !m.windows.is_empty()
                && m.windows.iter().all(|w| {
                    let zeros = w.iter().filter(|c| **c == Cand::Const(0)).count();
                    let elems = w
                        .iter()
                        .filter(|c| matches!(c, Cand::Elem { input: 0, .. }))
                        .count();
                    zeros == 1 && zeros + elems == w.len() && FusedUnit::of(elems).is_some()
                })
        }
        _ => false,
    }
}

/// Lays out a fused reader `op` (its [`plan`] is `Outer`) with the node it fuses (`inner`):
/// `x` are the wires of `inner`'s input, `inner_values` its values, `out` the reader's.
pub fn assign(
    op: &Op,
    inner: &Op,
    ctx: &mut Ctx,
    x: &[Wire],
    inner_values: &Tensor,
    out: &Tensor,
) -> Vec<Wire> {
    match op {
        Op::Requant(rq) => {
            let Op::Max(max) = inner else {
                unreachable!("plan() fuses requantizations with maxes only")
            };
            let tables = rq.all_tables();
            max.windows
                .iter()
                .zip(&inner_values.data)
                .zip(&out.data)
                .enumerate()
                .map(|(o, ((w, m), y))| {
                    let accs: Vec<&Wire> = w
                        .iter()
                        .map(|c| match c {
                            Cand::Elem { index, .. } => &x[*index as usize],
                            Cand::Const(_) => unreachable!("plan() fuses windows of elements"),
                        })
                        .collect();
                    ctx.requant_unit(&accs, *m, *y, &tables[rq.channel(o)])
                })
                .collect()
        }
        Op::Relu(_) => x
            .iter()
            .zip(&inner_values.data)
            .zip(&out.data)
            .map(|((x, yi), y)| ctx.rescale_max(&[x], &[*yi], *y))
            .collect(),
        Op::Max(m) => m
            .windows
            .iter()
            .zip(&out.data)
            .map(|(w, y)| {
                let index = w.iter().filter_map(|c| match c {
                    Cand::Elem { index, .. } => Some(*index as usize),
                    Cand::Const(_) => None,
                });
                let (xs, ys): (Vec<&Wire>, Vec<i128>) =
                    index.map(|i| (&x[i], inner_values.data[i])).unzip();
                ctx.rescale_max(&xs, &ys, *y)
            })
            .collect(),
        Op::Lookup(l) => {
            let Op::Rescale(r) = inner else {
                unreachable!("plan() fuses lookups with rescales only")
            };
            let xs: Vec<&Wire> = x.iter().collect();
            ctx.rescale_lookups(&xs, r.shift, (&inner_values.data, &out.data), &l.table)
        }
        _ => unreachable!("plan() fuses into maxes, ReLUs, lookups and requantizations only"),
    }
}
