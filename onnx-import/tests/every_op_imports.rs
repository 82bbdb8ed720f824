//! Every ONNX op type the importer accepts (`supported_onnx_ops`, the op index of
//! `docs/ops.md`) imports: some model of the repository's test data that uses it is parsed,
//! calibrated on its sample and lowered to the integer graph. The models: the conformance
//! cases (`tests/data/onnx-conformance`), the backend node tests of `tests/data/onnx/ops` (for
//! accepted ops no conformance case has), the single-op models of `tests/data/onnx/unary` and
//! the zoo. A case's inputs after the first are folded in as constants, as its weights.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use tract_onnx::prelude::Framework;
use zkinfer_onnx_import::{
    decode_tensor, graph_input_names, lower, supported_onnx_ops, tensor_values, FloatModel,
    QuantSettings, TensorProto,
};

fn data() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/data")
}

/// A model file and where its sample is.
enum Sample {
    /// `test_data_set_0/input_N.pb` beside the model.
    Pb(PathBuf),
    /// A JSON file `{"input": [...]}`.
    Json(PathBuf),
}

fn models() -> Vec<(PathBuf, Sample)> {
    let mut out = Vec::new();
    for dir in ["onnx-conformance", "onnx/ops", "zoo"] {
        let mut cases: Vec<PathBuf> = std::fs::read_dir(data().join(dir))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.join("model.onnx").exists())
            .collect();
        cases.sort();
        for c in cases {
            let sample = if c.join("test_data_set_0").exists() {
                Sample::Pb(c.join("test_data_set_0"))
            } else {
                Sample::Json(c.join("inputs/input_00.json"))
            };
            out.push((c.join("model.onnx"), sample));
        }
    }
    let unary = data().join("onnx/unary");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&unary)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "onnx"))
        .collect();
    files.sort();
    for f in files {
        let json = f.with_extension("json");
        out.push((f, Sample::Json(json)));
    }
    out
}

/// Parses, calibrates on the sample and lowers the model.
fn import(model: &Path, sample: &Sample) -> Result<(), String> {
    let bytes = std::fs::read(model).map_err(|e| e.to_string())?;
    let err = |e: zkinfer_onnx_import::ImportError| e.to_string();
    let (folded, inputs): (Vec<TensorProto>, Vec<Vec<f32>>) = match sample {
        Sample::Pb(dir) => {
            let names = graph_input_names(&bytes).map_err(err)?;
            let mut folded = Vec::new();
            let mut inputs = Vec::new();
            for (i, name) in names.iter().enumerate() {
                let pb =
                    std::fs::read(dir.join(format!("input_{i}.pb"))).map_err(|e| e.to_string())?;
                let mut t = decode_tensor(&pb).map_err(err)?;
                let (_, dt, values) = tensor_values(&t).map_err(err)?;
                if i == 0 && dt == "F32" {
                    inputs.push(values);
                } else {
                    t.name = name.clone();
                    folded.push(t);
                }
            }
            (folded, inputs)
        }
        Sample::Json(path) => {
            let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
            let v: serde_json::Value = serde_json::from_str(&text).map_err(|e| e.to_string())?;
            let input = v["input"]
                .as_array()
                .ok_or("no input")?
                .iter()
                .map(|x| x.as_f64().unwrap_or(0.0) as f32)
                .collect();
            (vec![], vec![input])
        }
    };
    let model = FloatModel::from_bytes_folding(&bytes, folded).map_err(err)?;
    let settings = QuantSettings::calibrate(&model, std::slice::from_ref(&inputs)).map_err(err)?;
    lower(&model, settings, &[inputs]).map_err(err)?;
    Ok(())
}

#[test]
fn every_supported_op_imports_in_some_test_model() {
    let onnx = tract_onnx::onnx();
    let mut users: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    let models = models();
    for (i, (path, _)) in models.iter().enumerate() {
        let proto = onnx.proto_model_for_path(path).unwrap();
        for node in &proto.graph.unwrap().node {
            let users = users.entry(node.op_type.clone()).or_default();
            if users.last() != Some(&i) {
                users.push(i);
            }
        }
    }
    let mut imported: BTreeMap<usize, Result<(), String>> = BTreeMap::new();
    let mut failing = Vec::new();
    for op in supported_onnx_ops() {
        let Some(candidates) = users.get(*op) else {
            failing.push(format!("{op}: no test model uses it"));
            continue;
        };
        let mut last = String::new();
        let ok = candidates.iter().any(|i| {
            let (path, sample) = &models[*i];
            let r = imported.entry(*i).or_insert_with(|| import(path, sample));
            if let Err(e) = r {
                last = format!("{}: {e}", path.display());
            }
            r.is_ok()
        });
        if !ok {
            failing.push(format!("{op}: no model imports ({last})"));
        }
    }
    assert!(failing.is_empty(), "{}", failing.join("\n"));
}
