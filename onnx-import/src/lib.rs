//! ONNX import for zkinfer: ONNX → typed, decluttered float graph (tract) → calibrated
//! fixed-point graph of `zkinfer-circuits`.
//!
//! ```no_run
//! use zkinfer_onnx_import::{FloatModel, QuantSettings, lower};
//! let model = FloatModel::from_path("model.onnx".as_ref()).unwrap();
//! let sample = vec![vec![0.5f32; 64]];
//! let settings = QuantSettings::calibrate(&model, &[sample.clone()]).unwrap();
//! let graph = lower(&model, settings, &[sample]).unwrap();
//! println!("{} nodes", graph.nodes.len());
//! ```

mod error;
mod float;
mod ops;
mod proto;
mod qmodel;
mod quantize;

pub use error::{ImportError, Result};
pub use float::{check_values, FloatModel, Trace, SUPPORTED_ONNX_OPS};
pub use proto::{decode_tensor, graph_input_names, tensor_values, Dims};
pub use qmodel::{is_prequantized, QuantFormat, QuantModel, QUANTIZED_ONNX_OPS};
pub use quantize::{
    range_margin_for, Nonlinear, QuantSettings, Target, CALIBRATION_MARGIN, MAX_ACT_SCALE,
    RANGE_MARGIN, WEIGHT_SCALE,
};
/// ONNX's serialized tensor (for [`FloatModel::from_bytes_folding`]).
pub use tract_onnx::pb::TensorProto;

/// Lowers a float model to the quantized graph with the given fixed-point settings;
/// `calibration` (the samples the settings were calibrated on) sizes the lookup tables.
pub fn lower(
    model: &FloatModel,
    settings: QuantSettings,
    calibration: &[Vec<Vec<f32>>],
) -> Result<zkinfer_circuits::Graph> {
    quantize::Builder::lower(model, settings, calibration)
}
