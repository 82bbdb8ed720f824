//! The forgeries of the soundness audit, each written as the malicious witness it is (cells
//! overwritten after the honest layout, assigned or not) and rejected by a named constraint
//! at a named row, next to the control where the plain lie fails:
//!
//! * a Bilinear sum with a free lane pair on its last row (odd pair counts) or no row at all
//!   (no pairs): `x2·x3 = δ·1` moved the result by `δ`;
//! * ArgMax over an odd window, which inherited it through `Σ e_i·x_i = y`;
//! * a requantization accumulator past `i32::MAX`, accepted by an outer bucket that ran past
//!   the int32 range.

use halo2_axiom::halo2curves::bn256::Fr;
use std::sync::Arc;
use zkinfer_circuits::chip::{ChipConfig, Coef, LANE_A, RANGE_BITS};
use zkinfer_circuits::ops::{AffineRow, ArgMax, Bilinear, Linear, Op, Requant, Rescale};
use zkinfer_circuits::testing::capture::Capture;
use zkinfer_circuits::testing::{
    assert_rejected, cell_row, check_no_free_cells, failures, failures_claiming, failures_with,
    gate_at, gate_row, graph, pair, public_cell, Failure, Tamper, Z,
};
use zkinfer_circuits::{CircuitError, Graph, GraphInput, ModelCircuit, Node, Tensor, Visibility};

const OUTPUTS: usize = 3;

/// Layout rows (after the public rows) whose block has `prod = value`: the bilinear rows.
fn rows_with_prod(c: &ModelCircuit, value: u64) -> Vec<usize> {
    let k = c.min_k().unwrap();
    let cap = Capture::run(k, c, vec![c.instances()]).unwrap();
    let mut cs = halo2_axiom::plonk::ConstraintSystem::<Fr>::default();
    let cfg = ChipConfig::configure(&mut cs, c.graph().chip_shape());
    let (col, slot) = Coef::Prod.place(cfg.coef, cfg.sel);
    let public = c.instances().len();
    (0..c.rows() - public)
        .filter(|r| {
            let at = cell_row(public, slot, *r);
            at < cap.n && cap.fixed[col.index()][at] == Fr::from(value)
        })
        .collect()
}

/// Groups consecutive rows.
fn runs(rows: &[usize]) -> Vec<Vec<usize>> {
    let mut out: Vec<Vec<usize>> = Vec::new();
    for &r in rows {
        match out.last_mut() {
            Some(run) if run.last() == Some(&(r - 1)) => run.push(r),
            _ => out.push(vec![r]),
        }
    }
    out
}

fn bilinear_graph(pairs: usize) -> Arc<Graph> {
    let rows = (0..OUTPUTS)
        .map(|o| (0..pairs as u32).map(|i| (i, (i + o as u32) % 5)).collect())
        .collect();
    graph(
        Op::Bilinear(Bilinear { rows }),
        &[vec![5], vec![5]],
        vec![OUTPUTS],
    )
}

