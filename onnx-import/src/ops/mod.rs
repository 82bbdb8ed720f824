//! The per-op registry ([`Registry`]): one typed builder per tract op of the decluttered
//! graph, grouped by family, each family with a `register` that adds one line per op and
//! names the ONNX op types that become it. Adding an op is one builder and one line there.

mod binary;
pub(crate) mod conv;
mod elementwise;
mod linalg;
mod logic;
mod masked;
pub(crate) use masked::Masking;
mod movement;
mod nonlinear;
mod norm;
mod reduce;
mod registry;
mod segments;
mod shape;

use crate::error::{ImportError, Result};
use crate::quantize::{Builder, Mapped};
#[cfg(test)]
pub(crate) use registry::Lowering;
pub(crate) use registry::Registry;
use std::sync::LazyLock;
use tract_onnx::prelude::*;

/// Every tract op the importer lowers, by `op.name()`, with the ONNX op types that reach it.
pub(crate) fn registry() -> &'static Registry {
    static REGISTRY: LazyLock<Registry> = LazyLock::new(|| {
        let mut reg = Registry::new();
        reg.family("shape", shape::register);
        reg.family("linalg", linalg::register);
        reg.family("logic", logic::register);
        reg.family("conv", conv::register);
        reg.family("binary", binary::register);
        reg.family("elementwise", elementwise::register);
        reg.family("movement", movement::register);
        reg.family("nonlinear", nonlinear::register);
        reg.family("reduce", reduce::register);
        reg.family("norm", norm::register);
        reg.family("composite", composite);
        reg
    });
    &REGISTRY
}

/// ONNX ops that tract expands into registered ops while typing and decluttering: each one
/// line, no builder of its own.
fn composite(reg: &mut Registry) {
    reg.expands("BatchNormalization", &["Mul", "Add"]);
    reg.expands("Clip", &["Max", "Min"]);
    reg.expands("Div", &["Mul", "Recip"]);
    reg.expands("Gemm", &["EinSum", "Mul", "Add"]);
    reg.expands("GlobalAveragePool", &["Reduce<Sum>", "Mul"]);
    reg.expands("HardSigmoid", &["Mul", "Add", "Min", "Max"]);
    reg.expands(
        "LayerNormalization",
        &["Reduce<Sum>", "Sub", "RmsNorm", "Mul", "Add"],
    );
    reg.expands("ReduceMean", &["Reduce<Sum>", "Mul"]);
    reg.expands("Selu", &["Exp", "Mul", "Sub", "LT", "Iff"]);
}

/// The ONNX op types the float importer accepts (from the registry), sorted.
pub fn supported_onnx_ops() -> &'static [&'static str] {
    static OPS: LazyLock<Vec<&'static str>> = LazyLock::new(|| registry().onnx_ops());
    &OPS
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
    use super::{broadcast_index, registry, Lowering};

    #[test]
    fn every_expansion_reaches_registered_ops() {
        for (onnx, ways) in registry().by_onnx() {
            for way in ways {
                if let Lowering::Expands(ops) = way {
                    for t in ops {
                        let family = registry().family_of(t);
                        assert!(family.is_some(), "{onnx} expands into unregistered `{t}`");
                    }
                }
            }
        }
    }

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
