//! `zkinfer bench` on a directory of zoo-format models: one record per model, in JSON on
//! stdout (`--json`) and in `bench.json`/`bench.md`, figures that agree with what the
//! compiled directories hold, the EVM gas with `--evm`, and the wide layout's fewer rows.

use std::path::{Path, PathBuf};
use std::process::Command;

fn zoo(model: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/zoo")
        .join(model)
}

/// Runs `zkinfer --json bench DIR` with `args`; returns the records printed on stdout.
fn bench(dir: &Path, out: &Path, args: &[&str]) -> Vec<serde_json::Value> {
    let o = Command::new(env!("CARGO_BIN_EXE_zkinfer"))
        .args(["--json", "bench"])
        .arg(dir)
        .arg("--out")
        .arg(out)
        .args(args)
        .output()
        .expect("zkinfer runs");
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{stderr}");
    assert!(stderr.contains("bench: "), "progress on stderr: {stderr}");
    serde_json::from_slice(&o.stdout).expect("one JSON array on stdout")
}

#[test]
fn bench_records_each_model_of_a_directory() {
    let tmp = tempfile::tempdir().unwrap();
    let models = tmp.path().join("models");
    for m in ["mlp_iris", "linreg_diabetes"] {
        let to = models.join(m);
        std::fs::create_dir_all(to.join("inputs")).unwrap();
        std::fs::create_dir_all(to.join("ref_outputs")).unwrap();
        std::fs::copy(zoo(m).join("model.onnx"), to.join("model.onnx")).unwrap();
        for (dir, file) in [
            ("inputs", "input_00.json"),
            ("ref_outputs", "output_00.json"),
        ] {
            std::fs::copy(zoo(m).join(dir).join(file), to.join(dir).join(file)).unwrap();
        }
    }
    let out = tmp.path().join("out");
    let records = bench(&models, &out, &["--evm"]);
    let names: Vec<&str> = records
        .iter()
        .map(|r| r["model"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["linreg_diabetes", "mlp_iris"]);
    let iris = &records[1];
    assert_eq!(iris["verified"], true);
    assert_eq!(iris["layout"], "tall");
    // 4→16→3: 64 + 48 multiply-accumulates.
    assert_eq!(iris["macs"], 112);
    let settings: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("mlp_iris/settings.json")).unwrap())
            .unwrap();
    assert_eq!(iris["logrows"], settings["logrows"]);
    assert_eq!(iris["circuit_rows"], settings["circuit_rows"]);
    // Where the rows go: the two dense layers, their rescales and the ReLU between them; the
    // inputs' range rows and the public rows are in no op.
    let by_op = iris["circuit_rows_by_op"].as_object().unwrap();
    let ops: Vec<&str> = by_op.keys().map(String::as_str).collect();
    assert_eq!(ops, ["linear", "relu", "rescale"], "{iris}");
    let in_ops: u64 = by_op.values().map(|v| v.as_u64().unwrap()).sum();
    let total = iris["circuit_rows"].as_u64().unwrap();
    assert!(in_ops > 0 && in_ops < total, "{in_ops} of {total}");
    assert_eq!(
        iris["pk_bytes"].as_u64().unwrap(),
        std::fs::metadata(out.join("mlp_iris/pk.bin"))
            .unwrap()
            .len()
    );
    assert!(iris["gas"].as_u64().unwrap() > 300_000, "{iris}");
    // The directory holds the proof: `verify` takes it as it is.
    let dir = out.join("mlp_iris");
    let v = Command::new(env!("CARGO_BIN_EXE_zkinfer"))
        .args(["verify", dir.to_str().unwrap(), "--proof"])
        .arg(dir.join("proof.json"))
        .output()
        .unwrap();
    assert!(v.status.success(), "{}", String::from_utf8_lossy(&v.stderr));
    assert!(iris["max_abs_error"].as_f64().unwrap() < 1e-2, "{iris}");
    let saved: Vec<serde_json::Value> =
        serde_json::from_slice(&std::fs::read(out.join("bench.json")).unwrap()).unwrap();
    assert_eq!(saved, records);
    let table = std::fs::read_to_string(out.join("bench.md")).unwrap();
    assert!(table.starts_with("| model | layout |"), "{table}");
    assert_eq!(table.lines().count(), 2 + records.len(), "{table}");
}

#[test]
fn bench_wide_layout_takes_fewer_rows_for_shared_inputs() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = zoo("mlp_digits");
    let tall = bench(
        &dir,
        &tmp.path().join("tall"),
        &["--calibration-samples", "2"],
    );
    let wide = bench(
        &dir,
        &tmp.path().join("wide"),
        &["--calibration-samples", "2", "--layout", "wide"],
    );
    assert_eq!(wide[0]["layout"], "wide");
    assert_eq!(wide[0]["verified"], true);
    assert_eq!(tall[0]["macs"], wide[0]["macs"]);
    let rows = |r: &serde_json::Value| r["circuit_rows"].as_u64().unwrap();
    assert!(rows(&wide[0]) * 2 < rows(&tall[0]), "{wide:?} vs {tall:?}");
    // The dense layers are what the wide layout shrinks.
    let linear = |r: &serde_json::Value| r["circuit_rows_by_op"]["linear"].as_u64().unwrap();
    assert!(
        linear(&wide[0]) * 4 < linear(&tall[0]),
        "{wide:?} vs {tall:?}"
    );
}
