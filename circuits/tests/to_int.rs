//! The exact cast to integers: `x = y·2^shift` proven, a non-integral value refused, and a
//! forged integer rejected by the linear gate.

use std::sync::Arc;
use zkinfer_circuits::chip::{LANE_A, LANE_B};
use zkinfer_circuits::ops::{Op, ToInt};
use zkinfer_circuits::testing::{
    assert_rejected, cell_row, check_honest, failures, gate_at, one_node, Tamper,
};
use zkinfer_circuits::{CircuitError, Graph, ModelCircuit, Visibility};

fn graph(shift: u32, n: usize) -> Arc<Graph> {
    one_node(Op::ToInt(ToInt { shift }), n, shift as i32, None)
}

#[test]
fn integral_values_cast_exactly_and_others_are_refused() {
    let g = graph(8, 4);
    let c = ModelCircuit::new(
        g.clone(),
        &[vec![256, -768, 0, 1 << 20]],
        Visibility::default(),
    )
    .unwrap();
    assert_eq!(
        c.graph().outputs_of(c.values())[0].data,
        vec![1, -3, 0, 4096]
    );
    check_honest(&c).unwrap();
    let err = ModelCircuit::new(g, &[vec![256, 300, 0, 0]], Visibility::default()).unwrap_err();
    assert!(
        matches!(err, CircuitError::NotIntegral { index: 1, .. }),
        "{err}"
    );
}

#[test]
fn forged_integer_fails_the_linear_gate() {
    let c = ModelCircuit::new(graph(8, 1), &[vec![512]], Visibility::default()).unwrap();
    // One public row. Row 0: the input; row 1: y range-checked (lane A, copied to the public
    // row); row 2: x − 256·y = 0 (x in lane A, y in B). y + 1 in both places it appears keeps
    // their copy but breaks both rows (y's limbs, and x − 256·y), and the copy to the public
    // row.
    let public = 1;
    let fs = failures(&c.with_tamper(&[Tamper::shift(LANE_A, 1, 1), Tamper::shift(LANE_B, 2, 1)]));
    assert_rejected(
        &fs,
        &[gate_at("linear", public, 1), gate_at("linear", public, 2)],
        &[cell_row(public, LANE_A, 1)],
    );
}
