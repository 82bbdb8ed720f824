//! Rejections: tampered proofs and public values, bad models and inputs, mismatched or
//! corrupted artifacts. Each must be a clear error and never a proof.

use std::path::{Path, PathBuf};
use std::process::Command;
use zkinfer::artifacts::{read_proof, write_json, ModelDir};
use zkinfer::{compile, input::read_inputs, prove, setup, verify, Error, Model, Visibility};

fn zoo(model: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/zoo")
        .join(model)
}

fn iris() -> (Model, Vec<Vec<f32>>) {
    let m = Model::from_path(&zoo("mlp_iris").join("model.onnx")).unwrap();
    (
        m,
        read_inputs(&zoo("mlp_iris").join("inputs/input_00.json")).unwrap(),
    )
}

fn rejected(r: zkinfer::Result<zkinfer::Verdict>) -> bool {
    matches!(r, Ok(zkinfer::Verdict::Rejected { .. }))
}

#[test]
fn tampered_proof_and_public_values_are_rejected() {
    let (m, input) = iris();
    let settings = compile(
        &m,
        std::slice::from_ref(&input),
        Visibility { public_input: true },
    )
    .unwrap();
    let keys = setup(&settings, None, &zkinfer::default_cache_dir()).unwrap();
    let proof = prove(&settings, &keys, &input).unwrap();
    let vk = keys.pk.get_vk();
    assert!(verify(&settings, &keys.srs, vk, &proof)
        .unwrap()
        .is_verified());

    let bytes = proof.bytes().unwrap();
    for pos in [0, 100, bytes.len() / 2, bytes.len() - 1] {
        let mut p = proof.clone();
        let mut b = bytes.clone();
        b[pos] ^= 1;
        p.proof = hex::encode(b);
        assert!(
            rejected(verify(&settings, &keys.srs, vk, &p)),
            "flipped byte {pos}"
        );
    }
    let mut p = proof.clone();
    p.public_outputs[0] += 1;
    assert!(
        rejected(verify(&settings, &keys.srs, vk, &p)),
        "changed output"
    );
    let mut p = proof.clone();
    p.public_inputs[2] -= 1;
    assert!(
        rejected(verify(&settings, &keys.srs, vk, &p)),
        "changed public input"
    );
    let mut p = proof.clone();
    p.public_outputs.pop();
    assert!(
        rejected(verify(&settings, &keys.srs, vk, &p)),
        "dropped output"
    );
    let mut p = proof;
    p.proof.truncate(p.proof.len() - 64);
    assert!(
        rejected(verify(&settings, &keys.srs, vk, &p)),
        "truncated proof"
    );
}

#[test]
fn bad_models_are_clear_errors() {
    let err = Model::from_bytes(b"definitely not onnx").unwrap_err();
    assert!(
        matches!(
            err,
            Error::Import(zkinfer_onnx_import::ImportError::Malformed { .. })
        ),
        "{err}"
    );
    // NonZero's output shape depends on the data: no fixed circuit proves it.
    let nonzero = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/onnx/nonzero.onnx");
    let err = Model::from_path(&nonzero).unwrap_err();
    match err {
        Error::Import(zkinfer_onnx_import::ImportError::UnsupportedOp { op_type, .. }) => {
            assert_eq!(op_type, "NonZero")
        }
        other => panic!("expected UnsupportedOp, got {other}"),
    }
}

#[test]
fn bad_inputs_are_clear_errors() {
    let (m, input) = iris();
    let settings = compile(&m, std::slice::from_ref(&input), Visibility::default()).unwrap();
    let keys = setup(&settings, None, &zkinfer::default_cache_dir()).unwrap();
    let short = vec![input[0][..3].to_vec()];
    assert!(matches!(
        prove(&settings, &keys, &short),
        Err(Error::Circuit(zkinfer::CircuitError::InputLength {
            expected: 4,
            got: 3,
            ..
        }))
    ));
    let mut nan = input.clone();
    nan[0][1] = f32::NAN;
    let err = prove(&settings, &keys, &nan).unwrap_err();
    assert!(err.to_string().contains("not finite"), "{err}");
    let mut huge = input.clone();
    huge[0][2] = 1e6;
    let err = prove(&settings, &keys, &huge).unwrap_err();
    assert!(
        matches!(
            err,
            Error::Circuit(zkinfer::CircuitError::InputOutOfRange { index: 2, .. })
        ),
        "{err}"
    );
    assert!(matches!(
        compile(&m, &[nan], Visibility::default()),
        Err(Error::Import(_))
    ));
    assert!(prove(&settings, &keys, &[]).is_err());
}

