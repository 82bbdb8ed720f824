//! The wide layout's rescale-max unit: a rescale by 2^16 laid out inside the max pooling or
//! ReLU that reads it. Honest units pass MockProver and the free-cell guard and prove what
//! the two ops prove laid out apart (the tall layout's instances); an output above every
//! candidate fails the product, a quotient moved by one needs a remainder past its limbs, a
//! forged rescaled value fails its unit's equation, and shapes the unit does not have are
//! laid out unfused. In a column of their own (a split circuit's `b`) the units prove the same
//! and fail the same way.

use halo2_axiom::halo2curves::bn256::Fr;
use std::sync::Arc;
use zkinfer_circuits::chip::{
    ChipShape, FusedUnit, Layout, BLOCK, FUSED_SHIFT, PACK_BITS, WIDE_ROWS,
};
use zkinfer_circuits::ops::{AffineRow, Cand, Linear, Max, Op, Relu, Rescale};
use zkinfer_circuits::testing::{
    assert_rejected, assert_rejected_copies, chain, check_honest, failures, failures_tampered,
    gate_at, lookup_at, Failure, Tamper,
};
use zkinfer_circuits::{Graph, ModelCircuit, Tensor, Visibility};

/// Elements of the input, of the dense layer, of its rescale.
const N: usize = 8;

/// A dense layer whose outputs share every input (the wide layout packs them), so that
/// only the unit bounds its accumulators.
fn dense() -> Op {
    let rows = (0..N)
        .map(|o| AffineRow {
            bias: (o as i64 - 4) * 400_000,
            terms: (0..N)
                .map(|k| (k as u32, ((o * 5 + k * 3) % 13) as i64 - 6))
                .collect(),
        })
        .collect();
    Op::Linear(Linear { rows })
}

/// The input: accumulators of both signs, some rescaling to zero or below.
fn input() -> Vec<i128> {
    (0..N as i128)
        .map(|i| (i * 7919) % 20011 * 13 - 130_000)
        .collect()
}

/// Two 2×2 windows (four elements and the constant 0 each), or the identity for a ReLU.
fn pool(min: bool) -> Op {
    let windows = (0..N / 4)
        .map(|w| {
            let mut c: Vec<Cand> = (0..4).map(|i| Cand::of((4 * w + i) as u32)).collect();
            c.insert(2, Cand::Const(0));
            c
        })
        .collect();
    Op::Max(Max { min, windows })
}

/// `x → dense → rescale(shift) → reader` in `layout`.
fn graph(shift: u32, reader: Op, layout: Layout) -> Arc<Graph> {
    let n_out = match &reader {
        Op::Max(m) => m.windows.len(),
        _ => N,
    };
    chain(
        N,
        vec![
            ("dense", dense(), N),
            ("rescale", Op::Rescale(Rescale { shift }), N),
            ("reader", reader, n_out),
        ],
        layout,
    )
}

fn circuit(shift: u32, reader: Op, layout: Layout) -> ModelCircuit {
    ModelCircuit::new(
        graph(shift, reader, layout),
        &[input()],
        Visibility::default(),
    )
    .unwrap()
}

/// The `(lane, layout row)` of the unit cell at `offset` of the unit starting on `row`.
fn at(row: usize, offset: usize) -> (usize, usize) {
    (offset % BLOCK, row + offset / BLOCK)
}

/// The first layout row of the reader's unit `k` with `n` candidates.
fn unit_row(c: &ModelCircuit, n: usize, k: usize) -> usize {
    c.node_rows()[2].start + k * FusedUnit::of(n).unwrap().rows()
}

/// `values` laid out as they are (a forged evaluation of `honest`'s graph) fail the gate of
/// unit `k` (of `n` candidates) and nothing else.
fn assert_only_the_unit_fails(honest: &ModelCircuit, values: Vec<Tensor>, n: usize, k: usize) {
    let forged = ModelCircuit::forged(honest.graph().clone().into(), values, Default::default());
    let unit = gate_at("rescale max", public(&forged), unit_row(&forged, n, k));
    assert_rejected(&failures(&forged), &[unit], &[]);
}

