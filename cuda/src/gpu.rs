//! Proving with halo2-axiom-gpu: the canonical halo2-axiom proving key, circuit and
//! transcript, the GPU crate's own KZG params (converted by a byte round trip) and its
//! SHPLONK prover. The proof bytes are those of the CPU prover's format (same transcript,
//! same key), so the unchanged verifiers accept them.
//!
//! halo2-axiom-gpu asserts, rather than returns errors for, two things: one circuit per
//! proof and a single-phase circuit (no challenges). The first holds by construction here;
//! the second is checked before calling ([`check_single_phase`]). Panics of the library are
//! caught and classified (out of memory or not), as are its `GpuError`s.

use crate::trace::Collector;
use crate::Failure;
use halo2_axiom::halo2curves::bn256::{Bn256, Fr, G1Affine};
use halo2_axiom::plonk::{ConstraintSystem, ProvingKey};
use halo2_axiom::SerdeFormat;
use halo2_axiom_gpu::cuda::utils::HALO2_GPU_CTX;
use halo2_axiom_gpu::plonk::create_proof;
use halo2_axiom_gpu::poly::kzg::commitment::{KZGCommitmentScheme, ParamsKZG};
use halo2_axiom_gpu::poly::kzg::multiopen::ProverSHPLONK;
use halo2_axiom_gpu::transcript::TranscriptWriterBuffer;
use openvm_cuda_common::copy::MemCopyH2D;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use zkinfer::backend::{CudaFailure, CudaReport};
use zkinfer::{Keys, Proof, Settings};
use zkinfer_circuits::ModelCircuit;
use zkinfer_prover::transcript::{EvmChallenge, EvmTranscript};

/// Refuses a circuit halo2-axiom-gpu would assert on: challenges or advice past phase 0.
pub(crate) fn check_single_phase(cs: &ConstraintSystem<Fr>) -> Result<(), Failure> {
    let phases = cs
        .advice_column_phase()
        .into_iter()
        .chain(cs.challenge_phase())
        .max()
        .map_or(1, |p| usize::from(p) + 1);
    if cs.num_challenges() > 0 || phases > 1 {
        return Err(Failure::new(
            CudaFailure::Unsupported,
            format!(
                "the circuit has {phases} phases and {} challenges; halo2-axiom-gpu proves \
                 single-phase circuits only",
                cs.num_challenges()
            ),
        ));
    }
    Ok(())
}

/// The GPU crate's params, from ours by the serialized form both read and write.
fn convert_params(
    params: &halo2_axiom::poly::kzg::commitment::ParamsKZG<Bn256>,
) -> Result<ParamsKZG<Bn256>, Failure> {
    let mut bytes = Vec::new();
    params
        .write_custom(&mut bytes, SerdeFormat::RawBytesUnchecked)
        .and_then(|()| {
            ParamsKZG::<Bn256>::read_custom(&mut bytes.as_slice(), SerdeFormat::RawBytesUnchecked)
        })
        .map_err(|e| Failure::new(CudaFailure::Failed, format!("params conversion: {e}")))
}

/// The proving key's polynomials halo2-axiom-gpu mirrors on the device at every proof.
fn key_polys(pk: &ProvingKey<G1Affine>) -> Vec<&[Fr]> {
    let mut polys: Vec<&[Fr]> = Vec::new();
    polys.extend(pk.fixed_values().iter().map(|p| &p[..]));
    polys.extend(pk.fixed_polys().iter().map(|p| &p[..]));
    polys.extend(pk.permutation().polys().iter().map(|p| &p[..]));
    polys.extend(pk.permutation().permutations().iter().map(|p| &p[..]));
    polys.extend([&pk.l0()[..], &pk.l_last()[..], &pk.l_active_row()[..]]);
    polys
}

/// Uploads the key's polynomials once, synchronously, and frees them: the upload every
/// proof makes, timed apart (inside a proof it overlaps the first phase).
fn time_key_upload(pk: &ProvingKey<G1Affine>) -> Result<(u64, f64), Failure> {
    let polys = key_polys(pk);
    let bytes: usize = polys.iter().map(|p| std::mem::size_of_val(*p)).sum();
    let start = Instant::now();
    let mut buffers = Vec::with_capacity(polys.len());
    for p in polys {
        buffers.push(
            p.to_device_on(&HALO2_GPU_CTX)
                .map_err(|e| gpu_failure(&format!("{e:?}")))?,
        );
    }
    HALO2_GPU_CTX
        .stream
        .synchronize()
        .map_err(|e| gpu_failure(&format!("{e:?}")))?;
    let secs = start.elapsed().as_secs_f64();
    drop(buffers);
    Ok((bytes as u64, secs))
}

