//! Proven zoo models and the corruption set every verifier must reject (shared by the revm
//! and the anvil tests).

use rand::{Rng, SeedableRng};
use std::path::{Path, PathBuf};
use zkinfer::{compile, input::read_inputs, prove, setup, verify, Model, Visibility};
use zkinfer_prover::Fr;

/// A zoo model's directory in the test data.
pub fn zoo(model: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/zoo")
        .join(model)
}

/// A compiled model, its keys, and a verified proof of its first input.
pub struct Case {
    /// The compiled model.
    pub settings: zkinfer::Settings,
    /// Its keys (dev SRS).
    pub keys: zkinfer::Keys,
    /// A proof of `input_00`.
    pub proof: zkinfer::Proof,
}

/// Compiles `model` (calibrated on its 10 inputs) and proves `input_00`.
pub fn prove_model(model: &str, public_input: bool) -> Case {
    let m = Model::from_path(&zoo(model).join("model.onnx")).unwrap();
    let samples: Vec<_> = (0..10)
        .map(|i| read_inputs(&zoo(model).join(format!("inputs/input_{i:02}.json"))).unwrap())
        .collect();
    let settings = compile(&m, &samples, Visibility { public_input }).unwrap();
    let keys = setup(&settings, None, &zkinfer::default_cache_dir()).unwrap();
    let proof = prove(&settings, &keys, &samples[0]).unwrap();
    assert!(verify(&settings, &keys.srs, keys.pk.get_vk(), &proof)
        .unwrap()
        .is_verified());
    Case {
        settings,
        keys,
        proof,
    }
}

/// The corruptions of a valid `(proof, instances)` pair: 64 sampled single-byte flips (a
/// fixed seed), each instance plus one, the proof without its last word, an empty proof.
pub fn corruptions(bytes: &[u8], instances: &[Fr]) -> Vec<(String, Vec<u8>, Vec<Fr>)> {
    let mut out = Vec::new();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0x5eed);
    for _ in 0..64 {
        let mut b = bytes.to_vec();
        let pos = rng.gen_range(0..b.len());
        b[pos] ^= rng.gen_range(1..=255u8);
        out.push((format!("byte {pos}"), b, instances.to_vec()));
    }
    for i in 0..instances.len() {
        let mut inst = instances.to_vec();
        inst[i] += Fr::one();
        out.push((format!("instance {i}"), bytes.to_vec(), inst));
    }
    let truncated = bytes[..bytes.len() - 32].to_vec();
    out.push(("truncated".into(), truncated, instances.to_vec()));
    out.push(("empty proof".into(), vec![], instances.to_vec()));
    out
}

/// Runs the `zkinfer` binary with `args`.
pub fn zkinfer_cli(args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_zkinfer"))
        .args(args)
        .output()
        .unwrap()
}

/// `zkinfer compile`, `setup` and `prove` of mlp_iris's `input_00` through the CLI, under
/// `tmp`: returns the compiled directory and the proof file.
pub fn cli_proven_iris(tmp: &Path) -> (PathBuf, PathBuf) {
    let dir = tmp.join("iris");
    let proof = tmp.join("proof.json");
    let (d, p) = (dir.to_str().unwrap(), proof.to_str().unwrap());
    let model = zoo("mlp_iris").join("model.onnx");
    let input = zoo("mlp_iris").join("inputs/input_00.json");
    let (m, i) = (model.to_str().unwrap(), input.to_str().unwrap());
    for args in [
        vec!["compile", m, "--calibration", i, "--out", d],
        vec!["setup", d],
        vec!["prove", d, "--input", i, "--proof", p],
    ] {
        let out = zkinfer_cli(&args);
        assert!(out.status.success(), "{args:?}: {out:?}");
    }
    (dir, proof)
}
