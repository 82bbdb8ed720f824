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

mod align_shift;
mod error;
mod float;
mod fold_affine;
#[cfg(test)]
mod op_index;
mod ops;
mod proto;
mod qmodel;
mod quantize;
#[cfg(test)]
mod test_graph;

pub use error::{ImportError, Result};
pub use float::{check_values, FloatModel, Trace};
pub use ops::supported_onnx_ops;
pub use proto::{decode_tensor, graph_input_names, tensor_values, Dims};
pub use qmodel::{is_prequantized, quantized_onnx_ops, QuantFormat, QuantModel};
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

/// A parsed model: float, or pre-quantized (it has QuantizeLinear, QLinear* or *Integer
/// nodes).
#[derive(Debug, Clone)]
pub enum Loaded {
    /// A float model (tract's typed, decluttered graph).
    Float(FloatModel),
    /// A pre-quantized model, lowered to the integer graph.
    Quantized(QuantModel),
}

/// Parses ONNX bytes once, with values for its symbolic dimensions, and imports them as what
/// they are: a pre-quantized model or a float one.
pub fn load(bytes: &[u8], dims: &Dims) -> Result<Loaded> {
    let mut proto = proto::parse(bytes)?;
    proto::prepare(&mut proto, dims)?;
    let quantized = proto
        .graph
        .as_ref()
        .is_some_and(qmodel::is_prequantized_graph);
    Ok(if quantized {
        Loaded::Quantized(QuantModel::from_prepared(&proto)?)
    } else {
        Loaded::Float(FloatModel::from_prepared(&proto)?)
    })
}
