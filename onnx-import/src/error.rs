//! Errors of the importer.

use thiserror::Error;

/// Why a model could not be imported.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum ImportError {
    /// The file could not be read.
    #[error("cannot read model `{path}`: {source}")]
    Io {
        /// Path given.
        path: String,
        /// Underlying error.
        source: std::io::Error,
    },
    /// The bytes are not a valid ONNX model, or tract could not type it.
    #[error("malformed ONNX model: {reason}")]
    Malformed {
        /// tract's explanation.
        reason: String,
    },
    /// An op (ONNX op type, or the tract op it became) that zkinfer does not prove.
    #[error("unsupported op `{op_type}` at node `{node}`")]
    UnsupportedOp {
        /// Node name.
        node: String,
        /// Op type.
        op_type: String,
    },
    /// A supported op with an attribute value zkinfer does not prove.
    #[error("node `{node}` ({op_type}): unsupported {attribute}: {value}")]
    UnsupportedAttribute {
        /// Node name.
        node: String,
        /// Op type.
        op_type: String,
        /// Attribute name.
        attribute: String,
        /// The offending value.
        value: String,
    },
    /// A weight (an initializer or a Constant node's value) that is not a finite number.
    #[error(
        "weight `{name}`: value {value} at index {index} is not a finite number; a circuit \
         computes on fixed-point integers, so the model needs finite weights"
    )]
    NonFiniteWeight {
        /// Initializer name, or the Constant node's.
        name: String,
        /// Flat index of the value.
        index: usize,
        /// The value (NaN or an infinity).
        value: f32,
    },
    /// A calibration or input tensor that does not fit the model.
    #[error("input `{input}`: {reason}")]
    BadInput {
        /// Input name.
        input: String,
        /// What is wrong.
        reason: String,
    },
    /// tract failed to run the float model.
    #[error("float inference failed: {reason}")]
    Inference {
        /// tract's explanation.
        reason: String,
    },
}

/// Reads a model file, naming it in the error.
pub(crate) fn read_file(path: &std::path::Path) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|source| ImportError::Io {
        path: path.display().to_string(),
        source,
    })
}

/// Result alias of this crate.
pub type Result<T> = std::result::Result<T, ImportError>;
