//! Circuits whose units sit in an advice column of their own (`ChipShape::split`) under the
//! real prover: key generation from the blank circuit, a proof, its verification, and the
//! rejection of a changed public output; rescale units with the inputs' range checks, and
//! rescale-max units.

use std::sync::Arc;
use zkinfer_circuits::chip::{Layout, RESCALE_UNIT_ELEMS, RESCALE_UNIT_MIN_ELEMS};
use zkinfer_circuits::ops::{AffineRow, Linear, Op, Relu, Rescale};
use zkinfer_circuits::testing::{chain, dots_then_rescales};
use zkinfer_circuits::{Graph, ModelCircuit, Visibility};
use zkinfer_prover::{keygen, prove, verify, Fr, Srs};

/// Keys for `graph` from its blank circuit, a proof of `x`, its verification, and the
/// rejection of a changed public output.
fn prove_and_verify(graph: Arc<Graph>, x: Vec<i128>) {
    let circuit = ModelCircuit::new(Arc::clone(&graph), &[x], Visibility::default()).unwrap();
    assert!(circuit.shape().split, "{:?}", circuit.shape());
    let k = circuit.min_k().unwrap();
    let cache = tempfile::tempdir().unwrap();
    let srs = Srs::dev(k, cache.path()).unwrap();
    let blank = ModelCircuit::blank(graph, Visibility::default()).unwrap();
    let pk = keygen(&srs, &blank).unwrap();
    let instances = circuit.instances();
    let proof = prove(&srs, &pk, circuit).unwrap();
    let count = instances.len();
    verify(&srs.params, pk.get_vk(), &proof, &instances, count).unwrap();
    let mut changed = instances.clone();
    changed[count - 1] += Fr::one();
    assert!(verify(&srs.params, pk.get_vk(), &proof, &changed, count).is_err());
}

#[test]
fn rescale_and_input_units_in_their_own_column_prove_and_verify() {
    // Enough rescales by 2^16 for the unit after a dot product each: the units and the
    // inputs' range checks move out of `a`, which leaves it half as long.
    let n = RESCALE_UNIT_MIN_ELEMS.next_multiple_of(RESCALE_UNIT_ELEMS) + 2;
    let graph = dots_then_rescales(n);
    assert!(graph.units_column);
    let x = (0..n as i128)
        .map(|i| (i * 1_234_567) % 8_000_001 - 4_000_000)
        .collect();
    prove_and_verify(graph, x);
}

#[test]
fn rescale_max_units_in_their_own_column_prove_and_verify() {
    // A dense layer (packed: its outputs share their inputs), its rescale and a ReLU: the
    // rescale-max units, in a column of their own (forced: too small to choose it).
    let n = 8;
    let rows = (0..n)
        .map(|o| AffineRow {
            bias: (o as i64 - 4) * 400_000,
            terms: (0..n as u32)
                .map(|k| (k, ((o * 5 + k as usize * 3) % 13) as i64 - 6))
                .collect(),
        })
        .collect();
    let ops = vec![
        ("dense", Op::Linear(Linear { rows }), n),
        ("rescale", Op::Rescale(Rescale { shift: 16 }), n),
        ("relu", Op::Relu(Relu {}), n),
    ];
    let mut graph = Arc::unwrap_or_clone(chain(n, ops, Layout::Wide));
    graph.units_column = true;
    let x = (0..n as i128)
        .map(|i| (i * 7919) % 20011 * 13 - 130_000)
        .collect();
    prove_and_verify(Arc::new(graph), x);
}
