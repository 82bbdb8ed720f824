//! Every chip against the reference evaluator (MockProver), with tampered witnesses that must
//! fail the specific constraint, and fixed-point edge cases.

use proptest::prelude::*;
use std::sync::Arc;
use zkinfer_circuits::chip::{lookup_slot, ACT_BOUND, LANE_A, LANE_B, RANGE_BITS};
use zkinfer_circuits::ops::{Add, AffineRow, Cand, Gather, Linear, Max, Mul, Op, Relu, Rescale};
use zkinfer_circuits::testing::{
    assert_rejected, cell_row, check_honest, failures, failures_claiming, failures_with, gate_at,
    graph, limb, lookup_at, public_at, Tamper, Z,
};
use zkinfer_circuits::{CircuitError, Fr, Graph, ModelCircuit, Node, Visibility};

fn circuit(g: &Arc<Graph>, inputs: &[Vec<i128>]) -> ModelCircuit {
    ModelCircuit::new(g.clone(), inputs, Visibility::default()).expect("evaluates")
}

fn output(c: &ModelCircuit) -> Vec<i128> {
    c.graph().outputs_of(c.values())[0].data.clone()
}

fn t(lane: usize, row: usize, delta: i128) -> Tamper {
    Tamper::shift(lane, row, delta)
}

fn linear9(weights: &[i64; 9], bias: i64) -> Arc<Graph> {
    let terms = weights
        .iter()
        .enumerate()
        .map(|(i, w)| (i as u32, *w))
        .collect();
    graph(
        Op::Linear(Linear {
            rows: vec![AffineRow { bias, terms }],
        }),
        &[vec![9]],
        vec![1],
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(12))]

    #[test]
    fn linear_matches_oracle(x in prop::collection::vec(-(1i128 << 20)..(1 << 20), 9), w in prop::array::uniform9(-(1i64 << 16)..(1 << 16)), b in -1000i64..1000) {
        let g = linear9(&w, b);
        let c = circuit(&g, std::slice::from_ref(&x));
        let expect: i128 = i128::from(b) + x.iter().zip(w).map(|(a, w)| a * i128::from(w)).sum::<i128>();
        prop_assert_eq!(output(&c), vec![expect]);
        prop_assert!(check_honest(&c).is_ok(), "{:?}", check_honest(&c));
    }

    #[test]
    fn rescale_matches_oracle(x in prop::collection::vec(-(1i128 << 38)..(1 << 38), 4), shift in prop::sample::select(vec![8u32, 12, 16, 24])) {
        let g = graph(Op::Rescale(Rescale { shift }), &[vec![4]], vec![4]);
        let x: Vec<i128> = x.into_iter().map(|v| v >> (40 - shift)).collect();
        let c = circuit(&g, &[x.iter().map(|v| v.clamp(&-(ACT_BOUND - 1), &(ACT_BOUND - 1))).copied().collect()]);
        prop_assert!(check_honest(&c).is_ok(), "{:?}", check_honest(&c));
    }

    #[test]
    fn relu_matches_oracle(x in prop::collection::vec(-(1i128 << 23)..(1 << 23), 6)) {
        let g = graph(Op::Relu(Relu {}), &[vec![6]], vec![6]);
        let c = circuit(&g, std::slice::from_ref(&x));
        prop_assert_eq!(output(&c), x.iter().map(|v| (*v).max(0)).collect::<Vec<_>>());
        prop_assert!(check_honest(&c).is_ok(), "{:?}", check_honest(&c));
    }

    #[test]
    fn maxpool_matches_oracle(x in prop::collection::vec(-(1i128 << 22)..(1 << 22), 8)) {
        let w = |ix: &[u32]| ix.iter().map(|i| Cand::of(*i)).collect::<Vec<_>>();
        let g = graph(Op::Max(Max { min: false, windows: vec![w(&[0, 1, 2, 3]), w(&[4, 5, 6, 7]), w(&[1, 6])] }), &[vec![8]], vec![3]);
        let c = circuit(&g, std::slice::from_ref(&x));
        let expect = vec![*x[..4].iter().max().unwrap(), *x[4..].iter().max().unwrap(), x[1].max(x[6])];
        prop_assert_eq!(output(&c), expect);
        prop_assert!(check_honest(&c).is_ok(), "{:?}", check_honest(&c));
    }

    #[test]
    fn mul_and_add_match_oracle(x in prop::collection::vec(-(1i128 << 22)..(1 << 22), 3), u in prop::collection::vec(-(1i128 << 22)..(1 << 22), 3)) {
        let idx = vec![0u32, 1, 2];
        let gm = graph(Op::Mul(Mul { lhs: idx.clone(), rhs: idx.clone() }), &[vec![3], vec![3]], vec![3]);
        let c = circuit(&gm, &[x.clone(), u.clone()]);
        prop_assert_eq!(output(&c), x.iter().zip(&u).map(|(a, b)| a * b).collect::<Vec<_>>());
        prop_assert!(check_honest(&c).is_ok(), "{:?}", check_honest(&c));
        let ga = graph(Op::Add(Add { lhs_mul: 4, rhs_mul: -1, lhs: idx.clone(), rhs: idx }), &[vec![3], vec![3]], vec![3]);
        let c = circuit(&ga, &[x.clone(), u.clone()]);
        prop_assert_eq!(output(&c), x.iter().zip(&u).map(|(a, b)| 4 * a - b).collect::<Vec<_>>());
        prop_assert!(check_honest(&c).is_ok(), "{:?}", check_honest(&c));
    }
}