fn public(c: &ModelCircuit) -> usize {
    c.instances().len()
}

#[test]
fn units_are_honest_and_prove_what_the_two_ops_prove_apart() {
    for (reader, n) in [(pool(false), 4), (Op::Relu(Relu {}), 1)] {
        let wide = circuit(FUSED_SHIFT, reader.clone(), Layout::Wide);
        check_honest(&wide).unwrap();
        // The circuit has the unit's gate, and not the requant unit's, which it does not use.
        let shape = ChipShape {
            rescale_max: true,
            ..ChipShape::from(Layout::Wide)
        };
        assert_eq!(wide.graph().chip_shape(), shape);
        let tall = circuit(FUSED_SHIFT, reader, Layout::Tall);
        assert_eq!(wide.instances(), tall.instances());
        // The dense layer is packed: only the units bound its accumulators.
        assert!(wide.node_rows()[0].len() < tall.node_rows()[0].len());
        let out = &wide.values()[3].data;
        assert!(out.contains(&0) && out.iter().any(|y| *y > 0), "{out:?}");
        // The rescale takes no rows: the reader's units hold it.
        let rows = wide.node_rows();
        assert!(rows[1].is_empty());
        let unit = FusedUnit::of(n).unwrap();
        assert_eq!(rows[2].len(), out.len() * unit.rows());
    }
}

#[test]
fn an_output_above_every_candidate_fails_only_the_product() {
    // y = max + 1: every difference is at least 1 and a valid limb, y's limbs hold it, and
    // each candidate's equation holds with its honest remainder; only `y·ΠD = 0` fails.
    let honest = circuit(FUSED_SHIFT, pool(false), Layout::Wide);
    let mut values = honest.values().to_vec();
    values[3].data[1] += 1;
    assert_only_the_unit_fails(&honest, values, 4, 1);
}

#[test]
fn a_quotient_moved_by_one_needs_a_remainder_past_its_limbs() {
    // A ReLU unit whose candidate rescales below zero (y = 0): `D + 1` with `R + 2^16`
    // keeps `x + half = (y − D)·2^16 + R` and `y·D = 0`, so the quotient `y − D` would drop
    // by one — but the remainder's top limb is then past 2^8 and fails the limb lookup.
    let c = circuit(FUSED_SHIFT, Op::Relu(Relu {}), Layout::Wide);
    let unit = FusedUnit::of(1).unwrap();
    let (rescaled, out) = (&c.values()[2].data, &c.values()[3].data);
    let k = (0..N)
        .find(|&i| out[i] == 0 && (-rescaled[i]) & 0xff < 0xff)
        .expect("an element rescaling below zero");
    let row = unit_row(&c, 1, k);
    let (d_lane, d_row) = at(row, unit.d_limb(0, 0));
    let (r_lane, r_row) = at(row, unit.r_limb(0, 1));
    let fs = failures_tampered(
        &c,
        &[
            Tamper::shift(d_lane, d_row, 1),
            Tamper::shift(r_lane, r_row, 1 << 8),
        ],
    );
    assert_rejected(&fs, &[lookup_at(public(&c), r_lane, r_row)], &[]);
}

#[test]
fn a_forged_rescaled_value_fails_its_units_equation() {
    // The rescale's value one more than `round(x / 2^16)` (its readers evaluated on it, as
    // the oracle would): the remainder that would balance it is negative, and its limbs,
    // taken as they are, leave the equation 2^16 off.
    let honest = circuit(FUSED_SHIFT, Op::Relu(Relu {}), Layout::Wide);
    let k = 3;
    let mut values = honest.values().to_vec();
    values[2].data[k] += 1;
    values[3].data[k] = values[2].data[k].max(0);
    assert_only_the_unit_fails(&honest, values, 1, k);
}

