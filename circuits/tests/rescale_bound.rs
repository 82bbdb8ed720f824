//! A rescale whose output later nodes bound (a ReLU, a max against a constant, a table
//! lookup, another rescale) skips its own range check of it: the later bound pins it. The
//! forgery such a check exists for, another remainder with `y` moved by a multiple of
//! `2^-shift` in the field, passes the rescale's own row and fails the consumer's; where
//! nothing bounds the output later, the rescale's check catches it.

use halo2_axiom::halo2curves::bn256::Fr;
use halo2_axiom::halo2curves::ff::Field;
use std::sync::Arc;
use zkinfer_circuits::chip::{lookup_slot, Layout, LANE_A, LANE_B, RANGE_BITS};
use zkinfer_circuits::ops::{
    AffineRow, Cand, FnTable, Interp, Linear, Lookup, Max, Op, Relu, Rescale, TRUSTED_BITS,
};
use zkinfer_circuits::testing::{
    chain, check_honest, failures, failures_with, gate_at, limb, lookup_at, public_cell, Change,
    Failure, Spot, Tamper, Z,
};
use zkinfer_circuits::{Graph, ModelCircuit, Visibility};

const SHIFT: u32 = 8;
/// Inputs of the rescale: every remainder below `2^SHIFT − 1`, so a remainder one more is
/// still a valid limb.
const X: [i128; 4] = [1000, -3000, 25000, 77];
const N: usize = X.len();

/// `x → rescale → consumer` (the output), the consumer reading `out` elements.
fn rescaled_into(consumer: Option<(Op, usize)>) -> ModelCircuit {
    let mut ops = vec![("rescale", Op::Rescale(Rescale { shift: SHIFT }), N)];
    ops.extend(consumer.map(|(op, n)| ("consumer", op, n)));
    ModelCircuit::new(
        chain(N, ops, Layout::Tall),
        &[X.to_vec()],
        Visibility::default(),
    )
    .unwrap()
}

fn relu() -> (Op, usize) {
    (Op::Relu(Relu {}), N)
}

/// A max pooling of the rescaled values and 0 (a ReLU folded in), over `covered` of them.
fn max_with_zero(covered: usize) -> (Op, usize) {
    let window = (0..covered as u32)
        .map(|index| Cand::Elem { input: 0, index })
        .chain([Cand::Const(0)])
        .collect();
    let op = Max {
        min: false,
        windows: vec![window],
    };
    (Op::Max(op), 1)
}

fn lookup() -> (Op, usize) {
    let table = FnTable {
        function: "square".into(),
        in_min: -128,
        values: (-128i64..128).map(|x| x * x).collect(),
        second: vec![],
    };
    (Op::Lookup(Lookup { table }), N)
}

/// `y = x` over `[-128, 128)` by 16 segments of slope 1.
fn interp() -> (Op, usize) {
    let table = FnTable {
        function: "identity".into(),
        in_min: 0,
        values: vec![0; 16],
        second: vec![256; 16],
    };
    let op = Interp {
        table,
        x_min: -128,
        seg_bits: 4,
        out_shift: 8,
    };
    (Op::Interp(op), N)
}

fn identity() -> (Op, usize) {
    let rows = (0..N as u32)
        .map(|i| AffineRow {
            bias: 0,
            terms: vec![(i, 1)],
        })
        .collect();
    (Op::Linear(Linear { rows }), N)
}

/// `-2^-SHIFT` in the field: what `y` moves by when the remainder grows by one.
fn wrap() -> Fr {
    -Fr::from(1u64 << SHIFT).invert().unwrap()
}

fn add(lane: usize, row: usize, delta: Fr) -> Tamper {
    Tamper {
        spot: Spot::Lane { lane, row },
        change: Change::Add(delta),
    }
}