// Row layout used by the tamper tests: one public row per output (rows are counted after
// them), one range row per input element, then the op.

#[test]
fn linear_tampered_accumulator_fails_linear_gate() {
    let g = linear9(&[1, 2, 3, 4, 5, 6, 7, 8, 9], 7);
    let x = vec![vec![1, -2, 3, -4, 5, -6, 7, -8, 9]];
    let public = 1;
    // Input rows 0..9, dot rows 9 and 10, partial sum in z on row 10, result on row 11. The
    // partial sum breaks the row that writes it and the row that reads it.
    let fs = failures(&circuit(&g, &x).with_tamper(&[t(Z, 10, 1)]));
    assert_rejected(
        &fs,
        &[gate_at("linear", public, 9), gate_at("linear", public, 10)],
        &[],
    );
    // A dot row holds its terms in order, one per lane: x4's copy is lane 4 of row 9.
    let x4 = 4;
    let fs = failures(&circuit(&g, &x).with_tamper(&[t(x4, 9, 1)]));
    assert_rejected(
        &fs,
        &[gate_at("linear", public, 9)],
        &[cell_row(public, x4, 9)],
    );
}

#[test]
fn input_tampered_cell_fails_and_out_of_range_input_is_an_error() {
    let g = graph(Op::Relu(Relu {}), &[vec![1]], vec![1]);
    let public = 1;
    // The input's value (lane A of its range row, copied into the relu) no longer matches
    // its limbs.
    let fs = failures(&circuit(&g, &[vec![12]]).with_tamper(&[t(LANE_A, 0, 1)]));
    assert_rejected(
        &fs,
        &[gate_at("linear", public, 0)],
        &[cell_row(public, LANE_A, 0)],
    );
    // Limbs of an input moved out of the table while keeping the sum: 12 + 2^23 has limbs
    // (0x0c, 0, 0x80), and 0x0c + 256 and 0 − 1 both leave it; only their lookups fail.
    let c = circuit(&g, &[vec![12]]).with_tamper(&[t(limb(0), 0, 256), t(limb(1), 0, -1)]);
    assert_rejected(
        &failures(&c),
        &[lookup_at(public, limb(0), 0), lookup_at(public, limb(1), 0)],
        &[],
    );
    for bad in [ACT_BOUND, -ACT_BOUND - 1] {
        let err = ModelCircuit::new(g.clone(), &[vec![bad]], Visibility::default()).unwrap_err();
        assert!(matches!(err, CircuitError::ValueOutOfRange { value, .. } if value == bad));
    }
}

