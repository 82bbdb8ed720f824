//! Hand-built graphs for the rewrites' unit tests.

use zkinfer_circuits::ops::{AffineRow, Linear, Op, Rescale};
use zkinfer_circuits::{Graph, GraphInput, Node};

/// `x` (2 elements at scale 16) → a linear map of `rows` (output at `scale`) → a rescale by
/// `2^shift`, the output.
pub(crate) fn linear_then_rescale(rows: Vec<AffineRow>, (scale, shift): (i32, u32)) -> Graph {
    let node = |name: &str, op, input, scale| Node {
        name: name.into(),
        op,
        inputs: vec![input],
        shape: vec![2],
        scale,
        affine: None,
    };
    Graph {
        inputs: vec![GraphInput {
            name: "x".into(),
            shape: vec![2],
            scale: 16,
            affine: None,
        }],
        nodes: vec![
            node("linear", Op::Linear(Linear { rows }), 0, scale),
            node(
                "rescale",
                Op::Rescale(Rescale { shift }),
                1,
                scale - shift as i32,
            ),
        ],
        outputs: vec![2],
        sources: vec![],
        layout: Default::default(),
        units_column: false,
    }
}
