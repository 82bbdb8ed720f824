//! The pipeline as typed values: model → settings (compile) → keys (setup) → proof (prove)
//! → verdict (verify). No file I/O here; [`crate::artifacts`] stores these in a directory.

use crate::error::{Error, Result};
use crate::FORMAT_VERSION;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;
use zkinfer_circuits::chip::Layout;
use zkinfer_circuits::{field::to_field, CircuitError, Graph, ModelCircuit, Visibility};
use zkinfer_onnx_import::{
    check_values, lower, Dims, FloatModel, Loaded, QuantModel, QuantSettings, Target,
};
use zkinfer_prover::{Fr, G1Affine, ProvingKey, Srs, SrsOrigin};

/// An ONNX model: a float model (tract's typed graph, calibrated by zkinfer) or a
/// pre-quantized one (QDQ or QOperator, proven with onnxruntime's integer semantics).
#[derive(Debug, Clone)]
pub struct Model {
    /// What the model is.
    pub source: Source,
    /// SHA-256 of the ONNX bytes.
    pub sha256: String,
    /// Values given to its symbolic dimensions ([`Model::from_bytes_pinned`]).
    pub dims: Dims,
}

/// The two kinds of model.
#[derive(Debug, Clone)]
pub enum Source {
    /// A float model: the typed, decluttered graph and its float reference (tract).
    Float(FloatModel),
    /// A pre-quantized model, already lowered to the integer graph.
    Quantized(QuantModel),
}

/// Runs an import step, turning a panic inside the ONNX parser (tract assumes things of a
/// graph it does not always check) into an import error naming it.
fn no_panic<T>(f: impl FnOnce() -> Result<T>) -> Result<T> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).unwrap_or_else(|payload| {
        let what = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a panic".into());
        Err(Error::Import(zkinfer_onnx_import::ImportError::Malformed {
            reason: format!("the ONNX parser failed on this file ({what})"),
        }))
    })
}

impl Model {
    /// Parses ONNX bytes; a model with QuantizeLinear, QLinear* or *Integer ops is
    /// pre-quantized. Malformed bytes are an error, never a panic.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        Self::from_bytes_pinned(bytes, &Dims::new())
    }

    /// [`Model::from_bytes`] with values for the model's symbolic dimensions (ONNX
    /// `dim_param`s such as a batch `N`; EZKL's `--variables`): a circuit has fixed shapes,
    /// so each symbolic input dimension needs one. The values are kept in the compiled
    /// settings, and [`crate::artifacts::ModelDir::model`] applies them again.
    pub fn from_bytes_pinned(bytes: &[u8], dims: &Dims) -> Result<Self> {
        let source = no_panic(|| {
            Ok(match zkinfer_onnx_import::load(bytes, dims)? {
                Loaded::Quantized(q) => Source::Quantized(q),
                Loaded::Float(f) => Source::Float(f),
            })
        })?;
        Ok(Self {
            source,
            sha256: hex::encode(Sha256::digest(bytes)),
            dims: dims.clone(),
        })
    }

    /// Parses ONNX bytes, folding the given tensors in place of the graph inputs of the same
    /// name (shapes, axes, indices that arrive as inputs). Float models only.
    pub fn from_bytes_folding(
        bytes: &[u8],
        constants: Vec<zkinfer_onnx_import::TensorProto>,
    ) -> Result<Self> {
        let float = no_panic(move || Ok(FloatModel::from_bytes_folding(bytes, constants)?))?;
        Ok(Self {
            source: Source::Float(float),
            sha256: hex::encode(Sha256::digest(bytes)),
            dims: Dims::new(),
        })
    }

    /// Reads an ONNX file.
    pub fn from_path(path: &Path) -> Result<Self> {
        Self::from_path_pinned(path, &Dims::new())
    }

    /// Reads an ONNX file with values for its symbolic dimensions
    /// ([`Model::from_bytes_pinned`]).
    pub fn from_path_pinned(path: &Path, dims: &Dims) -> Result<Self> {
        let bytes = std::fs::read(path).map_err(crate::error::io_err(path))?;
        Self::from_bytes_pinned(&bytes, dims)
    }

    /// The float model, if this is one.
    pub fn float(&self) -> Option<&FloatModel> {
        match &self.source {
            Source::Float(f) => Some(f),
            Source::Quantized(_) => None,
        }
    }

    /// Reference outputs, flattened and concatenated: tract's float inference for a float
    /// model; for a pre-quantized model, the integer reference evaluator's outputs
    /// dequantized (what onnxruntime computes).
    pub fn reference_outputs(&self, inputs: &[Vec<f32>]) -> Result<Vec<f32>> {
        match &self.source {
            Source::Float(f) => Ok(f.run(inputs)?.into_iter().flatten().collect()),
            Source::Quantized(q) => {
                let q_in = q.graph.quantize_inputs(inputs)?;
                let values = q.graph.eval(&q_in)?;
                let ints: Vec<i64> = q
                    .graph
                    .outputs_of(&values)
                    .into_iter()
                    .flat_map(|t| t.data.iter().map(|v| *v as i64))
                    .collect();
                Ok(q.graph
                    .dequantize_outputs(&ints)
                    .into_iter()
                    .map(|v| v as f32)
                    .collect())
            }
        }
    }
}

