//! The proof transcript: Keccak-256 over fixed-width big-endian words, the encoding the
//! generated Solidity verifier reads (see `zkinfer-verifier-contracts`). It is the only
//! transcript zkinfer proves and verifies with, so the native verifier and the EVM verifier
//! read exactly the same bytes.
//!
//! # Encoding
//!
//! - A scalar (element of `Fr`, the BN254 scalar field) is one 32-byte big-endian word; on
//!   read it must be canonical (`< r`).
//! - A point of G1 is two words, `x` then `y` (big-endian, each `< p`), uncompressed: the
//!   layout of the EVM's `ecAdd`/`ecMul`/`ecPairing` precompiles. The identity is `(0, 0)`.
//!   On read a point must be on the curve `y² = x³ + 3` (or be the identity).
//! - The proof is the concatenation of the words the prover writes, nothing else (no length
//!   prefix, no padding).
//!
//! # Challenges
//!
//! The transcript holds a 32-byte `state` (initially zero) and the bytes absorbed since the
//! last challenge (`buf`: common and proof words, in order). A challenge is
//! `h = keccak256(state ‖ buf)`; then `state = h`, `buf` is emptied, and the challenge scalar is
//! `h mod r` (`h` read as a big-endian integer). Two challenges in a row therefore hash
//! `state` alone the second time. On the EVM this is one `keccak256` over a scratch buffer
//! holding `state` followed by a `calldatacopy` of the proof bytes since the last challenge.

use halo2_axiom::halo2curves::bn256::{Fq, Fr, G1Affine};
use halo2_axiom::halo2curves::ff::{FromUniformBytes, PrimeField};
use halo2_axiom::halo2curves::group::prime::PrimeCurveAffine;
use halo2_axiom::halo2curves::CurveAffine;
use halo2_axiom::transcript::{
    EncodedChallenge, Transcript, TranscriptRead, TranscriptReadBuffer, TranscriptWrite,
    TranscriptWriterBuffer,
};
use sha3::{Digest, Keccak256};
use std::io::{self, Read, Write};

/// Bytes of one scalar word.
pub const SCALAR_BYTES: usize = 32;
/// Bytes of one uncompressed point (two words).
pub const POINT_BYTES: usize = 64;

/// A challenge: `keccak256(state ‖ buf)` reduced modulo the scalar field order.
#[derive(Clone, Copy, Debug)]
pub struct EvmChallenge(Fr);

impl EncodedChallenge<G1Affine> for EvmChallenge {
    type Input = [u8; 32];

    fn new(digest: &[u8; 32]) -> Self {
        let mut wide = [0u8; 64];
        for (dst, src) in wide.iter_mut().zip(digest.iter().rev()) {
            *dst = *src;
        }
        Self(Fr::from_uniform_bytes(&wide))
    }

    fn get_scalar(&self) -> Fr {
        self.0
    }
}

/// The Keccak-256 EVM transcript over a reader (verifying) or a writer (proving).
#[derive(Debug)]
pub struct EvmTranscript<S> {
    stream: S,
    state: [u8; 32],
    buf: Vec<u8>,
}

impl<S> EvmTranscript<S> {
    /// A fresh transcript (zero state) over a proof reader or writer.
    pub fn new(stream: S) -> Self {
        Self {
            stream,
            state: [0; 32],
            buf: Vec::new(),
        }
    }
}

/// The 32-byte big-endian word of a scalar.
pub fn scalar_word(s: &Fr) -> [u8; 32] {
    let mut w = s.to_repr();
    w.reverse();
    w
}

/// A scalar from a big-endian word; `None` unless canonical (`< r`).
pub fn scalar_from_word(w: &[u8; 32]) -> Option<Fr> {
    let mut le = *w;
    le.reverse();
    Option::from(Fr::from_repr(le))
}

fn base_word(f: &Fq) -> [u8; 32] {
    let mut w = f.to_repr();
    w.reverse();
    w
}

/// The 64-byte encoding of a point: `x ‖ y`, big-endian; `(0, 0)` for the identity.
pub fn point_bytes(p: &G1Affine) -> [u8; 64] {
    let mut out = [0u8; 64];
    if !bool::from(p.is_identity()) {
        out[..32].copy_from_slice(&base_word(&p.x));
        out[32..].copy_from_slice(&base_word(&p.y));
    }
    out
}

/// A point from its 64-byte encoding; `None` for non-canonical coordinates or a point off
/// the curve.
pub fn point_from_bytes(b: &[u8; 64]) -> Option<G1Affine> {
    if b.iter().all(|x| *x == 0) {
        return Some(G1Affine::identity());
    }
    let coord = |w: &[u8]| -> Option<Fq> {
        let mut le: [u8; 32] = w.try_into().ok()?;
        le.reverse();
        Option::from(Fq::from_repr(le))
    };
    let (x, y) = (coord(&b[..32])?, coord(&b[32..])?);
    Option::from(<G1Affine as CurveAffine>::from_xy(x, y))
}

