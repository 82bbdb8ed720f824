//! The wide layout's shared-input dot gate: honest layouts pass MockProver and the free-cell
//! guard, agree with the tall layout, and a forged accumulator fails the gate on its block.

use std::sync::Arc;
use zkinfer_circuits::chip::{Layout, LANES, WIDE_IN, WIDE_OUT, WIDE_ROWS};
use zkinfer_circuits::ops::{AffineRow, Linear, Op};
use zkinfer_circuits::testing::{
    assert_rejected, check_honest, failures_claiming, failures_with, gate_at, graph, Tamper,
};
use zkinfer_circuits::{Graph, ModelCircuit, Visibility};

/// Terms of the shared rows: three wide blocks, the last one partly empty.
const TERMS: usize = 2 * WIDE_IN + 5;
/// Rows sharing their inputs: one full group of `WIDE_OUT` and a partial one.
const SHARED: usize = WIDE_OUT + 4;

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

fn circuit(layout: Layout) -> ModelCircuit {
    let n_out = linear().rows.len();
    let g = graph(Op::Linear(linear()), &[vec![TERMS + 5]], vec![n_out]);
    let g = Arc::new(Graph {
        layout,
        ..(*g).clone()
    });
    let x: Vec<i128> = (0..TERMS as i128 + 5)
        .map(|i| (i * 37) % 101 - 50)
        .collect();
    ModelCircuit::new(g, &[x], Visibility::default()).unwrap()
}

/// The layout row the op starts on (after the public rows).
fn op_start(c: &ModelCircuit) -> usize {
    c.node_rows()[0].start
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
fn a_forged_output_fails_the_shared_dot_gate_of_its_last_block() {
    let c = circuit(Layout::Wide);
    let public = c.instances().len();
    let last = op_start(&c) + 2 * WIDE_ROWS;
    // Output 0 is cell 0 after the last of the three blocks; its claim moves with it.
    let out0 = Tamper::shift(0, last + WIDE_ROWS, 1);
    let fs = failures_claiming(&c, &[out0], 0, 1);
    assert_rejected(&fs, &[gate_at("shared-input dot", public, last)], &[]);
}

#[test]
fn an_unused_accumulator_is_pinned_to_zero() {
    let c = circuit(Layout::Wide);
    let public = c.instances().len();
    // The second group (4 outputs) starts on the first group's outputs (no rows between);
    // its accumulator 10 after its last block is no output, yet the gate pins it to zero.
    let second = op_start(&c) + 3 * WIDE_ROWS;
    let last = second + 2 * WIDE_ROWS;
    let free = Tamper::shift(10, last + WIDE_ROWS, 1);
    let fs = failures_with(
        &c.clone().with_tamper(&[free]),
        c.min_k().unwrap(),
        c.instances(),
    );
    assert_rejected(&fs, &[gate_at("shared-input dot", public, last)], &[]);
}

#[test]
fn a_forged_input_lane_breaks_its_copy() {
    let c = circuit(Layout::Wide);
    let lane = WIDE_OUT + 3;
    let row = op_start(&c);
    let fs = failures_with(
        &c.clone().with_tamper(&[Tamper::shift(lane, row, 1)]),
        c.min_k().unwrap(),
        c.instances(),
    );
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
    let n_out = rows.len();
    let g = graph(Op::Linear(Linear { rows }), &[vec![32]], vec![n_out]);
    let g = Arc::new(Graph {
        layout: Layout::Wide,
        ..(*g).clone()
    });
    let x: Vec<i128> = (0..32).map(|i| (i * 29) % 61 - 30).collect();
    let c = ModelCircuit::new(g, &[x], Visibility::default()).unwrap();
    check_honest(&c).unwrap();
    let (public, start) = (c.instances().len(), op_start(&c));
    // A forged result, claimed as output 0, fails the dot's last row and nothing else.
    let result = Tamper::shift(LANES, start + 2, 1);
    let fs = failures_claiming(&c, &[result], 0, 1);
    assert_rejected(&fs, &[gate_at("linear", public, start + 1)], &[]);
}
