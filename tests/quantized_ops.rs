//! Every quantized op and QDQ group against onnxruntime-produced cases
//! (`tests/data/quantized-ops/`, made by its `make_cases.py`): the reference evaluator's
//! outputs equal onnxruntime's exactly on every sample (int8/uint8/int32 integers, and floats
//! after DequantizeLinear), and the circuit is satisfied (MockProver) on each.
//!
//! Ops whose onnxruntime kernels compute in float over whole windows (QLinearAveragePool,
//! QLinearSoftmax) are not supported yet: importing them must be a clear error naming the op.

use serde_json::Value;
use std::path::{Path, PathBuf};
use zkinfer::{compile, Error, Model, Visibility};
use zkinfer_circuits::testing::check_honest;
use zkinfer_onnx_import::ImportError;

/// Op types the importer refuses, with the reason recorded in `docs/quantized.md`.
const UNSUPPORTED: &[&str] = &["QLinearAveragePool", "QLinearSoftmax"];

/// Single cases refused with an attribute error (the rest of their op is supported), with the
/// attribute named.
const REFUSED_CASES: &[(&str, &str)] = &[
    // Per-channel dequantization of a computed tensor (per-channel weights are supported).
    ("dequantize_linear_int8_per_channel", "scale"),
];

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/quantized-ops")
}

fn flat(tensors: &Value) -> Vec<Vec<f32>> {
    tensors
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            t["data"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_f64().unwrap() as f32)
                .collect()
        })
        .collect()
}

#[test]
fn every_case_matches_onnxruntime_or_is_a_clear_error() {
    let index: Value =
        serde_json::from_str(&std::fs::read_to_string(root().join("index.json")).unwrap()).unwrap();
    let cases = index["cases"].as_array().unwrap();
    assert!(cases.len() >= 40, "{} cases", cases.len());
    let (mut proven, mut refused) = (0, 0);
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let dir = root().join(name);
        let spec: Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join("case.json")).unwrap()).unwrap();
        let model = Model::from_path(&dir.join("model.onnx"));
        let op = case["op"].as_str().unwrap();
        if UNSUPPORTED.contains(&op) {
            let Err(err) = model else {
                panic!("{name}: {op} imported, but it is listed as unsupported");
            };
            let Error::Import(ImportError::UnsupportedOp { op_type, .. }) = &err else {
                panic!("{name}: expected UnsupportedOp, got {err}");
            };
            assert_eq!(op_type, op, "{name}");
            refused += 1;
            continue;
        }
        if let Some((_, why)) = REFUSED_CASES.iter().find(|(n, _)| *n == name) {
            let Err(err) = model else {
                panic!("{name}: imported, but it is listed as refused");
            };
            let Error::Import(ImportError::UnsupportedAttribute {
                op_type, attribute, ..
            }) = &err
            else {
                panic!("{name}: expected UnsupportedAttribute, got {err}");
            };
            assert_eq!((op_type.as_str(), attribute.as_str()), (op, *why), "{name}");
            refused += 1;
            continue;
        }
        let model = model.unwrap_or_else(|e| panic!("{name}: {e}"));
        let settings =
            compile(&model, &[], Visibility::default()).unwrap_or_else(|e| panic!("{name}: {e}"));
        for (s, sample) in spec["samples"].as_array().unwrap().iter().enumerate() {
            let inputs = flat(&sample["inputs"]);
            let expected: Vec<f32> = flat(&sample["outputs"]).concat();
            let ours = model.reference_outputs(&inputs).unwrap();
            assert_eq!(ours, expected, "{name} sample {s}");
            let q = settings.quantize_inputs(&inputs).unwrap();
            let circuit = settings.circuit(&q).unwrap();
            check_honest(&circuit).unwrap_or_else(|e| panic!("{name} sample {s}: {e}"));
        }
        proven += 1;
    }
    eprintln!("{proven} cases match onnxruntime and satisfy the circuit; {refused} refused");
}
