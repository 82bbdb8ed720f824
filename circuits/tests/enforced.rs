//! Bounds carried back through additions (`Graph::packing_bounds`): a dense layer read only
//! by a residual addition, whose sum a later rescale range-checks, packs its outputs without
//! range checks of its own; errors that cancel in a packed constraint then fail that rescale.
//! Where the addition scales the dot, reads only some of its outputs, or adds two such dots,
//! nothing is derived and the dot checks its outputs itself.

use std::sync::Arc;
use zkinfer_circuits::chip::{
    Layout, LANES, PACK_BITS, WIDE_BOUND_BITS, WIDE_IN, WIDE_OUT, WIDE_ROWS,
};
use zkinfer_circuits::ops::{Add, AffineRow, Linear, Op, Rescale};
use zkinfer_circuits::testing::{
    assert_first_rescale_out_of_range, cancelling_rescale_tampers, check_honest, dag,
    failures_tampered, Tamper,
};
use zkinfer_circuits::{Graph, ModelCircuit, Visibility};

/// The rescales' shift, and the residual's scale: `r = 2^SHIFT·x + W·x`.
const SHIFT: u32 = 8;

/// `WIDE_OUT` dot products of all `WIDE_IN` inputs: one wide block, packed.
fn dense() -> Op {
    let weight = |o: usize, k: usize| ((o * 7 + k * 13) % 23) as i64 - 11;
    let rows = (0..WIDE_OUT)
        .map(|o| AffineRow {
            bias: o as i64 * 3 - 20,
            terms: (0..WIDE_IN).map(|k| (k as u32, weight(o, k))).collect(),
        })
        .collect();
    Op::Linear(Linear { rows })
}

/// `lhs_mul·u[lhs] + rhs_mul·v[0..WIDE_OUT]`.
fn add(lhs_mul: i64, rhs_mul: i64, lhs: Vec<u32>) -> Op {
    Op::Add(Add {
        lhs_mul,
        rhs_mul,
        rhs: (0..lhs.len() as u32).collect(),
        lhs,
    })
}

fn rescale() -> Op {
    Op::Rescale(Rescale { shift: SHIFT })
}

/// A wide graph on `x` (`WIDE_IN` elements) of `nodes` `(op, inputs, elements)`.
fn graph(nodes: Vec<(Op, Vec<usize>, usize)>) -> Arc<Graph> {
    dag(WIDE_IN, nodes, Layout::Wide)
}

/// `x → W·x → r = 2^SHIFT·x[..WIDE_OUT] + rhs_mul·W·x → rescale(r)`.
fn residual(rhs_mul: i64) -> Arc<Graph> {
    let first: Vec<u32> = (0..WIDE_OUT as u32).collect();
    graph(vec![
        (dense(), vec![0], WIDE_OUT),
        (add(1 << SHIFT, rhs_mul, first), vec![0, 1], WIDE_OUT),
        (rescale(), vec![2], WIDE_OUT),
    ])
}

fn input() -> Vec<i128> {
    (0..WIDE_IN as i128).map(|i| (i * 37) % 101 - 50).collect()
}

fn circuit(g: Arc<Graph>) -> ModelCircuit {
    ModelCircuit::new(g, &[input()], Visibility::default()).unwrap()
}

/// Whether the circuit bounds node `n`'s output below `2^WIDE_BOUND_BITS`, which packs it.
fn packs(g: &Graph, n: usize) -> bool {
    g.packing_bounds()[g.inputs.len() + n] <= 2f64.powi(WIDE_BOUND_BITS as i32)
}

#[test]
fn a_residual_addition_bounds_the_dot_it_reads() {
    let g = residual(1);
    // Nothing reads the dot's output directly: only the addition bounds it.
    assert!(!g.checked_later()[0]);
    assert!(packs(&g, 0), "{:?}", g.packing_bounds());
    let c = circuit(g);
    check_honest(&c).unwrap();
    // Scaled by 2 in the addition, the dot is not tied to a bounded value (`v = (r − u)/2`
    // in the field is anything): it range-checks its outputs, in more rows.
    let scaled = residual(2);
    assert!(!packs(&scaled, 0));
    let checked = circuit(scaled);
    check_honest(&checked).unwrap();
    let rows = |c: &ModelCircuit| c.node_rows()[0].len();
    assert!(rows(&checked) > rows(&c), "{} {}", rows(&checked), rows(&c));
}