/// Element `i`'s rescale row (the remainder's limbs, `x` in lane A, `y` in lane B): the
/// remainder one more, `y` moved by `-2^-SHIFT`. The row's own gate still holds.
fn forge_rescale(c: &ModelCircuit, i: usize) -> Vec<Tamper> {
    let rows = c.node_rows()[0].clone();
    let per = rows.len() / N;
    let row = rows.start + i * per;
    vec![Tamper::shift(limb(0), row, 1), add(LANE_B, row, wrap())]
}

#[test]
fn bounded_outputs_skip_the_check_and_unbounded_ones_keep_it() {
    for (name, consumer, trusted) in [
        ("relu", Some(relu()), true),
        ("max with 0 over all", Some(max_with_zero(N)), true),
        ("max with 0 over some", Some(max_with_zero(N - 1)), false),
        ("lookup", Some(lookup()), true),
        ("interpolation", Some(interp()), true),
        ("linear", Some(identity()), false),
        ("none (the output)", None, false),
    ] {
        let c = rescaled_into(consumer);
        check_honest(&c).unwrap_or_else(|e| panic!("{name}: {e}"));
        let rows = c.node_rows()[0].len();
        let per = if trusted { 1 } else { 2 };
        assert_eq!(rows, N * per, "{name}: rescale rows");
    }
}

#[test]
fn checked_bits_follow_each_consumer() {
    let bits = |consumer| rescaled_into(Some(consumer)).graph().checked_bits()[0];
    assert_eq!(bits(relu()), Some(RANGE_BITS));
    assert_eq!(bits(max_with_zero(N)), Some(RANGE_BITS));
    assert_eq!(bits(max_with_zero(N - 1)), None);
    assert_eq!(bits(lookup()), Some(8));
    assert_eq!(bits(interp()), Some(8));
    assert_eq!(bits(identity()), None);
    // A rescale read by another: its own check kept (the output is the graph's), it bounds
    // its input below 2^(24 + shift).
    let second = Rescale { shift: 4 };
    let c = rescaled_into(Some((Op::Rescale(second.clone()), N)));
    assert_eq!(c.graph().checked_bits()[0], Some(RANGE_BITS + 4));
    const { assert!(RANGE_BITS + 4 <= TRUSTED_BITS) };
    assert_eq!(
        c.node_rows()[0].len(),
        N,
        "the first rescale trusts the second"
    );
    // The remainder's two rows (4 bits: bounded from above too), then `y`'s check.
    assert_eq!(c.node_rows()[1].len(), 3 * N, "the second checks its own");
    assert_eq!(second.rows(None), 3);
    check_honest(&c).unwrap();
}

#[test]
fn the_remainder_forgery_fails_the_relu_that_bounds_the_output() {
    let c = rescaled_into(Some(relu()));
    let public = c.instances().len();
    let i = 2;
    // The ReLU's rows: a range row per candidate (`x`, then 0), after its zero constant.
    let relu = c.node_rows()[1].clone();
    let row = relu.end - 2 * (N - i);
    let mut tampers = forge_rescale(&c, i);
    // The ReLU's copy of `y` (lane B of its first row) moved with it: every copy holds.
    tampers.push(add(LANE_B, row, wrap()));
    let fs = failures_with(
        &c.clone().with_tamper(&tampers),
        c.min_k().unwrap(),
        c.instances(),
    );
    // `y − x` no longer what its limbs decompose, and the max chain's product moved: the
    // ReLU's row, nothing on the rescale's.
    assert_eq!(
        fs,
        vec![
            gate_at("linear", public, row),
            gate_at("max chain", public, row)
        ]
    );
    // Without the copy moved, the copy fails instead: the rescale's row itself holds.
    let fs = failures_with(
        &c.clone().with_tamper(&forge_rescale(&c, i)),
        c.min_k().unwrap(),
        c.instances(),
    );
    assert!(
        fs.iter().all(|f| matches!(f, Failure::Copy { .. })),
        "{fs:?}"
    );
    assert!(!fs.is_empty());
}

