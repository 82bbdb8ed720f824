//! The wide layout's requant unit: a requantization alone (12 cells) and a 2×2 max pooling
//! over accumulators with the requantization that reads it (`Requant(Max(acc))`, 30 cells).
//! Honest units pass MockProver and the free-cell guard and prove what the ops prove laid
//! out apart (the tall layout's instances); an output in the next bucket, an accumulator
//! above every candidate, a bucket bound moved and a moved accumulator copy each fail.

use std::sync::Arc;
use zkinfer_circuits::chip::{ChipShape, Layout, RequantUnit, BLOCK};
use zkinfer_circuits::ops::{Cand, Max, Op, Requant};
use zkinfer_circuits::testing::{
    assert_rejected, cell_row, chain, check_honest, failures, failures_tampered, gate_at,
    lookup_at, Tamper,
};
use zkinfer_circuits::{Graph, ModelCircuit, Tensor, Visibility};

/// Accumulators of two channels of 4×4, both signs, both saturations.
const N: usize = 32;

fn requant() -> Op {
    Op::Requant(Requant {
        multipliers: vec![0.0137, 0.0051],
        inner: 16,
        zero_point: -7,
        qmin: -128,
        qmax: 127,
        float_zero_point: false,
    })
}

fn input() -> Vec<i128> {
    (0..N as i128).map(|i| (i * 7919) % 30011 - 15000).collect()
}

/// 2×2 windows over each channel's 4×4 plane.
fn pool(window: usize) -> Op {
    let windows = (0..2)
        .flat_map(|c| {
            (0..4).map(move |w| {
                let (y, x) = (w / 2, w % 2);
                let at = |dy: usize, dx: usize| {
                    Cand::of((c * 16 + (2 * y + dy) * 4 + 2 * x + dx) as u32)
                };
                [at(0, 0), at(0, 1), at(1, 0), at(1, 1)][..window].to_vec()
            })
        })
        .collect();
    Op::Max(Max {
        min: false,
        windows,
    })
}

/// `acc → max → requant` (pooled: 8 outputs, inner 4 per channel) or `acc → requant`.
fn graph(pooled: bool, layout: Layout) -> Arc<Graph> {
    if pooled {
        let Op::Requant(rq) = requant() else {
            unreachable!()
        };
        let rq = Op::Requant(Requant { inner: 4, ..rq });
        chain(N, vec![("pool", pool(4), 8), ("requant", rq, 8)], layout)
    } else {
        chain(N, vec![("requant", requant(), N)], layout)
    }
}

fn circuit(pooled: bool, layout: Layout) -> ModelCircuit {
    ModelCircuit::new(graph(pooled, layout), &[input()], Visibility::default()).unwrap()
}

fn public(c: &ModelCircuit) -> usize {
    c.instances().len()
}

/// The requant node's index, and its unit `k`'s first layout row.
fn unit_row(c: &ModelCircuit, k: usize) -> usize {
    let node = c.graph().nodes.len() - 1;
    let n = if node == 0 { 0 } else { 4 };
    c.node_rows()[node].start + k * RequantUnit::of(n).unwrap().rows()
}

/// `values` laid out as they are (a forged evaluation of `honest`'s graph) fail the gate of
/// unit `k` and nothing else.
fn assert_only_the_unit_fails(honest: &ModelCircuit, values: Vec<Tensor>, k: usize) {
    let forged = ModelCircuit::forged(honest.graph().clone().into(), values, Default::default());
    let unit = gate_at("requant unit", public(&forged), unit_row(&forged, k));
    assert_rejected(&failures(&forged), &[unit], &[]);
}

fn at(row: usize, offset: usize) -> (usize, usize) {
    (offset % BLOCK, row + offset / BLOCK)
}