#[test]
fn a_residual_stream_is_bounded_through_its_layer_norm() {
    // r = 2^8·x + W·x; m = rescale(r) (one term a row: exact, and it checks its output);
    // d = r − m, rescaled. Only d and the one-term rows are bounded directly; r = d + m, then
    // W·x = r − 2^8·x.
    let first: Vec<u32> = (0..WIDE_OUT as u32).collect();
    let one_each = Linear {
        rows: (0..WIDE_OUT as u32)
            .map(|i| AffineRow {
                bias: 0,
                terms: vec![(i, 1)],
            })
            .collect(),
    };
    let g = graph(vec![
        (dense(), vec![0], WIDE_OUT),
        (add(1 << SHIFT, 1, first.clone()), vec![0, 1], WIDE_OUT),
        (Op::Linear(one_each), vec![2], WIDE_OUT),
        (rescale(), vec![3], WIDE_OUT),
        (add(1, -1, first), vec![2, 4], WIDE_OUT),
        (rescale(), vec![5], WIDE_OUT),
    ]);
    assert_eq!(g.checked_later()[..3], [false, false, true]);
    assert!(packs(&g, 0) && packs(&g, 1), "{:?}", g.packing_bounds());
    check_honest(&circuit(g)).unwrap();
}

#[test]
fn nothing_is_derived_from_a_partial_read_a_circle_or_a_dead_node() {
    // The addition reads half of the dot's outputs.
    let half: Vec<u32> = (0..WIDE_OUT as u32 / 2).collect();
    let g = graph(vec![
        (dense(), vec![0], WIDE_OUT),
        (add(1, 1, half), vec![0, 1], WIDE_OUT / 2),
        (rescale(), vec![2], WIDE_OUT / 2),
    ]);
    assert!(!packs(&g, 0));
    // Two dots added: each would be bounded only if the other were.
    let first: Vec<u32> = (0..WIDE_OUT as u32).collect();
    let g = graph(vec![
        (dense(), vec![0], WIDE_OUT),
        (dense(), vec![0], WIDE_OUT),
        (add(1, 1, first.clone()), vec![1, 2], WIDE_OUT),
        (rescale(), vec![3], WIDE_OUT),
    ]);
    assert!(!packs(&g, 0) && !packs(&g, 1) && packs(&g, 2));
    // The rescale after the addition is dead (the graph's output is the dot).
    let g = Graph {
        outputs: vec![1],
        ..(*residual(1)).clone()
    };
    assert!(!packs(&g, 0));
}

#[test]
fn errors_that_cancel_in_a_packed_constraint_fail_the_rescale_after_the_addition() {
    // Outputs 0 and 1 share a constraint, output 1 at 2^PACK_BITS: output 0 forged by
    // d·2^PACK_BITS and output 1 by −d leave the shared-input gate vanishing. The addition's
    // copies and sums move with them, and each rescale's witness is recomputed for its forged
    // input, so all that fails is the range check of output 0's result: its top limb is far
    // out of the limb table.
    let c = circuit(residual(1));
    let public = c.instances().len();
    let rows = c.node_rows();
    let (dot_start, add0, rescale0) = (rows[0].start, rows[1].start, rows[2].start);
    let per = Rescale { shift: SHIFT }.rows(None);
    let (row0, row1) = (rescale0, rescale0 + per);
    let r1 = c.values()[2].data[1];
    let d: i128 = if (r1 + (1 << (SHIFT - 1))).rem_euclid(1 << SHIFT) >= 1 {
        1
    } else {
        -1
    };
    let big = d << PACK_BITS;
    // The dot's outputs sit in the cells after its one block (lanes 0 and 1 of the row after
    // it); the addition of element e reads it in lane 1 of its row and puts the sum in the
    // next row's `z`.
    let out_row = dot_start + WIDE_ROWS;
    let mut tampers = vec![
        Tamper::shift(0, out_row, big),
        Tamper::shift(1, out_row, -d),
        Tamper::shift(1, add0, big),
        Tamper::shift(LANES, add0 + 1, big),
        Tamper::shift(1, add0 + 1, -d),
        Tamper::shift(LANES, add0 + 2, -d),
    ];
    tampers.extend(cancelling_rescale_tampers(row0, row1, d, SHIFT));
    let fs = failures_tampered(&c, &tampers);
    assert_first_rescale_out_of_range(&fs, public, row0);
}
