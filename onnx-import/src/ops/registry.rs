//! The registry of lowerings: the one list of what the float importer accepts.
//!
//! Each builder is registered for one tract op of the decluttered graph (by `op.name()`),
//! typed: the registry downcasts the node's op once and hands the builder the concrete op.
//! Each registration also names the ONNX op types tract turns into that op; ONNX ops that
//! tract expands into several registered ops, or folds away, are declared beside them. The
//! ONNX allowlist ([`crate::supported_onnx_ops`]), the "unsupported op" errors of both
//! stages and the op index of `docs/ops.md` are all read from here.

use crate::error::{ImportError, Result};
use crate::quantize::Builder;
#[cfg(test)]
use std::collections::BTreeMap;
use std::collections::{BTreeSet, HashMap};
use tract_onnx::prelude::*;
use tract_onnx::tract_core::ops::element_wise::{ElementWiseMiniOp, ElementWiseOp};

/// Lowers one tract node.
type BuildFn = Box<dyn Fn(&mut Builder, &TypedNode) -> Result<()> + Send + Sync>;

/// How an ONNX op type reaches the builders.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Lowering {
    /// tract turns it into this registered op (with shape-only ops around it at most).
    Op(&'static str),
    /// tract expands it into these registered ops.
    Expands(&'static [&'static str]),
    /// tract folds it into constants or removes it: no node is left to lower.
    Folded,
}

/// The builders by tract op name, and the ONNX op types that reach them.
pub(crate) struct Registry {
    /// Builders by tract op name, with their family.
    builders: HashMap<&'static str, (&'static str, BuildFn)>,
    /// Every declared ONNX op type and how it is lowered.
    onnx: Vec<(&'static str, Lowering)>,
    /// The family (module) registering now.
    family: &'static str,
}

impl Registry {
    /// An empty registry.
    pub(crate) fn new() -> Self {
        Self {
            builders: HashMap::new(),
            onnx: Vec::new(),
            family: "",
        }
    }

    /// Runs a family's `register` with its name recorded on what it registers.
    pub(crate) fn family(&mut self, family: &'static str, register: fn(&mut Registry)) {
        self.family = family;
        register(self);
    }

    /// Registers `build` for tract op `tract`, whose op is a `T`; ONNX op types in `onnx`
    /// become it.
    pub(crate) fn op<T: TypedOp>(
        &mut self,
        tract: &'static str,
        onnx: &'static [&'static str],
        build: impl Fn(&mut Builder, &TypedNode, &T) -> Result<()> + Send + Sync + 'static,
    ) {
        self.insert(
            tract,
            onnx,
            Box::new(move |b, node| {
                let op = node.op_as::<T>().ok_or_else(|| unsupported_op(node))?;
                build(b, node, op)
            }),
        );
    }

    /// Registers `build` for tract's element-wise op `tract`, whose function is a `T`.
    pub(crate) fn elementwise<T: ElementWiseMiniOp>(
        &mut self,
        tract: &'static str,
        onnx: &'static [&'static str],
        build: fn(&mut Builder, &TypedNode, &T) -> Result<()>,
    ) {
        self.op(tract, onnx, move |b, node, op: &ElementWiseOp| {
            let f =
                op.0.downcast_ref::<T>()
                    .ok_or_else(|| unsupported_op(node))?;
            build(b, node, f)
        });
    }

    /// Declares that tract expands ONNX op `onnx` into the registered ops `into`.
    pub(crate) fn expands(&mut self, onnx: &'static str, into: &'static [&'static str]) {
        self.onnx.push((onnx, Lowering::Expands(into)));
    }

    /// Declares ONNX op types that tract folds into constants or removes.
    pub(crate) fn folded(&mut self, onnx: &'static [&'static str]) {
        for o in onnx {
            self.onnx.push((o, Lowering::Folded));
        }
    }

    fn insert(&mut self, tract: &'static str, onnx: &'static [&'static str], build: BuildFn) {
        let previous = self.builders.insert(tract, (self.family, build));
        assert!(previous.is_none(), "tract op `{tract}` registered twice");
        for o in onnx {
            self.onnx.push((o, Lowering::Op(tract)));
        }
    }

    /// Lowers `node` with its builder; an unsupported-op error when none is registered.
    pub(crate) fn build(&self, b: &mut Builder, node: &TypedNode) -> Result<()> {
        let (_, build) = self
            .builders
            .get(node.op.name().as_ref())
            .ok_or_else(|| unsupported_op(node))?;
        build(b, node)
    }

    /// The family whose builder lowers tract op `tract`, if one does.
    #[cfg(test)]
    pub(crate) fn family_of(&self, tract: &str) -> Option<&'static str> {
        self.builders.get(tract).map(|(family, _)| *family)
    }

    /// The ONNX op types the registry accepts, sorted.
    pub(crate) fn onnx_ops(&self) -> Vec<&'static str> {
        let set: BTreeSet<&'static str> = self.onnx.iter().map(|(o, _)| *o).collect();
        set.into_iter().collect()
    }

    /// Per ONNX op type, the ways it is lowered, in registration order.
    #[cfg(test)]
    pub(crate) fn by_onnx(&self) -> BTreeMap<&'static str, Vec<Lowering>> {
        let mut map: BTreeMap<_, Vec<_>> = BTreeMap::new();
        for (o, lowering) in &self.onnx {
            map.entry(*o).or_default().push(*lowering);
        }
        map
    }

    /// Registered tract ops no ONNX op type declares: tract forms them while decluttering
    /// (`Rsqrt` from `1/√x`, `Silu` from `x·σ(x)`, …).
    #[cfg(test)]
    pub(crate) fn formed_by_tract(&self) -> Vec<&'static str> {
        let declared: BTreeSet<&str> = self
            .onnx
            .iter()
            .flat_map(|(_, l)| match l {
                Lowering::Op(t) => vec![*t],
                Lowering::Expands(ts) => ts.to_vec(),
                Lowering::Folded => vec![],
            })
            .collect();
        let mut rest: Vec<&'static str> = self
            .builders
            .keys()
            .filter(|t| !declared.contains(*t))
            .copied()
            .collect();
        rest.sort_unstable();
        rest
    }
}

/// The error for a tract node no builder lowers.
fn unsupported_op(node: &TypedNode) -> ImportError {
    ImportError::UnsupportedOp {
        node: node.name.clone(),
        op_type: node.op.name().to_string(),
    }
}