#[test]
fn units_are_honest_and_prove_what_the_ops_prove_apart() {
    for pooled in [false, true] {
        let wide = circuit(pooled, Layout::Wide);
        check_honest(&wide).unwrap();
        let shape = ChipShape {
            requant: true,
            ..ChipShape::from(Layout::Wide)
        };
        assert_eq!(wide.graph().chip_shape(), shape);
        let tall = circuit(pooled, Layout::Tall);
        assert_eq!(wide.instances(), tall.instances());
        let out = &wide.values().last().unwrap().data;
        let inside = out.iter().any(|y| *y > -128 && *y < 127);
        assert!(out.contains(&127) && inside, "{out:?}");
        assert!(pooled || out.contains(&-128), "{out:?}");
        let rows = wide.node_rows();
        let unit = RequantUnit::of(if pooled { 4 } else { 0 }).unwrap();
        assert_eq!(rows.last().unwrap().len(), out.len() * unit.rows());
        if pooled {
            assert!(rows[0].is_empty(), "the max is laid out in the units");
        }
    }
}

#[test]
fn an_output_in_the_next_bucket_fails_its_unit() {
    // y + 1 with its own bucket (lo, hi) from the table: the accumulator is below that
    // bucket, `m − lo` is negative, and its limbs (taken as they are) leave the unit's
    // first equation 2^24 off.
    let honest = circuit(false, Layout::Wide);
    let mut values = honest.values().to_vec();
    let k = values[1]
        .data
        .iter()
        .position(|y| *y < 127 && *y > -128)
        .unwrap();
    values[1].data[k] += 1;
    assert_only_the_unit_fails(&honest, values, k);
}

#[test]
fn an_accumulator_above_every_candidate_fails_only_the_product() {
    // The pooled accumulator m = max + 1 (and its requantization): every difference is a
    // valid limb, m stays in a bucket, only `D_1·D_2·D_3·D_4 = 0` fails.
    let honest = circuit(true, Layout::Wide);
    let mut values = honest.values().to_vec();
    let k = 1;
    values[1].data[k] += 1;
    let Op::Requant(rq) = &honest.graph().nodes[1].op else {
        unreachable!()
    };
    let m = values[1].data[k] as i64;
    values[2].data[k] = i128::from(zkinfer_circuits::ops::requantize(
        m,
        rq.multipliers[0],
        rq.zero_point,
        rq.qmin,
        rq.qmax,
    ));
    assert_only_the_unit_fails(&honest, values, k);
}

#[test]
fn a_moved_bucket_bound_fails_the_table() {
    // `hi + 1` with `H + 1` keeps the unit's equations; `(hi + 1, y)` is no table entry.
    let c = circuit(false, Layout::Wide);
    let unit = RequantUnit::of(0).unwrap();
    let acc = input();
    let k = (0..N)
        .find(|&i| {
            let y = c.values()[1].data[i];
            y > -128 && y < 127 && acc[i] % 2 == 0
        })
        .unwrap();
    let row = unit_row(&c, k);
    let (hl, hr) = at(row, unit.hi());
    let (ll, lr) = at(row, unit.high_limb(2));
    let fs = failures_tampered(
        &c,
        &[Tamper::shift(hl, hr, 1 << 16), Tamper::shift(ll, lr, 1)],
    );
    assert_rejected(&fs, &[lookup_at(public(&c), hl, hr)], &[]);
}

#[test]
fn a_moved_accumulator_copy_breaks_the_unit() {
    for pooled in [false, true] {
        let c = circuit(pooled, Layout::Wide);
        let unit = RequantUnit::of(if pooled { 4 } else { 0 }).unwrap();
        let row = unit_row(&c, 0);
        let (lane, r) = at(row, if pooled { unit.x(1) } else { unit.m() });
        let fs = failures_tampered(&c, &[Tamper::shift(lane, r, 1)]);
        assert_rejected(
            &fs,
            &[gate_at("requant unit", public(&c), row)],
            &[cell_row(public(&c), lane, r)],
        );
    }
}

#[test]
fn windows_of_other_sizes_are_laid_out_apart() {
    let Op::Requant(rq) = requant() else {
        unreachable!()
    };
    let g = chain(
        N,
        vec![
            ("pool", pool(3), 8),
            ("requant", Op::Requant(Requant { inner: 4, ..rq }), 8),
        ],
        Layout::Wide,
    );
    let c = ModelCircuit::new(g, &[input()], Visibility::default()).unwrap();
    assert!(!c.node_rows()[0].is_empty());
    check_honest(&c).unwrap();
}
