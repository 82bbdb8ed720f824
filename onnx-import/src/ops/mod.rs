//! The per-op registry: one builder per tract op of the decluttered graph, grouped by
//! family. Adding an op is one builder and one line here.

mod binary;
pub(crate) mod conv;
mod elementwise;
mod linalg;
mod logic;
mod movement;
mod nonlinear;
mod norm;
mod reduce;
mod segments;
mod shape;

use crate::error::{ImportError, Result};
use crate::quantize::{Builder, Mapped};
use std::collections::HashMap;
use tract_onnx::prelude::*;

/// Lowers one tract node.
pub(crate) type BuildFn = fn(&mut Builder, &TypedNode) -> Result<()>;

/// Every tract op the importer lowers, by `op.name()`.
pub(crate) fn registry() -> HashMap<&'static str, BuildFn> {
    let mut reg: HashMap<&'static str, BuildFn> = HashMap::new();
    shape::register(&mut reg);
    linalg::register(&mut reg);
    logic::register(&mut reg);
    conv::register(&mut reg);
    binary::register(&mut reg);
    elementwise::register(&mut reg);
    movement::register(&mut reg);
    nonlinear::register(&mut reg);
    reduce::register(&mut reg);
    norm::register(&mut reg);
    reg
}

/// The float constant of an outlet, if it is one.
pub(crate) fn const_f32(b: &Builder, o: OutletId) -> Result<Option<tract_ndarray::ArrayD<f32>>> {
    match b.mapped(o)? {
        Mapped::Const(t) => {
            let t = t.cast_to::<f32>().map_err(|e| ImportError::Malformed {
                reason: format!("constant {o:?}: {e:#}"),
            })?;
            Ok(Some(
                t.to_plain_array_view::<f32>()
                    .expect("cast to f32")
                    .to_owned(),
            ))
        }
        Mapped::Tensor(_) => Ok(None),
    }
}

/// Row-major strides of a shape.
pub(crate) fn strides(shape: &[usize]) -> Vec<usize> {
    let mut s = vec![1; shape.len()];
    for i in (0..shape.len().saturating_sub(1)).rev() {
        s[i] = s[i + 1] * shape[i + 1];
    }
    s
}

/// For each element of `out`, the flat index of the element of `input` that numpy-style
/// broadcasting reads; `None` if the shapes do not broadcast.
pub(crate) fn broadcast_index(out: &[usize], input: &[usize]) -> Option<Vec<u32>> {
    if input.len() > out.len() {
        return None;
    }
    let pad = out.len() - input.len();
    let in_strides = strides(input);
    let out_strides = strides(out);
    for (i, d) in input.iter().enumerate() {
        if *d != 1 && *d != out[pad + i] {
            return None;
        }
    }
    let n: usize = out.iter().product();
    Some(
        (0..n)
            .map(|flat| {
                let mut idx = 0;
                for (i, d) in input.iter().enumerate() {
                    let coord = (flat / out_strides[pad + i]) % out[pad + i];
                    if *d != 1 {
                        idx += coord * in_strides[i];
                    }
                }
                idx as u32
            })
            .collect(),
    )
}

/// An unsupported attribute error for `node`.
pub(crate) fn unsupported(
    node: &TypedNode,
    attribute: &str,
    value: impl std::fmt::Debug,
) -> ImportError {
    ImportError::UnsupportedAttribute {
        node: node.name.clone(),
        op_type: node.op.name().to_string(),
        attribute: attribute.into(),
        value: format!("{value:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::broadcast_index;

    #[test]
    fn broadcasts_bias_over_rows() {
        assert_eq!(
            broadcast_index(&[2, 3], &[3]).unwrap(),
            vec![0, 1, 2, 0, 1, 2]
        );
        assert_eq!(
            broadcast_index(&[2, 3], &[2, 1]).unwrap(),
            vec![0, 0, 0, 1, 1, 1]
        );
        assert_eq!(broadcast_index(&[2, 3], &[1]).unwrap(), vec![0; 6]);
        assert!(broadcast_index(&[2, 3], &[2]).is_none());
    }
}