/// Everything `compile` decides: the quantized graph, its fixed point and its size.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Settings {
    /// Artifact format version.
    pub format_version: u32,
    /// SHA-256 of the ONNX file compiled.
    pub model_sha256: String,
    /// Values of the model's symbolic dimensions it was compiled with.
    #[serde(default, skip_serializing_if = "Dims::is_empty")]
    pub dims: Dims,
    /// Fixed-point scales chosen by calibration; `None` for a pre-quantized model, whose
    /// scales are its own.
    pub quant: Option<QuantSettings>,
    /// Which inputs are public.
    pub visibility: Visibility,
    /// Layout rows (rows of lanes) the circuit uses, public rows included.
    pub rows: usize,
    /// Circuit rows they take: each layout row is a block of 6 rows of the advice column `a`;
    /// with its units in a column of their own (`graph.units_column`), the more of `a`'s and
    /// that column's.
    pub circuit_rows: usize,
    /// Circuit size: `2^logrows` rows.
    pub logrows: u32,
    /// The quantized graph (weights included).
    pub graph: Graph,
}

impl Settings {
    /// SHA-256 (hex) of the settings' canonical JSON; keys and proofs are bound to it.
    pub fn hash(&self) -> String {
        let bytes = serde_json::to_vec(self).expect("settings serialize");
        hex::encode(Sha256::digest(bytes))
    }

    /// The circuit for these settings and (already quantized) inputs; a float model's value
    /// beyond its calibrated ranges is [`Error::BeyondCalibration`].
    pub fn circuit(&self, inputs: &[Vec<i128>]) -> Result<ModelCircuit> {
        ModelCircuit::new(Arc::new(self.graph.clone()), inputs, self.visibility)
            .map_err(|e| beyond_calibration(self, e.into()))
    }

    /// These settings compiled to `layout` (the graph and the quantization unchanged), sized
    /// again.
    pub fn with_layout(mut self, layout: Layout) -> Result<Settings> {
        if self.graph.layout != layout {
            self.graph.layout = layout;
            self.graph = ModelCircuit::choose_units_column(self.graph, self.visibility)?;
            let size =
                ModelCircuit::blank(Arc::new(self.graph.clone()), self.visibility)?.size()?;
            (self.rows, self.circuit_rows, self.logrows) =
                (size.rows, size.circuit_rows, size.logrows);
        }
        Ok(self)
    }

    /// Quantizes float inputs, rejecting wrong lengths, non-finite values and values
    /// outside the representable range.
    pub fn quantize_inputs(&self, inputs: &[Vec<f32>]) -> Result<Vec<Vec<i128>>> {
        Ok(self.graph.quantize_inputs(inputs)?)
    }

    /// The number of public instances of a proof: the outputs, flattened, then the inputs
    /// when they are public.
    pub fn num_instances(&self) -> usize {
        self.visibility.num_instances(&self.graph)
    }

    /// Dequantizes the flattened outputs.
    pub fn dequantize_outputs(&self, ints: &[i64]) -> Vec<f64> {
        self.graph.dequantize_outputs(ints)
    }
}

/// Quantizes and sizes a model. For a float model, `calibration` holds samples (one float
/// vector per input) and the fixed point is chosen so that every value seen fits with margin
/// ([`Target::Balanced`]; the lookup tables reach the range margin beyond, by default
/// [`zkinfer_onnx_import::range_margin_for`] the number of samples); a pre-quantized model
/// needs none.
pub fn compile(
    model: &Model,
    calibration: &[Vec<Vec<f32>>],
    visibility: Visibility,
) -> Result<Settings> {
    compile_with(model, calibration, None, visibility)
}

