//! `Graph::compact_dead_elements` (`circuits/src/compact.rs`): the elements no output reads
//! are removed, the outputs stay the same, and what the layout relies on is kept.

use std::sync::Arc;
use zkinfer_circuits::ops::{AffineRow, Bilinear, Cand, Gather, Linear, Op, Rescale, Reshape};
use zkinfer_circuits::testing::check_honest;
use zkinfer_circuits::{Graph, GraphInput, ModelCircuit, Node, Visibility};

fn node(name: &str, op: Op, inputs: Vec<usize>, n: usize) -> Node {
    Node {
        name: name.into(),
        op,
        inputs,
        shape: vec![n],
        scale: 0,
        affine: None,
    }
}

/// `x` (4 elements) → squares (Bilinear) → halved (Rescale) → a Linear reading elements
/// 1 and 3 → `tail` (an op reading the Linear's output, then the output).
fn squares_then_pick(tail: Vec<Node>) -> Graph {
    let squares = Op::Bilinear(Bilinear {
        rows: (0..4).map(|i| vec![(i, i)]).collect(),
    });
    let pick = Op::Linear(Linear {
        rows: vec![
            AffineRow {
                bias: 5,
                terms: vec![(1, 2)],
            },
            AffineRow {
                bias: 0,
                terms: vec![(3, -1), (1, 1)],
            },
        ],
    });
    let mut nodes = vec![
        node("sq", squares, vec![0, 0], 4),
        node("half", Op::Rescale(Rescale { shift: 1 }), vec![1], 4),
        node("pick", pick, vec![2], 2),
    ];
    nodes.extend(tail);
    let outputs = vec![nodes.len()];
    Graph {
        sources: vec![("sq".into(), 1), ("pick".into(), 3)],
        ..graph_of(nodes, outputs)
    }
}

fn outputs(g: &Graph, x: &[i128]) -> Vec<i128> {
    let values = g.eval(&[x.to_vec()]).unwrap();
    g.outputs_of(&values)
        .into_iter()
        .flat_map(|t| t.data.clone())
        .collect()
}

#[test]
fn removes_the_elements_no_output_reads_and_keeps_the_outputs() {
    let before = squares_then_pick(vec![]);
    let mut after = before.clone();
    // Squares and halves of elements 0 and 2.
    assert_eq!(after.compact_dead_elements(), 4);
    assert_eq!(after.nodes[0].shape, vec![2]);
    assert_eq!(after.nodes[1].shape, vec![2]);
    let Op::Linear(l) = &after.nodes[2].op else {
        panic!("a linear")
    };
    assert_eq!(l.rows[1].terms, vec![(1, -1), (0, 1)]);
    // The report entry of the compacted tensor is dropped, the output's kept.
    assert_eq!(after.sources, vec![("pick".to_string(), 3)]);
    for x in [[3, -7, 11, 1000], [0, 1, -1, 2], [-4000, 4, 9, -8]] {
        assert_eq!(outputs(&before, &x), outputs(&after, &x), "{x:?}");
    }
    // A value out of range in an element no output reads no longer refuses the input.
    assert!(before.eval(&[vec![5000, 4, 9, -8]]).is_err());
    assert!(after.eval(&[vec![5000, 4, 9, -8]]).is_ok());
    let c = ModelCircuit::new(
        Arc::new(after),
        &[vec![3, -7, 11, 1000]],
        Visibility::default(),
    )
    .unwrap();
    check_honest(&c).unwrap();
}

#[test]
fn a_tensor_read_whole_or_output_is_not_compacted() {
    // A Reshape reads the squares' halves whole.
    let mut g = squares_then_pick(vec![]);
    g.nodes
        .push(node("flat", Op::Reshape(Reshape {}), vec![2], 4));
    g.outputs.push(5);
    assert_eq!(g.compact_dead_elements(), 0);
    // An output keeps every element (the halves, here), and so does what it follows.
    let mut g = squares_then_pick(vec![]);
    g.outputs.push(2);
    assert_eq!(g.compact_dead_elements(), 0);
}

/// A chain of one-term identity maps of `x` (4 elements) named by `names`, each reading
/// the one before.
fn identities(names: &[&str]) -> Vec<Node> {
    let id = || {
        Op::Linear(Linear {
            rows: (0..4)
                .map(|i| AffineRow {
                    bias: 0,
                    terms: vec![(i, 1)],
                })
                .collect(),
        })
    };
    names
        .iter()
        .enumerate()
        .map(|(i, n)| node(n, id(), vec![i], 4))
        .collect()
}