#[test]
fn rescale_tampers_fail_specific_constraints() {
    let g = graph(Op::Rescale(Rescale { shift: 16 }), &[vec![1]], vec![1]);
    let x = vec![vec![3 * 65536 + 100]];
    let public = 1;
    // Row 0 input; row 1 remainder (limbs, x in A, y in B); row 2 range check of y (its copy
    // in A).
    let fs = failures(&circuit(&g, &x).with_tamper(&[t(LANE_B, 1, 1)]));
    assert_rejected(
        &fs,
        &[gate_at("linear", public, 1)],
        &[cell_row(public, LANE_B, 1)],
    );
    // Remainder limbs moved with the same sum: r = 0x8064, and 0x64 + 256 leaves the table
    // (0x80 − 1 does not). Only that lookup catches it.
    let c = circuit(&g, &x).with_tamper(&[t(limb(0), 1, 256), t(limb(1), 1, -1)]);
    assert_rejected(&failures(&c), &[lookup_at(public, limb(0), 1)], &[]);
}

#[test]
fn rescale_edge_cases() {
    let g = graph(Op::Rescale(Rescale { shift: 16 }), &[vec![6]], vec![6]);
    let h = 1 << 15;
    let c = circuit(&g, &[vec![0, h, -h, h - 1, -h - 1, (ACT_BOUND - 1)]]);
    assert_eq!(output(&c), vec![0, 1, 0, 0, -1, 128]);
    check_honest(&c).unwrap();
    // A shift that is not a multiple of the limb width takes the two-sided remainder check.
    let g = graph(Op::Rescale(Rescale { shift: 12 }), &[vec![2]], vec![2]);
    let c = circuit(&g, &[vec![4095, -2048]]);
    assert_eq!(output(&c), vec![1, 0]);
    check_honest(&c).unwrap();
    // Two public rows; rows 0, 1 inputs; rows 2, 3 the first element's remainder r = 2047
    // and its bound 4095 − r. Its low limb 0xff + 1 breaks the sum and leaves the table.
    let public = 2;
    let c = circuit(&g, &[vec![4095, -2048]]).with_tamper(&[t(limb(0), 2, 1)]);
    assert_rejected(
        &failures(&c),
        &[gate_at("linear", public, 2), lookup_at(public, limb(0), 2)],
        &[],
    );
}

#[test]
fn relu_forged_output_fails_max_chain() {
    let g = graph(Op::Relu(Relu {}), &[vec![1]], vec![1]);
    let public = 1;
    // x = -5, honest y = 0. Row 0 the input, row 1 the constant zero; rows 2 (y − x, y in A,
    // x in B) and 3 (y − 0) with the running product in z on rows 3 and 4 (copied to zero).
    // Forge y = 1 with consistent limbs and copies, claimed in public: both rows shift y and
    // the low limb by one. Range rows and copies hold; the running product does not: row 2
    // (z = y − x) and row 3 (z_next = (y − 0)·z, which must be the zero it is copied to).
    let forged = [
        t(LANE_A, 2, 1),
        t(limb(0), 2, 1),
        t(LANE_A, 3, 1),
        t(limb(0), 3, 1),
    ];
    assert_rejected(
        &failures_claiming(&circuit(&g, &[vec![-5]]), &forged, 0, 1),
        &[
            gate_at("max chain", public, 2),
            gate_at("max chain", public, 3),
        ],
        &[],
    );
    // The running product moved: the row that writes it fails (the next reads it times
    // y − 0 = 0).
    let c = circuit(&g, &[vec![-5]]).with_tamper(&[t(Z, 3, 1)]);
    assert_rejected(&failures(&c), &[gate_at("max chain", public, 2)], &[]);
}

