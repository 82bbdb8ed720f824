//! Helpers over ONNX protobufs: graph input names, serialized tensors (`.pb` files).

use crate::error::{ImportError, Result};
use tract_onnx::pb::TensorProto;
use tract_onnx::prelude::*;

fn malformed(e: impl std::fmt::Display) -> ImportError {
    ImportError::Malformed {
        reason: format!("{e:#}"),
    }
}

/// Checks what tract assumes of a graph and would panic on: every graph output and every
/// node input (a name, not the empty "absent" one) is a graph input, an initializer or the
/// output of a node.
pub(crate) fn check_graph(graph: &tract_onnx::pb::GraphProto) -> Result<()> {
    let mut defined: std::collections::HashSet<&str> = graph
        .input
        .iter()
        .map(|i| i.name.as_str())
        .chain(graph.initializer.iter().map(|t| t.name.as_str()))
        .collect();
    for node in &graph.node {
        defined.extend(node.output.iter().map(String::as_str));
    }
    if let Some(o) = graph
        .output
        .iter()
        .find(|o| !defined.contains(o.name.as_str()))
    {
        return Err(malformed(format!(
            "graph output `{}` is produced by no node, input or initializer",
            o.name
        )));
    }
    for node in &graph.node {
        if let Some(i) = node
            .input
            .iter()
            .find(|i| !i.is_empty() && !defined.contains(i.as_str()))
        {
            return Err(malformed(format!(
                "node `{}` ({}) reads `{i}`, which no node, input or initializer defines",
                node.name, node.op_type
            )));
        }
    }
    Ok(())
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