#[test]
fn bilinear_free_lane_forgeries_fail_the_copy_to_zero() {
    let (x, u) = (vec![3, -2, 5, 7, -1], vec![4, 6, -3, 2, 9]);
    let delta = 1000i128;
    for pairs in 0..=5usize {
        let g = bilinear_graph(pairs);
        let honest =
            ModelCircuit::new(g.clone(), &[x.clone(), u.clone()], Visibility::default()).unwrap();
        assert!(failures(&honest).is_empty(), "{pairs} pairs");
        check_no_free_cells(&honest).unwrap();
        let public = OUTPUTS;
        // Each output's rows, in order (consecutive outputs' rows are adjacent).
        let rows = rows_with_prod(&honest, 2);
        assert_eq!(rows.len(), OUTPUTS * pairs.div_ceil(2));
        let runs: Vec<&[usize]> = rows.chunks(pairs.div_ceil(2).max(1)).collect();
        let node = honest.node_rows()[0].clone();
        for o in [0, OUTPUTS / 2, OUTPUTS - 1] {
            // The lie: output o and its public row move by δ, and so does the instance.
            let (out_cell, lie_row) = if pairs == 0 {
                // The sum of nothing is the zero constant, the node's first row.
                (cell_row(public, LANE_A, node.start), node.start)
            } else {
                let last = *runs[o].last().unwrap();
                (cell_row(public, Z, last + 1), last)
            };
            let lie = [Tamper::shift_row(out_cell, Fr::from(delta as u64))];
            let fs = failures_claiming(&honest, &lie, o, delta);
            let gate = gate_at("linear", public, lie_row);
            if pairs == 0 {
                // The constant row `x_A − 0 = 0` fails; the other outputs' copies of zero too.
                assert!(fs.contains(&gate), "{fs:?}");
                assert!(fs
                    .iter()
                    .all(|f| *f == gate || matches!(f, Failure::Copy { .. })));
                continue;
            }
            assert_rejected(&fs, &[gate], &[]);
            // The forgery: the last row's second pair says δ·1 (the old layout left it free
            // on an odd pair count). Now it copies the zero constant (or a real pair).
            let last = *runs[o].last().unwrap();
            let [a, b] = pair(1);
            // With an even count the lanes hold a real pair, whose product p they keep.
            let j = 2 * (runs[o].len() - 1) + 1;
            let p = if j < pairs { x[j] * u[(j + o) % 5] } else { 0 };
            let mut forged = lie.to_vec();
            forged.push(Tamper::set(a, last, p + delta));
            forged.push(Tamper::set(b, last, 1));
            let fs = failures_claiming(&honest, &forged, o, delta);
            assert_rejected(
                &fs,
                &[],
                &[cell_row(public, a, last), cell_row(public, b, last)],
            );
        }
    }
}

fn argmax_graph(window: usize) -> Arc<Graph> {
    let windows = (0..OUTPUTS)
        .map(|o| (0..window).map(|i| (o * window + i) as u32).collect())
        .collect();
    graph(
        Op::ArgMax(ArgMax {
            last: false,
            windows,
        }),
        &[vec![OUTPUTS * window]],
        vec![OUTPUTS],
    )
}

#[test]
fn argmax_claiming_the_first_index_fails_the_copy_to_zero() {
    for window in 1..=5usize {
        let g = argmax_graph(window);
        // Increasing windows: the maximum is last, the forgery claims index 0.
        let x: Vec<i128> = (0..OUTPUTS * window).map(|i| 10 * i as i128 + 1).collect();
        let honest =
            ModelCircuit::new(g.clone(), std::slice::from_ref(&x), Visibility::default()).unwrap();
        assert!(failures(&honest).is_empty(), "window {window}");
        check_no_free_cells(&honest).unwrap();
        let public = OUTPUTS;
        for o in [0, OUTPUTS / 2, OUTPUTS - 1] {
            let mut values = honest.values().to_vec();
            values[1].data[o] = 0;
            let y = x[o * window + window - 1];
            let claimed = x[o * window];
            let forged = ModelCircuit::forged(g.clone(), values, Visibility::default());
            let k = forged.min_k().unwrap();
            let picked = runs(&rows_with_prod(&forged, 2));
            let last = *picked[o].last().unwrap();
            // Σ e_i·x_i must equal y: with e one-hot at 0 the sum is x_0, so the picked
            // value's cell is set to y (its copy of y holds) …
            let lie = [Tamper::set(Z, last + 1, y)];
            let fs = failures_with(&forged.clone().with_tamper(&lie), k, forged.instances());
            if window > 1 {
                assert_rejected(&fs, &[gate_at("linear", public, last)], &[]);
            } else {
                assert!(
                    fs.is_empty(),
                    "a window of one has nothing to forge: {fs:?}"
                );
            }
            // … and the last row's second pair supplies the difference as δ·1 (a window of
            // one has no difference: it adds 7·1 to its sum instead).
            let [a, b] = pair(1);
            let mut attack = lie.to_vec();
            let delta = if window > 1 { y - claimed } else { 7 };
            attack.push(Tamper::set(a, last, delta));
            attack.push(Tamper::set(b, last, 1));
            let fs = failures_with(&forged.clone().with_tamper(&attack), k, forged.instances());
            let gate = if window > 1 {
                vec![]
            } else {
                vec![gate_at("linear", public, last)]
            };
            assert_rejected(
                &fs,
                &gate,
                &[cell_row(public, a, last), cell_row(public, b, last)],
            );
        }
    }
}

