//! The `zkinfer` command line: compile, setup, prove, verify, or all at once with `run`;
//! `import-srs` turns a Powers-of-Tau ceremony file into params for `--srs`.

use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use zkinfer::artifacts::{check_output_dir, check_output_file, read_proof, write_json, ModelDir};
use zkinfer::{input::read_inputs, Visibility};

/// `println!` that stops quietly when stdout is closed (`zkinfer … | head`) instead of
/// panicking.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

mod cli_backend;
mod cli_calibration;
mod cli_model;
use cli_calibration::{NonlinearArg, TargetArg};
mod evm_cmd;

#[derive(Parser)]
#[command(
    name = "zkinfer",
    version,
    about = "Zero-knowledge proofs of ONNX inference (halo2, KZG on BN254)"
)]
struct Cli {
    /// Print one JSON object on stdout instead of text.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Quantize an ONNX model and size its circuit into DIR.
    Compile {
        /// ONNX model.
        model: PathBuf,
        /// Calibration input file(s) (JSON), repeatable: the fixed point is chosen so that
        /// every value they produce fits. A float model needs these or --calibrated.
        #[arg(long)]
        calibration: Vec<PathBuf>,
        /// A calibration file from `zkinfer calibrate` (scales and samples).
        #[arg(long, conflicts_with = "calibration")]
        calibrated: Option<PathBuf>,
        /// Output directory.
        #[arg(long)]
        out: PathBuf,
        /// Make the input a public instance.
        #[arg(long)]
        public_input: bool,
        #[command(flatten)]
        model_args: cli_model::ModelArgs,
    },
    /// Generate keys for a compiled DIR (development SRS unless --srs is given).
    Setup {
        /// Compiled directory.
        dir: PathBuf,
        /// SRS params file.
        #[arg(long)]
        srs: Option<PathBuf>,
    },
    /// Prove inference of an input.
    Prove {
        /// Compiled directory with keys.
        dir: PathBuf,
        /// Input JSON.
        #[arg(long)]
        input: PathBuf,
        /// Where to write the proof.
        #[arg(long)]
        proof: PathBuf,
        #[command(flatten)]
        backend: cli_backend::BackendArgs,
    },
    /// Verify a proof (exit 0 valid, 1 rejected).
    Verify {
        /// Compiled directory with keys.
        dir: PathBuf,
        /// Proof JSON.
        #[arg(long)]
        proof: PathBuf,
    },
    /// Choose a float model's scales per tensor on a data set; writes a calibration file for
    /// `compile --calibrated` and explains the choice.
    Calibrate {
        /// ONNX model (float).
        model: PathBuf,
        /// Directory of input JSON files.
        #[arg(long)]
        data: PathBuf,
        /// What to optimize.
        #[arg(long, value_enum, default_value = "balanced")]
        target: TargetArg,
        /// How nonlinear functions are proven.
        #[arg(long, value_enum, default_value = "auto")]
        nonlinear: NonlinearArg,
        /// Calibration file to write.
        #[arg(long, default_value = "calibration.json")]
        out: PathBuf,
        #[command(flatten)]
        model_args: cli_model::ModelArgs,
    },
    /// Compare the quantized model (what the circuit proves) with float inference on a data
    /// set: top-1 agreement, output errors and a per-layer error table.
    Accuracy {
        /// ONNX model (float).
        model: PathBuf,
        /// Directory of input JSON files (also the calibration set).
        #[arg(long)]
        data: PathBuf,
        /// Calibration target.
        #[arg(long, value_enum, default_value = "balanced")]
        target: TargetArg,
        /// How nonlinear functions are proven.
        #[arg(long, value_enum, default_value = "auto")]
        nonlinear: NonlinearArg,
        #[command(flatten)]
        model_args: cli_model::ModelArgs,
    },
    /// Import a snarkjs Powers-of-Tau file (bn128 `.ptau`) as SRS params for `--srs`.
    ImportSrs {
        /// The `.ptau` file.
        ptau: PathBuf,
        /// Where to write the SRS file (parameters and origin, checksummed together).
        #[arg(long)]
        out: PathBuf,
        /// Keep only 2^LOGROWS powers (default: all the file has).
        #[arg(long)]
        logrows: Option<u32>,
    },
    /// Generate and compile the Solidity verifier of a set-up DIR: Verifier.sol, its ABI and
    /// bytecode, and the verifying-key contract.
    CreateVerifier {
        /// Compiled directory with keys.
        dir: PathBuf,
        /// Output directory; default DIR/evm.
        #[arg(long)]
        out: Option<PathBuf>,
        /// One self-contained contract with the key embedded (no VK contract).
        #[arg(long)]
        self_contained: bool,
    },
    /// Verify a proof with the generated verifier in an in-process EVM (exit 0 valid, 1
    /// rejected); reports gas.
    VerifyEvm {
        /// Compiled directory with keys.
        dir: PathBuf,
        /// Proof JSON.
        #[arg(long)]
        proof: PathBuf,
        /// Use the self-contained verifier (key embedded) instead of verifier + VK contract.
        #[arg(long)]
        self_contained: bool,
    },
    /// Deploy the verifying-key contract and the verifier to a chain through its JSON-RPC
    /// endpoint (or, with --verifier, only the key contract); appends the deployment, bound
    /// to the settings and key, to DIR/evm/deployment.json.
    Deploy {
        /// Compiled directory with keys.
        dir: PathBuf,
        /// JSON-RPC endpoint (`http://…`).
        #[arg(long)]
        rpc_url: String,
        #[command(flatten)]
        key: KeyArgs,
        /// A verifier already on chain (one serves every key of its circuit shape): deploy
        /// only the key contract, and call it through `verifyProof(key, …)`.
        #[arg(long)]
        verifier: Option<String>,
        /// Deploy even if DIR was set up with the development SRS (anyone can forge proofs
        /// under it): for test chains only.
        #[arg(long)]
        allow_insecure_srs: bool,
    },
    /// Verify a proof with a deployed verifier (`eth_call`; exit 0 valid, 1 rejected); with
    /// `--send`, also as a mined transaction, reporting its gas.
    VerifyOnchain {
        /// Compiled directory.
        dir: PathBuf,
        /// Proof JSON.
        #[arg(long)]
        proof: PathBuf,
        /// JSON-RPC endpoint (`http://…`).
        #[arg(long)]
        rpc_url: String,
        /// Verifier address; default: the newest deployment of DIR's settings and key on
        /// that chain, from DIR/evm/deployment.json.
        #[arg(long)]
        address: Option<String>,
        /// With --address: the key contract to name in `verifyProof(key, …)` (a verifier
        /// shared by keys of one circuit shape).
        #[arg(long)]
        key: Option<String>,
        /// Send the call as a transaction (needs a private key).
        #[arg(long)]
        send: bool,
        #[command(flatten)]
        signer: KeyArgs,
    },
    /// Print the hex calldata of `verifyProof(bytes proof, uint256[] instances)`.
    Calldata {
        /// Compiled directory.
        dir: PathBuf,
        /// Proof JSON.
        #[arg(long)]
        proof: PathBuf,
    },
    /// Compile (calibrated on the input), set up, prove and verify in one go.
    Run(RunArgs),
}

