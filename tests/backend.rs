//! The CUDA backend's parent side, without a GPU: a missing prover binary, one that dies
//! before `main` (what a halo2-axiom-gpu binary does on a machine without a usable GPU), one
//! that crashes mid-proof, and the CLI's `--backend` errors (exit 2) and its warning that a
//! GPU proof does not hide a private input. The protocol round trip
//! with the real child binary is in `cuda/tests/protocol.rs`.

#![cfg(unix)]

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use zkinfer::artifacts::ModelDir;
use zkinfer::backend::{CudaFailure, CudaProver};
use zkinfer::{compile, setup, Error, Settings, Visibility};

fn iris(dir: &Path) -> (Settings, Vec<Vec<f32>>) {
    let model = zkinfer::Model::from_bytes(zkinfer::bundled::MLP_IRIS_ONNX).unwrap();
    let input = zkinfer::input::parse_inputs(zkinfer::bundled::MLP_IRIS_INPUT, "sample").unwrap();
    let settings = compile(&model, std::slice::from_ref(&input), Visibility::default()).unwrap();
    let keys = setup(&settings, None, &zkinfer::default_cache_dir()).unwrap();
    let d = ModelDir::new(dir).unwrap();
    let onnx = dir.join("source.onnx");
    std::fs::write(&onnx, zkinfer::bundled::MLP_IRIS_ONNX).unwrap();
    d.write_compiled(&settings, &onnx).unwrap();
    d.write_keys(&settings, &keys).unwrap();
    (settings, input)
}

/// An executable shell script standing in for `zkinfer-cuda`.
fn script(dir: &Path, name: &str, body: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

fn failure(r: zkinfer::Result<impl std::fmt::Debug>) -> (CudaFailure, String) {
    match r {
        Err(Error::Cuda { kind, detail }) => (kind, detail),
        other => panic!("expected a CUDA failure, got {other:?}"),
    }
}

#[test]
fn child_failures_are_named() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("iris");
    let (settings, input) = iris(&dir);
    let prove = |binary: PathBuf| CudaProver::at(binary).prove(&dir, &settings, &input);

    let (kind, detail) = failure(prove(tmp.path().join("missing")));
    assert_eq!(kind, CudaFailure::NotFound);
    assert!(detail.contains("missing"), "{detail}");

    // Dies before `main`, as a halo2-axiom-gpu binary does without a GPU: no report at all.
    let abort = script(
        tmp.path(),
        "abort",
        "echo 'CUDA driver: no device' >&2; kill -ABRT $$",
    );
    let (kind, detail) = failure(prove(abort));
    assert_eq!(kind, CudaFailure::NoDevice);
    assert!(
        detail.contains("signal 6") && detail.contains("no device"),
        "{detail}"
    );
    assert_eq!(
        Error::Cuda { kind, detail }.to_string().split(':').next(),
        Some("no usable GPU")
    );

    // Reaches `main` (writes `started`), then crashes.
    let crash = script(
        tmp.path(),
        "crash",
        r#"while [ "$1" != --report ]; do shift; done
echo '{"status":"started","protocol":1}' > "$2"; kill -SEGV $$"#,
    );
    let (kind, detail) = failure(prove(crash));
    assert_eq!(kind, CudaFailure::Crashed);
    assert!(detail.contains("signal 11"), "{detail}");

    // Reports its own failure.
    let oom = script(
        tmp.path(),
        "oom",
        r#"while [ "$1" != --report ]; do shift; done
echo '{"status":"failed","protocol":1,"kind":"out_of_memory","message":"12 GiB free"}' > "$2"
exit 2"#,
    );
    assert_eq!(
        failure(prove(oom)),
        (CudaFailure::OutOfMemory, "12 GiB free".to_string())
    );

    // Speaks another protocol.
    let old = script(
        tmp.path(),
        "old",
        r#"while [ "$1" != --report ]; do shift; done
echo '{"status":"started","protocol":0}' > "$2"; exit 0"#,
    );
    let (kind, detail) = failure(prove(old));
    assert_eq!(kind, CudaFailure::Failed);
    assert!(detail.contains("protocol 0"), "{detail}");
}

#[test]
fn cli_backend_errors_exit_2_and_cpu_is_the_default() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("iris");
    iris(&dir);
    let input = tmp.path().join("input.json");
    std::fs::write(&input, zkinfer::bundled::MLP_IRIS_INPUT).unwrap();
    let proof = tmp.path().join("proof.json");
    let zkinfer = |backend: &[&str], bin: &Path| {
        Command::new(env!("CARGO_BIN_EXE_zkinfer"))
            .arg("prove")
            .arg(&dir)
            .arg("--input")
            .arg(&input)
            .arg("--proof")
            .arg(&proof)
            .args(backend)
            .env("ZKINFER_CUDA_BIN", bin)
            .output()
            .unwrap()
    };
    let out = zkinfer(&["--backend", "cuda"], &tmp.path().join("nowhere"));
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("CUDA prover not found"), "{err}");

    let abort = script(tmp.path(), "abort", "kill -ABRT $$");
    let out = zkinfer(&["--backend", "cuda"], &abort);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no usable GPU"), "{err}");
    // The input is private: a GPU proof would not hide it (unblinded lookup columns).
    assert!(err.contains("does not hide the private input"), "{err}");

    // The default backend is the CPU, which never looks for the CUDA binary and blinds.
    let out = zkinfer(&[], &abort);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(!err.contains("does not hide"), "{err}");
    let out = Command::new(env!("CARGO_BIN_EXE_zkinfer"))
        .arg("verify")
        .arg(&dir)
        .arg("--proof")
        .arg(&proof)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
