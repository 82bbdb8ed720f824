//! Pre-quantized models (onnxruntime's QDQ and QOperator int8 versions of mlp_digits,
//! cnn_digits and logreg_breast_cancer, a QDQ Conv → GlobalAveragePool, and a Concat of
//! differently quantized tensors in both forms): for all 10
//! inputs the proof verifies and the proven int8 outputs are exactly onnxruntime's (its float
//! outputs are `(q − zero_point)·scale`, so equal floats mean equal integers).

use std::path::{Path, PathBuf};
use zkinfer::{compile, input::read_inputs, prove, setup, verify, Model, Source, Visibility};
use zkinfer_onnx_import::QuantFormat;

fn data(model: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/quantized")
        .join(model)
}

fn reference(model: &str, i: usize) -> Vec<f32> {
    let text = std::fs::read_to_string(data(model).join(format!("ref_outputs/output_{i:02}.json")))
        .unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    v["output"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap() as f32)
        .collect()
}

/// Proves all 10 samples; returns (logrows, mean prove seconds).
fn prove_quantized(model: &str, format: QuantFormat) -> (u32, f64) {
    let m = Model::from_path(&data(model).join("model.onnx")).unwrap();
    match &m.source {
        Source::Quantized(q) => assert_eq!(q.format, format, "{model}"),
        Source::Float(_) => panic!("{model} imported as a float model"),
    }
    let settings = compile(&m, &[], Visibility::default()).unwrap();
    assert!(settings.quant.is_none());
    let keys = setup(&settings, None, &zkinfer::default_cache_dir()).unwrap();
    let mut seconds = 0.0;
    for i in 0..10 {
        let input = read_inputs(&data(model).join(format!("inputs/input_{i:02}.json"))).unwrap();
        if i == 0 {
            // The free-cell guard over the model's circuit.
            let q = settings.quantize_inputs(&input).unwrap();
            zkinfer_circuits::testing::check_honest(&settings.circuit(&q).unwrap())
                .unwrap_or_else(|e| panic!("{model}: {e}"));
        }
        let proof = prove(&settings, &keys, &input).unwrap();
        let verified = verify(&settings, &keys.srs, keys.pk.get_vk(), &proof)
            .unwrap()
            .verified()
            .unwrap_or_else(|| panic!("{model} input {i}: rejected"));
        seconds += proof.prove_seconds;
        let ours: Vec<f32> = verified.outputs.iter().map(|v| *v as f32).collect();
        assert_eq!(ours, reference(model, i), "{model} input {i}");
        // The reference evaluator gives the same (what `zkinfer run` shows beside the proof).
        assert_eq!(
            m.reference_outputs(&input).unwrap(),
            ours,
            "{model} input {i}"
        );
    }
    eprintln!(
        "{model}: logrows {}, rows {}, mean prove {:.2} s",
        settings.logrows,
        settings.rows,
        seconds / 10.0
    );
    (settings.logrows, seconds / 10.0)
}

#[test]
fn mlp_digits_qdq_matches_onnxruntime_exactly() {
    prove_quantized("mlp_digits_qdq", QuantFormat::Qdq);
}

#[test]
fn mlp_digits_qop_matches_onnxruntime_exactly() {
    prove_quantized("mlp_digits_qop", QuantFormat::QOperator);
}

#[test]
fn cnn_digits_qdq_matches_onnxruntime_exactly() {
    prove_quantized("cnn_digits_qdq", QuantFormat::Qdq);
}

#[test]
fn cnn_digits_qop_matches_onnxruntime_exactly() {
    prove_quantized("cnn_digits_qop", QuantFormat::QOperator);
}

#[test]
fn logreg_qdq_matches_onnxruntime_exactly() {
    prove_quantized("logreg_breast_cancer_qdq", QuantFormat::Qdq);
}

#[test]
fn logreg_qop_matches_onnxruntime_exactly() {
    prove_quantized("logreg_breast_cancer_qop", QuantFormat::QOperator);
}

/// DQ → GlobalAveragePool → Q, which onnxruntime fuses into QLinearGlobalAveragePool
/// (`tests/data/quantized/conv_gap_qdq/make.py`; input 9 saturates the pooled codes).
#[test]
fn conv_gap_qdq_matches_onnxruntime_exactly() {
    prove_quantized("conv_gap_qdq", QuantFormat::Qdq);
}

/// DQ… → Concat → Q over four int8 tensors, three quantized otherwise than the output, which
/// onnxruntime fuses into QLinearConcat (`tests/data/quantized/concat_qdq/make.py`).
#[test]
fn concat_qdq_matches_onnxruntime_exactly() {
    prove_quantized("concat_qdq", QuantFormat::Qdq);
}

/// com.microsoft QLinearConcat itself, over the same tensors.
#[test]
fn concat_qop_matches_onnxruntime_exactly() {
    prove_quantized("concat_qop", QuantFormat::QOperator);
}
