//! Shared by the chip test files: one-node graphs and their MockProver failures.

use halo2_axiom::dev::{MockProver, VerifyFailure};
use std::sync::Arc;
use zkinfer_circuits::ops::Op;
use zkinfer_circuits::{Affine, Graph, GraphInput, ModelCircuit, Node};

/// `op` applied to one input `x` of `n` elements at fixed-point `scale` (or `affine`), with an
/// output of the same shape.
pub fn one_node(op: Op, n: usize, scale: i32, affine: Option<Affine>) -> Arc<Graph> {
    Arc::new(Graph {
        inputs: vec![GraphInput {
            name: "x".into(),
            shape: vec![n],
            scale,
            affine,
        }],
        nodes: vec![Node {
            name: "op".into(),
            op,
            inputs: vec![0],
            shape: vec![n],
            scale: 0,
            affine: None,
        }],
        outputs: vec![1],
        sources: vec![],
    })
}

/// What MockProver finds wrong with `c` at its smallest size (empty when satisfied).
pub fn failures(c: &ModelCircuit) -> Vec<VerifyFailure> {
    MockProver::run(c.min_k().unwrap(), c, vec![c.instances()])
        .unwrap()
        .verify()
        .err()
        .unwrap_or_default()
}
