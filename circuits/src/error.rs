//! Errors of the circuit layer.

use thiserror::Error;

/// Why a quantized graph could not be evaluated or laid out.
#[derive(Debug, Error, Clone, PartialEq)]
#[non_exhaustive]
pub enum CircuitError {
    /// A value that the circuit range-checks fell outside the range it can represent.
    #[error(
        "node `{node}`: value {value}{} at index {index} is outside the range the circuit can represent [{min}, {max}]{}",
        in_units(*.value, *.scale), range_in_units(*.min, *.max, *.scale)
    )]
    ValueOutOfRange {
        /// Node (or input) name.
        node: String,
        /// Flat index of the element within its tensor.
        index: usize,
        /// The offending integer value.
        value: i128,
        /// Smallest representable value.
        min: i128,
        /// Largest representable value.
        max: i128,
        /// Fixed-point scale exponent of the value (`None`: an integer of a pre-quantized
        /// model, or not known where the error arose; [`crate::Graph::eval`] fills it in).
        scale: Option<i32>,
    },
    /// An input tensor had the wrong number of elements.
    #[error("input `{input}` expects {expected} values (shape {shape:?}), got {got}")]
    InputLength {
        /// Input name.
        input: String,
        /// Expected number of values.
        expected: usize,
        /// Number of values given.
        got: usize,
        /// Expected shape.
        shape: Vec<usize>,
    },
    /// A float input value does not fit the fixed-point range of the circuit.
    #[error(
        "input `{input}`: value {value} at index {index} is outside the representable range [{min}, {max}] (scale 2^{scale})"
    )]
    InputOutOfRange {
        /// Input name.
        input: String,
        /// Flat index.
        index: usize,
        /// The float value.
        value: f32,
        /// Smallest representable value.
        min: f64,
        /// Largest representable value.
        max: f64,
        /// Fixed-point scale exponent.
        scale: i32,
    },
    /// A float input value is NaN or infinite.
    #[error("input `{input}`: value at index {index} is not finite ({value})")]
    NonFiniteInput {
        /// Input name.
        input: String,
        /// Flat index.
        index: usize,
        /// The value.
        value: f32,
    },
    /// The graph is inconsistent (a bug in the importer or a corrupted settings file).
    #[error("malformed graph at node `{node}`: {reason}")]
    MalformedGraph {
        /// Node name.
        node: String,
        /// What is wrong.
        reason: String,
    },
    /// The number of inputs given to `eval` does not match the graph.
    #[error("graph has {expected} inputs, {got} given")]
    InputCount {
        /// Inputs the graph declares.
        expected: usize,
        /// Inputs given.
        got: usize,
    },
    /// The circuit does not fit the largest supported size.
    #[error("circuit needs {rows} rows, more than 2^{max_k} allows")]
    TooLarge {
        /// Rows needed.
        rows: usize,
        /// Largest logrows supported.
        max_k: u32,
    },
    /// A cast to integers met a value that is not an integer.
    #[error(
        "node `{node}`: value {value} at index {index} is not an integer (cast to an integer type)"
    )]
    NotIntegral {
        /// Node name.
        node: String,
        /// Flat index of the element.
        index: usize,
        /// The value (dequantized).
        value: f64,
    },
    /// An integer result of the oracle does not fit its 128-bit arithmetic.
    #[error("node `{node}`: the value at index {index} overflows 128-bit integers")]
    Overflow {
        /// Node name.
        node: String,
        /// Flat index of the element.
        index: usize,
    },
}

/// Result alias of this crate.
pub type Result<T> = std::result::Result<T, CircuitError>;

impl CircuitError {
    /// This error with `scale` as its value's scale, when it is an out-of-range value that
    /// has none yet; any other error unchanged.
    pub fn at_scale(mut self, scale: Option<i32>) -> Self {
        if let CircuitError::ValueOutOfRange {
            scale: s @ None, ..
        } = &mut self
        {
            *s = scale;
        }
        self
    }
}

/// ` (x at scale 2^s)`: a fixed-point value in real units, or nothing without a scale.
fn in_units(value: i128, scale: Option<i32>) -> String {
    scale.map_or(String::new(), |s| {
        format!(" ({} at scale 2^{s})", value as f64 / 2f64.powi(s))
    })
}

/// ` (in real units [a, b])`, or nothing without a scale.
fn range_in_units(min: i128, max: i128, scale: Option<i32>) -> String {
    scale.map_or(String::new(), |s| {
        let unit = 2f64.powi(-s);
        format!(
            " (in real units [{}, {}])",
            min as f64 * unit,
            max as f64 * unit
        )
    })
}
