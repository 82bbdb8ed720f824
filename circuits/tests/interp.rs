//! Piecewise-linear interpolation over range-decomposed segments: the oracle at segment
//! ends, zero and rounding ties, inputs outside the segments refused, and each forgery
//! caught by the constraint that should catch it.

use std::sync::Arc;
use zkinfer_circuits::chip::{FN_LANES, LANE_A, LANE_B, LIMBS, SECOND_LANE};
use zkinfer_circuits::ops::{FnTable, Interp, Op};
use zkinfer_circuits::testing::{
    assert_rejected, cell_row, check_honest, failures, failures_claiming, gate_at, limb, lookup_at,
    one_node, Tamper, Z,
};
use zkinfer_circuits::{CircuitError, Graph, ModelCircuit, Visibility};

/// Eight segments of 16 inputs over [-64, 63], output scaled down by 2^8: `|x|/2` rounded
/// half up, one slope and intercept per segment (`e_h` already in global coordinates).
fn op() -> Interp {
    let (mut e, mut d) = (vec![], vec![]);
    for h in 0..8i64 {
        let slope = if h < 4 { -128 } else { 128 };
        d.push(slope);
        e.push(0);
    }
    Interp {
        table: FnTable {
            function: "half_abs".into(),
            in_min: 0,
            values: e,
            second: d,
        },
        x_min: -64,
        seg_bits: 4,
        out_shift: 8,
    }
}

fn graph(n: usize) -> Arc<Graph> {
    one_node(Op::Interp(op()), n, 0, None)
}

fn t(lane: usize, row: usize, delta: i128) -> Tamper {
    Tamper::shift(lane, row, delta)
}

#[test]
fn matches_the_formula_at_segment_ends_zero_and_ties() {
    // -64 and 63 are the ends, -1/0/15/16 segment boundaries, ±3 ties (1.5 rounds up to 2,
    // -1.5 … here |x|/2 so 3 → 1.5 → 2).
    let xs = vec![-64, 63, -1, 0, 15, 16, 3, -3];
    let c = ModelCircuit::new(
        graph(xs.len()),
        std::slice::from_ref(&xs),
        Visibility::default(),
    )
    .unwrap();
    let want: Vec<i128> = xs
        .iter()
        .map(|x: &i128| (x.abs() + 1).div_euclid(2))
        .collect();
    assert_eq!(c.graph().outputs_of(c.values())[0].data, want);
    check_honest(&c).unwrap();
}

#[test]
fn inputs_outside_the_segments_are_refused() {
    for bad in [-65, 64] {
        let err = ModelCircuit::new(graph(2), &[vec![0, bad]], Visibility::default()).unwrap_err();
        assert!(
            matches!(err, CircuitError::ValueOutOfRange { index: 1, value, min: -64, max: 63, .. } if value == bad),
            "{err}"
        );
    }
}

#[test]
fn a_malformed_op_is_refused() {
    let mut bad = op();
    bad.out_shift = 12;
    let g = one_node(Op::Interp(bad), 1, 0, None);
    let err = ModelCircuit::new(g, &[vec![0]], Visibility::default()).unwrap_err();
    assert!(matches!(err, CircuitError::MalformedGraph { .. }), "{err}");
}

/// One element `x = 21` (segment 5, l = 5, y = 11). Rows (after the output's public row):
/// 0 the input; 1 the segment lookup ([`H`], [`E`] and [`D`]); 2 the decomposition (limb of l,
/// h in A, x in B); 3 the upper bound of l (same lanes); 4 the product (x in A, d in B, e in
/// [`E_TERM`]; `x·d + e` in z on row 5); 5 the remainder (limb, y in A, the copied product in
/// B); 6 the signed range check of y (limbs, y in A).
fn one() -> ModelCircuit {
    ModelCircuit::new(graph(1), &[vec![21]], Visibility::default()).unwrap()
}

