//! The wide layout's shared-input dot gate: honest layouts pass MockProver and the free-cell
//! guard, agree with the tall layout, a forged accumulator fails the gate on its block, and
//! errors that cancel in a packed constraint are caught where the outputs are bounded.

use std::sync::Arc;
use zkinfer_circuits::chip::{
    Layout, WideSlot, LANES, LANE_A, PACK_BITS, WIDE_IN, WIDE_OUT, WIDE_PACK, WIDE_ROWS, WIDE_TAIL,
};
use zkinfer_circuits::ops::{AffineRow, Linear, Op, Rescale};
use zkinfer_circuits::testing::{
    assert_first_rescale_out_of_range, assert_rejected, cancelling_rescale_tampers, cell_row,
    check_honest, failures_claiming, failures_tampered, gate_at, graph, public_cell, Failure,
    Tamper,
};
use zkinfer_circuits::{Graph, ModelCircuit, Visibility};

/// Terms of the shared rows: three wide blocks, the last one partly empty.
const TERMS: usize = 2 * WIDE_IN + 5;
/// Rows sharing their inputs: one full group of `WIDE_OUT` and a partial one, whose last
/// output shares its packed constraint with an accumulator of no output.
const SHARED: usize = WIDE_OUT + WIDE_PACK - 1;

/// A linear op whose first `SHARED` rows read the same inputs (a convolution's channels at
/// one position), then two rows sharing other inputs and one row of its own.
fn linear() -> Linear {
    let weight = |o: usize, k: usize| ((o * 7 + k * 13) % 23) as i64 - 11;
    let mut rows: Vec<AffineRow> = (0..SHARED)
        .map(|o| AffineRow {
            bias: o as i64 * 3 - 20,
            terms: (0..TERMS).map(|k| (k as u32, weight(o, k))).collect(),
        })
        .collect();
    for o in 0..2 {
        rows.push(AffineRow {
            bias: 1,
            terms: (5..TERMS + 5)
                .map(|k| (k as u32, weight(o + 3, k)))
                .collect(),
        });
    }
    rows.push(AffineRow {
        bias: -4,
        terms: vec![(2, 5), (9, -3)],
    });
    Linear { rows }
}

/// The rescale after the linear op: it range-checks every output, which lets the wide
/// layout pack them.
const SHIFT: u32 = 8;

/// `op` on an input of `n_in` elements, rescaled: the graph's output.
fn rescaled(op: Linear, n_in: usize, layout: Layout) -> Arc<Graph> {
    let n_out = op.rows.len();
    let rescale = Op::Rescale(Rescale { shift: SHIFT });
    zkinfer_circuits::testing::chain(
        n_in,
        vec![
            ("linear", Op::Linear(op), n_out),
            ("rescale", rescale, n_out),
        ],
        layout,
    )
}

fn circuit(layout: Layout) -> ModelCircuit {
    let x: Vec<i128> = (0..TERMS as i128 + 5)
        .map(|i| (i * 37) % 101 - 50)
        .collect();
    let g = rescaled(linear(), x.len(), layout);
    ModelCircuit::new(g, &[x], Visibility::default()).unwrap()
}

/// The layout row the op starts on (after the public rows).
fn op_start(c: &ModelCircuit) -> usize {
    c.node_rows()[0].start
}

/// The layout row of element `i`'s rescale (its remainder's range row, `x` in lane A).
fn rescale_row(c: &ModelCircuit, i: usize) -> usize {
    c.node_rows()[1].start + i * Rescale { shift: SHIFT }.rows(None)
}

#[test]
fn wide_layout_is_honest_and_agrees_with_tall() {
    let (tall, wide) = (circuit(Layout::Tall), circuit(Layout::Wide));
    check_honest(&wide).unwrap();
    assert_eq!(tall.instances(), wide.instances());
    let (t, w) = (tall.size().unwrap(), wide.size().unwrap());
    assert!(
        w.circuit_rows < t.circuit_rows,
        "wide {} vs tall {} circuit rows",
        w.circuit_rows,
        t.circuit_rows
    );
}

