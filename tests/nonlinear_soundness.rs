//! Per nonlinear op (every op that lowers to a function table): on a real ONNX case, a
//! tampered table output or input fails the function lookup (or the copy into it), and the
//! op's own table answers at its range ends and at zero, and refuses an input one past
//! either end. (Rounding ties of the rescale into a table are covered in `circuits`'
//! rescale tests.)

mod common;

use halo2_axiom::dev::{MockProver, VerifyFailure};
use std::sync::Arc;
use zkinfer::{compile, Visibility};
use zkinfer_circuits::chip::Tamper;
use zkinfer_circuits::ops::{Lookup, Op};
use zkinfer_circuits::{CircuitError, Graph, GraphInput, ModelCircuit, Node};

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
];

const LANE_A: usize = 3;
const LANE_B: usize = 4;

fn failures(c: &ModelCircuit, k: u32) -> Vec<VerifyFailure> {
    MockProver::run(k, c, vec![c.instances()])
        .unwrap()
        .verify()
        .err()
        .unwrap_or_default()
}

fn function_lookup_failed(fs: &[VerifyFailure]) -> bool {
    fs.iter()
        .any(|f| matches!(f, VerifyFailure::Lookup { name, .. } if name == "function"))
}

/// The table alone: ends, zero, and one past each end.
fn check_table_edges(op: &str, lookup: &Lookup) {
    let t = &lookup.table;
    let (lo, hi) = (t.in_min, t.in_min + t.values.len() as i64 - 1);
    let mut xs = vec![lo, hi];
    if lo <= 0 && 0 <= hi {
        xs.push(0);
    }
    let graph = Arc::new(Graph {
        inputs: vec![GraphInput {
            name: "x".into(),
            shape: vec![xs.len()],
            scale: 0,
            affine: None,
        }],
        nodes: vec![Node {
            name: "f".into(),
            op: Op::Lookup(lookup.clone()),
            inputs: vec![0],
            shape: vec![xs.len()],
            scale: 0,
            affine: None,
        }],
        outputs: vec![1],
        sources: vec![],
    });
    let x: Vec<i128> = xs.iter().map(|v| i128::from(*v)).collect();
    let c = ModelCircuit::new(graph.clone(), &[x], Visibility::default()).unwrap();
    let want: Vec<i128> = xs
        .iter()
        .map(|v| i128::from(t.values[(v - lo) as usize]))
        .collect();
    assert_eq!(c.graph().outputs_of(c.values())[0].data, want, "{op}");
    assert!(failures(&c, c.min_k().unwrap()).is_empty(), "{op}");
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

fn check(op: &str, model: &zkinfer::Model, floats: &[Vec<f32>]) {
    let settings = compile(model, &[floats.to_vec()], Visibility::default())
        .unwrap_or_else(|e| panic!("{op}: {e}"));
    let q = settings.quantize_inputs(floats).unwrap();
    let circuit = settings.circuit(&q).unwrap();
    assert!(
        failures(&circuit, settings.logrows).is_empty(),
        "{op}: honest"
    );
    let rows = circuit.node_rows();
    let lookups: Vec<(usize, &Lookup)> = settings
        .graph
        .nodes
        .iter()
        .enumerate()
        .filter_map(|(n, node)| match &node.op {
            Op::Lookup(l) => Some((n, l)),
            _ => None,
        })
        .collect();
    assert!(!lookups.is_empty(), "{op}: no function table");
    for (n, lookup) in lookups {
        let row = rows[n].start;
        let tamper = |lane| {
            let c = circuit.clone().with_tamper(&[Tamper {
                lane,
                row,
                delta: 1,
            }]);
            failures(&c, settings.logrows)
        };
        let fs = tamper(LANE_B);
        assert!(
            function_lookup_failed(&fs),
            "{op} node {n}: output tamper {fs:?}"
        );
        assert!(!tamper(LANE_A).is_empty(), "{op} node {n}: input tamper");
        check_table_edges(op, lookup);
    }
}
