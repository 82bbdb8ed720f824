//! Comparisons (tract `TypedBinOp` Eq/LT/GT/LTE/GTE, from ONNX Equal, Less, Greater, …)
//! producing 0/1 tensors at scale 0, and Where (tract `Iff`).

use super::{broadcast_index, const_f32, unsupported, Registry};
use crate::error::Result;
use crate::quantize::{concrete, Builder, Mapped, QuantSettings};
use tract_onnx::prelude::*;
use tract_onnx::tract_core::ops::binary::TypedBinOp;
use tract_onnx::tract_core::ops::logic::Iff;
use zkinfer_circuits::ops::{Cand, CmpKind, Compare, Gather, Op, Where};

pub(crate) fn register(reg: &mut Registry) {
    reg.op::<TypedBinOp>("Eq", &["Equal"], compare);
    reg.op::<TypedBinOp>("LT", &["Less"], compare);
    reg.op::<TypedBinOp>("GT", &["Greater"], compare);
    reg.op::<TypedBinOp>("LTE", &["LessOrEqual"], compare);
    reg.op::<TypedBinOp>("GTE", &["GreaterOrEqual"], compare);
    reg.op::<Iff>("Iff", &["Where"], iff);
}

/// Operand tensors, each operand's candidate per output element, and their scale.
type Operands = (Vec<usize>, Vec<Vec<Cand>>, i32);

/// Operands of a logic op, broadcast to `out`: tensors become inputs of the node (at
/// `scale`), constants are quantized at `scale`.
fn operands(
    b: &mut Builder,
    node: &TypedNode,
    slots: &[usize],
    out: &[usize],
    scale: Option<i32>,
) -> Result<Operands> {
    let mut tensors = Vec::new();
    for &s in slots {
        if let Mapped::Tensor(t) = b.mapped(node.inputs[s])? {
            let t = match scale {
                Some(s) => b.at_scale(t, s, &node.name),
                None => t,
            };
            tensors.push((s, t));
        }
    }
    let scale = scale.unwrap_or_else(|| {
        tensors
            .first()
            .map_or(b.settings.act_scale, |(_, t)| b.graph.scale(*t))
    });
    let mut inputs = Vec::new();
    let mut cands = Vec::new();
    for &s in slots {
        let c = match tensors.iter().find(|(slot, _)| *slot == s) {
            Some((_, t)) => {
                if b.graph.scale(*t) != scale {
                    return Err(unsupported(
                        node,
                        "operand scales",
                        (b.graph.scale(*t), scale),
                    ));
                }
                let idx = broadcast_index(out, b.graph.shape(*t))
                    .ok_or_else(|| unsupported(node, "broadcast", out))?;
                let input = inputs.len() as u32;
                inputs.push(*t);
                idx.into_iter()
                    .map(|index| Cand::Elem { input, index })
                    .collect()
            }
            None => {
                let c = const_f32(b, node.inputs[s])?.expect("not a tensor, so a constant");
                let idx = broadcast_index(out, c.shape())
                    .ok_or_else(|| unsupported(node, "broadcast", out))?;
                let vals: Vec<f32> = c.iter().copied().collect();
                idx.into_iter()
                    .map(|i| Cand::Const(QuantSettings::quantize(vals[i as usize], scale)))
                    .collect()
            }
        };
        cands.push(c);
    }
    Ok((inputs, cands, scale))
}

fn compare(b: &mut Builder, node: &TypedNode, op: &TypedBinOp) -> Result<()> {
    let kind = match op.0.name() {
        "Eq" => CmpKind::Eq,
        "LT" => CmpKind::Lt,
        "GT" => CmpKind::Gt,
        "LTE" => CmpKind::Le,
        _ => CmpKind::Ge,
    };
    let out = concrete(node, 0)?;
    let align = match (b.mapped(node.inputs[0])?, b.mapped(node.inputs[1])?) {
        (Mapped::Tensor(x), Mapped::Tensor(y)) => Some(b.at_common_scale(&[x, y], &node.name).1),
        _ => None,
    };
    let (inputs, mut c, _) = operands(b, node, &[0, 1], &out, align)?;
    let (rhs, lhs) = (c.pop().expect("two"), c.pop().expect("two"));
    b.emit(
        node,
        Op::Compare(Compare { kind, lhs, rhs }),
        inputs,
        out,
        0,
    )
}

fn iff(b: &mut Builder, node: &TypedNode, _: &Iff) -> Result<()> {
    let out = concrete(node, 0)?;
    if let Some(cond) = const_f32(b, node.inputs[0])? {
        return iff_const(b, node, &cond, out);
    }
    let cond = b.tensor(node.inputs[0], &node.name)?;
    // The circuit computes `y + c·(x − y)`: that is Where only for a boolean `c`, which a
    // comparison proves (possibly reshaped or gathered on the way).
    let mut src = cond;
    let boolean = loop {
        match src
            .checked_sub(b.graph.inputs.len())
            .map(|n| &b.graph.nodes[n])
        {
            Some(n) if matches!(n.op, Op::Compare(_)) => break true,
            Some(n) if matches!(n.op, Op::Reshape(_)) => src = n.inputs[0],
            Some(n)
                if n.inputs.len() == 1
                    && matches!(&n.op, Op::Gather(g) if g.items.iter().all(|c| matches!(c, Cand::Elem { .. }))) =>
            {
                src = n.inputs[0]
            }
            _ => break false,
        }
    };
    if !boolean {
        return Err(unsupported(
            node,
            "condition",
            "not the output of a comparison",
        ));
    }
    let cidx = broadcast_index(&out, b.graph.shape(cond))
        .ok_or_else(|| unsupported(node, "broadcast", &out))?;
    let (mut inputs, mut c, scale) = where_operands(b, node, &out)?;
    // Input 0 of the node is the condition: shift the operand inputs by one.
    for cand in c.iter_mut().flatten() {
        if let Cand::Elem { input, .. } = cand {
            *input += 1;
        }
    }
    inputs.insert(0, cond);
    let (otherwise, then) = (c.pop().expect("two"), c.pop().expect("two"));
    b.emit(
        node,
        Op::Where(Where {
            cond: cidx,
            then,
            otherwise,
        }),
        inputs,
        out,
        scale,
    )
}

/// The two value operands of a Where at their common scale: the tensors, each operand's
/// candidate per output element, and the scale.
fn where_operands(b: &mut Builder, node: &TypedNode, out: &[usize]) -> Result<Operands> {
    let mut tensors = Vec::new();
    for slot in [1, 2] {
        if let Mapped::Tensor(t) = b.mapped(node.inputs[slot])? {
            tensors.push(t);
        }
    }
    let common = b.at_common_scale(&tensors, &node.name).1;
    operands(b, node, &[1, 2], out, Some(common))
}

/// Where with a constant condition: a selection of cells, no rows.
fn iff_const(
    b: &mut Builder,
    node: &TypedNode,
    cond: &tract_ndarray::ArrayD<f32>,
    out: Vec<usize>,
) -> Result<()> {
    let cidx =
        broadcast_index(&out, cond.shape()).ok_or_else(|| unsupported(node, "broadcast", &out))?;
    let (inputs, c, scale) = where_operands(b, node, &out)?;
    let flags: Vec<bool> = cond.iter().map(|v| *v != 0.0).collect();
    let items = cidx
        .iter()
        .enumerate()
        .map(|(i, ci)| {
            if flags[*ci as usize] {
                c[0][i]
            } else {
                c[1][i]
            }
        })
        .collect();
    b.emit(node, Op::Gather(Gather { items }), inputs, out, scale)
}
