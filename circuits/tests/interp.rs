//! Piecewise-linear interpolation over range-decomposed segments: the oracle at segment
//! ends, zero and rounding ties, inputs outside the segments refused, and each forgery
//! caught by the constraint that should catch it.

use std::sync::Arc;
use zkinfer_circuits::ops::{FnTable, Interp, Op};
use zkinfer_circuits::testing::{
    check_honest, failures, gate_failed, lookup_failed, one_node, Tamper,
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
/// 0 the input; 1 the segment lookup (h in lane 2, e in 3, d in 1); 2 the decomposition
/// (limbs of l in lanes 0–2, h in 3, x in 4); 3 the upper bound of l (same lanes); 4 the
/// product (e in lane 2, x in 3, d in 4; `x·d + e` in z on row 5); 5 the remainder (limbs in
/// 0–2, y in 3, the copied product in 4); 6 the signed range check of y (lane 3).
fn one() -> ModelCircuit {
    ModelCircuit::new(graph(1), &[vec![21]], Visibility::default()).unwrap()
}

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
    let fs = failures(&one().with_tamper(&[t(1, 1, 1), t(4, 4, 1)]));
    assert!(lookup_failed(&fs), "{fs:?}");
}

#[test]
fn a_wrong_segment_with_its_own_coefficients_fails_the_limb_lookup() {
    // h = 4 instead of 5 (its table row: e = 0, d = 128, the same): l must become 21, which is
    // beyond 16 — the upper bound row's limbs (15 − l) go negative.
    let fs = failures(&one().with_tamper(&[
        t(2, 1, -1),
        t(3, 2, -1),
        t(0, 2, 16),
        t(3, 3, -1),
        t(0, 3, -16),
    ]));
    assert!(lookup_failed(&fs), "{fs:?}");
}

#[test]
fn a_forged_slope_in_the_product_fails_the_linear_gate() {
    let fs = failures(&one().with_tamper(&[t(4, 4, 1)]));
    assert!(gate_failed(&fs, "linear"), "{fs:?}");
}

#[test]
fn a_forged_output_fails_the_remainder_range_check() {
    // y + 1 wherever it appears; the remainder's low limb then has to drop by 256.
    let fs = failures(&one().with_tamper(&[t(3, 5, 1), t(3, 6, 1), t(0, 5, -256)]));
    assert!(lookup_failed(&fs), "{fs:?}");
}