/// `zkinfer run`'s arguments.
#[derive(clap::Args)]
struct RunArgs {
    /// ONNX model; default: the bundled mlp_digits.
    model: Option<PathBuf>,
    /// Input JSON; default: the bundled sample.
    #[arg(long)]
    input: Option<PathBuf>,
    /// Directory for artifacts; default: a temporary one.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Make the input a public instance.
    #[arg(long)]
    public_input: bool,
    /// SRS params file.
    #[arg(long)]
    srs: Option<PathBuf>,
    #[command(flatten)]
    backend: cli_backend::BackendArgs,
    #[command(flatten)]
    model_args: cli_model::ModelArgs,
}

/// The private key of the account that signs transactions.
#[derive(clap::Args)]
struct KeyArgs {
    /// Hex private key (visible to other users of this machine in the process list: prefer
    /// --private-key-file or ZKINFER_PRIVATE_KEY).
    #[arg(long, conflicts_with = "private_key_file")]
    private_key: Option<String>,
    /// A file holding the hex private key.
    #[arg(long)]
    private_key_file: Option<PathBuf>,
}

impl KeyArgs {
    /// The key: --private-key, else --private-key-file, else `$ZKINFER_PRIVATE_KEY`.
    fn get(&self) -> Result<Option<String>> {
        if let Some(k) = &self.private_key {
            return Ok(Some(k.clone()));
        }
        if let Some(path) = &self.private_key_file {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("--private-key-file {}", path.display()))?;
            return Ok(Some(text.trim().to_string()));
        }
        Ok(std::env::var("ZKINFER_PRIVATE_KEY").ok())
    }

    fn required(&self, why: &str) -> Result<String> {
        self.get()?.ok_or_else(|| {
            anyhow::anyhow!(
                "{why} needs a private key: --private-key-file FILE, $ZKINFER_PRIVATE_KEY or \
                 --private-key KEY"
            )
        })
    }
}

