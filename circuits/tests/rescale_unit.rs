//! The wide layout's rescale unit: five rescales by `2^16` with the range checks of their
//! outputs in 36 cells, in the advice column `a` or, in a split circuit, in a column of their
//! own (`b`). Honest units pass MockProver and the free-cell guard and prove what the rows
//! prove (the tall layout's instances); a quotient moved by one, an output wrapped around the
//! field with a remainder to match, a forged output and a moved copy each fail, in either
//! column.

use halo2_axiom::halo2curves::bn256::Fr;
use std::sync::Arc;
use zkinfer_circuits::chip::{
    ChipShape, Layout, RescaleUnit, BLOCK, RESCALE_UNIT_ELEMS, RESCALE_UNIT_MIN_ELEMS,
};
use zkinfer_circuits::ops::{AffineRow, Linear, Op, Rescale};
use zkinfer_circuits::testing::{
    assert_rejected, assert_rejected_copies, cell_row, chain, check_honest, dots_then_rescales,
    failures, failures_tampered, gate_at, lookup_at, Failure, Tamper,
};
use zkinfer_circuits::{Graph, ModelCircuit, Tensor, Visibility};

/// As few whole units as a circuit takes the unit for, and two elements more (in rows).
const N: usize = RESCALE_UNIT_MIN_ELEMS.next_multiple_of(RESCALE_UNIT_ELEMS) + 2;

fn input() -> Vec<i128> {
    (0..N as i128)
        .map(|i| (i * 1_234_567) % 8_000_001 - 4_000_000)
        .collect()
}

/// `x → rescale by 2^16` (the output: nothing later bounds it, so it checks it itself).
fn graph(layout: Layout) -> Arc<Graph> {
    chain(
        N,
        vec![("rescale", Op::Rescale(Rescale { shift: 16 }), N)],
        layout,
    )
}

/// The circuit, its units in `a` (for the tests of that placement: compiled, this graph
/// puts them in `b`, see `units_are_honest_and_prove_what_the_rows_prove`).
fn circuit(layout: Layout) -> ModelCircuit {
    ModelCircuit::new(graph(layout), &[input()], Visibility::default()).unwrap()
}

/// `x → x·1 → rescale by 2^16`: the dot products (one term a row, laid out in `a`) are what
/// leaves `a` half as long once the units and the inputs' range checks move to `b`.
fn split_graph() -> Arc<Graph> {
    dots_then_rescales(N)
}

/// The circuit of [`split_graph`] as compilation leaves it: its units, and its inputs'
/// range checks as units, in a column of their own.
fn split_circuit() -> ModelCircuit {
    ModelCircuit::new(split_graph(), &[input()], Visibility::default()).unwrap()
}

fn public(c: &ModelCircuit) -> usize {
    c.instances().len()
}

/// The first layout row of unit `k`.
fn unit_row(c: &ModelCircuit, k: usize) -> usize {
    c.node_rows()[0].start + k * RescaleUnit.rows()
}

/// Lane and layout row of the cell at `offset` of the unit starting on `row`.
fn at(row: usize, offset: usize) -> (usize, usize) {
    (offset % BLOCK, row + offset / BLOCK)
}

#[test]
fn units_are_honest_and_prove_what_the_rows_prove() {
    let wide = circuit(Layout::Wide);
    check_honest(&wide).unwrap();
    let shape = ChipShape {
        rescale: true,
        ..ChipShape::from(Layout::Wide)
    };
    assert_eq!(wide.graph().chip_shape(), shape);
    assert_eq!(wide.shape(), shape);
    // With a dot product before the rescale, compilation moves the units and the inputs'
    // range checks out of `a`: a column half as long.
    let split = split_circuit();
    assert_eq!(
        split.shape(),
        ChipShape {
            split: true,
            ..shape
        }
    );
    assert!(split.graph().units_column && !wide.graph().units_column);
    // Key generation's blank circuit is the prover's.
    let blank = ModelCircuit::blank(split_graph(), Visibility::default()).unwrap();
    assert_eq!(blank.shape(), split.shape());
    let mut one_column = Arc::unwrap_or_clone(split_graph());
    one_column.units_column = false;
    let one = ModelCircuit::blank(Arc::new(one_column), Visibility::default()).unwrap();
    let (one, two) = (one.size().unwrap(), split.size().unwrap());
    assert_eq!(two.logrows + 1, one.logrows, "{one:?} {two:?}");
    // Left in `a`: the dots, and the two elements past whole units (a remainder row and a
    // range row each).
    assert_eq!(split.node_rows()[1].len(), 2 * 2);
    check_honest(&split).unwrap();
    // The same rescales in rows (the tall layout) are honest too.
    check_honest(&circuit(Layout::Tall)).unwrap();
    // The units, then two elements in a remainder row and a range row each.
    let units = N / RESCALE_UNIT_ELEMS;
    assert_eq!(
        wide.node_rows()[0].len(),
        units * RescaleUnit.rows() + 2 * 2
    );
    let out = &wide.values()[1].data;
    assert!(out.iter().any(|y| *y < 0) && out.iter().any(|y| *y > 0));
}

