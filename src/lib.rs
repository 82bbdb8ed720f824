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
//!     Verdict::Verified(v) => println!("outputs {:?}, float {:?}", v.outputs, model.float_outputs(&input)?),
//!     rejected => println!("rejected: {:?}", rejected.reason()),
//! }
//! # Ok(()) }
//! ```

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
    calibrate, compile, compile_with, prove, prove_by, setup, Keys, Model, Proof, Settings, Source,
};
pub use verdict::{verify, Verdict, Verified};
pub use zkinfer_circuits::Visibility;
pub use zkinfer_onnx_import::{Nonlinear, QuantSettings, Target};
pub use zkinfer_prover::default_cache_dir;
pub use zkinfer_prover::{ProverError, Srs, SrsOrigin};
