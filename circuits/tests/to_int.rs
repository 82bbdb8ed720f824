//! The exact cast to integers: `x = y·2^shift` proven, a non-integral value refused, and a
//! forged integer rejected by the linear gate.

mod common;

use halo2_axiom::dev::VerifyFailure;
use std::sync::Arc;
use zkinfer_circuits::chip::Tamper;
use zkinfer_circuits::ops::{Op, ToInt};
use zkinfer_circuits::{CircuitError, Graph, ModelCircuit, Visibility};

fn graph(shift: u32, n: usize) -> Arc<Graph> {
    common::one_node(Op::ToInt(ToInt { shift }), n, shift as i32, None)
}

use common::failures;

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
    assert!(failures(&c).is_empty());
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
    let fs = failures(&c.with_tamper(&[
        Tamper {
            lane: 3,
            row: 1,
            delta: 1,
        },
        Tamper {
            lane: 4,
            row: 2,
            delta: 1,
        },
    ]));
    assert!(
        fs.iter().any(|f| matches!(f, VerifyFailure::ConstraintNotSatisfied { constraint, .. } if format!("{constraint:?}").contains("\"linear\""))),
        "{fs:?}"
    );
}
