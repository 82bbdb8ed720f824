//! Inputs and shape-only ops (Reshape, Flatten, Squeeze-like axis changes): no rows.

use super::BuildFn;
use crate::error::Result;
use crate::quantize::{concrete, Builder};
use std::collections::HashMap;
use tract_onnx::prelude::*;
use zkinfer_circuits::ops::{Op, Reshape};

pub(crate) fn register(reg: &mut HashMap<&'static str, BuildFn>) {
    reg.insert("AddAxis", reshape);
    reg.insert("RmAxis", reshape);
    reg.insert("Reshape", reshape);
    reg.insert("IntoShape", reshape);
    reg.insert("Cast", cast);
}

fn reshape(b: &mut Builder, node: &TypedNode) -> Result<()> {
    let x = b.tensor(node.inputs[0], &node.name)?;
    let shape = concrete(node, 0)?;
    let scale = b.graph.scale(x);
    b.emit(node, Op::Reshape(Reshape {}), vec![x], shape, scale)
}

/// Cast between float types (CastLike in function bodies): the same fixed-point tensor.
fn cast(b: &mut Builder, node: &TypedNode) -> Result<()> {
    let from = b.model.outlet_fact(node.inputs[0]).map(|f| f.datum_type);
    let to = node.outputs[0].fact.datum_type;
    match from {
        // Floats stay fixed point; booleans (0/1 at scale 0) become 0.0/1.0 as they are.
        Ok(f) if (f.is_float() || f == DatumType::Bool) && to.is_float() => {
            let x = b.tensor(node.inputs[0], &node.name)?;
            b.bind(node, x);
            Ok(())
        }
        other => Err(super::unsupported(node, "cast", (other.ok(), to))),
    }
}
