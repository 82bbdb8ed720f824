//! Deployment and verification on a real chain through its JSON-RPC endpoint (alloy over
//! http or https; tested against anvil).
//!
//! The API is synchronous: each call runs on a private current-thread tokio runtime. Sending
//! needs a private key ([`Node::with_key`]); `eth_call` does not.

use crate::error::ChainError;
use alloy::network::{EthereumWallet, TransactionBuilder};
use alloy::primitives::{Address, Bytes};
use alloy::providers::{Provider, ProviderBuilder};
use alloy::rpc::types::TransactionRequest;
use alloy::signers::local::PrivateKeySigner;
use alloy::transports::http::reqwest::Url;
use halo2_axiom::halo2curves::bn256::Fr;
use serde::{Deserialize, Serialize};
use zkinfer_verifier_contracts::solidity::error_name;
use zkinfer_verifier_contracts::{abi, Compiled, Generated};

/// A JSON-RPC endpoint, with the key that signs transactions when one is given.
pub struct Node {
    url: Url,
    signer: Option<PrivateKeySigner>,
    rt: tokio::runtime::Runtime,
}

/// A mined contract creation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deployed {
    /// The contract's address.
    pub address: Address,
    /// The creating transaction.
    pub tx_hash: String,
    /// Gas the transaction used.
    pub gas_used: u64,
}

/// The verifier and its verifying-key contract on one chain.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deployment {
    /// `eth_chainId` of the node.
    pub chain_id: u64,
    /// The VK contract (absent for a self-contained verifier).
    pub verifying_key: Option<Deployed>,
    /// The verifier.
    pub verifier: Deployed,
}

/// What `verifyProof` did on the node.
#[derive(Clone, Debug, Serialize)]
pub struct NodeOutcome {
    /// It returned `true`.
    pub verified: bool,
    /// It reverted.
    pub reverted: bool,
    /// The verifier's custom error, when a revert carried one.
    pub error: Option<&'static str>,
    /// Gas used, for a call sent as a transaction.
    pub gas_used: Option<u64>,
    /// The transaction, for a call sent as one.
    pub tx_hash: Option<String>,
}