#[test]
fn fewer_elements_than_the_unit_pays_for_are_laid_out_in_rows() {
    let n = RESCALE_UNIT_MIN_ELEMS.next_multiple_of(RESCALE_UNIT_ELEMS) - 1;
    let g = |n: usize| {
        let op = Op::Rescale(Rescale { shift: 16 });
        chain(n, vec![("rescale", op, n)], Layout::Wide)
    };
    // One element short of enough in whole units: no unit.
    assert!(!g(n).chip_shape().rescale);
    assert!(g(n + 1).chip_shape().rescale);
    let x: Vec<i128> = input().into_iter().cycle().take(n).collect();
    let c = ModelCircuit::new(g(n), &[x], Visibility::default()).unwrap();
    assert_eq!(c.node_rows()[0].len(), 2 * n);
    check_honest(&c).unwrap();
}

#[test]
fn a_quotient_moved_by_one_fails_its_unit() {
    // y + 1: the remainder x + 2^15 − (y + 1)·2^16 is negative, and its two limbs (taken as
    // they are) leave the remainder's equation off by 2^16.
    let honest = circuit(Layout::Wide);
    let mut values: Vec<Tensor> = honest.values().to_vec();
    let k = RESCALE_UNIT_ELEMS + 2;
    values[1].data[k] += 1;
    let forged = ModelCircuit::forged(honest.graph().clone().into(), values, Default::default());
    let unit = gate_at("rescale unit", public(&forged), unit_row(&forged, 1));
    assert_rejected(&failures(&forged), &[unit], &[]);
}

#[test]
fn an_output_wrapped_around_the_field_fails_its_range() {
    // y' = y − 2^-16 in the field and a remainder one more: the rescale's equation holds,
    // y' is no value of three limbs less 2^23, so only the range equation fails.
    let c = circuit(Layout::Wide);
    let row = unit_row(&c, 0);
    let i = (0..RESCALE_UNIT_ELEMS)
        .find(|i| (input()[*i] + (1 << 15)).rem_euclid(1 << 16) & 0xff < 0xff)
        .expect("a remainder whose low limb can grow");
    let u = RescaleUnit;
    let (yl, yr) = at(row, u.y(i));
    let (rl, rr) = at(row, u.r_limb(i, 0));
    let inv = Fr::from(1 << 16).invert().unwrap();
    let fs = failures_tampered(
        &c,
        &[
            Tamper::shift_row(cell_row(public(&c), yl, yr), -inv),
            Tamper::shift(rl, rr, 1),
        ],
    );
    // The output's copy (to its public row) breaks too.
    let copy = cell_row(public(&c), yl, yr);
    assert_rejected(&fs, &[gate_at("rescale unit", public(&c), row)], &[copy]);
}

#[test]
fn a_remainder_limb_past_its_range_fails_the_table() {
    // y − 1 and a remainder 2^16 more, its high limb 2^8 more: both equations hold, the
    // limb is no table entry.
    let c = circuit(Layout::Wide);
    let row = unit_row(&c, 1);
    let u = RescaleUnit;
    let (yl, yr) = at(row, u.y(3));
    let (ol, or) = at(row, u.y_limb(3, 0));
    let (rl, rr) = at(row, u.r_limb(3, 1));
    assert!(c.values()[1].data[RESCALE_UNIT_ELEMS + 3] % 256 != 0);
    let fs = failures_tampered(
        &c,
        &[
            Tamper::shift(yl, yr, -1),
            Tamper::shift(ol, or, -1),
            Tamper::shift(rl, rr, 1 << 8),
        ],
    );
    let copy = cell_row(public(&c), yl, yr);
    assert_rejected(&fs, &[lookup_at(public(&c), rl, rr)], &[copy]);
}

