//! Helpers over ONNX protobufs: graph input names, serialized tensors (`.pb` files).

use crate::error::{ImportError, Result};
use tract_onnx::pb::TensorProto;
use tract_onnx::prelude::*;

fn malformed(e: impl std::fmt::Display) -> ImportError {
    ImportError::Malformed {
        reason: format!("{e:#}"),
    }
}

/// Names of the graph inputs that are not initializers, in order.
pub fn graph_input_names(model_bytes: &[u8]) -> Result<Vec<String>> {
    let proto = tract_onnx::onnx()
        .proto_model_for_read(&mut std::io::Cursor::new(model_bytes))
        .map_err(malformed)?;
    let graph = proto.graph.ok_or_else(|| malformed("model has no graph"))?;
    let inits: Vec<&str> = graph.initializer.iter().map(|i| i.name.as_str()).collect();
    Ok(graph
        .input
        .iter()
        .filter(|i| !inits.contains(&i.name.as_str()))
        .map(|i| i.name.clone())
        .collect())
}

/// Decodes a serialized `TensorProto`.
pub fn decode_tensor(bytes: &[u8]) -> Result<TensorProto> {
    tract_onnx::tensor::proto_from_reader(bytes).map_err(malformed)
}

/// Shape, element type name and values (as f32) of a tensor.
pub fn tensor_values(t: &TensorProto) -> Result<(Vec<usize>, String, Vec<f32>)> {
    let tensor =
        tract_onnx::tensor::load_tensor(&tract_onnx::data_resolver::MmapDataResolver, t, None)
            .map_err(malformed)?;
    let dt = format!("{:?}", tensor.datum_type());
    let shape = tensor.shape().to_vec();
    let f = tensor.cast_to::<f32>().map_err(malformed)?;
    let vals = f
        .to_plain_array_view::<f32>()
        .map_err(malformed)?
        .iter()
        .copied()
        .collect();
    Ok((shape, dt, vals))
}