#[test]
fn the_remainder_forgery_fails_the_lookup_that_bounds_the_output() {
    let c = rescaled_into(Some(lookup()));
    let public = c.instances().len();
    let i = 1;
    // Element i's lookup: its input's lane in the packed lookups' rows.
    let (r, lane) = lookup_slot(i);
    let row = c.node_rows()[1].start + r;
    let mut tampers = forge_rescale(&c, i);
    tampers.push(add(lane, row, wrap()));
    let fs = failures_with(
        &c.clone().with_tamper(&tampers),
        c.min_k().unwrap(),
        c.instances(),
    );
    assert_eq!(fs, vec![lookup_at(public, lane, row)]);
}

#[test]
fn the_remainder_forgery_fails_the_rescales_own_check_where_nothing_bounds_the_output() {
    let c = rescaled_into(None);
    let public = c.instances().len();
    let i = 0;
    let check = c.node_rows()[0].start + 2 * i + 1;
    let mut tampers = forge_rescale(&c, i);
    // The check's copy of `y` and the public output moved too, with the claimed instance.
    tampers.push(add(LANE_A, check, wrap()));
    tampers.push(Tamper {
        spot: Spot::Row(public_cell(i)),
        change: Change::Add(wrap()),
    });
    let mut instances = c.instances();
    instances[i] += wrap();
    let fs = failures_with(
        &c.clone().with_tamper(&tampers),
        c.min_k().unwrap(),
        instances,
    );
    assert_eq!(fs, vec![gate_at("linear", public, check)]);
    assert!(failures(&c).is_empty());
}

/// `x → 2^10·x → rescale by 2 → consumer`, on one element.
fn amplified(consumer: Option<Op>) -> Arc<Graph> {
    let gain = Linear {
        rows: vec![AffineRow {
            bias: 0,
            terms: vec![(0, 1 << 10)],
        }],
    };
    let mut ops = vec![
        ("gain", Op::Linear(gain), 1),
        ("rescale", Op::Rescale(Rescale { shift: 1 }), 1),
    ];
    ops.extend(consumer.map(|op| ("consumer", op, 1)));
    chain(1, ops, Layout::Tall)
}

#[test]
fn the_oracle_accepts_exactly_what_the_circuit_proves() {
    // `y = 2^9·x`: past the rescale's own range `[-2^23, 2^23)` at `x = 2^14 + 3`, past a
    // ReLU's `(-2^24, 2^24)` at `x = 2^15`.
    let (past_own, past_relu) = ((1i128 << 14) + 3, 1i128 << 15);
    let prove = |g: &Arc<Graph>, x: i128| {
        ModelCircuit::new(g.clone(), &[vec![x]], Visibility::default()).map(|c| failures(&c))
    };
    // Behind a ReLU, which bounds it: the oracle evaluates it and the circuit proves it.
    let relu = amplified(Some(Op::Relu(Relu {})));
    assert_eq!(relu.checked_bits()[1], Some(RANGE_BITS));
    assert_eq!(
        relu.eval(&[vec![past_own]]).unwrap()[2].data,
        [past_own << 9]
    );
    assert_eq!(prove(&relu, past_own).unwrap(), vec![]);
    // Past what the ReLU's rows take: refused, named by the ReLU.
    let err = prove(&relu, past_relu).unwrap_err().to_string();
    assert!(err.contains("consumer"), "{err}");
    // As the output, the rescale checks its own range: refused, named by the rescale.
    let alone = amplified(None);
    assert_eq!(alone.checked_bits()[1], None);
    let err = prove(&alone, past_own).unwrap_err().to_string();
    assert!(err.contains("rescale"), "{err}");
}

#[test]
fn a_max_counts_only_the_windows_it_lays_out() {
    // A window more than the max's one output: never laid out, so no bound.
    let (op, _) = max_with_zero(N);
    let Op::Max(mut max) = op else { unreachable!() };
    let window = max.windows[0].clone();
    assert_eq!(max.bounds_candidates(N, 1, None), Some(RANGE_BITS));
    max.windows.push(window);
    assert_eq!(max.bounds_candidates(N, 1, None), None);
    assert_eq!(max.bounds_candidates(N, 2, None), Some(RANGE_BITS));
}