#[test]
fn requant_accumulator_past_int32_is_rejected() {
    // y = requant(512·x): with m = 5.92e-8, onnxruntime saturates at 127 from acc ≈ 2.137e9,
    // and an accumulator of 2^31 does not exist in its int32 arithmetic.
    let g = Arc::new(Graph {
        inputs: vec![GraphInput {
            name: "x".into(),
            shape: vec![1],
            scale: 0,
            affine: None,
        }],
        nodes: vec![
            Node {
                name: "acc".into(),
                op: Op::Linear(Linear {
                    rows: vec![AffineRow {
                        bias: 0,
                        terms: vec![(0, 512)],
                    }],
                }),
                inputs: vec![0],
                shape: vec![1],
                scale: 0,
                affine: None,
            },
            Node {
                name: "requant".into(),
                op: Op::Requant(Requant {
                    multipliers: vec![5.92e-8],
                    inner: 1,
                    zero_point: 0,
                    qmin: -128,
                    qmax: 127,
                    float_zero_point: false,
                }),
                inputs: vec![1],
                shape: vec![1],
                scale: 0,
                affine: None,
            },
        ],
        outputs: vec![2],
        sources: vec![],
        layout: Default::default(),
        units_column: false,
    });
    let top = Requant {
        multipliers: vec![5.92e-8],
        inner: 1,
        zero_point: 0,
        qmin: -128,
        qmax: 127,
        float_zero_point: false,
    }
    .table(0);
    assert_eq!(*top.second.last().unwrap(), i64::from(i32::MAX));
    let honest =
        ModelCircuit::new(g.clone(), &[vec![(1 << 22) - 1]], Visibility::default()).unwrap();
    assert_eq!(honest.values()[2].data, vec![127]);
    assert!(failures(&honest).is_empty());
    check_no_free_cells(&honest).unwrap();
    // The oracle refuses 2^31; laid out anyway, the bucket's upper range row fails.
    assert!(ModelCircuit::new(g.clone(), &[vec![1 << 22]], Visibility::default()).is_err());
    let values = vec![
        Tensor::new(vec![1], vec![1 << 22]),
        Tensor::new(vec![1], vec![1 << 31]),
        Tensor::new(vec![1], vec![127]),
    ];
    let forged = ModelCircuit::forged(g, values, Visibility::default());
    // Rows: input, the dot row, then the requant rows: function row, acc − lo, hi − acc.
    let public = 1;
    let fs = failures(&forged);
    assert_rejected(&fs, &[gate_at("linear", public, 4)], &[]);
}

#[test]
fn an_instance_past_the_public_rows_constrains_nothing() {
    let g = graph(
        Op::Linear(Linear {
            rows: vec![AffineRow {
                bias: 5,
                terms: vec![(0, 2), (1, -3), (2, 7)],
            }],
        }),
        &[vec![3]],
        vec![1],
    );
    let honest = ModelCircuit::new(g, &[vec![4, 1, -2]], Visibility::default()).unwrap();
    assert_eq!(honest.values()[1].data, vec![5 + 8 - 3 - 14]);
    let (public, k) = (1, honest.min_k().unwrap());
    // Rows: three input rows, the dot row 3 (its sum in z on row 4).
    let delta = Fr::from(1000);
    let lie = [
        Tamper::shift_row(cell_row(public, Z, 4), delta),
        Tamper::shift_row(public_cell(0), delta),
    ];
    let mut inst = honest.instances();
    inst[0] += delta;
    let tampered = honest.clone().with_tamper(&lie);
    let control = failures_with(&tampered, k, inst.clone());
    assert_eq!(control, vec![gate_at("linear", public, 3)]);
    // The forgery appends instance values up to the dot row's first circuit row, where the
    // gate once read `q·sum − instance`: the value −δ there cancelled the moved sum. Now the
    // instance is read on public rows only, and the dot row still fails.
    let dot = gate_row(public, 3);
    inst.resize(dot + 1, Fr::zero());
    inst[dot] = -delta;
    assert_eq!(failures_with(&tampered, k, inst), control);
}