#[test]
fn relu_edges_and_range() {
    let g = graph(Op::Relu(Relu {}), &[vec![5]], vec![5]);
    let c = circuit(&g, &[vec![0, 1, -1, ACT_BOUND - 1, -ACT_BOUND]]);
    assert_eq!(output(&c), vec![0, 1, 0, ACT_BOUND - 1, 0]);
    check_honest(&c).unwrap();
    let big = graph(Op::Relu(Relu {}), &[vec![1]], vec![1]);
    let lin = Graph {
        nodes: vec![
            Node {
                name: "scale".into(),
                op: Op::Linear(Linear {
                    rows: vec![AffineRow {
                        bias: 0,
                        terms: vec![(0, 4)],
                    }],
                }),
                inputs: vec![0],
                shape: vec![1],
                scale: 0,
                affine: None,
            },
            Node {
                name: "relu".into(),
                op: Op::Relu(Relu {}),
                inputs: vec![1],
                shape: vec![1],
                scale: 0,
                affine: None,
            },
        ],
        outputs: vec![2],
        sources: vec![],
        ..(*big).clone()
    };
    let err =
        ModelCircuit::new(Arc::new(lin), &[vec![1 << 22]], Visibility::default()).unwrap_err();
    assert!(
        matches!(err, CircuitError::ValueOutOfRange { ref node, .. } if node == "relu"),
        "{err}"
    );
    assert_eq!(RANGE_BITS, 24);
}

#[test]
fn maxpool_forged_output_fails_max_chain() {
    let g = graph(
        Op::Max(Max {
            min: false,
            windows: vec![(0..4).map(Cand::of).collect()],
        }),
        &[vec![4]],
        vec![1],
    );
    let x = vec![vec![10, 3, 7, 1]];
    let public = 1;
    // Rows 0..4 inputs, row 4 zero, rows 5..9 the window, running product in z on rows 6..10.
    // Claim y = 11 in public: every difference stays in range and copies agree, but no
    // factor of the product is zero: its first step (z = y − x0 = 1, honestly 0) fails, the
    // later ones multiply the honest zero.
    let forged: Vec<Tamper> = (5..9)
        .flat_map(|r| [t(LANE_A, r, 1), t(limb(0), r, 1)])
        .collect();
    let fs = failures_claiming(&circuit(&g, &x), &forged, 0, 1);
    assert_rejected(&fs, &[gate_at("max chain", public, 5)], &[]);
    // A moved running product: the row that writes it and the row that reads it.
    let fs = failures(&circuit(&g, &x).with_tamper(&[t(Z, 7, 3)]));
    assert_rejected(
        &fs,
        &[
            gate_at("max chain", public, 6),
            gate_at("max chain", public, 7),
        ],
        &[],
    );
}

#[test]
fn mul_and_add_tampers_fail() {
    let idx = vec![0u32];
    let gm = graph(
        Op::Mul(Mul {
            lhs: idx.clone(),
            rhs: idx.clone(),
        }),
        &[vec![1], vec![1]],
        vec![1],
    );
    let public = 1;
    // Rows 0, 1 inputs; row 2 the product, result in z on row 3 (copied to the public row).
    let fs = failures(&circuit(&gm, &[vec![6], vec![-7]]).with_tamper(&[t(Z, 3, 1)]));
    assert_rejected(
        &fs,
        &[gate_at("linear", public, 2)],
        &[cell_row(public, Z, 3)],
    );
    let ga = graph(
        Op::Add(Add {
            lhs_mul: 1,
            rhs_mul: 1,
            lhs: idx.clone(),
            rhs: idx,
        }),
        &[vec![1], vec![1]],
        vec![1],
    );
    // The same rows: one dot row, its sum in z on row 3.
    let fs = failures(&circuit(&ga, &[vec![6], vec![-7]]).with_tamper(&[t(Z, 3, 1)]));
    assert_rejected(
        &fs,
        &[gate_at("linear", public, 2)],
        &[cell_row(public, Z, 3)],
    );
}

#[test]
fn changed_public_output_fails() {
    let g = graph(Op::Relu(Relu {}), &[vec![2]], vec![2]);
    let c = circuit(&g, &[vec![3, -3]]);
    let mut inst = c.instances();
    inst[0] += Fr::one();
    let fs = failures_with(&c, c.min_k().unwrap(), inst);
    // The public row of output 0 no longer holds.
    assert_eq!(fs, vec![public_at(0)]);
}

