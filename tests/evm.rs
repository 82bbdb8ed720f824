//! The generated Solidity verifier in revm: valid proofs accepted, corruptions rejected.

use std::path::{Path, PathBuf};
use zkinfer::evm::{create_verifier, run_raw, verify_evm};
use zkinfer::{compile, input::read_inputs, prove, setup, verify, Model, Visibility};

fn zoo(model: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/zoo")
        .join(model)
}

#[test]
fn mlp_iris_in_revm() {
    let m = Model::from_path(&zoo("mlp_iris").join("model.onnx")).unwrap();
    let input = read_inputs(&zoo("mlp_iris").join("inputs/input_00.json")).unwrap();
    let settings = compile(&m, std::slice::from_ref(&input), Visibility::default()).unwrap();
    let keys = setup(&settings, None, &zkinfer::default_cache_dir()).unwrap();
    let proof = prove(&settings, &keys, &input).unwrap();
    verify(&settings, &keys.srs, keys.pk.get_vk(), &proof).unwrap();
    let v = create_verifier(&settings, &keys.srs, keys.pk.get_vk(), false).unwrap();
    std::fs::write("/tmp/Verifier.sol", &v.generated.solidity).unwrap();
    let out = verify_evm(&v, &proof).unwrap();
    eprintln!(
        "runtime {} bytes, outcome {out:?}",
        v.compiled.runtime.len()
    );
    assert!(out.verified);
    let mut inst = proof.instances();
    inst[0] += zkinfer_prover::Fr::one();
    let bad = run_raw(&v, &proof.bytes().unwrap(), &inst).unwrap();
    eprintln!("bad instance: {bad:?}");
    assert!(!bad.verified);
    let mut b = proof.bytes().unwrap();
    b[100] ^= 1;
    let bad = run_raw(&v, &b, &proof.instances()).unwrap();
    eprintln!("bad byte: {bad:?}");
    assert!(!bad.verified);
}
