//! The wide layout's rescale read by a lookup (`Ctx::rescale_lookups`): each element's range
//! row holds the lookup's output in its `z` cell. Honest layouts pass MockProver and the
//! free-cell guard and prove what the two ops prove laid out apart (the tall layout's
//! instances); a moved output fails its lookup, a moved quotient the range row's equation
//! and the lookup, and the first element, whose lookup takes a row of its own, its copy.

use std::sync::Arc;
use zkinfer_circuits::chip::{LANES, LANE_A, LANE_B};
use zkinfer_circuits::ops::{FnTable, Lookup, Op, Rescale};
use zkinfer_circuits::testing::{
    assert_rejected, cell_row, chain, check_honest, failures, gate_at, lookup_at, Tamper,
};
use zkinfer_circuits::{chip::Layout, Graph, ModelCircuit, Visibility};

/// Elements.
const N: usize = 7;
/// The rescale's shift: one limb.
const SHIFT: u32 = 8;

fn square() -> FnTable {
    FnTable {
        function: "square".into(),
        in_min: -9,
        values: (-9i64..=9).map(|v| v * v).collect(),
        second: vec![],
    }
}

/// `x → rescale by 2^8 → square` (the lookup bounds the rescaled values, so the rescale
/// leaves its range check to it).
fn graph(layout: Layout) -> Arc<Graph> {
    chain(
        N,
        vec![
            ("rescale", Op::Rescale(Rescale { shift: SHIFT }), N),
            ("square", Op::Lookup(Lookup { table: square() }), N),
        ],
        layout,
    )
}

/// Inputs of both signs whose rescaled values cover the table's ends.
fn input() -> Vec<i128> {
    vec![-2_304, -1_000, -128, 0, 127, 1_500, 2_303]
}

fn circuit(layout: Layout) -> ModelCircuit {
    ModelCircuit::new(graph(layout), &[input()], Visibility::default()).unwrap()
}

#[test]
fn one_row_per_element_proves_what_the_two_ops_prove_apart() {
    let wide = circuit(Layout::Wide);
    check_honest(&wide).unwrap();
    let rows = wide.node_rows();
    // The rescale is laid out by the lookup: a row per element and one for the first's
    // lookup.
    assert!(rows[0].is_empty());
    assert_eq!(rows[1].len(), N + 1);
    let tall = circuit(Layout::Tall);
    check_honest(&tall).unwrap();
    assert_eq!(wide.instances(), tall.instances());
    assert_eq!(wide.values()[2].data, vec![81, 16, 0, 0, 0, 36, 81]);
}

#[test]
fn a_moved_output_or_quotient_fails_and_the_first_element_keeps_its_copy() {
    let c = circuit(Layout::Wide);
    let public = c.instances().len();
    let start = c.node_rows()[1].start;
    for i in 1..N {
        let row = start + i;
        // f_i in z, looked up with y_i in lane B; copied to its public row.
        let fs = failures(&c.clone().with_tamper(&[Tamper::shift(LANES, row, 1)]));
        assert_rejected(
            &fs,
            &[lookup_at(public, LANE_B, row)],
            &[cell_row(public, LANES, row)],
        );
        // y_i moved by one: the range row's equation and the lookup of (y_i + 1, f_i) fail
        // (no two rescaled values here have the same square and differ by one).
        let fs = failures(&c.clone().with_tamper(&[Tamper::shift(LANE_B, row, 1)]));
        assert_rejected(
            &fs,
            &[
                gate_at("linear", public, row),
                lookup_at(public, LANE_B, row),
            ],
            &[],
        );
        // x_i is a copy of the input.
        let fs = failures(&c.clone().with_tamper(&[Tamper::shift(LANE_A, row, 1)]));
        assert_rejected(
            &fs,
            &[gate_at("linear", public, row)],
            &[cell_row(public, LANE_A, row)],
        );
    }
    // The first element: y_0 in its range row, its lookup (a copy of y_0, then f_0) in the
    // row after the others, lanes 2 and 3.
    let last = start + N;
    let fs = failures(&c.clone().with_tamper(&[Tamper::shift(3, last, 1)]));
    assert_rejected(
        &fs,
        &[lookup_at(public, 2, last)],
        &[cell_row(public, 3, last)],
    );
    let fs = failures(&c.clone().with_tamper(&[Tamper::shift(LANE_B, start, 1)]));
    assert_rejected(
        &fs,
        &[gate_at("linear", public, start)],
        &[cell_row(public, LANE_B, start)],
    );
}

#[test]
fn the_first_row_leaves_the_previous_result_in_its_z() {
    // x → a dense map laid out as tall dot products (each output reads its own input), whose
    // last result is the z cell of the next row: the first row of the fused rescale by 2^16
    // (two limbs) and lookup, which must leave it alone.
    let identity = Op::Linear(zkinfer_circuits::ops::Linear {
        rows: (0..N as u32)
            .map(|i| zkinfer_circuits::ops::AffineRow {
                bias: 0,
                terms: vec![(i, 1)],
            })
            .collect(),
    });
    let g = |layout| {
        chain(
            N,
            vec![
                ("dense", identity.clone(), N),
                ("rescale", Op::Rescale(Rescale { shift: 16 }), N),
                ("square", Op::Lookup(Lookup { table: square() }), N),
            ],
            layout,
        )
    };
    let x = vec![-589_824, -100_000, 0, 32_767, 32_768, 300_000, 589_823];
    let c = |layout| {
        ModelCircuit::new(g(layout), std::slice::from_ref(&x), Visibility::default()).unwrap()
    };
    let wide = c(Layout::Wide);
    check_honest(&wide).unwrap();
    let rows = wide.node_rows();
    assert!(rows[1].is_empty());
    assert_eq!(rows[2].len(), N + 1);
    // The dense map's last result sits in the fused rows' first z, copied into the last
    // element's range row.
    let public = wide.instances().len();
    let first = rows[2].start;
    let fs = failures(&wide.clone().with_tamper(&[Tamper::shift(LANES, first, 1)]));
    assert!(!fs.is_empty());
    assert!(
        fs.iter().all(|f| *f != lookup_at(public, LANE_B, first)),
        "{fs:?}"
    );
    assert_eq!(wide.instances(), c(Layout::Tall).instances());
    assert_eq!(wide.values()[3].data, vec![81, 4, 0, 0, 1, 25, 81]);
}