#[test]
fn a_moved_accumulator_copy_or_output_breaks_the_unit() {
    let c = circuit(FUSED_SHIFT, pool(false), Layout::Wide);
    let unit = FusedUnit::of(4).unwrap();
    let row = unit_row(&c, 4, 0);
    // `x_2` moved: its copy of the accumulator, and its equation.
    let (lane, r) = at(row, unit.x(2));
    let fs = failures_tampered(&c, &[Tamper::shift(lane, r, 1 << 16)]);
    let cell = zkinfer_circuits::testing::cell_row(public(&c), lane, r);
    assert_rejected(&fs, &[gate_at("rescale max", public(&c), row)], &[cell]);
    // `y` moved alone: it no longer equals its limbs, and its copy into the public row breaks.
    let (lane, r) = at(row, unit.y());
    let fs = failures_tampered(&c, &[Tamper::shift(lane, r, 1)]);
    let cell = zkinfer_circuits::testing::cell_row(public(&c), lane, r);
    assert_rejected(&fs, &[gate_at("rescale max", public(&c), row)], &[cell]);
}

#[test]
fn errors_that_cancel_in_a_packed_constraint_fail_the_unit() {
    // Accumulators 0 and 1 share a packed constraint, 1 at 2^PACK_BITS: 0 forged by
    // d·2^PACK_BITS and 1 by −d leave the shared-input gate vanishing, and their copies in
    // the unit move with them. Candidate 1's remainder absorbs its −d, so its equation
    // holds; candidate 0's cannot absorb d·2^PACK_BITS (its quotient `y − D` would need
    // `D` far outside 24 bits): its equation is all that fails.
    let c = circuit(FUSED_SHIFT, pool(false), Layout::Wide);
    let unit = FusedUnit::of(4).unwrap();
    let after = c.node_rows()[0].start + WIDE_ROWS;
    let row = unit_row(&c, 4, 0);
    let (x0, x1, r1) = (unit.x(0), unit.x(1), unit.r_limb(1, 0));
    let acc1 = c.values()[1].data[1];
    let limb = (acc1 + (1 << (FUSED_SHIFT - 1))).rem_euclid(1 << FUSED_SHIFT) & 0xff;
    let d: i128 = if limb >= 1 { 1 } else { -1 };
    let shift = |offset: usize, delta: i128| {
        let (lane, r) = at(row, offset);
        Tamper::shift(lane, r, delta)
    };
    let tampers = [
        Tamper::shift(0, after, d << PACK_BITS),
        shift(x0, d << PACK_BITS),
        Tamper::shift(1, after, -d),
        shift(x1, -d),
        shift(r1, -d),
    ];
    assert_rejected(
        &failures_tampered(&c, &tampers),
        &[gate_at("rescale max", public(&c), row)],
        &[],
    );
}

#[test]
fn other_shifts_mins_and_window_shapes_are_laid_out_apart() {
    // Shift 8, a min, a window of two elements: the rescale keeps its own rows.
    let two = Op::Max(Max {
        min: false,
        windows: (0..N / 2)
            .map(|w| {
                vec![
                    Cand::of(2 * w as u32),
                    Cand::of(2 * w as u32 + 1),
                    Cand::Const(0),
                ]
            })
            .collect(),
    });
    for (shift, reader) in [
        (8, pool(false)),
        (FUSED_SHIFT, pool(true)),
        (FUSED_SHIFT, two),
    ] {
        let c = circuit(shift, reader, Layout::Wide);
        assert!(!c.node_rows()[1].is_empty(), "shift {shift}");
        assert_eq!(
            c.graph().chip_shape(),
            Layout::Wide.into(),
            "no unit, no gate"
        );
        check_honest(&c).unwrap();
    }
}

/// The circuit with its units in a column of their own, `b` (compilation chooses that only
/// where it halves the circuit; this one is forced).
fn split_circuit(reader: Op) -> ModelCircuit {
    let mut g = Arc::unwrap_or_clone(graph(FUSED_SHIFT, reader, Layout::Wide));
    g.units_column = true;
    let c = ModelCircuit::new(Arc::new(g), &[input()], Visibility::default()).unwrap();
    assert!(c.shape().split && c.shape().rescale_max, "{:?}", c.shape());
    c
}

/// The gate failure of unit `k` (of `n` candidates) in `b`.
fn unit_in_b(n: usize, k: usize) -> Failure {
    Failure::Gate {
        gate: "rescale max".into(),
        row: k * FusedUnit::of(n).unwrap().cells(),
    }
}