/// [`compile`] with scales already chosen (by [`calibrate`]; `None` calibrates for the
/// default target); `calibration` still sizes the lookup tables. `quant` is ignored for a
/// pre-quantized model.
pub fn compile_with(
    model: &Model,
    calibration: &[Vec<Vec<f32>>],
    quant: Option<QuantSettings>,
    visibility: Visibility,
) -> Result<Settings> {
    compile_in(model, calibration, quant, visibility, Layout::Tall)
}

/// [`compile_with`] to the circuit layout `layout` (sized once, in that layout).
pub fn compile_in(
    model: &Model,
    calibration: &[Vec<Vec<f32>>],
    quant: Option<QuantSettings>,
    visibility: Visibility,
    layout: Layout,
) -> Result<Settings> {
    zkinfer_prover::check_cpu()?;
    let (quant, mut graph) = match &model.source {
        Source::Quantized(q) => (None, q.graph.clone()),
        Source::Float(float) => {
            check_samples(float, calibration)?;
            let quant = match quant {
                Some(q) => q,
                None => QuantSettings::calibrate(float, calibration)?,
            };
            let graph = lower(float, quant.clone(), calibration)?;
            (Some(quant), graph)
        }
    };
    graph.layout = layout;
    let graph = ModelCircuit::choose_units_column(graph, visibility)?;
    let size = ModelCircuit::blank(Arc::new(graph.clone()), visibility)?.size()?;
    Ok(Settings {
        format_version: FORMAT_VERSION,
        model_sha256: model.sha256.clone(),
        dims: model.dims.clone(),
        quant,
        visibility,
        rows: size.rows,
        circuit_rows: size.circuit_rows,
        logrows: size.logrows,
        graph,
    })
}

/// Chooses a float model's scales for `target` from calibration samples.
pub fn calibrate(
    model: &Model,
    calibration: &[Vec<Vec<f32>>],
    target: Target,
) -> Result<QuantSettings> {
    let float = model.float().ok_or_else(|| Error::BadFile {
        path: "<model>".into(),
        reason: "a pre-quantized model carries its own scales; nothing to calibrate".into(),
    })?;
    check_samples(float, calibration)?;
    Ok(QuantSettings::calibrate_for(float, calibration, target)?)
}

fn check_samples(float: &FloatModel, calibration: &[Vec<Vec<f32>>]) -> Result<()> {
    let decl = float.inputs()?;
    for sample in calibration {
        if sample.len() != decl.len() {
            return Err(zkinfer_circuits::CircuitError::InputCount {
                expected: decl.len(),
                got: sample.len(),
            }
            .into());
        }
        for ((name, shape), vals) in decl.iter().zip(sample) {
            check_values(name, shape, vals)?;
        }
    }
    Ok(())
}

/// SRS and proving key of compiled settings.
#[derive(Debug)]
pub struct Keys {
    /// The SRS, sized to the circuit.
    pub srs: Srs,
    /// The proving key (it holds the verifying key).
    pub pk: ProvingKey<G1Affine>,
}

/// Generates keys: with `srs_file`, from that params file; otherwise from the development
/// SRS (**insecure**), cached in `cache`.
pub fn setup(settings: &Settings, srs_file: Option<&Path>, cache: &Path) -> Result<Keys> {
    zkinfer_prover::check_cpu()?;
    let blank = ModelCircuit::blank(Arc::new(settings.graph.clone()), settings.visibility)?;
    // Settings sized below the circuit would put gates on the blinding rows.
    let need = blank.size()?.logrows;
    if settings.logrows < need {
        return Err(Error::Mismatch {
            path: "<settings>".into(),
            reason: format!(
                "logrows {} is below the {need} the circuit needs; compile the model again",
                settings.logrows
            ),
        });
    }
    let srs = match srs_file {
        Some(p) => Srs::read(p, settings.logrows)?,
        None => Srs::dev(settings.logrows, cache)?,
    };
    let pk = zkinfer_prover::keygen(&srs, &blank)?;
    Ok(Keys { srs, pk })
}