#[test]
fn min_with_constants_and_its_forgery() {
    // Clip(x, -2, 5) as min(max(x, -2), 5) in one window each: min over {x, 5}.
    let g = graph(
        Op::Max(Max {
            min: true,
            windows: vec![
                vec![Cand::of(0), Cand::Const(5)],
                vec![Cand::of(1), Cand::Const(5)],
            ],
        }),
        &[vec![2]],
        vec![2],
    );
    let c = circuit(&g, &[vec![9, -4]]);
    assert_eq!(output(&c), vec![5, -4]);
    check_honest(&c).unwrap();
    // Two public rows; rows 0, 1 inputs; row 2 the constant 0 (chain end); row 3 the
    // constant 5; rows 4, 5 the first window. Claim min(9, 5) = 4 in public: a − y grows by
    // one in both rows, limbs agree, only the running product fails (both its steps: y − 9,
    // then (y − 5)·z, which must be zero).
    let public = 2;
    let forged = [
        t(LANE_A, 4, -1),
        t(limb(0), 4, 1),
        t(LANE_A, 5, -1),
        t(limb(0), 5, 1),
    ];
    let fs = failures_claiming(&circuit(&g, &[vec![9, -4]]), &forged, 0, -1);
    assert_rejected(
        &fs,
        &[
            gate_at("max chain", public, 4),
            gate_at("max chain", public, 5),
        ],
        &[],
    );
}

#[test]
fn gather_moves_cells_and_pins_constants() {
    let g = graph(
        Op::Gather(Gather {
            items: vec![Cand::of(2), Cand::Const(-7), Cand::of(0)],
        }),
        &[vec![3]],
        vec![3],
    );
    let c = circuit(&g, &[vec![10, 20, 30]]);
    assert_eq!(output(&c), vec![30, -7, 10]);
    check_honest(&c).unwrap();
    // Three public rows; rows 0..3 inputs, row 3 the constant -7 (`x_A + 7 = 0`, copied to
    // output 1): changing it breaks the constant's row and its copy.
    let public = 3;
    let fs = failures(&circuit(&g, &[vec![10, 20, 30]]).with_tamper(&[t(LANE_A, 3, 1)]));
    assert_rejected(
        &fs,
        &[gate_at("linear", public, 3)],
        &[cell_row(public, LANE_A, 3)],
    );
}

fn square_table() -> zkinfer_circuits::ops::FnTable {
    zkinfer_circuits::ops::FnTable {
        function: "square".into(),
        in_min: -4,
        values: (-4i64..=4).map(|x| x * x).collect(),
        second: vec![],
    }
}

#[test]
fn lookup_matches_table_at_range_ends_and_zero() {
    use zkinfer_circuits::ops::Lookup;
    let g = graph(
        Op::Lookup(Lookup {
            table: square_table(),
        }),
        &[vec![3]],
        vec![3],
    );
    let c = circuit(&g, &[vec![-4, 0, 4]]);
    assert_eq!(output(&c), vec![16, 0, 16]);
    check_honest(&c).unwrap();
    for bad in [-5, 5] {
        let err =
            ModelCircuit::new(g.clone(), &[vec![0, bad, 0]], Visibility::default()).unwrap_err();
        assert!(
            matches!(err, CircuitError::ValueOutOfRange { index: 1, value, min: -4, max: 4, .. } if value == bad),
            "{err}"
        );
    }
}