fn step<T>(json: bool, msg: &str, f: impl FnOnce() -> zkinfer::Result<T>) -> Result<(T, f64)> {
    let bar = if json {
        ProgressBar::hidden()
    } else {
        ProgressBar::new_spinner()
    };
    bar.set_style(ProgressStyle::with_template("{spinner} {msg} {elapsed}").expect("template"));
    bar.set_message(msg.to_string());
    bar.enable_steady_tick(Duration::from_millis(100));
    let start = Instant::now();
    let out = f();
    let secs = start.elapsed().as_secs_f64();
    bar.finish_and_clear();
    if !json {
        eprintln!("{msg}: {secs:.2} s");
    }
    Ok((out.with_context(|| format!("{msg} failed"))?, secs))
}

fn main() {
    let cli = Cli::parse();
    match dispatch(&cli) {
        Ok(code) => std::process::exit(code),
        Err(e) => {
            if cli.json {
                say!("{}", json!({ "error": describe(&e) }));
            } else {
                eprintln!("error: {}", describe(&e));
            }
            std::process::exit(2);
        }
    }
}

/// An error and its causes, each once: a cause whose text is already shown (an error that
/// prints its source, as `path: No such file or directory` does) is not repeated.
fn describe(e: &anyhow::Error) -> String {
    let mut text = String::new();
    for cause in e.chain().map(ToString::to_string) {
        if text.contains(&cause) {
            continue;
        }
        if !text.is_empty() {
            text.push_str(": ");
        }
        text.push_str(&cause);
    }
    text
}

/// Reads an input file for the compiled `settings`, refusing a declared `shape` that is not
/// the model's.
pub(crate) fn read_model_inputs(
    path: &Path,
    settings: &zkinfer::Settings,
) -> Result<Vec<Vec<f32>>> {
    let file = zkinfer::input::read_input_file(path)?;
    file.check_shape(&zkinfer::input::graph_inputs(&settings.graph))?;
    warn_ignored(&file);
    Ok(file.values)
}

/// Warns of the fields of an input file that zkinfer does not read (a misspelt `shape`).
pub(crate) fn warn_ignored(file: &zkinfer::input::InputFile) {
    if let Some(warning) = file.ignored_warning() {
        eprintln!("warning: {warning}");
    }
}