fn gpu_failure(message: &str) -> Failure {
    let lower = message.to_ascii_lowercase();
    let oom = [
        "out of memory",
        "memoryallocation",
        "insufficientgpumemory",
        "oom",
    ]
    .iter()
    .any(|m| lower.contains(m));
    Failure::new(
        if oom {
            CudaFailure::OutOfMemory
        } else {
            CudaFailure::Failed
        },
        message.to_string(),
    )
}

/// One proof with halo2-axiom-gpu: what `zkinfer_prover::prove` does on the CPU.
fn create(
    params: &ParamsKZG<Bn256>,
    pk: &ProvingKey<G1Affine>,
    circuit: ModelCircuit,
) -> Result<Vec<u8>, Failure> {
    let instances = circuit.instances();
    let mut transcript = EvmTranscript::new(vec![]);
    let run = catch_unwind(AssertUnwindSafe(|| {
        create_proof::<KZGCommitmentScheme<Bn256>, ProverSHPLONK<'_, Bn256>, EvmChallenge, _, _, _>(
            params,
            pk,
            &[circuit],
            &[&[&instances]],
            rand::rngs::OsRng,
            &mut transcript,
        )
    }));
    match run {
        Ok(Ok(())) => Ok(transcript.finalize()),
        Ok(Err(e)) => Err(gpu_failure(&format!("{e:?}"))),
        Err(panic) => {
            let msg = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "panic".into());
            Err(gpu_failure(&format!("halo2-axiom-gpu panicked: {msg}")))
        }
    }
}

/// Polls the device's used memory (total − free) while it lives; the peak on drop.
struct MemPoll {
    stop: Arc<AtomicBool>,
    peak: Arc<AtomicU64>,
    handle: Option<std::thread::JoinHandle<()>>,
}

impl MemPoll {
    fn start() -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let peak = Arc::new(AtomicU64::new(0));
        let (s, p) = (stop.clone(), peak.clone());
        let handle = std::thread::spawn(move || {
            while !s.load(Ordering::Relaxed) {
                let used = openvm_cuda_common::memory_manager::device_memory_used() as u64;
                p.fetch_max(used, Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(5));
            }
        });
        Self {
            stop,
            peak,
            handle: Some(handle),
        }
    }

    fn finish(mut self) -> u64 {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
        self.peak.load(Ordering::Relaxed)
    }
}

/// Proves `runs` times on the GPU; the last proof and the report.
pub(crate) fn prove(
    settings: &Settings,
    keys: &Keys,
    inputs: &[Vec<f32>],
    runs: u32,
) -> Result<(Proof, CudaReport), Failure> {
    check_single_phase(keys.pk.get_vk().cs())?;
    let collector = Collector::install();
    let mut report = CudaReport {
        device: format!("cuda:{}", HALO2_GPU_CTX.device_id),
        ..CudaReport::default()
    };
    let start = Instant::now();
    let one = [Fr::from(1u64)];
    let probe = one
        .to_device_on(&HALO2_GPU_CTX)
        .map_err(|e| gpu_failure(&format!("{e:?}")))?;
    HALO2_GPU_CTX
        .stream
        .synchronize()
        .map_err(|e| gpu_failure(&format!("{e:?}")))?;
    drop(probe);
    report.device_init_seconds = start.elapsed().as_secs_f64();
    let start = Instant::now();
    let params = convert_params(&keys.srs.params)?;
    report.params_seconds = start.elapsed().as_secs_f64();
    let (key_bytes, upload) = time_key_upload(&keys.pk)?;
    report.key_bytes = key_bytes;
    report.key_upload_seconds = Some(upload);
    let mut last = None;
    let poll = MemPoll::start();
    for _ in 0..runs {
        collector.take();
        let proof = zkinfer::prove_by(settings, keys, inputs, |_, pk, circuit| {
            create(&params, pk, circuit).map_err(|f| zkinfer::Error::Cuda {
                kind: f.kind,
                detail: f.message,
            })
        })?;
        report.prove_seconds.push(proof.prove_seconds);
        last = Some(proof);
    }
    report.peak_device_used_bytes = Some(poll.finish());
    let recorded = collector.take();
    report.phases = recorded.phases;
    report.h2d = recorded.h2d;
    report.peak_device_bytes = recorded.peak_device_bytes;
    Ok((last.expect("runs >= 1"), report))
}