#[test]
fn a_where_condition_that_is_no_comparison_is_refused() {
    use zkinfer_circuits::ops::{Cand, CmpKind, Compare, Where};
    // Where(c = graph input): nothing proves c ∈ {0, 1}, and c = 2 would give 2x − y.
    let where_op = |input: u32| {
        Op::Where(Where {
            cond: vec![0],
            then: vec![Cand::Elem { input, index: 0 }],
            otherwise: vec![Cand::Const(0)],
        })
    };
    let g = graph(where_op(1), &[vec![1], vec![1]], vec![1]);
    let err = ModelCircuit::blank(g, Visibility::default()).unwrap_err();
    assert!(
        matches!(&err, CircuitError::MalformedGraph { node, reason }
            if node == "op" && reason.starts_with("a Where condition must come from a comparison")),
        "{err}"
    );
    // From a comparison it is accepted, also through a Gather.
    let mut g = (*graph(
        Op::Compare(Compare {
            kind: CmpKind::Gt,
            lhs: vec![Cand::of(0)],
            rhs: vec![Cand::Const(0)],
        }),
        &[vec![1]],
        vec![1],
    ))
    .clone();
    g.nodes.push(Node {
        name: "moved".into(),
        op: Op::Gather(zkinfer_circuits::ops::Gather {
            items: vec![Cand::of(0)],
        }),
        inputs: vec![1],
        shape: vec![1],
        scale: 0,
        affine: None,
    });
    g.nodes.push(Node {
        name: "where".into(),
        op: where_op(1),
        inputs: vec![2, 0],
        shape: vec![1],
        scale: 0,
        affine: None,
    });
    g.outputs = vec![3];
    let c = ModelCircuit::new(Arc::new(g), &[vec![5]], Visibility::default()).unwrap();
    assert_eq!(c.values()[3].data, vec![5]);
    zkinfer_circuits::testing::check_honest(&c).unwrap();
}

#[test]
fn the_oracle_is_defined_where_the_comparison_is_proven() {
    use zkinfer_circuits::ops::{Cand, CmpKind, Compare};
    // a − b = 2^23 + 9: beyond one activation's range, inside the sign check's.
    for (kind, want) in [(CmpKind::Gt, 1), (CmpKind::Lt, 0), (CmpKind::Eq, 0)] {
        let g = graph(
            Op::Compare(Compare {
                kind,
                lhs: vec![Cand::Elem { input: 0, index: 0 }],
                rhs: vec![Cand::Elem { input: 1, index: 0 }],
            }),
            &[vec![1], vec![1]],
            vec![1],
        );
        let c =
            ModelCircuit::new(g, &[vec![(1 << 23) - 1], vec![-10]], Visibility::default()).unwrap();
        assert_eq!(c.values()[2].data, vec![want], "{kind:?}");
        zkinfer_circuits::testing::check_honest(&c).unwrap();
    }
}

