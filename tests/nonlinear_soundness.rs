//! Per nonlinear op (every op that lowers to a function table or to interpolated segments),
//! compiled both ways on a real ONNX case: a tampered table output fails the function lookup
//! at its row, a tampered input the copy into it (and the lookup unless the table holds the
//! changed pair); a tampered segment coefficient fails the segment lookup, a tampered index
//! its copy (and the lookups whose coefficients differ), a tampered interpolated output the
//! remainder row; the op's own table or segments answer at their range ends and at zero, and
//! refuse an input one past either end.
//! (Rounding ties are covered in `circuits`' rescale and interp tests.)

mod common;

use zkinfer::{calibrate, compile_with, Nonlinear, Target, Visibility};
use zkinfer_circuits::chip::{FN_LANES, LANE_A, SECOND_LANE};
use zkinfer_circuits::ops::{FnTable, Interp, Lookup, Op};
use zkinfer_circuits::testing::{
    assert_rejected, cell_row, check_honest, failures_with, gate_at, lookup_at, one_node, Tamper,
};
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
    ("Sin", "test_sin"),
    ("Cos", "test_cos"),
    ("Selu", "test_selu"),
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

/// Whether `table` maps `x` to `y`, in its first output (`second`: its second output).
fn holds(table: &FnTable, x: i128, y: i128, second: bool) -> bool {
    let column = if second { &table.second } else { &table.values };
    usize::try_from(x - i128::from(table.in_min))
        .ok()
        .and_then(|i| column.get(i))
        .is_some_and(|v| i128::from(*v) == y)
}

/// Compiles the case with each way of proving nonlinear functions and tampers every node that
/// uses one, at its first element.
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
        let public = circuit.instances().len();
        let values = circuit.values();
        let mut found = 0;
        for (n, node) in settings.graph.nodes.iter().enumerate() {
            let row = rows[n].start;
            // The first element: its input and output, and its function row's lanes.
            let x = values[node.inputs[0]].data[0];
            let y = values[settings.graph.inputs.len() + n].data[0];
            let [x_lane, y_lane] = FN_LANES;
            // A changed cell, and the failures it must cause: `exact`, and a broken copy of
            // the cell (each cell changed here is copied from or to another).
            let check = |lane: usize, row: usize, exact: &[_], what: &str| {
                let c = circuit.clone().with_tamper(&[Tamper::shift(lane, row, 1)]);
                let fs = failures_with(&c, k, c.instances());
                eprintln!("{op} {mode:?} node {n}: {what}");
                assert_rejected(&fs, exact, &[cell_row(public, lane, row)]);
            };
            let lookup = |lane: usize| vec![lookup_at(public, lane, row)];
            match &node.op {
                Op::Lookup(l) => {
                    // (x, y + 1) is never an entry; (x + 1, y) is where the table is flat.
                    check(y_lane, row, &lookup(x_lane), "output");
                    let input = if holds(&l.table, x + 1, y, false) {
                        vec![]
                    } else {
                        lookup(x_lane)
                    };
                    check(x_lane, row, &input, "input");
                    check_table_edges(op, l);
                }
                Op::Interp(interp) => {
                    // The function row: h and e in FN_LANES (looked up as (h, e)), d in
                    // SECOND_LANE (as (d, h)). A moved coefficient is never an entry; a moved
                    // index is where the next segment has the same coefficient (flat
                    // segments), and the decomposition's copy of h fails anyway.
                    let t = &interp.table;
                    let (h, e, d) = interp.segment(x).expect("an honest input");
                    check(y_lane, row, &lookup(x_lane), "intercept");
                    check(SECOND_LANE, row, &lookup(SECOND_LANE), "slope");
                    let mut index = vec![];
                    if !holds(t, h + 1, e, false) {
                        index.extend(lookup(x_lane));
                    }
                    if !holds(t, h + 1, d, true) {
                        index.extend(lookup(SECOND_LANE));
                    }
                    check(x_lane, row, &index, "index");
                    // The output, where the remainder row (the element's second to last)
                    // holds it (lane A, copied to its range check).
                    let out_row = row + interp.rows_per_element() - 2;
                    check(LANE_A, out_row, &[gate_at("linear", public, out_row)], "y");
                    check_segment_edges(op, interp);
                }
                _ => continue,
            }
            found += 1;
        }
        assert!(found > 0, "{op} {mode:?}: no function table or segments");
    }
}

/// The segments alone: both ends of the covered inputs (within the range-checked intervals
/// of input and output: the last segment may reach past them), zero, and one past each end.
fn check_segment_edges(op: &str, interp: &Interp) {
    let (first, last) = (i128::from(interp.x_min), interp.x_max());
    let bound = zkinfer_circuits::chip::ACT_BOUND;
    // The largest covered input whose output is an activation (past the cut of the table's
    // range, the last segment may reach inputs whose output is out of range: an error).
    let fits = |x: i128| interp.apply(x).is_some_and(|y| -bound <= y && y < bound);
    let mut hi = last.min(bound - 1);
    while !fits(hi) && hi > first {
        hi -= 1;
    }
    let lo = first.max(-bound);
    let mut xs = vec![lo, hi];
    if lo <= 0 && 0 <= hi {
        xs.push(0);
    }
    let graph = one_node(Op::Interp(interp.clone()), xs.len(), 0, None);
    let c = ModelCircuit::new(graph.clone(), &[xs.clone()], Visibility::default()).unwrap();
    let want: Vec<i128> = xs.iter().map(|x| interp.apply(*x).unwrap()).collect();
    assert_eq!(c.graph().outputs_of(c.values())[0].data, want, "{op}");
    check_honest(&c).expect(op);
    for beyond in [first - 1, last + 1] {
        let mut x = xs.clone();
        x[0] = beyond;
        let err = ModelCircuit::new(graph.clone(), &[x], Visibility::default()).unwrap_err();
        assert!(
            matches!(err, CircuitError::ValueOutOfRange { .. }),
            "{op}: {err}"
        );
    }
}