#[test]
fn lookup_tampered_output_or_input_fails_the_function_lookup() {
    use zkinfer_circuits::ops::Lookup;
    let g = graph(
        Op::Lookup(Lookup {
            table: square_table(),
        }),
        &[vec![6]],
        vec![6],
    );
    let xs = vec![3, -2, 4, 0, -1, 1];
    let c = circuit(&g, std::slice::from_ref(&xs));
    check_honest(&c).unwrap();
    // Six public rows; rows 0–5 the inputs; from row 6 the lookups packed (x, y) two, three
    // and one to a row, every slot used once: lanes 2–3 and 0–1 of row 6; 0–1, 2–3 and 4–z
    // of row 7; 0–1 of row 8. Each lookup reads x's cell and the next (y, copied to its
    // public row).
    let public = 6;
    let slots: Vec<(usize, usize)> = (0..6).map(lookup_slot).collect();
    assert_eq!(slots, [(0, 2), (0, 0), (1, 0), (1, 2), (1, 4), (2, 0)]);
    for (i, (r, x)) in slots.into_iter().enumerate() {
        let (row, y) = (public + r, x + 1);
        let fs = failures(&circuit(&g, std::slice::from_ref(&xs)).with_tamper(&[t(y, row, 1)]));
        assert_rejected(
            &fs,
            &[lookup_at(public, x, row)],
            &[cell_row(public, y, row)],
        );
        // x moved by one towards 0 with y its square: the table accepts it, the copy of the
        // input (and of the output) does not.
        let (v, d) = (xs[i], if xs[i] > 0 { -1 } else { 1 });
        let moved = [t(x, row, d), t(y, row, 2 * v * d + 1)];
        let fs = failures(&circuit(&g, std::slice::from_ref(&xs)).with_tamper(&moved));
        assert_rejected(
            &fs,
            &[],
            &[cell_row(public, x, row), cell_row(public, y, row)],
        );
    }
}

#[test]
fn bilinear_matches_oracle_and_tamper_fails_the_linear_gate() {
    use zkinfer_circuits::ops::Bilinear;
    // y0 = x·u over 5 pairs (three rows, the last pair beside a copy of zero), y1 = x0·u4.
    let rows = vec![(0..5).map(|i| (i, i)).collect(), vec![(0, 4)]];
    let g = graph(
        Op::Bilinear(Bilinear { rows }),
        &[vec![5], vec![5]],
        vec![2],
    );
    let (x, u) = (vec![1, -2, 3, -4, 5], vec![6, 7, -8, 9, 10]);
    let c = circuit(&g, &[x.clone(), u.clone()]);
    assert_eq!(output(&c), vec![6 - 14 - 24 - 36 + 50, 10]);
    check_honest(&c).unwrap();
    // Rows 0..10 inputs; row 10 the constant zero; rows 11..14 the first inner product
    // (partial sums in z on rows 12 and 13): a moved partial sum breaks the row that writes
    // it and the row that reads it.
    let fs = failures(&circuit(&g, &[x, u]).with_tamper(&[t(Z, 12, 1)]));
    assert_eq!(fs, vec![gate_at("linear", 2, 11), gate_at("linear", 2, 12)]);
}

#[test]
fn comparisons_and_where_match_oracle_and_reject_a_flipped_bit() {
    use zkinfer_circuits::ops::{CmpKind, Compare, Where};
    let cands = |n: u32, input: u32| {
        (0..n)
            .map(|index| Cand::Elem { input, index })
            .collect::<Vec<_>>()
    };
    let (a, b) = (vec![3, -2, 5, 0], vec![3, 4, -1, 0]);
    for (kind, expect) in [
        (CmpKind::Gt, [0, 0, 1, 0]),
        (CmpKind::Ge, [1, 0, 1, 1]),
        (CmpKind::Lt, [0, 1, 0, 0]),
        (CmpKind::Le, [1, 1, 0, 1]),
        (CmpKind::Eq, [1, 0, 0, 1]),
    ] {
        let g = graph(
            Op::Compare(Compare {
                kind,
                lhs: cands(4, 0),
                rhs: cands(4, 1),
            }),
            &[vec![4], vec![4]],
            vec![4],
        );
        let c = circuit(&g, &[a.clone(), b.clone()]);
        assert_eq!(output(&c), expect.to_vec(), "{kind:?}");
        check_honest(&c).unwrap_or_else(|e| panic!("{kind:?}: {e}"));
    }
    // Gt of one pair: rows 0, 1 inputs; row 2 d = a − b (z on 3); row 3 p = t·d (t in A, d
    // in B, p in z on 4); row 4 t·t (z on 5, copied to t); row 5 the dot v = 2p − d − t (one
    // term per lane in that order, v in z on 6); row 6 the range row of v (its copy in A).
    // Claim 3 > 3 in public with t = 1 in every copy and v = −1: the products and the dot
    // agree, the range row's equation cannot hold.
    let g = graph(
        Op::Compare(Compare {
            kind: CmpKind::Gt,
            lhs: cands(1, 0),
            rhs: cands(1, 1),
        }),
        &[vec![1], vec![1]],
        vec![1],
    );
    let (public, t_term) = (1, 2);
    let forged = [
        t(LANE_A, 3, 1),
        t(LANE_A, 4, 1),
        t(LANE_B, 4, 1),
        t(Z, 5, 1),
        t(t_term, 5, 1),
        t(Z, 6, -1),
        t(LANE_A, 6, -1),
    ];
    let fs = failures_claiming(&circuit(&g, &[vec![3], vec![3]]), &forged, 0, 1);
    assert_rejected(&fs, &[gate_at("linear", public, 6)], &[]);
    // Where on a comparison's output (the only condition the circuit proves boolean):
    // c = [a > 0] for a = (1, 0).
    let mut w = (*graph(
        Op::Compare(Compare {
            kind: CmpKind::Gt,
            lhs: cands(2, 0),
            rhs: vec![Cand::Const(0); 2],
        }),
        &[vec![2], vec![2]],
        vec![2],
    ))
    .clone();
    w.nodes.push(Node {
        name: "where".into(),
        op: Op::Where(Where {
            cond: vec![0, 1],
            then: vec![Cand::Elem { input: 1, index: 0 }, Cand::Const(9)],
            otherwise: vec![Cand::Const(-1), Cand::Elem { input: 1, index: 1 }],
        }),
        inputs: vec![2, 1],
        shape: vec![2],
        scale: 0,
        affine: None,
    });
    w.outputs = vec![3];
    let c = circuit(&Arc::new(w), &[vec![1, 0], vec![7, 8]]);
    assert_eq!(output(&c), vec![7, 8]);
    check_honest(&c).unwrap();
}