#[test]
fn each_comparison_is_evaluated_exactly_on_the_differences_it_proves() {
    use zkinfer_circuits::ops::{Cand, CmpKind, Compare};
    // A constant left operand reaches the edges of the sign check, `d ∈ (−2^24, 2^24]`:
    // each kind is proven and evaluated on its `decided()` span and refused just past it.
    let kinds = [
        CmpKind::Gt,
        CmpKind::Ge,
        CmpKind::Lt,
        CmpKind::Le,
        CmpKind::Eq,
    ];
    for kind in kinds {
        let (min, max) = kind.decided();
        let compare = |a: i128| {
            let op = Op::Compare(Compare {
                kind,
                lhs: vec![Cand::Const(a as i64)],
                rhs: vec![Cand::Elem { input: 0, index: 0 }],
            });
            ModelCircuit::new(
                graph(op, &[vec![1]], vec![1]),
                &[vec![0]],
                Visibility::default(),
            )
        };
        for a in [min, max] {
            let c = compare(a).unwrap_or_else(|e| panic!("{kind:?} at {a}: {e}"));
            let want = match kind {
                CmpKind::Gt => a > 0,
                CmpKind::Ge => a >= 0,
                CmpKind::Lt => a < 0,
                CmpKind::Le => a <= 0,
                CmpKind::Eq => a == 0,
            };
            assert_eq!(
                c.values()[1].data,
                vec![i128::from(want)],
                "{kind:?} at {a}"
            );
            zkinfer_circuits::testing::check_honest(&c).unwrap();
        }
        for a in [min - 1, max + 1] {
            let err = compare(a).unwrap_err();
            assert!(
                matches!(&err, CircuitError::ValueOutOfRange { value, .. } if *value == a),
                "{kind:?} at {a}: {err}"
            );
        }
    }
}

#[test]
fn an_op_defining_more_values_than_its_shape_holds_is_refused() {
    use zkinfer_circuits::ops::{Cand, Max};
    // Two windows for a one-element output (a hand-edited graph file): refused by the
    // graph's validation (the oracle would too), not laid out with a tensor whose data and
    // shape disagree.
    let window = vec![Cand::Elem { input: 0, index: 0 }];
    let op = Op::Max(Max {
        min: false,
        windows: vec![window.clone(), window],
    });
    let err = ModelCircuit::new(
        graph(op, &[vec![1]], vec![1]),
        &[vec![3]],
        Visibility::default(),
    )
    .unwrap_err();
    assert_eq!(
        err,
        CircuitError::MalformedGraph {
            node: "op".into(),
            reason: "2 outputs defined for output shape [1]".into(),
        }
    );
}

#[test]
fn oracle_overflow_and_bad_parameters_are_errors_before_any_layout() {
    use zkinfer_circuits::ops::{Mul, Rescale};
    // (2^63·x)² overflows i128 (the field, 2^253, holds it, so the graph is valid): an
    // error, not a wrapped value.
    let mut g = (*graph(
        Op::Linear(Linear {
            rows: vec![AffineRow {
                bias: 0,
                terms: vec![(0, i64::MAX)],
            }],
        }),
        &[vec![1]],
        vec![1],
    ))
    .clone();
    g.nodes.push(Node {
        name: "square0".into(),
        op: Op::Mul(Mul {
            lhs: vec![0],
            rhs: vec![0],
        }),
        inputs: vec![1, 1],
        shape: vec![1],
        scale: 0,
        affine: None,
    });
    g.outputs = vec![2];
    let err =
        ModelCircuit::new(Arc::new(g), &[vec![(1 << 23) - 1]], Visibility::default()).unwrap_err();
    assert!(
        matches!(&err, CircuitError::Overflow { node, index: 0 } if node == "square0"),
        "{err}"
    );
    // A rescale by 2^32 has no layout (the remainder would need four limbs): refused at keygen.
    let g = graph(Op::Rescale(Rescale { shift: 32 }), &[vec![1]], vec![1]);
    let err = ModelCircuit::blank(g, Visibility::default()).unwrap_err();
    assert_eq!(
        err,
        CircuitError::MalformedGraph {
            node: "op".into(),
            reason: format!("rescale shift 32 outside 1..={RANGE_BITS}"),
        }
    );
}

