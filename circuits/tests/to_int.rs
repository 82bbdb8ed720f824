//! The exact cast to integers: `x = y·2^shift` proven, a non-integral value refused, and a
//! forged integer rejected by the linear gate.

use std::sync::Arc;
use zkinfer_circuits::ops::{Op, ToInt};
use zkinfer_circuits::testing::{check_honest, failures, gate_failed, one_node, Tamper};
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
    // Row 0: the input; row 1: y range-checked (lane A); row 2: x − 256·y = 0 (lanes A, B).
    // y + 1 in both places it appears keeps the copy but breaks the gates.
    let fs = failures(&c.with_tamper(&[Tamper::shift(3, 1, 1), Tamper::shift(4, 2, 1)]));
    assert!(gate_failed(&fs, "linear"), "{fs:?}");
}