fn dispatch(cli: &Cli) -> Result<i32> {
    let j = cli.json;
    match &cli.cmd {
        Cmd::Compile {
            model,
            calibration,
            calibrated,
            out,
            public_input,
            model_args,
        } => {
            check_output_dir(out).context("--out")?;
            let m = step(j, "import", || Ok(model_args.load(model)))?.0?;
            let vis = Visibility {
                public_input: *public_input,
            };
            let (samples, quant) = match calibrated {
                Some(path) => {
                    let c = zkinfer::calibration::read_calibration(path, &m)?;
                    let quant = model_args.apply(c.quant);
                    (c.samples, Some(quant))
                }
                None if calibration.is_empty() && m.float().is_some() => bail!(
                    "compile needs calibration samples to choose the fixed point of a float \
                     model: `zkinfer calibrate MODEL --data DIR` then `compile --calibrated \
                     calibration.json`, or `--calibration FILE` (repeatable); `zkinfer run` \
                     calibrates on the input it proves"
                ),
                None => {
                    let samples = calibration
                        .iter()
                        .map(|p| read_inputs(p))
                        .collect::<zkinfer::Result<Vec<_>>>()?;
                    let quant = model_args.quant(&m, &samples)?;
                    (samples, quant)
                }
            };
            let settings = step(j, "compile", || {
                zkinfer::compile_with(&m, &samples, quant, vis)
            })?
            .0;
            ModelDir::new(out)?.write_compiled(&settings, model)?;
            report(
                j,
                json!({ "logrows": settings.logrows, "rows": settings.rows, "circuit_rows": settings.circuit_rows, "quant": settings.quant, "dir": out }),
            );
            Ok(0)
        }
        Cmd::Setup { dir, srs } => {
            let d = ModelDir::open(dir)?;
            let settings = d.settings()?;
            let keys = step(j, "setup", || {
                zkinfer::setup(&settings, srs.as_deref(), &zkinfer::default_cache_dir())
            })?
            .0;
            let info = d.write_keys(&settings, &keys)?;
            report(
                j,
                json!({ "logrows": info.logrows, "vk_hash": info.vk_hash, "srs": info.srs }),
            );
            Ok(0)
        }
        Cmd::Prove {
            dir,
            input,
            proof,
            backend,
        } => {
            if let Some(cuda) = backend.cuda()? {
                return cli_backend::prove(j, dir, input, proof, &cuda);
            }
            let d = ModelDir::open(dir)?;
            let settings = d.settings()?;
            d.setup_info(&settings)?;
            check_output_file(proof).context("--proof")?;
            let inputs = read_model_inputs(input, &settings)?;
            let float = d.model(&settings)?.float_outputs(&inputs)?;
            let keys = step(j, "load keys", || d.keys(&settings))?.0;
            let p = step(j, "prove", || zkinfer::prove(&settings, &keys, &inputs))?.0;
            write_json(proof, &p)?;
            report(
                j,
                json!({
                    "outputs": p.outputs,
                    "public_outputs": p.public_outputs,
                    "float_outputs": float,
                    "prove_seconds": p.prove_seconds,
                    "proof_bytes": p.proof.len() / 2,
                }),
            );
            Ok(0)
        }
        Cmd::Verify { dir, proof } => {
            let d = ModelDir::open(dir)?;
            let settings = d.settings()?;
            let p = read_proof(proof)?;
            let (srs, vk) = d.verifier(&settings)?;
            let insecure = evm_cmd::warn_if_insecure(dir, &srs);
            verdict(j, zkinfer::verify(&settings, &srs, &vk, &p)?, insecure)
        }
        Cmd::Calibrate {
            model,
            data,
            target,
            nonlinear,
            out,
            model_args,
        } => {
            let choice = (*target, *nonlinear);
            cli_calibration::run_calibrate(j, model, data, choice, model_args, out)
        }
        Cmd::Accuracy {
            model,
            data,
            target,
            nonlinear,
            model_args,
        } => cli_calibration::run_accuracy(j, model, data, (*target, *nonlinear), model_args),
        Cmd::ImportSrs { ptau, out, logrows } => {
            let k = match logrows {
                Some(k) => *k,
                None => zkinfer_prover::read_ptau_header(ptau)?.power,
            };
            check_output_file(out).context("--out")?;
            let srs = step(j, "import", || Ok(zkinfer_prover::Srs::from_ptau(ptau, k)?))?.0;
            srs.save(out)?;
            report(j, json!({ "logrows": k, "srs": srs.origin, "out": out }));
            Ok(0)
        }
        Cmd::CreateVerifier {
            dir,
            out,
            self_contained,
        } => {
            let v = evm_cmd::create(dir, out.as_deref(), *self_contained)?;
            report(j, v);
            Ok(0)
        }
        Cmd::VerifyEvm {
            dir,
            proof,
            self_contained,
        } => {
            let (code, v) = evm_cmd::verify(dir, proof, *self_contained)?;
            report(j, v);
            Ok(code)
        }
        Cmd::Deploy {
            dir,
            rpc_url,
            key,
            verifier,
            allow_insecure_srs,
        } => {
            let private_key = key.required("deploy")?;
            report(
                j,
                evm_cmd::deploy(
                    dir,
                    rpc_url,
                    &private_key,
                    verifier.as_deref(),
                    *allow_insecure_srs,
                )?,
            );
            Ok(0)
        }
        Cmd::VerifyOnchain {
            dir,
            proof,
            rpc_url,
            address,
            key,
            send,
            signer,
        } => {
            let private_key = if *send {
                Some(signer.required("--send")?)
            } else {
                None
            };
            let (code, v) = evm_cmd::verify_onchain(
                dir,
                proof,
                rpc_url,
                (address.as_deref(), key.as_deref()),
                private_key.as_deref(),
            )?;
            report(j, v);
            Ok(code)
        }
        Cmd::Calldata { dir, proof } => {
            let hex = evm_cmd::encode(dir, proof)?;
            if j {
                say!("{}", json!({ "calldata": hex }));
            } else {
                say!("{hex}");
            }
            Ok(0)
        }
        Cmd::Run(args) => run(j, args),
    }
}