/// A proof with its public values, bound to the settings and key it was made for.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Proof {
    /// Artifact format version.
    pub format_version: u32,
    /// Hash of the settings proven against.
    pub settings_hash: String,
    /// Hash of the verifying key.
    pub vk_hash: String,
    /// Origin of the SRS (a development SRS is insecure).
    pub srs: SrsOrigin,
    /// Quantized outputs (public instances).
    pub public_outputs: Vec<i64>,
    /// Quantized inputs, when public.
    pub public_inputs: Vec<i64>,
    /// The outputs dequantized, as the prover computed them. **Not verified**: nothing
    /// checks this field; what a proof proves is [`crate::Verified::outputs`], from
    /// [`crate::verify`].
    pub outputs: Vec<f64>,
    /// The proof bytes, hex.
    pub proof: String,
    /// Seconds spent proving.
    pub prove_seconds: f64,
}

impl Proof {
    /// Public instances in circuit order: outputs, then public inputs.
    pub fn instances(&self) -> Vec<Fr> {
        self.public_outputs
            .iter()
            .chain(&self.public_inputs)
            .map(|v| to_field(i128::from(*v)))
            .collect()
    }

    /// The proof bytes.
    pub fn bytes(&self) -> Result<Vec<u8>> {
        hex::decode(&self.proof).map_err(|e| Error::BadFile {
            path: "<proof>".into(),
            reason: format!("proof is not hex: {e}"),
        })
    }
}

/// Imports a snarkjs Powers-of-Tau file (bn128 `.ptau`, checked point by point) as an SRS of
/// `2^logrows` powers, by default all the file holds; [`Srs::save`] writes it for
/// [`setup`]'s `srs_file`.
pub fn import_srs(ptau: &Path, logrows: Option<u32>) -> Result<Srs> {
    let k = match logrows {
        Some(k) => k,
        None => zkinfer_prover::read_ptau_header(ptau)?.power,
    };
    Ok(Srs::from_ptau(ptau, k)?)
}

/// Proves inference of `inputs` (floats, one vector per model input).
pub fn prove(settings: &Settings, keys: &Keys, inputs: &[Vec<f32>]) -> Result<Proof> {
    prove_by(settings, keys, inputs, |srs, pk, circuit| {
        Ok(zkinfer_prover::prove(srs, pk, circuit)?)
    })
}

/// [`prove`] with another prover of the circuit: `prover(srs, pk, circuit)` returns the
/// proof bytes (the CUDA prover, `zkinfer-cuda`, passes halo2-axiom-gpu's here). The proof
/// file is the same whichever prover made it.
pub fn prove_by(
    settings: &Settings,
    keys: &Keys,
    inputs: &[Vec<f32>],
    prover: impl FnOnce(&Srs, &ProvingKey<G1Affine>, ModelCircuit) -> Result<Vec<u8>>,
) -> Result<Proof> {
    zkinfer_prover::check_cpu()?;
    let q = settings.quantize_inputs(inputs)?;
    let circuit = settings.circuit(&q)?;
    let to_i64 = |v: &i128| i64::try_from(*v).expect("range-checked values fit i64");
    let public_outputs: Vec<i64> = circuit
        .graph()
        .outputs_of(circuit.values())
        .into_iter()
        .flat_map(|t| t.data.iter().map(to_i64))
        .collect();
    let public_inputs = if settings.visibility.public_input {
        q.iter().flatten().map(to_i64).collect()
    } else {
        vec![]
    };
    let start = Instant::now();
    let bytes = prover(&keys.srs, &keys.pk, circuit)?;
    Ok(Proof {
        format_version: FORMAT_VERSION,
        settings_hash: settings.hash(),
        vk_hash: zkinfer_prover::vk_hash(keys.pk.get_vk()),
        srs: keys.srs.origin.clone(),
        outputs: settings.dequantize_outputs(&public_outputs),
        public_outputs,
        public_inputs,
        proof: hex::encode(bytes),
        prove_seconds: start.elapsed().as_secs_f64(),
    })
}

/// An out-of-range value of a float model's circuit as what it is: an input beyond the
/// ranges the circuit was calibrated for, with what to do about it.
fn beyond_calibration(settings: &Settings, e: Error) -> Error {
    match (e, &settings.quant) {
        (Error::Circuit(error @ CircuitError::ValueOutOfRange { .. }), Some(quant)) => {
            let margin = match quant.range_margin {
                Some(m) => format!("{m}"),
                None => "the default: 1 up to four calibration samples, 0.5 from eight".into(),
            };
            Error::BeyondCalibration {
                error: Box::new(error),
                margin,
            }
        }
        (other, _) => other,
    }
}
