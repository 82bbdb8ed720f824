//! A circuit whose rescale units sit in an advice column of their own (`ChipShape::split`)
//! under the real prover: key generation from the blank circuit, a proof, its verification,
//! and the rejection of a changed public output.

use std::sync::Arc;
use zkinfer_circuits::chip::{Layout, RESCALE_UNIT_ELEMS, RESCALE_UNIT_MIN_ELEMS};
use zkinfer_circuits::ops::{Op, Rescale};
use zkinfer_circuits::testing::chain;
use zkinfer_circuits::{ModelCircuit, Visibility};
use zkinfer_prover::{keygen, prove, verify, Fr, Srs};

#[test]
fn a_split_circuit_proves_and_verifies() {
    // Enough rescales by 2^16 for the unit, whose rows move out of `a`: half the logrows.
    let n = RESCALE_UNIT_MIN_ELEMS.next_multiple_of(RESCALE_UNIT_ELEMS) + 2;
    let op = Op::Rescale(Rescale { shift: 16 });
    let graph = chain(n, vec![("rescale", op, n)], Layout::Wide);
    let graph =
        ModelCircuit::choose_units_column(Arc::unwrap_or_clone(graph), Visibility::default());
    let graph = Arc::new(graph.unwrap());
    assert!(graph.units_column);
    let x: Vec<i128> = (0..n as i128)
        .map(|i| (i * 1_234_567) % 8_000_001 - 4_000_000)
        .collect();
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
    changed[3] += Fr::one();
    assert!(verify(&srs.params, pk.get_vk(), &proof, &changed, count).is_err());
}
