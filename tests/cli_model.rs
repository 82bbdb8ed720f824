//! Loading a model from the CLI: symbolic dimensions (a model whose inputs have a batch `N`,
//! tests/data/onnx/symbolic, is refused with the way to pin it, proves with `--dim N=1`, and
//! the compiled directory keeps the value for every later command), non-finite weights, and
//! calibration data files that do not fit the model.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn data(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(rel)
}

fn zkinfer(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_zkinfer"))
        .args(args)
        .output()
        .expect("zkinfer runs")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn unpinned_symbolic_dimension_is_refused_with_the_fix() {
    let model = data("onnx/symbolic/mlp_iris_n.onnx");
    let input = data("zoo/mlp_iris/inputs/input_00.json");
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("d");
    let (m, i, o) = (
        model.to_str().unwrap(),
        input.to_str().unwrap(),
        out.to_str().unwrap(),
    );
    for args in [
        vec!["compile", m, "--calibration", i, "--out", o],
        vec!["run", m, "--input", i],
    ] {
        let r = zkinfer(&args);
        assert_eq!(r.status.code(), Some(2), "{args:?}");
        let err = stderr(&r);
        assert!(err.contains("symbolic dimension `N`"), "{err}");
        assert!(err.contains("--dim N=1"), "{err}");
    }
    let r = zkinfer(&["compile", m, "--calibration", i, "--out", o, "--dim", "B=1"]);
    assert_eq!(r.status.code(), Some(2));
    assert!(
        stderr(&r).contains("no symbolic dimension `B`"),
        "{}",
        stderr(&r)
    );
    let r = zkinfer(&["compile", m, "--calibration", i, "--out", o, "--dim", "N"]);
    assert_eq!(r.status.code(), Some(2));
    assert!(stderr(&r).contains("NAME=VALUE"), "{}", stderr(&r));
}

#[test]
fn pinned_dimension_compiles_proves_and_is_kept() {
    let model = data("onnx/symbolic/mlp_iris_n.onnx");
    let input = data("zoo/mlp_iris/inputs/input_00.json");
    let other = data("zoo/mlp_iris/inputs/input_03.json");
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("d");
    let proof = tmp.path().join("p.json");
    let (m, i, d, p) = (
        model.to_str().unwrap(),
        input.to_str().unwrap(),
        dir.to_str().unwrap(),
        proof.to_str().unwrap(),
    );
    let o = other.to_str().unwrap();
    for args in [
        vec!["compile", m, "--calibration", i, "--out", d, "--dim", "N=1"],
        vec!["setup", d],
        // No --dim: the directory's settings carry it (prove runs the float model too).
        vec!["prove", d, "--input", o, "--proof", p],
        vec!["verify", d, "--proof", p],
    ] {
        let r = zkinfer(&args);
        assert!(r.status.success(), "{args:?}: {}", stderr(&r));
    }
    let settings: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("settings.json")).unwrap()).unwrap();
    assert_eq!(settings["dims"]["N"], 1);
    let data_dir = data("zoo/mlp_iris/inputs");
    let r = zkinfer(&[
        "--json",
        "accuracy",
        m,
        "--data",
        data_dir.to_str().unwrap(),
        "--dim",
        "N=1",
    ]);
    assert!(r.status.success(), "{}", stderr(&r));
    let report: serde_json::Value = serde_json::from_slice(&r.stdout).unwrap();
    assert_eq!(report["top1_agree"], 10);
}

#[test]
fn pinned_dimension_of_a_prequantized_model() {
    let model = data("onnx/symbolic/mlp_digits_qdq_n.onnx");
    let input = data("quantized/mlp_digits_qdq/inputs/input_00.json");
    let (m, i) = (model.to_str().unwrap(), input.to_str().unwrap());
    let r = zkinfer(&["run", m, "--input", i]);
    assert_eq!(r.status.code(), Some(2));
    assert!(stderr(&r).contains("--dim N=1"), "{}", stderr(&r));
    let r = zkinfer(&["--json", "run", m, "--input", i, "--dim", "N=1"]);
    assert!(r.status.success(), "{}", stderr(&r));
    let v: serde_json::Value = serde_json::from_slice(&r.stdout).unwrap();
    assert_eq!(v["verified"], true, "{v}");
}

#[test]
fn non_finite_weights_are_refused_by_name() {
    let input = data("zoo/mlp_iris/inputs/input_00.json");
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("d");
    for (file, value) in [("nan_weight.onnx", "NaN"), ("inf_weight.onnx", "inf")] {
        let model = data(&format!("onnx/weights/{file}"));
        let m = model.to_str().unwrap();
        for args in [
            vec![
                "compile",
                m,
                "--calibration",
                input.to_str().unwrap(),
                "--out",
                out.to_str().unwrap(),
            ],
            vec!["run", m, "--input", input.to_str().unwrap()],
        ] {
            let r = zkinfer(&args);
            assert_eq!(r.status.code(), Some(2), "{args:?}");
            let err = stderr(&r);
            let expected =
                format!("weight `fc0.weight`: value {value} at index 5 is not a finite number");
            assert!(err.contains(&expected), "{err}");
        }
    }
    assert!(!out.exists(), "nothing is written for a refused model");
}

#[test]
fn a_data_file_that_does_not_fit_is_named() {
    let model = data("zoo/mlp_iris/model.onnx");
    let tmp = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(data("zoo/mlp_iris/inputs")).unwrap() {
        let p = entry.unwrap().path();
        std::fs::copy(&p, tmp.path().join(p.file_name().unwrap())).unwrap();
    }
    let bad = tmp.path().join("input_05.json");
    let out = tmp.path().join("calibration.out");
    let (m, d) = (model.to_str().unwrap(), tmp.path().to_str().unwrap());
    for (text, why) in [
        (r#"{"input_data": [[1.0, 2.0, 3.0]]}"#, "expected 4 values"),
        (r#"{"input_data": [[1.0, 2.0, 3.0, 1e39]]}"#, "not finite"),
        (
            r#"{"input_data": [[1.0, 2.0, 3.0, 4.0], [1.0]]}"#,
            "2 inputs, the model has 1",
        ),
    ] {
        std::fs::write(&bad, text).unwrap();
        for cmd in ["calibrate", "accuracy"] {
            let r = zkinfer(
                &[cmd, m, "--data", d, "--out", out.to_str().unwrap()]
                    [..if cmd == "calibrate" { 6 } else { 4 }],
            );
            assert_eq!(r.status.code(), Some(2), "{cmd} {text}");
            let err = stderr(&r);
            assert!(
                err.contains(bad.to_str().unwrap()) && err.contains(why),
                "{cmd}: {err}"
            );
        }
    }
}
