//! Small zoo models embedded in the binary so the main command needs no downloads.
//! Source: `shared/models/zoo` (models trained with scikit-learn on its bundled data sets;
//! see `models/README.md`).

/// `mlp_digits`: 64 → 32 → 16 → 10 ReLU MLP on 8×8 digits.
pub const MLP_DIGITS_ONNX: &[u8] = include_bytes!("../models/mlp_digits/model.onnx");
/// A sample input of `mlp_digits` (a handwritten 7).
pub const MLP_DIGITS_INPUT: &str = include_str!("../models/mlp_digits/input.json");
/// `mlp_iris`: 4 → 16 → 3 ReLU MLP on the iris data set.
pub const MLP_IRIS_ONNX: &[u8] = include_bytes!("../models/mlp_iris/model.onnx");
/// A sample input of `mlp_iris`.
pub const MLP_IRIS_INPUT: &str = include_str!("../models/mlp_iris/input.json");
