//! Shared by the test files that read the ONNX conformance cases.

// Each test binary that includes this module uses only part of it.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use zkinfer::Model;
use zkinfer_onnx_import::{decode_tensor, graph_input_names, tensor_values};

/// The conformance cases copied into the repository.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/onnx-conformance")
}

/// Ops whose inputs after the first are weights.
const PARAMETER_OPS: &[&str] = &[
    "Clip",
    "Pad",
    "Pow",
    "Conv",
    "ConvTranspose",
    "Gemm",
    "MatMul",
    "BatchNormalization",
    "LayerNormalization",
];

/// A loaded conformance case.
pub struct Case {
    /// The model, parameters and integer inputs folded as constants.
    pub model: Model,
    /// The float inputs (the proven ones).
    pub inputs: Vec<Vec<f32>>,
    /// The expected first output.
    pub expected: Vec<f32>,
}

/// Loads the case in `dir`, an `op` case.
pub fn load_case(dir: &Path, op: &str) -> Result<Case, String> {
    let bytes = std::fs::read(dir.join("model.onnx")).map_err(|e| e.to_string())?;
    let names = graph_input_names(&bytes).map_err(|e| e.to_string())?;
    let data = dir.join("test_data_set_0");
    let mut floats = Vec::new();
    let mut folded = Vec::new();
    for (i, name) in names.iter().enumerate() {
        let pb = std::fs::read(data.join(format!("input_{i}.pb"))).map_err(|e| e.to_string())?;
        let mut t = decode_tensor(&pb).map_err(|e| e.to_string())?;
        let (_, dt, vals) = tensor_values(&t).map_err(|e| e.to_string())?;
        if dt == "F32" && (i == 0 || !PARAMETER_OPS.contains(&op)) {
            floats.push(vals);
        } else {
            t.name = name.clone();
            folded.push(t);
        }
    }
    let pb = std::fs::read(data.join("output_0.pb")).map_err(|e| e.to_string())?;
    let (_, _, expected) = tensor_values(&decode_tensor(&pb).map_err(|e| e.to_string())?)
        .map_err(|e| e.to_string())?;
    let model = Model::from_bytes_folding(&bytes, folded).map_err(|e| e.to_string())?;
    Ok(Case {
        model,
        inputs: floats,
        expected,
    })
}
