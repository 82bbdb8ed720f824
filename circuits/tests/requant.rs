//! The requantization chip and the bounded inputs of pre-quantized models, against the
//! reference evaluator (MockProver), with tampered witnesses that must fail the specific
//! constraint.

use std::sync::Arc;
use zkinfer_circuits::chip::{FN_LANES, LANE_A, LIMBS, LIMB_BITS, SECOND_LANE};
use zkinfer_circuits::ops::{requantize, Op, Relu, Requant};
use zkinfer_circuits::testing::{
    assert_rejected, cell_row, check_honest, failures, failures_claiming, failures_with, gate_at,
    limb, lookup_at, one_node, public_at, Tamper,
};
use zkinfer_circuits::{Affine, CircuitError, Fr, Graph, ModelCircuit, Visibility};

fn graph(op: Op, n: usize, affine: Option<Affine>) -> Arc<Graph> {
    one_node(op, n, 0, affine)
}

fn requant(multipliers: Vec<f32>, inner: u32, zero_point: i32, uint8: bool) -> Op {
    let (qmin, qmax) = if uint8 { (0, 255) } else { (-128, 127) };
    Op::Requant(Requant {
        multipliers,
        inner,
        zero_point,
        qmin,
        qmax,
        float_zero_point: false,
    })
}

fn output(c: &ModelCircuit) -> Vec<i128> {
    c.graph().outputs_of(c.values())[0].data.clone()
}

#[test]
fn matches_onnxruntime_formula_at_ties_saturation_and_zero() {
    // m = 0.5: odd accumulators are exact ties (round half to even); ±600 saturate.
    let accs: Vec<i128> = vec![
        0, 1, 3, 5, -1, -3, -5, 253, 254, 255, 256, 600, -600, -262, -263,
    ];
    for (m, zp, uint8) in [
        (0.5f32, 0, false),
        (0.5, 7, false),
        (0.019_607_844, 128, true),
    ] {
        let g = graph(requant(vec![m], 1, zp, uint8), accs.len(), None);
        let c = ModelCircuit::new(g, std::slice::from_ref(&accs), Visibility::default()).unwrap();
        let (qmin, qmax) = if uint8 { (0, 255) } else { (-128, 127) };
        let expect: Vec<i128> = accs
            .iter()
            .map(|a| i128::from(requantize(*a as i64, m, zp, qmin, qmax)))
            .collect();
        assert_eq!(output(&c), expect);
        check_honest(&c).unwrap_or_else(|e| panic!("m {m} zp {zp}: {e}"));
    }
    let g = graph(requant(vec![0.5], 1, 0, false), 4, None);
    let c = ModelCircuit::new(g, &[vec![5, 7, -5, 600]], Visibility::default()).unwrap();
    assert_eq!(output(&c), vec![2, 4, -2, 127]);
}

#[test]
fn per_channel_multipliers_follow_the_channel_layout() {
    // Shape [2 channels × 3]: channel 0 halves, channel 1 quarters.
    let g = graph(requant(vec![0.5, 0.25], 3, 0, false), 6, None);
    let c = ModelCircuit::new(g, &[vec![8, 9, -8, 8, 9, -8]], Visibility::default()).unwrap();
    assert_eq!(output(&c), vec![4, 4, -4, 2, 2, -2]);
    check_honest(&c).unwrap();
}