#[test]
fn an_unchecked_output_is_packed_with_range_checks_of_its_own() {
    // The same op as the graph's output, with nothing range-checking it: each output of a
    // wide block gets two range rows (its static bound is below 2^33), and errors that cancel
    // in a packed constraint fail the first of them.
    let n_out = linear().rows.len();
    let g = graph(Op::Linear(linear()), &[vec![TERMS + 5]], vec![n_out]);
    let layout = |layout| {
        Arc::new(Graph {
            layout,
            ..(*g).clone()
        })
    };
    let x: Vec<i128> = (0..TERMS as i128 + 5).map(|i| i * 3 - 40).collect();
    let c =
        |l| ModelCircuit::new(layout(l), std::slice::from_ref(&x), Visibility::default()).unwrap();
    let (tall, wide) = (c(Layout::Tall), c(Layout::Wide));
    check_honest(&wide).unwrap();
    assert_eq!(tall.instances(), wide.instances());
    assert!(wide.size().unwrap().circuit_rows < tall.size().unwrap().circuit_rows);
    let (public, start) = (wide.instances().len(), op_start(&wide));
    let after = start + 3 * WIDE_ROWS;
    let check0 = after + WIDE_TAIL;
    let big = 1i128 << PACK_BITS;
    let tampers = [
        Tamper::shift(0, after, big),
        Tamper::shift(1, after, -1),
        Tamper::shift(LANE_A, check0, big),
        Tamper::shift(LANE_A, check0 + 2, -1),
    ];
    let fs = failures_claiming(&wide, &tampers[..2], 0, big);
    assert!(
        !fs.iter()
            .any(|f| matches!(f, Failure::Gate { gate, .. } if gate == "shared-input dot")),
        "{fs:?}"
    );
    let fs = failures_tampered(&wide, &tampers);
    assert_rejected(
        &fs,
        &[
            gate_at("linear", public, check0),
            gate_at("linear", public, check0 + 2),
        ],
        // The outputs' copies to their public cells (not moved with them here).
        &[
            public_cell(0),
            public_cell(1),
            cell_row(public, 0, after),
            cell_row(public, 1, after),
        ],
    );
}

#[test]
fn a_forged_output_fails_the_shared_dot_gate_of_its_last_block() {
    let c = circuit(Layout::Wide);
    let public = c.instances().len();
    let last = op_start(&c) + 2 * WIDE_ROWS;
    // Output 0 is cell 0 after the last of the three blocks; its rescale's copy moves with it.
    let out0 = Tamper::shift(0, last + WIDE_ROWS, 1);
    let copy = Tamper::shift(LANE_A, rescale_row(&c, 0), 1);
    let fs = failures_tampered(&c, &[out0, copy]);
    assert_rejected(
        &fs,
        &[
            gate_at("shared-input dot", public, last),
            gate_at("linear", public, rescale_row(&c, 0)),
        ],
        &[],
    );
}

#[test]
fn errors_that_cancel_in_a_packed_constraint_fail_the_rescale() {
    // Outputs 0 and 1 share a constraint, output 1 at 2^PACK_BITS: output 0 forged by
    // d·2^PACK_BITS and output 1 by -d leave the gate vanishing. Each rescale's witness is
    // recomputed for its forged input (output 1's remainder, output 0's result and the limbs
    // of its range check), so that all that fails is the range check of output 0's result:
    // its top limb is far out of the limb table.
    let c = circuit(Layout::Wide);
    let public = c.instances().len();
    let after = op_start(&c) + 3 * WIDE_ROWS;
    let acc1 = c.values()[1].data[1];
    let r1 = (acc1 + (1 << (SHIFT - 1))).rem_euclid(1 << SHIFT);
    let d: i128 = if r1 >= 1 { 1 } else { -1 };
    let (row0, row1) = (rescale_row(&c, 0), rescale_row(&c, 1));
    let mut tampers = vec![
        Tamper::shift(0, after, d << PACK_BITS),
        Tamper::shift(1, after, -d),
    ];
    tampers.extend(cancelling_rescale_tampers(row0, row1, d, SHIFT));
    let fs = failures_tampered(&c, &tampers);
    assert_first_rescale_out_of_range(&fs, public, row0);
}

#[test]
fn an_unused_accumulator_packed_with_an_output_is_pinned_to_zero() {
    // The second chain (`WIDE_PACK - 1` outputs) starts on the first chain's outputs (no
    // rows between); its last output `o` shares its constraint with accumulator `o + 1`,
    // which is no output. Forging output `o` by +1 (its rescale's input and remainder moved
    // with it, so the rescale still holds) and accumulator `o + 1` by -2^-PACK_BITS leaves
    // the gate vanishing: only accumulator `o + 1`'s copy to the constant zero catches it.
    let c = circuit(Layout::Wide);
    let public = c.instances().len();
    let after = op_start(&c) + 6 * WIDE_ROWS;
    let o = WIDE_PACK - 2;
    let out3 = WIDE_OUT + o;
    let acc = c.values()[1].data[out3];
    let r = (acc + (1 << (SHIFT - 1))).rem_euclid(1 << SHIFT);
    let d = if r < 255 { 1 } else { -1 };
    let shifted =
        zkinfer_circuits::field::to_field(-d) * WideSlot::pack_factor(1).invert().unwrap();
    let tampers = [
        Tamper::shift(o, after, d),
        Tamper::shift(LANE_A, rescale_row(&c, out3), d),
        Tamper::shift(0, rescale_row(&c, out3), d),
        Tamper::shift_row(cell_row(public, o + 1, after), shifted),
    ];
    let fs = failures_tampered(&c, &tampers);
    assert_rejected(&fs, &[], &[cell_row(public, o + 1, after)]);
    let honest_copy = cell_row(public, o, after);
    assert!(
        !fs.contains(&zkinfer_circuits::testing::Failure::Copy { row: honest_copy }),
        "{fs:?}"
    );
}

