//! The integer op set of zkinfer, its plain-Rust reference evaluator (the single oracle) and
//! the halo2 chips that prove it, laid out as one circuit per model.
//!
//! ```
//! use std::sync::Arc;
//! use zkinfer_circuits::{ops::{Op, Relu}, Graph, GraphInput, ModelCircuit, Node, Visibility};
//! use halo2_axiom::dev::MockProver;
//!
//! let graph = Graph {
//!     inputs: vec![GraphInput { name: "x".into(), shape: vec![3], scale: 0, affine: None }],
//!     nodes: vec![Node { name: "relu".into(), op: Op::Relu(Relu {}), inputs: vec![0], shape: vec![3], scale: 0, affine: None }],
//!     outputs: vec![1],
//!     sources: vec![],
//!     layout: Default::default(), // the tall layout; `Layout::Wide` for shared-input dots
//!     units_column: false, // wide only: `ModelCircuit::choose_units_column` decides
//! };
//! let circuit = ModelCircuit::new(Arc::new(graph), &[vec![-5, 0, 7]], Visibility::default()).unwrap();
//! let k = circuit.min_k().unwrap();
//! let prover = MockProver::run(k, &circuit, vec![circuit.instances()]).unwrap();
//! prover.assert_satisfied();
//! ```

pub mod chip;
mod circuit;
mod compact;
mod enforced;
mod error;
pub mod field;
mod graph;
mod graph_io;
mod indices;
pub mod ops;
mod tensor;
#[cfg(feature = "test-support")]
pub mod testing;

pub use circuit::{ModelCircuit, Size, Visibility, MAX_K, UNIT_COLUMN};
pub use error::{CircuitError, Result};
pub use graph::{Affine, Graph, GraphInput, Node, TensorId};
pub use tensor::Tensor;

/// The scalar field the circuits are defined over (BN254's `Fr`).
pub use halo2_axiom::halo2curves::bn256::Fr;
