//! Inputs and shape-only ops (Reshape, Flatten, Squeeze-like axis changes): no rows.

use super::Registry;
use crate::error::Result;
use crate::quantize::{concrete, Builder};
use tract_onnx::prelude::*;
use tract_onnx::tract_core::ops::cast::Cast;
use tract_onnx::tract_core::ops::change_axes::{AxisOp, IntoShape};
use zkinfer_circuits::ops::{Op, Reshape, ToInt};

pub(crate) fn register(reg: &mut Registry) {
    reg.op::<AxisOp>("AddAxis", &["Unsqueeze"], reshape);
    reg.op::<AxisOp>("RmAxis", &["Squeeze"], reshape);
    reg.op::<AxisOp>("Reshape", &["Reshape", "Flatten"], reshape);
    reg.op::<IntoShape>("IntoShape", &[], reshape);
    reg.op::<Cast>("Cast", &["Cast", "CastLike"], cast);
    reg.folded(&["Constant", "ConstantOfShape", "Identity", "Shape", "Size"]);
}

fn reshape<T>(b: &mut Builder, node: &TypedNode, _: &T) -> Result<()> {
    let x = b.tensor(node.inputs[0], &node.name)?;
    let shape = concrete(node, 0)?;
    let scale = b.graph.scale(x);
    b.emit(node, Op::Reshape(Reshape {}), vec![x], shape, scale)
}

/// Cast (and CastLike in function bodies). Between float types, and from booleans or
/// integers to floats, the values are unchanged: the same fixed-point tensor. From a float
/// type to an integer type, where every value is integral: an exact division by the scale
/// ([`ToInt`]), so a non-integral value is an error, never a truncation.
fn cast(b: &mut Builder, node: &TypedNode, _: &Cast) -> Result<()> {
    let from = b.model.outlet_fact(node.inputs[0]).map(|f| f.datum_type);
    let to = node.outputs[0].fact.datum_type;
    // tract types ONNX int64 tensors as TDim (symbolic-capable integers) in places.
    let int = |d: DatumType| (d.is_integer() && d != DatumType::Bool) || d == DatumType::TDim;
    match from {
        Ok(f) if (f.is_float() || f == DatumType::Bool || int(f)) && to.is_float() => {
            let x = b.tensor(node.inputs[0], &node.name)?;
            b.bind(node, x);
            Ok(())
        }
        Ok(f) if int(f) && int(to) => {
            let x = b.tensor(node.inputs[0], &node.name)?;
            b.bind(node, x);
            Ok(())
        }
        Ok(f) if f.is_float() && int(to) => {
            let x = b.tensor(node.inputs[0], &node.name)?;
            let x = b.at_act_scale(x, &node.name);
            let shift = u32::try_from(b.graph.scale(x))
                .map_err(|_| super::unsupported(node, "input scale", b.graph.scale(x)))?;
            let shape = b.graph.shape(x).to_vec();
            let t = b.push(&node.name, Op::ToInt(ToInt { shift }), vec![x], shape, 0);
            b.bind(node, t);
            Ok(())
        }
        other => Err(super::unsupported(node, "cast", (other.ok(), to))),
    }
}
