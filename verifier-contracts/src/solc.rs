//! Compilation with solc-js (the npm `solc` package pinned in `verifier-contracts/`): `node`
//! runs a small driver that feeds solc's standard JSON input on stdin. Outputs are cached by
//! the SHA-256 of the input, so a verifier is compiled once per content.

use crate::error::{io_err, EvmError};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The EIP-170 limit on runtime code size.
pub const MAX_RUNTIME_BYTES: usize = 24_576;

/// EVM version the verifiers target (they need `mcopy`-free Cancun opcodes at most).
pub const EVM_VERSION: &str = "cancun";

const DRIVER: &str = "const solc = require(process.argv[1]); let input = ''; \
process.stdin.on('data', d => input += d); \
process.stdin.on('end', () => process.stdout.write(solc.compile(input)));";

/// A compiled contract.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Compiled {
    /// Init code.
    pub bytecode: Vec<u8>,
    /// Runtime code.
    pub runtime: Vec<u8>,
    /// ABI (JSON).
    pub abi: Value,
}

/// The `node_modules` directory holding solc-js: `$ZKINFER_NODE_MODULES`, else the one
/// `npm ci` creates in `verifier-contracts/`.
pub fn node_modules() -> PathBuf {
    match std::env::var_os("ZKINFER_NODE_MODULES") {
        Some(d) => PathBuf::from(d),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("node_modules"),
    }
}

fn cache_dir() -> PathBuf {
    zkinfer_prover::default_cache_dir().join("solc")
}

/// Compiles `contract` of `source` (one file) with the optimizer on, checking EIP-170.
pub fn compile(source: &str, contract: &str) -> Result<Compiled, EvmError> {
    let input = json!({
        "language": "Solidity",
        "sources": { "Verifier.sol": { "content": source } },
        "settings": {
            "optimizer": { "enabled": true, "runs": 1 },
            "evmVersion": EVM_VERSION,
            // No source hash in the code: NatSpec (the SRS line, say) does not change it.
            "metadata": { "bytecodeHash": "none" },
            "outputSelection": { "*": { "*": ["abi", "evm.bytecode.object", "evm.deployedBytecode.object"] } }
        }
    })
    .to_string();
    let key = hex::encode(Sha256::digest(input.as_bytes()));
    let cached = cache_dir().join(format!("{key}.json"));
    let output = match std::fs::read_to_string(&cached) {
        Ok(text) => text,
        Err(_) => {
            let text = run_solc(&input)?;
            let _ = std::fs::create_dir_all(cache_dir());
            let tmp = cached.with_extension(format!("tmp{}", std::process::id()));
            if std::fs::write(&tmp, &text).is_ok() {
                let _ = std::fs::rename(&tmp, &cached);
            }
            text
        }
    };
    parse_output(&output, contract)
}

fn run_solc(input: &str) -> Result<String, EvmError> {
    let solc = node_modules().join("solc");
    if !solc.join("package.json").exists() {
        return Err(EvmError::SolcMissing {
            dir: node_modules().display().to_string(),
        });
    }
    let mut child = Command::new("node")
        .arg("-e")
        .arg(DRIVER)
        .arg(&solc)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| EvmError::NodeMissing {
            reason: e.to_string(),
        })?;
    child
        .stdin
        .take()
        .expect("piped stdin")
        .write_all(input.as_bytes())
        .map_err(io_err(Path::new("<node stdin>")))?;
    let out = child
        .wait_with_output()
        .map_err(io_err(Path::new("<node>")))?;
    if !out.status.success() {
        return Err(EvmError::Compile {
            message: String::from_utf8_lossy(&out.stderr).into_owned(),
        });
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

fn parse_output(output: &str, contract: &str) -> Result<Compiled, EvmError> {
    let v: Value = serde_json::from_str(output).map_err(|e| EvmError::Compile {
        message: format!("unreadable solc output: {e}"),
    })?;
    let errors: Vec<String> = v["errors"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|e| e["severity"] == "error")
        .map(|e| e["formattedMessage"].as_str().unwrap_or("?").to_string())
        .collect();
    if !errors.is_empty() {
        return Err(EvmError::Compile {
            message: errors.join("\n"),
        });
    }
    let c = &v["contracts"]["Verifier.sol"][contract];
    let code = |field: &str| -> Result<Vec<u8>, EvmError> {
        let hex_text = c["evm"][field]["object"].as_str().unwrap_or_default();
        hex::decode(hex_text).map_err(|e| EvmError::Compile {
            message: format!("{contract}: bad {field}: {e}"),
        })
    };
    let compiled = Compiled {
        bytecode: code("bytecode")?,
        runtime: code("deployedBytecode")?,
        abi: c["abi"].clone(),
    };
    if compiled.bytecode.is_empty() {
        return Err(EvmError::Compile {
            message: format!("no contract {contract} in the output"),
        });
    }
    if compiled.runtime.len() > MAX_RUNTIME_BYTES {
        return Err(EvmError::CodeTooLarge {
            contract: contract.to_string(),
            size: compiled.runtime.len(),
            limit: MAX_RUNTIME_BYTES,
        });
    }
    Ok(compiled)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn output(runtime_len: usize) -> String {
        json!({
            "contracts": { "Verifier.sol": { "V": {
                "abi": [],
                "evm": {
                    "bytecode": { "object": "6000" },
                    "deployedBytecode": { "object": "00".repeat(runtime_len) }
                }
            }}}
        })
        .to_string()
    }

    #[test]
    fn runtime_over_eip170_is_refused() {
        assert!(parse_output(&output(MAX_RUNTIME_BYTES), "V").is_ok());
        let err = parse_output(&output(MAX_RUNTIME_BYTES + 1), "V").unwrap_err();
        assert!(matches!(
            err,
            EvmError::CodeTooLarge { size, limit: MAX_RUNTIME_BYTES, .. } if size == MAX_RUNTIME_BYTES + 1
        ));
    }

    #[test]
    fn solc_errors_are_reported() {
        let out = json!({ "errors": [{ "severity": "error", "formattedMessage": "boom" }] });
        let err = parse_output(&out.to_string(), "V").unwrap_err();
        assert!(matches!(err, EvmError::Compile { message } if message.contains("boom")));
    }

    #[test]
    fn missing_node_modules_names_npm_ci() {
        let empty =
            std::env::temp_dir().join(format!("zkinfer-no-node-modules-{}", std::process::id()));
        std::env::set_var("ZKINFER_NODE_MODULES", &empty);
        let err = run_solc("{}").unwrap_err();
        std::env::remove_var("ZKINFER_NODE_MODULES");
        assert!(matches!(err, EvmError::SolcMissing { .. }));
        assert!(err.to_string().contains("npm ci"));
    }
}