/// The public rows of [`one`] (its one output) and its rows.
const PUBLIC: usize = 1;
const SEGMENT: usize = 1;
const DECOMPOSITION: usize = 2;
const BOUND: usize = 3;
const PRODUCT: usize = 4;
const REMAINDER: usize = 5;
const SIGNED: usize = 6;
/// The segment lookup's lanes: the index `h` and the intercept `e` (looked up as `(h, e)`),
/// and the slope `d` (as `(d, h)`, the second output).
const H: usize = FN_LANES[0];
const E: usize = FN_LANES[1];
const D: usize = SECOND_LANE;
/// The product row's lane for `e`: the one below lane A, free on a row without limbs.
const E_TERM: usize = LIMBS - 1;

#[test]
fn honest_single_element_layout_is_satisfied() {
    let c = one();
    // The output's public row, the input's range row, then the element's rows.
    assert_eq!(c.rows(), 2 + op().rows_per_element());
    assert_eq!(c.graph().outputs_of(c.values())[0].data, vec![11]);
    check_honest(&c).unwrap();
}

#[test]
fn a_forged_slope_fails_the_segment_lookup() {
    // d + 1 carried through: its copy in the product, the product (x = 21 more), its copy in
    // the remainder row and the remainder's limb (0 → 21). Only (d + 1, h) is no entry.
    let fs = failures(&one().with_tamper(&[
        t(D, SEGMENT, 1),
        t(LANE_B, PRODUCT, 1),
        t(Z, REMAINDER, 21),
        t(LANE_B, REMAINDER, 21),
        t(limb(0), REMAINDER, 21),
    ]));
    assert_rejected(&fs, &[lookup_at(PUBLIC, D, SEGMENT)], &[]);
}

#[test]
fn a_forged_intercept_fails_the_segment_lookup() {
    // e + 1 carried through the same way (the remainder 0 → 1): (h, e + 1) is no entry.
    let fs = failures(&one().with_tamper(&[
        t(E, SEGMENT, 1),
        t(E_TERM, PRODUCT, 1),
        t(Z, REMAINDER, 1),
        t(LANE_B, REMAINDER, 1),
        t(limb(0), REMAINDER, 1),
    ]));
    assert_rejected(&fs, &[lookup_at(PUBLIC, H, SEGMENT)], &[]);
}

#[test]
fn a_wrong_segment_with_its_own_coefficients_fails_the_limb_lookup() {
    // h = 4 instead of 5 (its table row: e = 0, d = 128, the same): l must become 21, which is
    // beyond 16 — the upper bound row's limb (15 − l) goes negative.
    let fs = failures(&one().with_tamper(&[
        t(H, SEGMENT, -1),
        t(LANE_A, DECOMPOSITION, -1),
        t(limb(0), DECOMPOSITION, 16),
        t(LANE_A, BOUND, -1),
        t(limb(0), BOUND, -16),
    ]));
    assert_rejected(&fs, &[lookup_at(PUBLIC, limb(0), BOUND)], &[]);
}

#[test]
fn a_forged_slope_in_the_product_fails_the_linear_gate() {
    let fs = failures(&one().with_tamper(&[t(LANE_B, PRODUCT, 1)]));
    assert_rejected(
        &fs,
        &[gate_at("linear", PUBLIC, PRODUCT)],
        &[cell_row(PUBLIC, LANE_B, PRODUCT)],
    );
}

#[test]
fn a_forged_output_fails_the_remainder_range_check() {
    // y + 1 wherever it appears, claimed in public, its signed range row's limb along; the
    // remainder's limb then has to drop by 256, out of the table.
    let forged = [
        t(LANE_A, REMAINDER, 1),
        t(limb(0), REMAINDER, -256),
        t(LANE_A, SIGNED, 1),
        t(limb(0), SIGNED, 1),
    ];
    let fs = failures_claiming(&one(), &forged, 0, 1);
    assert_rejected(&fs, &[lookup_at(PUBLIC, limb(0), REMAINDER)], &[]);
}
