//! Calibration and accuracy of float models: the scales chosen per tensor, and how far the
//! quantized reference evaluator (what the circuit proves) is from tract's float inference,
//! output by output and layer by layer.

use crate::error::{io_err, Error, Result};
use crate::pipeline::{Model, Settings};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use zkinfer_onnx_import::{check_values, QuantSettings, Target};

/// What `zkinfer calibrate` writes and `zkinfer compile --calibrated` reads: the scales and
/// the samples they were chosen on (the samples also size the lookup tables).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Calibration {
    /// Artifact format version.
    pub format_version: u32,
    /// SHA-256 of the ONNX file calibrated.
    pub model_sha256: String,
    /// The chosen scales.
    pub quant: QuantSettings,
    /// The calibration samples (one float vector per model input each).
    pub samples: Vec<Vec<Vec<f32>>>,
}

/// Error statistics of one layer (a graph tensor that computes a tract node) over a data
/// set: how far the quantized value is from tract's float value.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LayerStats {
    /// The ONNX/tract node.
    pub name: String,
    /// The quantized op computing it.
    pub op: String,
    /// Fixed-point scale exponent of the tensor.
    pub scale: i32,
    /// Largest |float value| seen.
    pub max_abs_value: f64,
    /// Largest |quantized − float|.
    pub max_abs_error: f64,
    /// Mean |quantized − float|.
    pub mean_abs_error: f64,
}

/// How the quantized model compares with float inference over a data set.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AccuracyReport {
    /// Samples evaluated.
    pub samples: usize,
    /// Samples whose output argmax agrees with the float model's (multi-element outputs;
    /// for a single output, the sign of `y − 0.5` for probabilities in [0, 1] and the sign of
    /// `y` otherwise).
    pub top1_agree: usize,
    /// Output rows (each vector along the last axis of an output with more than one element
    /// there: a sequence model's logits at each position) whose argmax agrees with the float
    /// model's, over all samples.
    #[serde(default)]
    pub rows_agree: usize,
    /// Output rows compared for [`AccuracyReport::rows_agree`].
    #[serde(default)]
    pub rows: usize,
    /// Largest |quantized − float| over all outputs.
    pub max_abs_error: f64,
    /// Mean |quantized − float| over all outputs.
    pub mean_abs_error: f64,
    /// Per layer, in graph order: where error enters.
    pub layers: Vec<LayerStats>,
}

/// Reads every `*.json` input file of `dir`, sorted by name.
pub fn read_data_dir(dir: &Path) -> Result<Vec<Vec<Vec<f32>>>> {
    data_files(dir)?
        .iter()
        .map(|f| crate::input::read_inputs(f))
        .collect()
}

/// [`read_data_dir`] with each file checked against `model`'s inputs (their number, each
/// one's length and declared shape, finite values): a file that does not fit is an error
/// naming it.
pub fn read_data_dir_for(dir: &Path, model: &Model) -> Result<Vec<Vec<Vec<f32>>>> {
    let decl = crate::input::model_inputs(model)?;
    data_files(dir)?
        .iter()
        .map(|f| {
            let file = crate::input::read_input_file(f)?;
            file.check_shape(&decl)?;
            let fits = if file.values.len() == decl.len() {
                decl.iter()
                    .zip(&file.values)
                    .try_for_each(|((name, shape), v)| check_values(name, shape, v))
                    .map_err(|e| e.to_string())
            } else {
                Err(format!(
                    "{} inputs, the model has {}",
                    file.values.len(),
                    decl.len()
                ))
            };
            fits.map_err(|reason| Error::BadFile {
                path: f.display().to_string(),
                reason,
            })?;
            Ok(file.values)
        })
        .collect()
}

/// The `.json` files of a data directory, sorted; none is an error.
fn data_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(io_err(dir))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    if files.is_empty() {
        return Err(Error::BadFile {
            path: dir.display().to_string(),
            reason: "no input .json files".into(),
        });
    }
    Ok(files)
}

/// Chooses scales for `target` on `samples` and packages them with the samples.
pub fn calibrate(model: &Model, samples: &[Vec<Vec<f32>>], target: Target) -> Result<Calibration> {
    Ok(Calibration {
        format_version: crate::FORMAT_VERSION,
        model_sha256: model.sha256.clone(),
        quant: crate::pipeline::calibrate(model, samples, target)?,
        samples: samples.to_vec(),
    })
}

fn decision(v: &[f64]) -> usize {
    match v {
        [y] if (0.0..=1.0).contains(y) => usize::from(*y >= 0.5),
        [y] => usize::from(*y >= 0.0),
        _ => argmax(v),
    }
}

/// Index of the first largest value.
fn argmax(v: &[f64]) -> usize {
    v.iter()
        .enumerate()
        .fold(
            (0, f64::MIN),
            |b, (i, x)| if *x > b.1 { (i, *x) } else { b },
        )
        .0
}