#[test]
fn a_moved_copy_breaks_the_unit() {
    let c = circuit(Layout::Wide);
    let row = unit_row(&c, 0);
    let (lane, r) = at(row, RescaleUnit.x(2));
    let fs = failures_tampered(&c, &[Tamper::shift(lane, r, 1)]);
    assert_rejected(
        &fs,
        &[gate_at("rescale unit", public(&c), row)],
        &[cell_row(public(&c), lane, r)],
    );
}

/// `x·2^16 + b` (exact rows: each output reads its own input), then the rescale, on `N`
/// inputs: the first five give `y = 2^23 − 1` and `y = −2^23`, each with the remainders 0
/// and `2^16 − 1`, and `y = 0` with `2^15`; `b_0 = 2^15` would give `y = 2^23`.
fn edges(b_0: i64) -> (Arc<Graph>, Vec<i128>) {
    let top = (1 << 23) - 1;
    let half = 1 << 15;
    let mut x = vec![top, top, -(1 << 23), -(1 << 23), 0];
    let mut bias = vec![b_0, half - 1, -half, half - 1, 0];
    x.extend(input().into_iter().skip(5));
    bias.resize(N, 0);
    let rows = bias
        .iter()
        .enumerate()
        .map(|(i, b)| AffineRow {
            bias: *b,
            terms: vec![(i as u32, 1 << 16)],
        })
        .collect();
    let ops = vec![
        ("affine", Op::Linear(Linear { rows }), N),
        ("rescale", Op::Rescale(Rescale { shift: 16 }), N),
    ];
    (chain(N, ops, Layout::Wide), x)
}

#[test]
fn the_range_ends_prove_and_one_past_is_refused_and_fails_its_unit() {
    let (g, x) = edges(-(1 << 15));
    let c = ModelCircuit::new(g, std::slice::from_ref(&x), Visibility::default()).unwrap();
    let top = (1 << 23) - 1;
    assert_eq!(
        c.values()[2].data[..5],
        [top, top, -(1 << 23), -(1 << 23), 0]
    );
    check_honest(&c).unwrap();
    // y = 2^23: the oracle refuses the input; the unit refuses the forged value.
    let (past, _) = edges(1 << 15);
    assert!(past.eval(&[x]).is_err());
    let mut values: Vec<Tensor> = c.values().to_vec();
    values[2].data[0] += 1;
    let forged = ModelCircuit::forged(c.graph().clone().into(), values, Default::default());
    let unit = gate_at("rescale unit", public(&forged), forged.node_rows()[1].start);
    assert_rejected(&failures(&forged), &[unit], &[]);
}

/// Units of the split circuit's inputs, the first in `b`.
const INPUT_UNITS: usize = N / RESCALE_UNIT_ELEMS;

/// The row of `b` where the split circuit's rescale unit `k` starts: after the inputs'.
fn unit_start(k: usize) -> usize {
    (INPUT_UNITS + k) * RescaleUnit.cells()
}

#[test]
fn in_their_own_column_a_quotient_moved_by_one_fails_its_unit() {
    let honest = split_circuit();
    let mut values: Vec<Tensor> = honest.values().to_vec();
    values[2].data[RESCALE_UNIT_ELEMS + 2] += 1;
    let forged = ModelCircuit::forged(honest.graph().clone().into(), values, Default::default());
    assert!(forged.shape().split);
    let unit = Failure::Gate {
        gate: "rescale unit".into(),
        row: unit_start(1),
    };
    assert_rejected(&failures(&forged), &[unit], &[]);
}

#[test]
fn in_their_own_column_a_wrapped_output_fails_its_range_and_a_wide_limb_the_table() {
    let c = split_circuit();
    let u = RescaleUnit;
    let inv = Fr::from(1 << 16).invert().unwrap();
    let i = (0..RESCALE_UNIT_ELEMS)
        .find(|i| (input()[*i] + (1 << 15)).rem_euclid(1 << 16) & 0xff < 0xff)
        .expect("a remainder whose low limb can grow");
    // y' = y − 2^-16 and a remainder one more: only the range equation fails (and the
    // output's copy to its public row).
    let fs = failures_tampered(
        &c,
        &[
            Tamper::shift_unit(unit_start(0) + u.y(i), -inv),
            Tamper::shift_unit(unit_start(0) + u.r_limb(i, 0), Fr::one()),
        ],
    );
    let unit = Failure::Gate {
        gate: "rescale unit".into(),
        row: unit_start(0),
    };
    assert_rejected_copies(
        &fs,
        &[unit],
        &[Failure::UnitCopy {
            row: unit_start(0) + u.y(i),
        }],
    );
    // y − 1, its low limb one less, the remainder's high limb 2^8 more: both equations
    // hold, the limb is no table entry of the unit column's lookup.
    let base = unit_start(1);
    assert!(c.values()[2].data[RESCALE_UNIT_ELEMS + 3] % 256 != 0);
    let fs = failures_tampered(
        &c,
        &[
            Tamper::shift_unit(base + u.y(3), -Fr::one()),
            Tamper::shift_unit(base + u.y_limb(3, 0), -Fr::one()),
            Tamper::shift_unit(base + u.r_limb(3, 1), Fr::from(1 << 8)),
        ],
    );
    let limb = Failure::UnitLookup {
        row: base + u.r_limb(3, 1),
    };
    let copy = Failure::UnitCopy { row: base + u.y(3) };
    assert_rejected_copies(&fs, &[limb], &[copy]);
}