#[test]
fn a_forged_input_lane_breaks_its_copy() {
    let c = circuit(Layout::Wide);
    let lane = WIDE_OUT + 3;
    let row = op_start(&c);
    let fs = failures_tampered(&c, &[Tamper::shift(lane, row, 1)]);
    let at = zkinfer_circuits::testing::cell_row(c.instances().len(), lane, row);
    assert!(
        fs.contains(&zkinfer_circuits::testing::Failure::Copy { row: at }),
        "{fs:?}"
    );
}

#[test]
fn a_tall_dot_ending_on_a_wide_block_is_pinned_by_its_own_gate() {
    // Output 0 reads 7 inputs of its own: a tall dot of 2 rows, whose result is the `z` cell
    // of the row after them, where the wide blocks of outputs 1..=16 (sharing 25 inputs)
    // start: that cell is also the first block's accumulator 5, which its gate reads with
    // `cont = 0`.
    let mut rows = vec![AffineRow {
        bias: 2,
        terms: (0..7).map(|k| (k, i64::from(k) - 3)).collect(),
    }];
    rows.extend((0..WIDE_OUT as i64).map(|o| AffineRow {
        bias: o,
        terms: (7..32).map(|k| (k, (o + i64::from(k)) % 9 - 4)).collect(),
    }));
    let g = rescaled(Linear { rows }, 32, Layout::Wide);
    let x: Vec<i128> = (0..32).map(|i| (i * 29) % 61 - 30).collect();
    let c = ModelCircuit::new(g, &[x], Visibility::default()).unwrap();
    check_honest(&c).unwrap();
    let (public, start) = (c.instances().len(), op_start(&c));
    // A forged result, its rescale's copy moved with it, fails the dot's last row and the
    // rescale's range row.
    let result = Tamper::shift(LANES, start + 2, 1);
    let copy = Tamper::shift(LANE_A, rescale_row(&c, 0), 1);
    let fs = failures_tampered(&c, &[result, copy]);
    assert_rejected(
        &fs,
        &[
            gate_at("linear", public, start + 1),
            gate_at("linear", public, rescale_row(&c, 0)),
        ],
        &[],
    );
}

/// A wide graph on one input of 4 elements whose nodes are `(op, inputs, elements)`.
fn chain(nodes: Vec<(Op, Vec<usize>, usize)>) -> Arc<Graph> {
    zkinfer_circuits::testing::dag(4, nodes, Layout::Wide)
}

#[test]
fn a_dot_counts_as_checked_only_where_a_live_node_checks_every_element() {
    let lin = || {
        let row = AffineRow {
            bias: 0,
            terms: vec![(0, 1), (1, 2)],
        };
        Op::Linear(Linear { rows: vec![row; 4] })
    };
    let resc = || Op::Rescale(Rescale { shift: SHIFT });
    let reshape = || Op::Reshape(zkinfer_circuits::ops::Reshape {});
    let add = || {
        Op::Add(zkinfer_circuits::ops::Add {
            lhs_mul: 1,
            rhs_mul: 1,
            lhs: (0..4).collect(),
            rhs: (0..4).collect(),
        })
    };
    // Through two reshapes to a rescale: checked.
    let g = chain(vec![
        (lin(), vec![0], 4),
        (reshape(), vec![1], 4),
        (reshape(), vec![2], 4),
        (resc(), vec![3], 4),
    ]);
    assert_eq!(g.checked_later(), [true, true, true, false]);
    // A rescale nothing proven reads (dead): not checked.
    let g = chain(vec![
        (lin(), vec![0], 4),
        (resc(), vec![1], 4),
        (add(), vec![0, 1], 4),
    ]);
    assert_eq!(g.checked_later(), [false, false, false]);
    // Read as a second input, or through an add: not checked.
    let g = chain(vec![
        (lin(), vec![0], 4),
        (add(), vec![0, 1], 4),
        (resc(), vec![2], 4),
    ]);
    assert_eq!(g.checked_later(), [false, true, false]);
    // A rescale declared over fewer elements than the dot has: not checked.
    let g = chain(vec![(lin(), vec![0], 4), (resc(), vec![1], 1)]);
    assert_eq!(g.checked_later(), [false, false]);
}
