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

/// Values for a model's symbolic dimensions (ONNX `dim_param`s such as a batch `N`), by name.
pub type Dims = std::collections::BTreeMap<String, u64>;

/// Replaces the symbolic dimensions named in `dims` by their values wherever a graph input,
/// output or intermediate value declares them; then every graph input (not an initializer)
/// must have a fixed shape. A name the model does not use, a value of 0, or a symbolic input
/// dimension left unpinned is an error naming it.
pub(crate) fn pin_dims(graph: &mut tract_onnx::pb::GraphProto, dims: &Dims) -> Result<()> {
    use tract_onnx::pb::tensor_shape_proto::dimension::Value;
    use tract_onnx::pb::type_proto;
    if let Some((name, _)) = dims.iter().find(|(_, v)| **v == 0) {
        return Err(ImportError::BadInput {
            input: format!("--dim {name}"),
            reason: "a dimension must be at least 1".into(),
        });
    }
    let mut used = std::collections::BTreeSet::new();
    let infos = graph
        .input
        .iter_mut()
        .chain(graph.output.iter_mut())
        .chain(graph.value_info.iter_mut());
    for info in infos {
        let Some(type_proto::Value::TensorType(t)) =
            info.r#type.as_mut().and_then(|t| t.value.as_mut())
        else {
            continue;
        };
        for dim in t.shape.iter_mut().flat_map(|s| s.dim.iter_mut()) {
            if let Some(Value::DimParam(p)) = &dim.value {
                if let Some(v) = dims.get(p) {
                    used.insert(p.clone());
                    dim.value = Some(Value::DimValue(*v as i64));
                }
            }
        }
    }
    if let Some(name) = dims.keys().find(|n| !used.contains(*n)) {
        return Err(ImportError::BadInput {
            input: format!("--dim {name}"),
            reason: format!("the model has no symbolic dimension `{name}`"),
        });
    }
    let inits: std::collections::HashSet<&str> =
        graph.initializer.iter().map(|i| i.name.as_str()).collect();
    for input in graph
        .input
        .iter()
        .filter(|i| !inits.contains(i.name.as_str()))
    {
        let Some(type_proto::Value::TensorType(t)) =
            input.r#type.as_ref().and_then(|t| t.value.as_ref())
        else {
            continue;
        };
        let symbolic: Vec<&str> = t
            .shape
            .iter()
            .flat_map(|s| &s.dim)
            .filter_map(|d| match &d.value {
                Some(Value::DimParam(p)) if !p.is_empty() => Some(p.as_str()),
                _ => None,
            })
            .collect();
        if let Some(first) = symbolic.first() {
            return Err(ImportError::BadInput {
                input: input.name.clone(),
                reason: format!(
                    "symbolic dimension{} `{}`: a circuit has fixed shapes, pin {} with \
                     `--dim {first}=1` (the CLI's compile, calibrate, accuracy and run; \
                     `Model::from_bytes_pinned` in the library)",
                    if symbolic.len() > 1 { "s" } else { "" },
                    symbolic.join("`, `"),
                    if symbolic.len() > 1 { "each" } else { "it" },
                ),
            });
        }
    }
    Ok(())
}

/// Checks that every floating-point weight of `graph` (initializers, Constant nodes' values)
/// is finite: a NaN would otherwise quantize to 0 and an infinity overflow, silently.
pub(crate) fn check_weights(graph: &tract_onnx::pb::GraphProto) -> Result<()> {
    // ONNX TensorProto.DataType: FLOAT, FLOAT16, DOUBLE, BFLOAT16.
    const FLOATS: [i32; 4] = [1, 10, 11, 16];
    let constants = graph
        .node
        .iter()
        .filter(|n| n.op_type == "Constant")
        .flat_map(|n| {
            n.attribute
                .iter()
                .filter_map(move |a| Some((n, a.t.as_ref()?)))
        })
        .map(|(n, t)| {
            (
                if n.name.is_empty() {
                    n.output.join(",")
                } else {
                    n.name.clone()
                },
                t,
            )
        });
    let weights = graph
        .initializer
        .iter()
        .map(|t| (t.name.clone(), t))
        .chain(constants);
    for (name, t) in weights.filter(|(_, t)| FLOATS.contains(&t.data_type)) {
        let (_, _, values) = tensor_values(t)?;
        if let Some((index, value)) = values.iter().enumerate().find(|(_, v)| !v.is_finite()) {
            return Err(ImportError::NonFiniteWeight {
                name,
                index,
                value: *value,
            });
        }
    }
    Ok(())
}

/// Parses ONNX bytes into its protobuf (not yet a tract model).
pub(crate) fn parse(bytes: &[u8]) -> Result<tract_onnx::pb::ModelProto> {
    tract_onnx::onnx()
        .proto_model_for_read(&mut std::io::Cursor::new(bytes))
        .map_err(malformed)
}

/// What every parsed model goes through before import: its symbolic dimensions pinned
/// ([`pin_dims`]), its graph checked for what tract would panic on ([`check_graph`]), its
/// weights checked finite ([`check_weights`]).
pub(crate) fn prepare(proto: &mut tract_onnx::pb::ModelProto, dims: &Dims) -> Result<()> {
    let graph = proto
        .graph
        .as_mut()
        .ok_or_else(|| malformed("model has no graph"))?;
    pin_dims(graph, dims)?;
    check_graph(graph)?;
    check_weights(graph)
}