fn report(json: bool, value: serde_json::Value) {
    if json {
        say!("{value}");
    } else if let Some(obj) = value.as_object() {
        for (k, v) in obj.iter().filter(|(_, v)| !v.is_null()) {
            say!("{k}: {v}");
        }
    }
}

/// Reports a verdict: what is shown as verified comes from the verdict (the checked public
/// instances), never from the proof file's own fields. Exit 0 verified, 1 rejected.
fn verdict(json: bool, verdict: zkinfer::Verdict, insecure_srs: bool) -> Result<i32> {
    match verdict {
        zkinfer::Verdict::Verified(v) => {
            report(
                json,
                json!({
                    "verified": true,
                    "outputs": v.outputs,
                    "public_outputs": v.public_outputs,
                    "insecure_srs": insecure_srs,
                }),
            );
            Ok(0)
        }
        rejected => {
            report(
                json,
                json!({
                    "verified": false,
                    "reason": rejected.reason().unwrap_or("rejected"),
                    "insecure_srs": insecure_srs,
                }),
            );
            Ok(1)
        }
    }
}

fn fmt_vec(v: &serde_json::Value) -> String {
    let items: Vec<String> = v
        .as_array()
        .into_iter()
        .flatten()
        .map(|x| format!("{:.4}", x.as_f64().unwrap_or(f64::NAN)))
        .collect();
    format!("[{}]", items.join(", "))
}

fn print_run(v: &serde_json::Value) {
    say!(
        "circuit:       {} rows ({} circuit rows), logrows {}",
        v["rows"],
        v["circuit_rows"],
        v["logrows"]
    );
    say!("outputs:       {}", fmt_vec(&v["outputs"]));
    if v["reference"] == "quantized" {
        say!("reference:     {}", fmt_vec(&v["float_outputs"]));
    } else {
        say!("float (tract): {}", fmt_vec(&v["float_outputs"]));
    }
    say!(
        "max abs error: {:.2e}",
        v["max_abs_error"].as_f64().unwrap_or(f64::NAN)
    );
    say!(
        "prove {:.2} s, verify {:.3} s, proof {} bytes",
        v["prove_seconds"].as_f64().unwrap_or(0.0),
        v["verify_seconds"].as_f64().unwrap_or(0.0),
        v["proof_bytes"]
    );
    match v["srs"]["kind"].as_str() {
        Some("dev_insecure") => {
            say!("srs:           development SRS (INSECURE: for testing only)")
        }
        Some("ceremony") => say!(
            "srs:           ceremony {} (2^{} powers, contributions: {})",
            v["srs"]["file"].as_str().unwrap_or("?"),
            v["srs"]["power"],
            v["srs"]["contributions"]
        ),
        _ => {}
    }
    say!("verified:      {}", v["verified"]);
}

