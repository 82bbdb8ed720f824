//! In-process EVM (revm, Osaka rules): deploy the verifying-key contract and the verifier,
//! call `verifyProof`, report the whole transaction's gas.

use crate::error::EvmError;
use revm::context::{Context, TxEnv};
use revm::context_interface::result::ExecutionResult;
use revm::database::{CacheDB, EmptyDB};
use revm::primitives::{hardfork::SpecId, Address, Bytes, TxKind};
use revm::{ExecuteCommitEvm, MainBuilder, MainContext, MainnetEvm};

/// Gas limit of every transaction (under Osaka's per-transaction cap of 2^24).
pub const TX_GAS_LIMIT: u64 = 16_000_000;

/// What a call returned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EvmOutcome {
    /// The call succeeded and returned ABI `true`.
    pub verified: bool,
    /// The call reverted (`REVERT`, gas left refunded).
    pub reverted: bool,
    /// The call halted (an exceptional halt consumes all gas: never expected).
    pub halted: bool,
    /// Gas of the whole transaction (intrinsic and calldata included).
    pub gas: u64,
    /// Return or revert data.
    pub output: Vec<u8>,
}

type Evm = MainnetEvm<revm::handler::MainnetContext<CacheDB<EmptyDB>>>;

/// An EVM with one funded-free caller, at Osaka rules.
pub struct Chain {
    evm: Evm,
    caller: Address,
    nonce: u64,
}

impl std::fmt::Debug for Chain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Chain").field("nonce", &self.nonce).finish()
    }
}

impl Default for Chain {
    fn default() -> Self {
        Self::new()
    }
}

impl Chain {
    /// A fresh chain at Osaka rules.
    pub fn new() -> Self {
        Self::with_spec(SpecId::OSAKA)
    }

    /// A fresh chain at the rules of `spec` (e.g. Cancun, before the calldata floor of
    /// EIP-7623, to profile execution gas).
    pub fn with_spec(spec: SpecId) -> Self {
        let ctx = Context::mainnet()
            .modify_cfg_chained(|cfg| cfg.set_spec_and_mainnet_gas_params(spec))
            .with_db(CacheDB::<EmptyDB>::default());
        Self {
            evm: ctx.build_mainnet(),
            caller: Address::repeat_byte(0x11),
            nonce: 0,
        }
    }

    fn transact(
        &mut self,
        kind: TxKind,
        data: Vec<u8>,
        stage: &'static str,
    ) -> Result<ExecutionResult, EvmError> {
        let tx = TxEnv::builder()
            .caller(self.caller)
            .kind(kind)
            .data(Bytes::from(data))
            .gas_limit(TX_GAS_LIMIT)
            .nonce(self.nonce)
            .build()
            .map_err(|e| EvmError::Evm {
                stage,
                reason: format!("{e:?}"),
            })?;
        let result = self.evm.transact_commit(tx).map_err(|e| EvmError::Evm {
            stage,
            reason: format!("{e:?}"),
        })?;
        self.nonce += 1;
        Ok(result)
    }

    /// Deploys `init` code; returns the address and the deployment's gas.
    pub fn deploy(&mut self, init: Vec<u8>) -> Result<(Address, u64), EvmError> {
        let result = self.transact(TxKind::Create, init, "deploy")?;
        let gas = result.tx_gas_used();
        match result.created_address() {
            Some(a) => Ok((a, gas)),
            None => Err(EvmError::Evm {
                stage: "deploy",
                reason: format!("{result:?}"),
            }),
        }
    }

    /// Calls `to` with `data`.
    pub fn call(&mut self, to: Address, data: Vec<u8>) -> Result<EvmOutcome, EvmError> {
        let result = self.transact(TxKind::Call(to), data, "call")?;
        let gas = result.tx_gas_used();
        Ok(match result {
            ExecutionResult::Success { output, .. } => {
                let out = output.into_data().to_vec();
                EvmOutcome {
                    verified: crate::abi::is_true(&out),
                    reverted: false,
                    halted: false,
                    gas,
                    output: out,
                }
            }
            ExecutionResult::Revert { output, .. } => EvmOutcome {
                verified: false,
                reverted: true,
                halted: false,
                gas,
                output: output.to_vec(),
            },
            ExecutionResult::Halt { .. } => EvmOutcome {
                verified: false,
                reverted: false,
                halted: true,
                gas,
                output: vec![],
            },
        })
    }
}
