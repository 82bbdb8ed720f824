//! The parent ↔ child protocol with the real `zkinfer-cuda` binary, without a GPU: its CPU
//! mode proves through the same files, and the proof verifies under the keys of the CPU path;
//! built without the `cuda` feature (as the test suite builds it), `--device cuda` says so.

use std::path::Path;
use zkinfer::artifacts::ModelDir;
use zkinfer::backend::CudaProver;
use zkinfer::{compile, setup, verify, Settings, Visibility};

const CHILD: &str = env!("CARGO_BIN_EXE_zkinfer-cuda");

fn iris(dir: &Path) -> (Settings, Vec<Vec<f32>>) {
    let model = zkinfer::Model::from_bytes(zkinfer::bundled::MLP_IRIS_ONNX).unwrap();
    let input = zkinfer::input::parse_inputs(zkinfer::bundled::MLP_IRIS_INPUT, "sample").unwrap();
    let settings = compile(&model, std::slice::from_ref(&input), Visibility::default()).unwrap();
    let keys = setup(&settings, None, &zkinfer::default_cache_dir()).unwrap();
    let d = ModelDir::new(dir).unwrap();
    zkinfer::artifacts::write_json(&dir.join("settings.json"), &settings).unwrap();
    d.write_keys(&settings, &keys).unwrap();
    (settings, input)
}

#[test]
fn cpu_mode_round_trip_verifies_under_the_same_keys() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("iris");
    let (settings, input) = iris(&dir);
    let prover = CudaProver {
        runs: 2,
        args: vec!["--device".into(), "cpu".into()],
        ..CudaProver::at(CHILD)
    };
    let (proof, report) = prover.prove(&dir, &settings, &input).unwrap();
    assert_eq!(report.device, "cpu");
    assert_eq!(report.prove_seconds.len(), 2);
    assert!(report.peak_rss_bytes.is_some());

    let d = ModelDir::new(&dir).unwrap();
    let (srs, vk) = d.verifier(&settings).unwrap();
    assert!(verify(&settings, &srs, &vk, &proof).unwrap().is_verified());
    // The same proof file as the CPU path's: same fields, same binding, same outputs.
    let keys = d.keys(&settings).unwrap();
    let cpu = zkinfer::prove(&settings, &keys, &input).unwrap();
    assert_eq!(proof.public_outputs, cpu.public_outputs);
    assert_eq!(
        (&proof.settings_hash, &proof.vk_hash, &proof.srs),
        (&cpu.settings_hash, &cpu.vk_hash, &cpu.srs)
    );
    assert_eq!(proof.proof.len(), cpu.proof.len());

    // One flipped byte: rejected.
    let mut bad = proof.clone();
    let mut bytes = bad.bytes().unwrap();
    bytes[100] ^= 1;
    bad.proof = hex_encode(&bytes);
    assert!(matches!(
        verify(&settings, &srs, &vk, &bad),
        Ok(zkinfer::Verdict::Rejected { .. })
    ));
}

fn hex_encode(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(not(feature = "cuda"))]
#[test]
fn without_the_feature_the_gpu_is_refused_with_exit_2() {
    use zkinfer::backend::CudaFailure;
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("iris");
    let (settings, input) = iris(&dir);
    match CudaProver::at(CHILD).prove(&dir, &settings, &input) {
        Err(zkinfer::Error::Cuda { kind, detail }) => {
            assert_eq!(kind, CudaFailure::NotBuilt);
            assert!(detail.contains("build-cuda.sh"), "{detail}");
        }
        other => panic!("expected NotBuilt, got {other:?}"),
    }
    let out = std::process::Command::new(CHILD)
        .arg("prove")
        .arg(&dir)
        .args(["--input", "x", "--proof", "y", "--report"])
        .arg(tmp.path().join("report.json"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("built without the cuda feature"), "{err}");
}