fn run(j: bool, args: &RunArgs) -> Result<i32> {
    let RunArgs {
        backend,
        model_args,
        public_input,
        ..
    } = args;
    let public_input = *public_input;
    let (model, input) = (args.model.as_deref(), args.input.as_deref());
    let (out, srs) = (args.out.as_deref(), args.srs.as_deref());
    if let Some(dir) = out {
        check_output_dir(dir).context("--out")?;
    }
    let (m, file) = match (model, input) {
        (Some(m), Some(i)) => (model_args.load(m)?, zkinfer::input::read_input_file(i)?),
        (None, None) => (
            model_args.load_bytes(zkinfer::bundled::MLP_DIGITS_ONNX)?,
            zkinfer::input::parse_input_file(zkinfer::bundled::MLP_DIGITS_INPUT, "bundled sample")?,
        ),
        _ => bail!("give both MODEL and --input, or neither (the bundled mlp_digits)"),
    };
    file.check_shape(&zkinfer::input::model_inputs(&m)?)?;
    warn_ignored(&file);
    let inputs = file.values;
    let vis = Visibility { public_input };
    let samples = std::slice::from_ref(&inputs);
    let quant = model_args.quant(&m, samples)?;
    let (settings, compile_s) = step(j, "compile", || {
        zkinfer::compile_with(&m, samples, quant, vis)
    })?;
    let (keys, setup_s) = step(j, "setup", || {
        zkinfer::setup(&settings, srs, &zkinfer::default_cache_dir())
    })?;
    if let Some(dir) = out {
        // What `compile` then `setup` write, so that every later command takes the directory.
        let d = ModelDir::new(dir)?;
        match model {
            Some(path) => d.write_compiled(&settings, path)?,
            None => d.write_compiled_bytes(&settings, zkinfer::bundled::MLP_DIGITS_ONNX)?,
        }
        d.write_keys(&settings, &keys)?;
    }
    let (proof, cuda_report) = match backend.cuda()? {
        None => (
            step(j, "prove", || zkinfer::prove(&settings, &keys, &inputs))?.0,
            None,
        ),
        Some(cuda) => {
            let (p, r) = cli_backend::prove_run(j, out, &settings, &keys, &inputs, &cuda)?;
            (p, Some(r))
        }
    };
    if let Some(dir) = out {
        write_json(&dir.join("proof.json"), &proof)?;
    }
    let (verdict, verify_s) = step(j, "verify", || {
        zkinfer::verify(&settings, &keys.srs, keys.pk.get_vk(), &proof)
    })?;
    let float = m.float_outputs(&inputs)?;
    // Outputs shown are the verified ones; a rejected proof shows none.
    let outputs = verdict.clone().verified().map(|v| v.outputs);
    let max_abs_err = outputs
        .iter()
        .flatten()
        .zip(&float)
        .map(|(a, b)| (a - f64::from(*b)).abs())
        .fold(0f64, f64::max);
    let value = json!({
        "verified": verdict.is_verified(),
        "outputs": outputs,
        "float_outputs": float,
        "reference": if m.float().is_some() { "float" } else { "quantized" },
        "max_abs_error": max_abs_err,
        "logrows": settings.logrows,
        "rows": settings.rows,
        "circuit_rows": settings.circuit_rows,
        "compile_seconds": compile_s,
        "setup_seconds": setup_s,
        "prove_seconds": proof.prove_seconds,
        "verify_seconds": verify_s,
        "proof_bytes": proof.proof.len() / 2,
        "srs": proof.srs,
    });
    let mut value = value;
    if let Some(r) = cuda_report {
        value["backend"] = json!("cuda");
        value["cuda"] = json!(r);
    }
    if j {
        report(true, value);
    } else {
        print_run(&value);
    }
    if let Some(reason) = verdict.reason() {
        if !j {
            eprintln!("verification failed: {reason}");
        }
        return Ok(1);
    }
    Ok(0)
}