#[test]
fn argmax_first_and_last_occurrence_and_forgery() {
    use zkinfer_circuits::ops::ArgMax;
    let windows = vec![vec![0, 1, 2, 3]];
    for (last, expect) in [(false, 1), (true, 3)] {
        let g = graph(
            Op::ArgMax(ArgMax {
                last,
                windows: windows.clone(),
            }),
            &[vec![4]],
            vec![1],
        );
        let c = circuit(&g, &[vec![2, 7, -3, 7]]);
        assert_eq!(output(&c), vec![expect]);
        check_honest(&c).unwrap();
    }
    // Claim index 3 (the second 7) for first occurrence: re-laid out with that witness, the
    // flag of position 1 forces 7 − 7 − 1 ≥ 0, which fails.
    let g = graph(
        Op::ArgMax(ArgMax {
            last: false,
            windows,
        }),
        &[vec![4]],
        vec![1],
    );
    let honest = circuit(&g, &[vec![2, 7, -3, 7]]);
    check_honest(&honest).unwrap();
    let mut inst = honest.instances();
    inst[0] = Fr::from(3);
    let fs = failures_with(&honest, honest.min_k().unwrap(), inst);
    assert_eq!(fs, vec![public_at(0)]);
}

/// A node no output depends on is evaluated (its value is reported) but takes no rows: the
/// importer leaves such a node when it folds a ReLU into the MaxPool after it.
#[test]
fn a_node_no_output_reads_is_not_laid_out() {
    let node = |name: &str, input| Node {
        name: name.into(),
        op: Op::Relu(Relu {}),
        inputs: vec![input],
        shape: vec![3],
        scale: 0,
        affine: None,
    };
    let g = Graph {
        nodes: vec![node("dead", 0), node("live", 0)],
        outputs: vec![2],
        ..(*graph(Op::Relu(Relu {}), &[vec![3]], vec![3])).clone()
    };
    assert_eq!(g.live_nodes(), vec![false, true]);
    let c = ModelCircuit::new(Arc::new(g), &[vec![-2, 0, 5]], Visibility::default()).unwrap();
    assert_eq!(
        c.values()[1].data,
        vec![0, 0, 5],
        "the dead node is still evaluated"
    );
    let rows = c.node_rows();
    assert!(rows[0].is_empty() && !rows[1].is_empty(), "{rows:?}");
    check_honest(&c).unwrap();
}