impl Node {
    /// A client of the endpoint at `rpc_url` (`http://…` or `https://…`: TLS by rustls, the
    /// server's certificate checked against the system's roots, which `SSL_CERT_FILE` can
    /// replace); nothing is sent yet.
    pub fn new(rpc_url: &str) -> Result<Self, ChainError> {
        let url: Url = rpc_url.parse().map_err(|e| ChainError::Node {
            url: rpc_url.into(),
            reason: format!("not a URL: {e}"),
        })?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(ChainError::Node {
                url: rpc_url.into(),
                reason: format!(
                    "scheme `{}`: an RPC URL is http:// or https://",
                    url.scheme()
                ),
            });
        }
        // rustls' crypto provider, once per process (a second install is refused, harmlessly).
        // ring, not aws-lc-rs: it builds in seconds rather than minutes; its deprecation is
        // about post-quantum key exchange, which an RPC connection does not need.
        #[allow(deprecated)]
        let _ = rustls::crypto::ring::default_provider().install_default();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| ChainError::Node {
                url: rpc_url.into(),
                reason: format!("async runtime: {e}"),
            })?;
        Ok(Self {
            url,
            signer: None,
            rt,
        })
    }

    /// Signs transactions with `private_key` (hex, with or without `0x`).
    pub fn with_key(mut self, private_key: &str) -> Result<Self, ChainError> {
        let key = private_key.trim();
        let signer = key
            .parse::<PrivateKeySigner>()
            .map_err(|e| ChainError::BadKey {
                reason: format!("{e} (expected 32 bytes of hex)"),
            })?;
        self.signer = Some(signer);
        Ok(self)
    }

    fn err(&self, reason: impl std::fmt::Display) -> ChainError {
        ChainError::Node {
            url: self.url.to_string(),
            reason: reason.to_string(),
        }
    }

    /// An error of the RPC stack, with its causes (a transport error's text alone says only
    /// "error sending request"; its sources say why: refused connection, bad certificate, …).
    fn rpc_err(&self, e: impl std::error::Error) -> ChainError {
        let mut reason = e.to_string();
        let mut source = e.source();
        while let Some(cause) = source {
            let text = cause.to_string();
            if !reason.contains(&text) {
                reason = format!("{reason}: {text}");
            }
            source = cause.source();
        }
        self.err(reason)
    }

    fn signer(&self) -> Result<EthereumWallet, ChainError> {
        self.signer
            .clone()
            .map(EthereumWallet::from)
            .ok_or_else(|| ChainError::BadKey {
                reason: "sending a transaction needs a private key".into(),
            })
    }

    /// The node's chain id (also a reachability check).
    pub fn chain_id(&self) -> Result<u64, ChainError> {
        let provider = ProviderBuilder::new().connect_http(self.url.clone());
        self.rt
            .block_on(async { provider.get_chain_id().await })
            .map_err(|e| self.rpc_err(e))
    }

    /// Sends `tx` and waits for its receipt: `(hash, gas used, success, created address)`.
    fn send_tx(
        &self,
        tx: TransactionRequest,
    ) -> Result<(String, u64, bool, Option<Address>), ChainError> {
        let provider = ProviderBuilder::new()
            .wallet(self.signer()?)
            .connect_http(self.url.clone());
        self.rt.block_on(async {
            let pending = provider
                .send_transaction(tx)
                .await
                .map_err(|e| self.rpc_err(e))?;
            let receipt = pending.get_receipt().await.map_err(|e| self.rpc_err(e))?;
            Ok((
                format!("{:#x}", receipt.transaction_hash),
                receipt.gas_used,
                receipt.status(),
                receipt.contract_address,
            ))
        })
    }

    /// Deploys `init` code; an unsuccessful creation is an error naming the transaction.
    pub fn deploy(&self, contract: &str, init: Vec<u8>) -> Result<Deployed, ChainError> {
        let tx = TransactionRequest::default().with_deploy_code(init);
        let (tx_hash, gas_used, ok, address) = self.send_tx(tx).map_err(|e| match e {
            ChainError::Node { url, reason } => ChainError::Node {
                url,
                reason: format!("deploying {contract}: {reason}"),
            },
            other => other,
        })?;
        match (ok, address) {
            (true, Some(address)) => Ok(Deployed {
                address,
                tx_hash,
                gas_used,
            }),
            _ => Err(self.err(format!(
                "deploying {contract}: transaction {tx_hash} failed after {gas_used} gas"
            ))),
        }
    }

    /// Deploys the verifying-key contract (when the verifier has one), then the verifier
    /// with the key's address as its constructor argument.
    pub fn deploy_verifier(
        &self,
        generated: &Generated,
        compiled: &Compiled,
    ) -> Result<Deployment, ChainError> {
        let chain_id = self.chain_id()?;
        let mut init = compiled.bytecode.clone();
        let verifying_key = if generated.vk_deploy.is_empty() {
            None
        } else {
            let vk = self.deploy("VerifyingKey", generated.vk_deploy.clone())?;
            init.extend_from_slice(&abi::address_word(vk.address.into_array()));
            Some(vk)
        };
        let verifier = self.deploy(zkinfer_verifier_contracts::CONTRACT, init)?;
        Ok(Deployment {
            chain_id,
            verifying_key,
            verifier,
        })
    }

    /// Deploys only the verifying-key contract, for a verifier already on chain that reads
    /// keys through `verifyProof(address, bytes, uint256[])` (one verifier serves every key of
    /// its circuit shape).
    pub fn deploy_key(&self, generated: &Generated) -> Result<Deployed, ChainError> {
        if generated.vk_deploy.is_empty() {
            return Err(self.err("a self-contained verifier has no key contract to deploy"));
        }
        self.deploy("VerifyingKey", generated.vk_deploy.clone())
    }

    /// `eth_call` of `data` to `to`: `Ok(Ok(output))`, or `Ok(Err(revert data))` when it
    /// reverted.
    pub fn call(&self, to: Address, data: Vec<u8>) -> Result<Result<Vec<u8>, Vec<u8>>, ChainError> {
        let provider = ProviderBuilder::new().connect_http(self.url.clone());
        let tx = TransactionRequest::default()
            .with_to(to)
            .with_input(Bytes::from(data));
        match self.rt.block_on(async { provider.call(tx).await }) {
            Ok(out) => Ok(Ok(out.to_vec())),
            Err(e) => match e.as_error_resp() {
                Some(payload) if payload.message.contains("revert") => Ok(Err(payload
                    .as_revert_data()
                    .map(|b| b.to_vec())
                    .unwrap_or_default())),
                _ => Err(self.rpc_err(e)),
            },
        }
    }

    /// The calldata of `verifyProof`: with the verifier's own key, or with the key contract
    /// at `key`.
    fn calldata(key: Option<Address>, proof: &[u8], instances: &[Fr]) -> Vec<u8> {
        match key {
            None => abi::verify_calldata(proof, instances),
            Some(k) => abi::verify_with_key_calldata(k.into_array(), proof, instances),
        }
    }

    /// Calls `verifyProof(proof, instances)` on the verifier at `verifier` with `eth_call`,
    /// or `verifyProof(key, proof, instances)` when the key contract is given.
    pub fn verify(
        &self,
        verifier: Address,
        key: Option<Address>,
        proof: &[u8],
        instances: &[Fr],
    ) -> Result<NodeOutcome, ChainError> {
        let data = Self::calldata(key, proof, instances);
        Ok(match self.call(verifier, data)? {
            // A call to an address without code succeeds with no output: say so.
            Ok(out) if out.is_empty() && self.code_size(verifier)? == 0 => {
                return Err(self.err(format!("no contract at {verifier}")));
            }
            Ok(out) => NodeOutcome {
                verified: abi::is_true(&out),
                reverted: false,
                error: None,
                gas_used: None,
                tx_hash: None,
            },
            Err(revert) => NodeOutcome {
                verified: false,
                reverted: true,
                error: error_name(&revert),
                gas_used: None,
                tx_hash: None,
            },
        })
    }

    /// Sends `verifyProof(proof, instances)` as a transaction (after an `eth_call` that must
    /// return `true`: a rejected proof is reported, not mined).
    pub fn verify_tx(
        &self,
        verifier: Address,
        key: Option<Address>,
        proof: &[u8],
        instances: &[Fr],
    ) -> Result<NodeOutcome, ChainError> {
        let mut outcome = self.verify(verifier, key, proof, instances)?;
        if !outcome.verified {
            return Ok(outcome);
        }
        let (hash, gas, ok) = self.transact(verifier, Self::calldata(key, proof, instances))?;
        outcome.verified = ok;
        outcome.gas_used = Some(gas);
        outcome.tx_hash = Some(hash);
        Ok(outcome)
    }

    /// Sends `data` to `to` as a transaction and waits for its receipt:
    /// `(transaction hash, gas used, success)`.
    pub fn transact(&self, to: Address, data: Vec<u8>) -> Result<(String, u64, bool), ChainError> {
        let tx = TransactionRequest::default()
            .with_to(to)
            .with_input(Bytes::from(data));
        let (hash, gas, ok, _) = self.send_tx(tx)?;
        Ok((hash, gas, ok))
    }

    /// Size of the code at `address`.
    pub fn code_size(&self, address: Address) -> Result<usize, ChainError> {
        self.code(address).map(|c| c.len())
    }

    /// The code at `address` (empty where there is no contract).
    pub fn code(&self, address: Address) -> Result<Vec<u8>, ChainError> {
        let provider = ProviderBuilder::new().connect_http(self.url.clone());
        self.rt
            .block_on(async { provider.get_code_at(address).await })
            .map(|c| c.to_vec())
            .map_err(|e| self.rpc_err(e))
    }
}