fn zkinfer(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_zkinfer"))
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn cli_flow_and_artifact_mismatches() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("iris");
    let other = tmp.path().join("digits");
    let d = dir.to_str().unwrap();
    let model = zoo("mlp_iris").join("model.onnx");
    let input = zoo("mlp_iris").join("inputs/input_01.json");
    let proof = tmp.path().join("proof.json");
    let p = proof.to_str().unwrap();
    let ok = |o: std::process::Output| {
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr))
    };
    ok(zkinfer(&[
        "compile",
        model.to_str().unwrap(),
        "--calibration",
        input.to_str().unwrap(),
        "--out",
        d,
    ]));
    ok(zkinfer(&["setup", d]));
    ok(zkinfer(&[
        "prove",
        d,
        "--input",
        input.to_str().unwrap(),
        "--proof",
        p,
    ]));
    let out = zkinfer(&["verify", d, "--proof", p, "--json"]);
    assert_eq!(out.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["verified"], true);
    // Set up with the development SRS: said on stderr and in the JSON.
    assert_eq!(v["insecure_srs"], true);
    assert!(String::from_utf8_lossy(&out.stderr).contains("development SRS"));
    // What is shown as verified comes from the checked public outputs, not the file's own
    // (unchecked) `outputs` field.
    let mut edited = read_proof(&proof).unwrap();
    let honest = edited.outputs.clone();
    edited.outputs = vec![999.0; honest.len()];
    let ed = tmp.path().join("edited.json");
    write_json(&ed, &edited).unwrap();
    let out = zkinfer(&["verify", d, "--proof", ed.to_str().unwrap(), "--json"]);
    assert_eq!(out.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["outputs"], serde_json::json!(honest));

    // A changed public output: exit 1 with the reason.
    let mut pr = read_proof(&proof).unwrap();
    pr.public_outputs[1] += 3;
    let bad = tmp.path().join("bad.json");
    write_json(&bad, &pr).unwrap();
    let out = zkinfer(&["verify", d, "--proof", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));

    // Keys of another model in place of this one's: a mismatch, not a proof.
    let digits = zoo("mlp_digits");
    let o = other.to_str().unwrap();
    ok(zkinfer(&[
        "compile",
        digits.join("model.onnx").to_str().unwrap(),
        "--calibration",
        digits.join("inputs/input_00.json").to_str().unwrap(),
        "--out",
        o,
    ]));
    ok(zkinfer(&["setup", o]));
    std::fs::copy(other.join("vk.bin"), dir.join("vk.bin")).unwrap();
    std::fs::copy(other.join("setup.json"), dir.join("setup.json")).unwrap();
    let out = zkinfer(&["verify", d, "--proof", p]);
    assert_ne!(out.status.code(), Some(0));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("other settings")
            || String::from_utf8_lossy(&out.stdout).contains("settings")
    );

    // Corrupted key file and edited settings are clear errors.
    let dd = ModelDir::new(&dir).unwrap();
    ok(zkinfer(&["setup", d]));
    let pk = dir.join("pk.bin");
    let mut bytes = std::fs::read(&pk).unwrap();
    bytes.truncate(bytes.len() / 2);
    std::fs::write(&pk, bytes).unwrap();
    let out = zkinfer(&["prove", d, "--input", input.to_str().unwrap(), "--proof", p]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("pk"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut settings = dd.settings().unwrap();
    settings.quant.as_mut().expect("a float model").act_scale -= 1;
    write_json(&dir.join("settings.json"), &settings).unwrap();
    let out = zkinfer(&["verify", d, "--proof", p]);
    assert_ne!(out.status.code(), Some(0));
    std::fs::write(dir.join("settings.json"), "{ not json").unwrap();
    let out = zkinfer(&["verify", d, "--proof", p]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn settings_sized_below_the_circuit_are_refused_at_setup() {
    let (m, input) = iris();
    let mut settings = compile(&m, &[input], Visibility::default()).unwrap();
    settings.logrows -= 1;
    let err = setup(&settings, None, &zkinfer::default_cache_dir()).unwrap_err();
    assert!(
        matches!(&err, Error::Mismatch { reason, .. } if reason.contains("below")),
        "{err}"
    );
}