#[test]
fn a_max_without_constants_bounds_its_candidates_only_through_its_output() {
    // `y − a ∈ [0, 2^24)` and `|y| < 2^b`: `|a| < 2^b + 2^24` (a pooling before a
    // requantization, which bounds `y` to 33 bits). No bound on `y`: none on `a`.
    let max = Max {
        min: false,
        windows: vec![(0..N as u32).map(Cand::of).collect()],
    };
    assert_eq!(max.bounds_candidates(N, 1, None), None);
    assert_eq!(max.bounds_candidates(N, 1, Some(33)), Some(34));
    assert_eq!(max.bounds_candidates(N, 1, Some(8)), Some(RANGE_BITS + 1));
    // With a constant too, the tighter of the two.
    let (op, _) = max_with_zero(N);
    let Op::Max(with_zero) = op else {
        unreachable!()
    };
    assert_eq!(
        with_zero.bounds_candidates(N, 1, Some(40)),
        Some(RANGE_BITS)
    );
}

fn set(lane: usize, row: usize, value: Fr) -> Tamper {
    Tamper {
        spot: Spot::Lane { lane, row },
        change: Change::Set(value),
    }
}

#[test]
fn a_whole_forgery_through_the_relu_fails_only_its_limb_lookup() {
    // The forger carries the rescale's moved `y` through the ReLU consistently: it claims the
    // output 0 (`max(y', 0)` with `y'` the huge field element), decomposes `0 − y'` with
    // its whole value in the first limb, and keeps the max chain's products and the copies
    // right. Every gate and copy holds; only the limb's lookup fails, the bound that pins `y`.
    let c = rescaled_into(Some(relu()));
    let public = c.instances().len();
    let i = 2;
    let y = Fr::from(98u64); // round(25000 / 256)
    assert_eq!(c.instances()[i], y);
    let row = c.node_rows()[1].end - 2 * (N - i);
    let forged = y + wrap();
    let mut tampers = forge_rescale(&c, i);
    tampers.extend([
        // Candidate `y'`: the copy moved, the claimed output 0, `0 − y'` in limb 0.
        add(LANE_B, row, wrap()),
        set(LANE_A, row, Fr::ZERO),
        set(limb(0), row, -forged),
        set(Z, row + 1, -forged),
        // Candidate 0: `0 − 0`, the chain's product stays 0.
        set(LANE_A, row + 1, Fr::ZERO),
        set(limb(0), row + 1, Fr::ZERO),
        Tamper {
            spot: Spot::Row(public_cell(i)),
            change: Change::Set(Fr::ZERO),
        },
    ]);
    let mut instances = c.instances();
    instances[i] = Fr::ZERO;
    let fs = failures_with(
        &c.clone().with_tamper(&tampers),
        c.min_k().unwrap(),
        instances,
    );
    assert_eq!(fs, vec![lookup_at(public, limb(0), row)]);
}

#[test]
fn a_bound_passes_through_a_reshape_and_a_dead_consumer_bounds_nothing() {
    let resc = || Op::Rescale(Rescale { shift: SHIFT });
    let reshape = Op::Reshape(zkinfer_circuits::ops::Reshape {});
    let through = chain(
        N,
        vec![
            ("rescale", resc(), N),
            ("reshape", reshape, N),
            ("relu", Op::Relu(Relu {}), N),
        ],
        Layout::Tall,
    );
    assert_eq!(
        through.checked_bits(),
        [Some(RANGE_BITS), Some(RANGE_BITS), None]
    );
    let c = ModelCircuit::new(through, &[X.to_vec()], Visibility::default()).unwrap();
    assert_eq!(c.node_rows()[0].len(), N);
    check_honest(&c).unwrap();
    // The ReLU read by nothing proven (the rescale is the output): not laid out, no bound.
    let g = chain(
        N,
        vec![("rescale", resc(), N), ("relu", Op::Relu(Relu {}), N)],
        Layout::Tall,
    );
    let dead = Arc::new(Graph {
        outputs: vec![1],
        ..(*g).clone()
    });
    assert_eq!(dead.checked_bits(), [None, None]);
    let c = ModelCircuit::new(dead, &[X.to_vec()], Visibility::default()).unwrap();
    assert_eq!(c.node_rows()[0].len(), 2 * N);
    check_honest(&c).unwrap();
}