fn graph_of(nodes: Vec<Node>, outputs: Vec<usize>) -> Graph {
    Graph {
        inputs: vec![GraphInput {
            name: "x".into(),
            shape: vec![4],
            scale: 0,
            affine: None,
        }],
        nodes,
        outputs,
        sources: vec![],
        layout: Default::default(),
        units_column: false,
    }
}

#[test]
fn a_node_laid_out_whole_keeps_all_it_reads() {
    // x → u → t → ReLU → a Gather of a constant and the ReLU's first element → output.
    // The Gather reads nothing of the ReLU once its constant row is all that is kept, but
    // the ReLU (read whole) and t stay laid out in full, and so does u.
    let mut nodes = identities(&["u", "t"]);
    let items = vec![Cand::Const(0), Cand::of(0)];
    nodes.push(node(
        "relu",
        Op::Relu(zkinfer_circuits::ops::Relu {}),
        vec![2],
        4,
    ));
    nodes.push(node("gather", Op::Gather(Gather { items }), vec![3], 2));
    let first = Op::Linear(Linear {
        rows: vec![AffineRow {
            bias: 1,
            terms: vec![(0, 1)],
        }],
    });
    nodes.push(node("out", first, vec![4], 1));
    let before = graph_of(nodes, vec![5]);
    let mut after = before.clone();
    assert_eq!(after.compact_dead_elements(), 1);
    assert_eq!(after.nodes[0].shape, vec![4]);
    for x in [[3, -7, 11, 1000], [-4000, 4, 9, -8]] {
        assert_eq!(outputs(&before, &x), outputs(&after, &x), "{x:?}");
    }
}

#[test]
fn a_rescale_keeps_the_later_bound_it_trusts() {
    // t → Rescale → a ReLU-like max of each element with 0, whose first element is an
    // output; t's second element is one too. The max bounds every rescaled element, so
    // the rescale trusts it; compacted, the max would cover only the first: left as is.
    let mut nodes = identities(&["t"]);
    nodes.push(node(
        "rescale",
        Op::Rescale(Rescale { shift: 1 }),
        vec![1],
        4,
    ));
    let windows = (0..4).map(|i| vec![Cand::of(i), Cand::Const(0)]).collect();
    let max = Op::Max(zkinfer_circuits::ops::Max {
        min: false,
        windows,
    });
    nodes.push(node("max", max, vec![2], 4));
    let pick = |i: u32| {
        Op::Linear(Linear {
            rows: vec![AffineRow {
                bias: 0,
                terms: vec![(i, 1)],
            }],
        })
    };
    nodes.push(node("first", pick(0), vec![3], 1));
    nodes.push(node("second", pick(1), vec![1], 1));
    let mut g = graph_of(nodes, vec![4, 5]);
    assert!(Rescale::trusts_later(g.checked_bits()[1]));
    let before = g.clone();
    assert_eq!(g.compact_dead_elements(), 0);
    assert_eq!(g, before);
}

#[test]
fn a_malformed_graph_is_left_as_it_is() {
    let mut g = squares_then_pick(vec![]);
    let Op::Linear(l) = &mut g.nodes[2].op else {
        panic!("a linear")
    };
    l.rows[1].terms.push((9, 1));
    let before = g.clone();
    assert_eq!(g.compact_dead_elements(), 0);
    assert_eq!(g, before);
}

#[test]
fn a_gather_constant_read_by_nothing_goes_and_a_read_one_stays() {
    // A Gather of the Linear's two values and two constants, one of them read.
    let gather = Op::Gather(Gather {
        items: vec![Cand::of(0), Cand::Const(7), Cand::of(1), Cand::Const(0)],
    });
    let sum = Op::Linear(Linear {
        rows: vec![AffineRow {
            bias: 0,
            terms: vec![(0, 1), (1, 1), (2, 1)],
        }],
    });
    let before = squares_then_pick(vec![
        node("gather", gather, vec![3], 4),
        node("sum", sum, vec![4], 1),
    ]);
    let mut after = before.clone();
    assert_eq!(after.compact_dead_elements(), 4 + 1);
    assert_eq!(after.known_value(4, 1), Some(7));
    for x in [[3, -7, 11, 1000], [-4000, 4, 9, -8]] {
        assert_eq!(outputs(&before, &x), outputs(&after, &x), "{x:?}");
    }
}