#[test]
fn in_their_own_column_units_are_honest_and_hold_what_they_held_in_a() {
    for reader in [pool(false), Op::Relu(Relu {})] {
        let split = split_circuit(reader.clone());
        check_honest(&split).unwrap();
        // The reader's units left `a`.
        let apart = circuit(FUSED_SHIFT, reader, Layout::Wide);
        assert!(split.node_rows()[2].is_empty() && !apart.node_rows()[2].is_empty());
    }
}

#[test]
fn in_their_own_column_an_output_above_every_candidate_or_a_moved_copy_fails_the_unit() {
    let honest = split_circuit(pool(false));
    let mut values = honest.values().to_vec();
    values[3].data[1] += 1;
    let forged = ModelCircuit::forged(honest.graph().clone().into(), values, Default::default());
    assert_rejected(&failures(&forged), &[unit_in_b(4, 1)], &[]);
    // `x_2` of unit 0 moved: its equation, and its copy of the accumulator.
    let x = FusedUnit::of(4).unwrap().x(2);
    let fs = failures_tampered(&honest, &[Tamper::shift_unit(x, Fr::from(1 << 16))]);
    assert_rejected_copies(&fs, &[unit_in_b(4, 0)], &[Failure::UnitCopy { row: x }]);
}

#[test]
fn in_their_own_column_a_quotient_moved_by_one_needs_a_remainder_past_its_limbs() {
    let c = split_circuit(Op::Relu(Relu {}));
    let unit = FusedUnit::of(1).unwrap();
    let (rescaled, out) = (&c.values()[2].data, &c.values()[3].data);
    let k = (0..N)
        .find(|&i| out[i] == 0 && (-rescaled[i]) & 0xff < 0xff)
        .expect("an element rescaling below zero");
    let base = k * unit.cells();
    let fs = failures_tampered(
        &c,
        &[
            Tamper::shift_unit(base + unit.d_limb(0, 0), Fr::one()),
            Tamper::shift_unit(base + unit.r_limb(0, 1), Fr::from(1 << 8)),
        ],
    );
    let limb = Failure::UnitLookup {
        row: base + unit.r_limb(0, 1),
    };
    assert_rejected(&fs, &[limb], &[]);
}

#[test]
fn in_their_own_column_units_of_both_shapes_follow_each_other() {
    // x → dense → rescale → ReLU (8 one-candidate units) → dense → rescale → 2×2 pooling (2
    // four-candidate units): in `b`, the pooling's units start where the ReLU's end.
    let mut g = Arc::unwrap_or_clone(zkinfer_circuits::testing::dag(
        N,
        vec![
            (dense(), vec![0], N),
            (Op::Rescale(Rescale { shift: FUSED_SHIFT }), vec![1], N),
            (Op::Relu(Relu {}), vec![2], N),
            (dense(), vec![3], N),
            (Op::Rescale(Rescale { shift: FUSED_SHIFT }), vec![4], N),
            (pool(false), vec![5], N / 4),
        ],
        Layout::Wide,
    ));
    g.units_column = true;
    let c = ModelCircuit::new(Arc::new(g), &[input()], Visibility::default()).unwrap();
    check_honest(&c).unwrap();
    let relus = N * FusedUnit::of(1).unwrap().cells();
    // The second window's output one above every candidate: only its unit's product fails.
    let mut values = c.values().to_vec();
    values[6].data[1] += 1;
    let forged = ModelCircuit::forged(c.graph().clone().into(), values, Default::default());
    let unit = Failure::Gate {
        gate: "rescale max".into(),
        row: relus + FusedUnit::of(4).unwrap().cells(),
    };
    assert_rejected(&failures(&forged), &[unit], &[]);
    // The cell a unit skips, and a cell past the last unit: nothing reads them.
    let skipped = relus + zkinfer_circuits::chip::LANES;
    let past = relus + 2 * FusedUnit::of(4).unwrap().cells();
    for row in [skipped, past] {
        let fs = failures_tampered(&c, &[Tamper::shift_unit(row, Fr::from(1 << 40))]);
        assert_eq!(fs, [], "row {row} of b");
    }
}