/// Runs the quantized reference evaluator of `settings` and tract's float inference over
/// `samples` and compares them.
pub fn accuracy(
    model: &Model,
    settings: &Settings,
    samples: &[Vec<Vec<f32>>],
) -> Result<AccuracyReport> {
    let float = model.float().ok_or_else(|| Error::BadFile {
        path: "<model>".into(),
        reason: "accuracy compares with float inference; this model is pre-quantized (its \
                 proofs equal onnxruntime's integers exactly)"
            .into(),
    })?;
    let graph = &settings.graph;
    let n_in = graph.inputs.len();
    let names = float.node_names();
    let index: std::collections::HashMap<&str, usize> = names
        .iter()
        .enumerate()
        .map(|(i, n)| (n.as_str(), i))
        .collect();
    // Per layer: the inputs, then each source node's value, as the tensor computing it.
    let inputs = graph
        .inputs
        .iter()
        .enumerate()
        .map(|(i, d)| (d.name.clone(), i));
    let tracked: Vec<(String, usize)> = inputs.chain(graph.sources.iter().cloned()).collect();
    let mut layers: BTreeMap<usize, LayerStats> = BTreeMap::new();
    let mut layer_sums: BTreeMap<usize, (f64, usize)> = BTreeMap::new();
    let (mut top1, mut max_err, mut sum_err, mut count) = (0, 0f64, 0f64, 0usize);
    let (mut rows, mut rows_agree) = (0usize, 0usize);
    for sample in samples {
        let q = settings.quantize_inputs(sample)?;
        let values = graph.eval(&q)?;
        let ints: Vec<i64> = graph
            .outputs_of(&values)
            .into_iter()
            .flat_map(|t| t.data.iter().map(|v| *v as i64))
            .collect();
        let ours = settings.dequantize_outputs(&ints);
        let (outputs, all) = float.run_traced(sample)?;
        let reference: Vec<f64> = outputs.into_iter().flatten().map(f64::from).collect();
        top1 += usize::from(decision(&ours) == decision(&reference));
        let mut at = 0;
        for o in &graph.outputs {
            let shape = graph.shape(*o);
            let n: usize = shape.iter().product();
            let last = shape.last().copied().unwrap_or(1);
            if last > 1 {
                for (a, b) in ours[at..at + n]
                    .chunks(last)
                    .zip(reference[at..at + n].chunks(last))
                {
                    rows += 1;
                    rows_agree += usize::from(argmax(a) == argmax(b));
                }
            }
            at += n;
        }
        for (a, b) in ours.iter().zip(&reference) {
            let e = (a - b).abs();
            max_err = max_err.max(e);
            sum_err += e;
            count += 1;
        }
        for (k, (name, t)) in tracked.iter().enumerate() {
            let f = index
                .get(name.as_str())
                .and_then(|id| all.get(*id).and_then(|v| v.as_ref()));
            let t_val = &values[*t];
            let Some(f) = f.filter(|f| f.len() == t_val.data.len()) else {
                continue;
            };
            let (op, node_scale) = match t.checked_sub(n_in) {
                Some(n) => (graph.nodes[n].op.name(), graph.nodes[n].scale),
                None => ("input", graph.inputs[*t].scale),
            };
            let scale = 2f64.powi(node_scale);
            let (mut m, mut s, mut mv) = (0f64, 0f64, 0f64);
            for (q, x) in t_val.data.iter().zip(f) {
                let e = (*q as f64 / scale - f64::from(*x)).abs();
                m = m.max(e);
                s += e;
                mv = mv.max(f64::from(x.abs()));
            }
            let l = layers.entry(k).or_insert_with(|| LayerStats {
                name: name.clone(),
                op: op.into(),
                scale: node_scale,
                max_abs_value: 0.0,
                max_abs_error: 0.0,
                mean_abs_error: 0.0,
            });
            l.max_abs_error = l.max_abs_error.max(m);
            l.max_abs_value = l.max_abs_value.max(mv);
            let sum = layer_sums.entry(k).or_insert((0.0, 0));
            sum.0 += s;
            sum.1 += f.len();
        }
    }
    for (k, l) in layers.iter_mut() {
        let (s, n) = layer_sums[k];
        l.mean_abs_error = s / n.max(1) as f64;
    }
    Ok(AccuracyReport {
        samples: samples.len(),
        top1_agree: top1,
        rows_agree,
        rows,
        max_abs_error: max_err,
        mean_abs_error: sum_err / count.max(1) as f64,
        layers: layers.into_values().collect(),
    })
}

/// Reads a calibration file, checking its version and that it was made for `model`.
pub fn read_calibration(path: &Path, model: &Model) -> Result<Calibration> {
    let text = std::fs::read_to_string(path).map_err(io_err(path))?;
    let c: Calibration = serde_json::from_str(&text).map_err(|e| Error::BadFile {
        path: path.display().to_string(),
        reason: format!("not a calibration file: {e}"),
    })?;
    // Calibration files did not change from version 4 (versions 5 to 7 changed circuits).
    if !(4..=crate::FORMAT_VERSION).contains(&c.format_version) {
        return Err(Error::Mismatch {
            path: path.display().to_string(),
            reason: format!(
                "format version {}, this build reads {}",
                c.format_version,
                crate::FORMAT_VERSION
            ),
        });
    }
    if c.model_sha256 != model.sha256 {
        return Err(Error::Mismatch {
            path: path.display().to_string(),
            reason: format!(
                "calibrated for model {}, this model is {}",
                c.model_sha256, model.sha256
            ),
        });
    }
    Ok(c)
}