#[test]
fn forged_output_fails_the_table_or_the_range_check() {
    let g = graph(requant(vec![0.1], 1, 0, false), 1, None);
    let honest = ModelCircuit::new(g.clone(), &[vec![100]], Visibility::default()).unwrap();
    assert_eq!(output(&honest), vec![10]);
    // One public row. Row 0: the input; row 1: the function row, (y, lo) looked up on
    // FN_LANES and (hi, y) on SECOND_LANE and the next; row 2: acc − lo (lo copied to lane A)
    // range-checked; row 3: hi (copied to lane A) − acc range-checked.
    let public = 1;
    let [y, lo] = FN_LANES;
    let hi = SECOND_LANE;
    let t = |lane, row, delta| Tamper::shift(lane, row, delta);
    // y + 1 alone: (y + 1, lo(y)) and (hi(y), y + 1) are no table entries, and y's copy to
    // its public row breaks.
    let fs = failures(&honest.clone().with_tamper(&[t(y, 1, 1)]));
    assert_rejected(
        &fs,
        &[lookup_at(public, y, 1), lookup_at(public, hi, 1)],
        &[cell_row(public, y, 1)],
    );
    // hi + 1 alone: (hi + 1, y) is no entry of the second output's table; its copy breaks.
    let fs = failures(&honest.clone().with_tamper(&[t(hi, 1, 1)]));
    assert_rejected(&fs, &[lookup_at(public, hi, 1)], &[cell_row(public, hi, 1)]);
    // y + 1 with the neighbouring bucket's bounds (a consistent table entry), claimed in
    // public, the upper range row's limbs rewritten for hi(y + 1) − acc: only the lower range
    // row fails, since acc − lo(y + 1) is negative.
    let Op::Requant(r) = &g.nodes[0].op else {
        unreachable!()
    };
    let table = r.table(0);
    let k = 10 + 128;
    let dlo = (table.values[k + 1] - table.values[k]) as i128;
    let dhi = (table.second[k + 1] - table.second[k]) as i128;
    let upper = i128::from(table.second[k + 1]) - 100;
    let mut forged = vec![
        t(y, 1, 1),
        t(lo, 1, dlo),
        t(hi, 1, dhi),
        t(LANE_A, 2, dlo),
        t(LANE_A, 3, dhi),
    ];
    forged.extend((0..LIMBS).map(|j| {
        let part = (upper >> (LIMB_BITS * j as u32)) & ((1 << LIMB_BITS) - 1);
        Tamper::set(limb(j), 3, part)
    }));
    let fs = failures_claiming(&honest, &forged, 0, 1);
    assert_rejected(&fs, &[gate_at("linear", public, 2)], &[]);
    // A changed public output is rejected by its public row.
    let mut inst = honest.instances();
    inst[0] += Fr::one();
    let fs = failures_with(&honest, honest.min_k().unwrap(), inst);
    assert_eq!(fs, vec![public_at(0)]);
}

#[test]
fn accumulator_outside_the_proven_window_is_an_error() {
    // m = 1e-8: each output bucket spans 10^8 accumulators, more than one range row proves.
    let g = graph(requant(vec![1e-8], 1, 0, false), 1, None);
    let err = ModelCircuit::new(g, &[vec![0]], Visibility::default()).unwrap_err();
    assert!(matches!(err, CircuitError::ValueOutOfRange { .. }), "{err}");
}

#[test]
fn int8_input_is_range_constrained() {
    let int8 = Affine {
        scale: 0.1,
        zero_point: -3,
        min: -128,
        max: 127,
        exact: false,
    };
    let g = graph(Op::Relu(Relu {}), 2, Some(int8));
    let c = ModelCircuit::new(g.clone(), &[vec![-128, 127]], Visibility::default()).unwrap();
    check_honest(&c).unwrap();
    for bad in [128, -129] {
        let err = ModelCircuit::new(g.clone(), &[vec![bad, 0]], Visibility::default()).unwrap_err();
        assert!(
            matches!(err, CircuitError::ValueOutOfRange { value, min: -128, max: 127, .. } if value == bad)
        );
    }
    // The input's only limb moved beyond 8 bits (with the cell moved along, which breaks its
    // copy into the relu): the sum holds, the limb lookup fails. Two public rows.
    let public = 2;
    let fs = failures(&c.clone().with_tamper(&[
        Tamper::shift(limb(0), 0, 256),
        Tamper::shift(LANE_A, 0, 256),
    ]));
    assert_rejected(
        &fs,
        &[lookup_at(public, limb(0), 0)],
        &[cell_row(public, LANE_A, 0)],
    );
    let uint8 = Affine {
        scale: 0.1,
        zero_point: 128,
        min: 0,
        max: 255,
        exact: false,
    };
    let g = graph(Op::Relu(Relu {}), 2, Some(uint8));
    let c = ModelCircuit::new(g, &[vec![0, 255]], Visibility::default()).unwrap();
    check_honest(&c).unwrap();
}