impl<S> Transcript<G1Affine, EvmChallenge> for EvmTranscript<S> {
    fn squeeze_challenge(&mut self) -> EvmChallenge {
        let mut h = Keccak256::new();
        h.update(self.state);
        h.update(&self.buf);
        self.state = h.finalize().into();
        self.buf.clear();
        EvmChallenge::new(&self.state)
    }

    fn common_point(&mut self, point: G1Affine) -> io::Result<()> {
        self.buf.extend_from_slice(&point_bytes(&point));
        Ok(())
    }

    fn common_scalar(&mut self, scalar: Fr) -> io::Result<()> {
        self.buf.extend_from_slice(&scalar_word(&scalar));
        Ok(())
    }
}

fn invalid(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what.to_string())
}

impl<R: Read> TranscriptRead<G1Affine, EvmChallenge> for EvmTranscript<R> {
    fn read_point(&mut self) -> io::Result<G1Affine> {
        let mut b = [0u8; POINT_BYTES];
        self.stream.read_exact(&mut b)?;
        let p = point_from_bytes(&b).ok_or_else(|| invalid("invalid point encoding"))?;
        self.buf.extend_from_slice(&b);
        Ok(p)
    }

    fn read_scalar(&mut self) -> io::Result<Fr> {
        let mut w = [0u8; SCALAR_BYTES];
        self.stream.read_exact(&mut w)?;
        let s = scalar_from_word(&w).ok_or_else(|| invalid("non-canonical scalar"))?;
        self.buf.extend_from_slice(&w);
        Ok(s)
    }
}

impl<W: Write> TranscriptWrite<G1Affine, EvmChallenge> for EvmTranscript<W> {
    fn write_point(&mut self, point: G1Affine) -> io::Result<()> {
        let b = point_bytes(&point);
        self.stream.write_all(&b)?;
        self.buf.extend_from_slice(&b);
        Ok(())
    }

    fn write_scalar(&mut self, scalar: Fr) -> io::Result<()> {
        let w = scalar_word(&scalar);
        self.stream.write_all(&w)?;
        self.buf.extend_from_slice(&w);
        Ok(())
    }
}

impl<R: Read> TranscriptReadBuffer<R, G1Affine, EvmChallenge> for EvmTranscript<R> {
    fn init(reader: R) -> Self {
        Self::new(reader)
    }
}

impl<W: Write> TranscriptWriterBuffer<W, G1Affine, EvmChallenge> for EvmTranscript<W> {
    fn init(writer: W) -> Self {
        Self::new(writer)
    }

    fn finalize(self) -> W {
        self.stream
    }
}

impl<R: Read> EvmTranscript<R> {
    /// Whether every byte of the stream has been read (a verifier rejects trailing bytes).
    pub fn is_exhausted(&mut self) -> bool {
        let mut one = [0u8; 1];
        matches!(self.stream.read(&mut one), Ok(0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use halo2_axiom::halo2curves::group::Curve;

    #[test]
    fn points_and_scalars_round_trip() {
        let g = G1Affine::generator();
        let p = (g * Fr::from(7)).to_affine();
        for q in [g, p, G1Affine::identity()] {
            assert_eq!(point_from_bytes(&point_bytes(&q)), Some(q));
        }
        let s = -Fr::from(5);
        assert_eq!(scalar_from_word(&scalar_word(&s)), Some(s));
        // The generator is (1, 2).
        assert_eq!(point_bytes(&g)[31], 1);
        assert_eq!(point_bytes(&g)[63], 2);
    }

    #[test]
    fn rejects_bad_encodings() {
        assert_eq!(scalar_from_word(&[0xff; 32]), None);
        let mut off = point_bytes(&G1Affine::generator());
        off[63] = 3;
        assert_eq!(point_from_bytes(&off), None);
        assert_eq!(point_from_bytes(&[0xff; 64]), None);
    }

    #[test]
    fn challenge_is_keccak_of_state_and_words() {
        let mut t = EvmTranscript::<Vec<u8>>::init(vec![]);
        t.write_scalar(Fr::from(1)).unwrap();
        let c = t.squeeze_challenge().get_scalar();
        let mut pre = [0u8; 64];
        pre[63] = 1;
        let h: [u8; 32] = Keccak256::digest(pre).into();
        assert_eq!(c, EvmChallenge::new(&h).get_scalar());
        let c2 = t.squeeze_challenge().get_scalar();
        let h2: [u8; 32] = Keccak256::digest(h).into();
        assert_eq!(c2, EvmChallenge::new(&h2).get_scalar());
    }
}