#[test]
fn in_the_wide_layout_a_dot_before_a_rescale_bounded_later_is_packed() {
    // Dense → rescale → ReLU: the ReLU bounds the rescale's output below 2^24, the rescale
    // (no check of its own) its input below 2^(24 + 8 + 1), so the dot is packed with no
    // range rows of its own.
    let rows = (0..4)
        .map(|o| AffineRow {
            bias: o,
            terms: (0..N as u32).map(|k| (k, (o + k as i64) % 5 - 2)).collect(),
        })
        .collect();
    let wide = chain(
        N,
        vec![
            ("dense", Op::Linear(Linear { rows }), 4),
            ("rescale", Op::Rescale(Rescale { shift: SHIFT }), 4),
            ("relu", Op::Relu(Relu {}), 4),
        ],
        Layout::Wide,
    );
    assert_eq!(
        wide.checked_bits(),
        [Some(RANGE_BITS + SHIFT + 1), Some(RANGE_BITS), None]
    );
    assert_eq!(wide.checked_later(), [true, true, false]);
    let c = ModelCircuit::new(wide, &[X.to_vec()], Visibility::default()).unwrap();
    assert_eq!(c.node_rows()[1].len(), 4);
    check_honest(&c).unwrap();
}

#[test]
fn a_dot_is_packed_up_to_the_wide_bound_and_not_one_bit_past_it() {
    use zkinfer_circuits::chip::{WIDE_BOUND_BITS, WIDE_OUT};
    // Dense → rescale(s) → rescale(24) with its own check: the first rescale trusts the
    // second's bound (2^48 on its output) and bounds its input below 2^(48 + s + 1), which
    // is the wide bound for s = 12 and one bit past it for s = 13. Past it, the dense's
    // outputs need range rows of their own (two each: a static bound near 2^30).
    const TERMS: usize = 40;
    let rows: Vec<AffineRow> = (0..WIDE_OUT as i64)
        .map(|o| AffineRow {
            bias: o,
            terms: (0..TERMS as u32)
                .map(|k| (k, (o + k as i64) % 5 - 2))
                .collect(),
        })
        .collect();
    let x: Vec<i128> = (0..TERMS as i128).map(|i| (i * 37) % 101 - 50).collect();
    let dense_rows = |shift: u32| {
        let g = chain(
            TERMS,
            vec![
                ("dense", Op::Linear(Linear { rows: rows.clone() }), WIDE_OUT),
                ("first", Op::Rescale(Rescale { shift }), WIDE_OUT),
                ("second", Op::Rescale(Rescale { shift: 24 }), WIDE_OUT),
            ],
            Layout::Wide,
        );
        let bits = 2 * RANGE_BITS + shift + 1;
        assert_eq!(g.checked_bits(), [Some(bits), Some(2 * RANGE_BITS), None]);
        assert_eq!(
            g.checked_later()[0],
            bits <= WIDE_BOUND_BITS,
            "shift {shift}"
        );
        let c = ModelCircuit::new(g, std::slice::from_ref(&x), Visibility::default()).unwrap();
        check_honest(&c).unwrap();
        c.node_rows()[0].len()
    };
    assert_eq!(2 * RANGE_BITS + 12 + 1, WIDE_BOUND_BITS);
    let (packed, checked) = (dense_rows(12), dense_rows(13));
    assert!(checked >= packed + 2 * WIDE_OUT, "{packed} then {checked}");
}
