//! Per nonlinear op (every op that lowers to a function table or to interpolated segments),
//! compiled both ways on a real ONNX case: a tampered table output or input fails the
//! function lookup (or the copy into it); a tampered segment index or coefficient fails the
//! segment lookup and a tampered interpolated output fails; the op's own table or segments
//! answer at their range ends and at zero, and refuse an input one past either end.
//! (Rounding ties are covered in `circuits`' rescale and interp tests.)

mod common;

use zkinfer::{calibrate, compile_with, Nonlinear, Target, Visibility};
use zkinfer_circuits::chip::{FN_LANES, LANE_A, SECOND_LANE};
use zkinfer_circuits::ops::{Interp, Lookup, Op};
use zkinfer_circuits::testing::{check_honest, failures_with, lookup_failed, one_node, Tamper};
use zkinfer_circuits::{CircuitError, ModelCircuit};

/// One conformance case per nonlinear op.
const CASES: &[(&str, &str)] = &[
    ("Sigmoid", "test_sigmoid"),
    ("Tanh", "test_tanh"),
    ("Exp", "test_exp"),
    ("Erf", "test_erf"),
    ("Sqrt", "test_sqrt"),
    ("Gelu", "test_gelu_default_1"),
    ("Gelu", "test_gelu_tanh_1"),
    ("Softmax", "test_softmax_example"),
    ("LayerNormalization", "test_layer_normalization_2d_axis0"),
    ("Div", "test_div"),
    ("Pow", "test_pow_example"),
];

/// The table alone: ends, zero, and one past each end.
fn check_table_edges(op: &str, lookup: &Lookup) {
    let t = &lookup.table;
    let (lo, hi) = (t.in_min, t.in_min + t.values.len() as i64 - 1);
    let mut xs = vec![lo, hi];
    if lo <= 0 && 0 <= hi {
        xs.push(0);
    }
    let graph = one_node(Op::Lookup(lookup.clone()), xs.len(), 0, None);
    let x: Vec<i128> = xs.iter().map(|v| i128::from(*v)).collect();
    let c = ModelCircuit::new(graph.clone(), &[x], Visibility::default()).unwrap();
    let want: Vec<i128> = xs
        .iter()
        .map(|v| i128::from(t.values[(v - lo) as usize]))
        .collect();
    assert_eq!(c.graph().outputs_of(c.values())[0].data, want, "{op}");
    check_honest(&c).expect(op);
    for beyond in [lo - 1, hi + 1] {
        let mut x: Vec<i128> = xs.iter().map(|v| i128::from(*v)).collect();
        x[0] = i128::from(beyond);
        let err = ModelCircuit::new(graph.clone(), &[x], Visibility::default()).unwrap_err();
        assert!(
            matches!(err, CircuitError::ValueOutOfRange { .. }),
            "{op}: {err}"
        );
    }
}

/// Ops without a suitable conformance case: single-op models in `tests/data/onnx/unary/`
/// (made by its `make.py`).
const EXTRA: &[(&str, &str)] = &[
    ("Log", "log"),
    ("Reciprocal", "reciprocal"),
    ("Pow", "pow_frac"),
];

#[test]
fn every_nonlinear_op_fails_its_lookup_when_tampered() {
    for (op, case) in CASES {
        let dir = common::root().join(case);
        let case = common::load_case(&dir, op).unwrap_or_else(|e| panic!("{op}: {e}"));
        check(op, &case.model, &case.inputs);
    }
    let unary = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/onnx/unary");
    for (op, name) in EXTRA {
        let model = zkinfer::Model::from_path(&unary.join(format!("{name}.onnx"))).unwrap();
        let floats = zkinfer::input::read_inputs(&unary.join(format!("{name}.json"))).unwrap();
        check(op, &model, &floats);
    }
}

/// Compiles the case with each way of proving nonlinear functions and tampers every node that
/// uses one.
fn check(op: &str, model: &zkinfer::Model, floats: &[Vec<f32>]) {
    for mode in [Nonlinear::Table, Nonlinear::Interp] {
        let mut quant = calibrate(model, &[floats.to_vec()], Target::Balanced).unwrap();
        quant.nonlinear = mode;
        let settings = compile_with(
            model,
            &[floats.to_vec()],
            Some(quant),
            Visibility::default(),
        )
        .unwrap_or_else(|e| panic!("{op}: {e}"));
        let q = settings.quantize_inputs(floats).unwrap();
        let circuit = settings.circuit(&q).unwrap();
        let k = settings.logrows;
        check_honest(&circuit).unwrap_or_else(|e| panic!("{op} {mode:?}: {e}"));
        let rows = circuit.node_rows();
        let mut found = 0;
        for (n, node) in settings.graph.nodes.iter().enumerate() {
            let row = rows[n].start;
            let tamper = |lane, row| {
                let c = circuit.clone().with_tamper(&[Tamper::shift(lane, row, 1)]);
                failures_with(&c, k, c.instances())
            };
            match &node.op {
                Op::Lookup(lookup) => {
                    let fs = tamper(FN_LANES[1], row);
                    assert!(lookup_failed(&fs), "{op} node {n}: output {fs:?}");
                    assert!(!tamper(FN_LANES[0], row).is_empty(), "{op} node {n}: input");
                    check_table_edges(op, lookup);
                }
                Op::Interp(interp) => {
                    // Row 0: the segment lookup (h, e, d in FN_LANES); row 1 the
                    // decomposition; flat segments may share coefficients, so a moved index
                    // can still be in the table: the decomposition then fails.
                    for lane in [FN_LANES[1], SECOND_LANE] {
                        let fs = tamper(lane, row);
                        assert!(lookup_failed(&fs), "{op} node {n}: lane {lane}");
                    }
                    assert!(!tamper(FN_LANES[0], row).is_empty(), "{op} node {n}: index");
                    // The output, where the remainder row (the element's second to last)
                    // holds it (lane A).
                    let out_row = row + interp.rows_per_element() - 2;
                    assert!(!tamper(LANE_A, out_row).is_empty(), "{op} node {n}: y");
                    check_segment_edges(op, interp);
                }
                _ => continue,
            }
            found += 1;
        }
        assert!(found > 0, "{op} {mode:?}: no function table or segments");
    }
}

/// The segments alone: both ends of the covered inputs, zero, and one past each end.
fn check_segment_edges(op: &str, interp: &Interp) {
    let (lo, hi) = (i128::from(interp.x_min), interp.x_max());
    let mut xs = vec![lo, hi];
    if lo <= 0 && 0 <= hi {
        xs.push(0);
    }
    let graph = one_node(Op::Interp(interp.clone()), xs.len(), 0, None);
    let c = ModelCircuit::new(graph.clone(), &[xs.clone()], Visibility::default()).unwrap();
    let want: Vec<i128> = xs.iter().map(|x| interp.apply(*x).unwrap()).collect();
    assert_eq!(c.graph().outputs_of(c.values())[0].data, want, "{op}");
    check_honest(&c).expect(op);
    for beyond in [lo - 1, hi + 1] {
        let mut x = xs.clone();
        x[0] = beyond;
        let err = ModelCircuit::new(graph.clone(), &[x], Visibility::default()).unwrap_err();
        assert!(
            matches!(err, CircuitError::ValueOutOfRange { .. }),
            "{op}: {err}"
        );
    }
}
