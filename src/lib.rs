//! zkinfer: zero-knowledge proofs of ONNX model inference.
//!
//! An ONNX model is imported with tract, quantized to fixed point, compiled into a halo2
//! circuit over BN254 (KZG, SHPLONK), and proven: the proof shows that a (private) input
//! produced the (public) output, with the weights baked into the verifying key.
//!
//! ```
//! use zkinfer::{compile, prove, setup, verify, Model, Verdict, Visibility};
//! # fn main() -> zkinfer::Result<()> {
//! let model = Model::from_bytes(zkinfer::bundled::MLP_IRIS_ONNX)?;
//! let input = zkinfer::input::parse_inputs(zkinfer::bundled::MLP_IRIS_INPUT, "sample")?;
//! let settings = compile(&model, std::slice::from_ref(&input), Visibility::default())?;
//! let keys = setup(&settings, None, &zkinfer::default_cache_dir())?;
//! let proof = prove(&settings, &keys, &input)?;
//! match verify(&settings, &keys.srs, keys.pk.get_vk(), &proof)? {
//!     Verdict::Verified(v) => println!("outputs {:?}, float {:?}", v.outputs, model.reference_outputs(&input)?),
//!     rejected => println!("rejected: {:?}", rejected.reason()),
//! }
//! # Ok(()) }
//! ```
//!
//! Every type the API names is reachable from this crate alone: the ones the pipeline's
//! signatures use at the root ([`Graph`], [`ModelCircuit`], [`ProvingKey`], [`VerifyingKey`]
//! over [`G1Affine`], [`Fr`], the errors of each stage), and the crates behind the facade
//! whole, for what those types lead to: [`circuits`] (the op set and the reference
//! evaluator), [`onnx_import`], [`prover`], [`verifier_contracts`] and [`halo2`] (the
//! `halo2-axiom` these types come from, so a caller never pins a second copy).
//! `examples/embed.rs` runs the whole path, EVM included, through `zkinfer::` paths only.

/// Format version of the files the facade writes: `settings.json`, proofs, `setup.json` and
/// calibration files (key and SRS files carry [`prover::FORMAT_VERSION`]). A file of another
/// version is refused with a message saying so (a calibration file of version 4 to 9 is
/// read: its content did not change). Version 5: the wide layout packs three outputs to a
/// constraint of its shared-input dot gate. Version 6: a rescale whose output later nodes
/// bound skips its own range check of it, so the circuit of a version-5 graph, and its keys,
/// changed. Version 7: the wide layout packs four outputs to a constraint (the wide circuit
/// and its keys changed; a tall graph's did not, but its files are refused all the same).
/// Version 8: the wide layout's blocks take 32 inputs, and a rescale by 2^16 that a max
/// pooling or ReLU reads is laid out inside it (the wide circuit and its keys changed).
/// Version 9: the wide layout's requant unit; a pre-quantized graph's max pooling of
/// requantized values is imported as the requantization of the pooled accumulators; a max
/// whose output later nodes bound bounds its candidates (circuits of both layouts changed).
/// Version 10: the wide layout's rescale unit; a float graph's lowering sums a
/// LayerNormalization's squares on the bilinear gate, folds elementwise affine maps into the
/// dense layers that read them, rescales a table's input once, and drops the nodes no output
/// depends on (graphs of both layouts changed).
/// Version 11: the wide layout packs dot products that bounds carried back through additions
/// pin without range checks of their own, and a graph can put its rescale units in an advice
/// column of their own (`units_column`; wide circuits and their keys changed).
/// Version 12: that column holds the rescale-max units and the signed inputs' range checks
/// too (split circuits and their keys changed).
pub const FORMAT_VERSION: u32 = 12;

pub mod artifacts;
pub mod backend;
pub mod bundled;
pub mod calibration;
mod error;
pub mod evm;
pub mod input;
mod pipeline;
mod verdict;

pub use backend::{prove_with, Backend, CudaProver};
pub use error::{Error, Result};
pub use pipeline::{
    calibrate, compile, compile_in, compile_with, import_srs, prove, prove_by, setup, Keys, Model,
    Proof, Settings, Source,
};
pub use verdict::{verify, Verdict, Verified};
pub use zkinfer_circuits::chip::Layout;
pub use zkinfer_circuits::{CircuitError, Graph, ModelCircuit, Visibility};
pub use zkinfer_onnx_import::{
    Dims, FloatModel, ImportError, Nonlinear, QuantModel, QuantSettings, Target, TensorProto,
};
pub use zkinfer_prover::{
    default_cache_dir, Fr, G1Affine, ProverError, ProvingKey, Srs, SrsOrigin, VerifyingKey,
};
pub use zkinfer_verifier_contracts::EvmError;

/// `halo2-axiom`, the proof system (the [`ProvingKey`], [`VerifyingKey`] and curve types above
/// are its own, and [`Srs::params`] is its `ParamsKZG`).
pub use halo2_axiom as halo2;
/// The JSON-RPC client that deploys verifiers and calls them on a chain.
pub use zkinfer_chain as chain;
/// The op set, the quantized [`Graph`] and its reference evaluator, and the circuit.
pub use zkinfer_circuits as circuits;
/// ONNX import: the float and pre-quantized models, calibration and lowering.
pub use zkinfer_onnx_import as onnx_import;
/// SRS, keygen, proving and verification, and the key and proof file formats.
pub use zkinfer_prover as prover;
/// The Solidity verifier generator and the in-process EVM ([`evm`] wraps both).
pub use zkinfer_verifier_contracts as verifier_contracts;