#[test]
fn in_their_own_column_a_moved_copy_breaks_the_unit() {
    let c = split_circuit();
    let x = unit_start(0) + RescaleUnit.x(2);
    let fs = failures_tampered(&c, &[Tamper::shift_unit(x, Fr::one())]);
    let unit = Failure::Gate {
        gate: "rescale unit".into(),
        row: unit_start(0),
    };
    assert_rejected_copies(&fs, &[unit], &[Failure::UnitCopy { row: x }]);
}

#[test]
fn in_their_own_column_no_cell_outside_a_unit_is_read() {
    // A cell of `b` past the units, and the one cell inside a unit that it skips (the first
    // row's `z`), changed after the honest layout: nothing reads them.
    let c = split_circuit();
    let units = N / RESCALE_UNIT_ELEMS;
    let past = unit_start(units);
    let gap = unit_start(1) + zkinfer_circuits::chip::LANES;
    for row in [past, past + 40, gap] {
        let fs = failures_tampered(&c, &[Tamper::shift_unit(row, Fr::from(1 << 40))]);
        assert_eq!(fs, [], "row {row} of b");
    }
}

#[test]
fn inputs_in_their_own_column_prove_their_range_ends_and_not_one_past() {
    // The first two inputs at the ends of the signed range: honest, in the first input unit.
    let mut x = input();
    x[0] = (1 << 23) - 1;
    x[1] = -(1 << 23);
    let c = ModelCircuit::new(split_graph(), &[x.clone()], Visibility::default()).unwrap();
    check_honest(&c).unwrap();
    // One past: the oracle refuses it; the unit refuses it taken as limbs (0, 0, 256), with
    // `x_0 = 2^16·y_0` moved to match: only the top limb's lookup fails (and the input's copy
    // into the dot).
    x[0] += 1;
    assert!(split_graph().check_inputs(&[x]).is_err());
    let u = RescaleUnit;
    let fs = failures_tampered(
        &c,
        &[
            Tamper::shift_unit(u.y(0), Fr::one()),
            Tamper::shift_unit(u.x(0), Fr::from(1 << 16)),
            Tamper::shift_unit(u.y_limb(0, 0), -Fr::from(255)),
            Tamper::shift_unit(u.y_limb(0, 1), -Fr::from(255)),
            Tamper::shift_unit(u.y_limb(0, 2), Fr::one()),
        ],
    );
    let limb = Failure::UnitLookup {
        row: u.y_limb(0, 2),
    };
    assert_rejected_copies(&fs, &[limb], &[Failure::UnitCopy { row: u.y(0) }]);
    // `x_0` moved alone fails the unit's equation; a remainder limb moved, its copy of the
    // constant too.
    let unit = Failure::Gate {
        gate: "rescale unit".into(),
        row: 0,
    };
    let fs = failures_tampered(&c, &[Tamper::shift_unit(u.x(0), Fr::one())]);
    assert_rejected(&fs, std::slice::from_ref(&unit), &[]);
    let r = u.r_limb(0, 0);
    let fs = failures_tampered(&c, &[Tamper::shift_unit(r, Fr::one())]);
    assert_rejected_copies(&fs, &[unit], &[Failure::UnitCopy { row: r }]);
}

#[test]
fn a_unit_column_asked_of_a_tall_graph_changes_nothing() {
    let mut g = Arc::unwrap_or_clone(graph(Layout::Tall));
    g.units_column = true;
    let c = ModelCircuit::new(Arc::new(g), &[input()], Visibility::default()).unwrap();
    assert_eq!(c.shape(), ChipShape::from(Layout::Tall));
    assert_eq!(c.size().unwrap(), circuit(Layout::Tall).size().unwrap());
}