#[test]
fn a_graph_reading_the_wrong_number_of_inputs_is_refused_not_a_panic() {
    // A hand-edited graph file: a product of one tensor, a rescale of two.
    let product = Op::Bilinear(Bilinear {
        rows: vec![vec![(0, 0)]],
    });
    for (op, inputs) in [
        (product, vec![0]),
        (Op::Rescale(Rescale { shift: 8 }), vec![0, 0]),
    ] {
        let mut g = (*graph(op, &[vec![1]], vec![1])).clone();
        g.nodes[0].inputs = inputs;
        let err = g.validate().unwrap_err();
        assert!(
            matches!(&err, CircuitError::MalformedGraph { reason, .. } if reason.contains("inputs")),
            "{err}"
        );
        assert!(ModelCircuit::new(Arc::new(g), &[vec![3]], Visibility::default()).is_err());
    }
}

#[test]
fn a_graph_reading_elements_that_do_not_exist_is_refused_before_keygen() {
    // Hand-edited graph files: a term past its input, a gather from an input it does not
    // have, a rescale of 2 elements declared as 3, a linear with a row missing. Key
    // generation lays a blank circuit out without evaluating it, so validation must refuse
    // them (it used to panic there).
    use zkinfer_circuits::ops::{Cand, Gather};
    let linear = |terms: Vec<(u32, i64)>, rows: usize| {
        Op::Linear(Linear {
            rows: vec![AffineRow { bias: 0, terms }; rows],
        })
    };
    let cases = [
        (linear(vec![(0, 1), (2, 1)], 1), vec![1], "element 2"),
        (
            Op::Gather(Gather {
                items: vec![Cand::Elem { input: 1, index: 0 }],
            }),
            vec![1],
            "input 1",
        ),
        (Op::Rescale(Rescale { shift: 8 }), vec![3], "2 elements"),
        (linear(vec![(0, 1)], 1), vec![2], "1 outputs defined"),
    ];
    for (op, out, says) in cases {
        let g = graph(op, &[vec![2]], out);
        let err = g.validate().unwrap_err();
        assert!(
            matches!(&err, CircuitError::MalformedGraph { reason, .. } if reason.contains(says)),
            "{says}: {err}"
        );
        assert!(ModelCircuit::blank(g, Visibility::default()).is_err());
    }
}

#[test]
fn a_graph_whose_values_could_pass_the_field_size_is_refused() {
    // Linear layers with 2^62 weights and no rescale between them: inputs of 2^23 reach
    // 2^85, 2^147, 2^209 and then 2^271, past the field (p ≈ 2^253.6), where the circuit
    // would prove the wrapped value; the oracle's i128 would refuse such an input, but the
    // circuit must not exist at all.
    let op = || {
        Op::Linear(Linear {
            rows: vec![AffineRow {
                bias: 0,
                terms: vec![(0, 1 << 62)],
            }],
        })
    };
    let layer = |name: &str, input: usize| Node {
        name: name.into(),
        op: op(),
        inputs: vec![input],
        shape: vec![1],
        scale: 0,
        affine: None,
    };
    let chain = |n: usize| {
        let mut g = (*graph(op(), &[vec![1]], vec![1])).clone();
        g.nodes = (0..n).map(|i| layer(&format!("l{i}"), i)).collect();
        g.outputs = vec![n];
        Arc::new(g)
    };
    let bounds = chain(3).bounds();
    assert_eq!(
        bounds.iter().map(|b| b.log2()).collect::<Vec<_>>(),
        [23.0, 85.0, 147.0, 209.0]
    );
    ModelCircuit::blank(chain(3), Visibility::default()).unwrap();
    let err = ModelCircuit::blank(chain(4), Visibility::default()).unwrap_err();
    assert!(
        matches!(&err, CircuitError::MalformedGraph { node, reason }
            if node == "l3" && reason.starts_with("its values may reach 2^271")),
        "{err}"
    );
}
