//! The verifier's plan, read generically from a halo2 [`ConstraintSystem`]: where each
//! commitment and evaluation sits in the proof, where the transcript squeezes its
//! challenges, which (commitment, rotation) pairs are opened and how SHPLONK groups them into
//! rotation sets. It replays, step by step, halo2-axiom 0.5.3's `plonk::verify_proof` and
//! `VerifierSHPLONK`; the code generator turns it into Solidity.
//!
//! Supported: one instance column queried at the current row, first-phase advice only (no
//! challenges), no virtual selectors left, no shuffle arguments. Anything else is a
//! [`EvmError::Unsupported`].

use crate::error::EvmError;
use halo2_axiom::halo2curves::bn256::Fr;
use halo2_axiom::plonk::{Any, ConstraintSystem, Expression};
use halo2_axiom::poly::Rotation;
use zkinfer_prover::transcript::{POINT_BYTES, SCALAR_BYTES};

/// A committed polynomial the verifier opens.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Commitment {
    /// Advice column `i` (proof).
    Advice(usize),
    /// Fixed column `i` (verifying key).
    Fixed(usize),
    /// Permutation column `i` of the verifying key (sigma).
    Sigma(usize),
    /// Permutation product of chunk `i` (proof).
    PermZ(usize),
    /// Permuted input of lookup `i` (proof).
    LookupInput(usize),
    /// Permuted table of lookup `i` (proof).
    LookupTable(usize),
    /// Product of lookup `i` (proof).
    LookupZ(usize),
    /// The vanishing argument's random polynomial (proof).
    Random,
    /// The quotient `Σ xⁿⁱ·hᵢ` (a combination of proof points).
    Quotient,
}

/// Where an opened value comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Eval {
    /// The proof's scalar number `i` (0 = first scalar after the quotient pieces).
    Proof(usize),
    /// The quotient's expected value, computed by the verifier.
    Quotient,
}

/// One opening: a commitment at `x·ωʳᵒᵗ`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Query {
    /// What is opened.
    pub commitment: Commitment,
    /// Rotation of the point.
    pub rotation: i32,
    /// The claimed value.
    pub eval: Eval,
}

/// Commitments opened at the same set of rotations (SHPLONK).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RotationSet {
    /// Rotations, in first-query order.
    pub rotations: Vec<i32>,
    /// Each commitment with its evaluation at each rotation.
    pub commitments: Vec<(Commitment, Vec<Eval>)>,
}

/// Everything the generated verifier needs to know about the circuit's shape.
#[derive(Clone, Debug)]
pub struct Plan {
    /// The constraint system.
    pub cs: ConstraintSystem<Fr>,
    /// Maximum constraint degree (chunk length of the permutation is `degree - 2`).
    pub degree: usize,
    /// Quotient pieces `h_i`.
    pub quotient_pieces: usize,
    /// Blinding rows.
    pub blinding_factors: usize,
    /// Permutation product chunks.
    pub perm_chunks: usize,
    /// Points in the proof before the evaluations.
    pub points_before_evals: usize,
    /// Scalars in the proof.
    pub num_scalars: usize,
    /// Proof scalars indices of the advice evaluations, in query order.
    pub advice_evals: usize,
    /// First proof scalar of the fixed evaluations.
    pub fixed_evals: usize,
    /// Proof scalar of the random polynomial's evaluation.
    pub random_eval: usize,
    /// First proof scalar of the sigma evaluations.
    pub sigma_evals: usize,
    /// First proof scalar of the permutation product evaluations.
    pub perm_evals: usize,
    /// First proof scalar of the lookup evaluations (5 per lookup).
    pub lookup_evals: usize,
    /// Every opening, in the verifier's order.
    pub queries: Vec<Query>,
    /// SHPLONK rotation sets, in the verifier's order.
    pub sets: Vec<RotationSet>,
}

/// Squeezes of the transcript: the proof byte where each one's absorbed data ends.
#[derive(Clone, Copy, Debug)]
pub struct Squeezes {
    /// theta: after the advice commitments (the vk digest and instances come first).
    pub theta: usize,
    /// beta (gamma follows on the empty buffer): after the permuted lookup commitments.
    pub beta: usize,
    /// y: after permutation products, lookup products and the random commitment.
    pub y: usize,
    /// x: after the quotient pieces.
    pub x: usize,
    /// SHPLONK's y (then v on the empty buffer): after every evaluation.
    pub shplonk_y: usize,
    /// u: after the first opening point W.
    pub u: usize,
}

fn unsupported(feature: &str) -> EvmError {
    EvmError::Unsupported {
        feature: feature.to_string(),
    }
}

fn check_expr(e: &Expression<Fr>) -> Result<(), EvmError> {
    match e {
        Expression::Selector(_) => Err(unsupported("virtual selectors")),
        Expression::Challenge(_) => Err(unsupported("challenges")),
        Expression::Instance(q) if q.column_index() != 0 || q.rotation() != Rotation::cur() => Err(
            unsupported("instance queries other than column 0 at the current row"),
        ),
        Expression::Negated(a) | Expression::Scaled(a, _) => check_expr(a),
        Expression::Sum(a, b) | Expression::Product(a, b) => check_expr(a).and(check_expr(b)),
        _ => Ok(()),
    }
}

impl Plan {
    /// Reads the plan from a constraint system (with its `degree` and quotient pieces as the
    /// verifying key has them).
    pub fn new(cs: &ConstraintSystem<Fr>, quotient_pieces: usize) -> Result<Self, EvmError> {
        if cs.num_instance_columns() != 1 {
            return Err(unsupported("a number of instance columns other than one"));
        }
        if cs.num_challenges() > 0 || cs.advice_column_phase().iter().any(|p| *p != 0) {
            return Err(unsupported("multi-phase advice"));
        }
        if cs
            .instance_queries()
            .iter()
            .any(|(_, r)| *r != Rotation::cur())
        {
            return Err(unsupported("instance queries at rotations"));
        }
        for gate in cs.gates() {
            gate.polynomials().iter().try_for_each(check_expr)?;
        }
        for l in cs.lookups() {
            l.input_expressions().iter().try_for_each(check_expr)?;
            l.table_expressions().iter().try_for_each(check_expr)?;
        }
        let degree = cs.degree();
        let blinding_factors = cs.blinding_factors();
        let perm_cols = cs.permutation().get_columns().len();
        let perm_chunks = perm_cols.div_ceil(degree - 2);
        let lookups = cs.lookups().len();
        let points_before_evals =
            cs.num_advice_columns() + 3 * lookups + perm_chunks + 1 + quotient_pieces;

        let advice_evals = 0;
        let fixed_evals = advice_evals + cs.advice_queries().len();
        let random_eval = fixed_evals + cs.fixed_queries().len();
        let sigma_evals = random_eval + 1;
        let perm_evals = sigma_evals + perm_cols;
        let lookup_evals = perm_evals + 3 * perm_chunks - 1;
        let num_scalars = lookup_evals + 5 * lookups;

        let mut queries = Vec::new();
        let mut q = |commitment, rotation, eval| {
            queries.push(Query {
                commitment,
                rotation,
                eval,
            })
        };
        for (i, (col, rot)) in cs.advice_queries().iter().enumerate() {
            q(
                Commitment::Advice(col.index()),
                rot.0,
                Eval::Proof(advice_evals + i),
            );
        }
        let perm_eval = |j: usize| perm_evals + 3 * j;
        for j in 0..perm_chunks {
            q(Commitment::PermZ(j), 0, Eval::Proof(perm_eval(j)));
            q(Commitment::PermZ(j), 1, Eval::Proof(perm_eval(j) + 1));
        }
        let last = -(blinding_factors as i32 + 1);
        for j in (0..perm_chunks.saturating_sub(1)).rev() {
            q(Commitment::PermZ(j), last, Eval::Proof(perm_eval(j) + 2));
        }
        for i in 0..lookups {
            let e = lookup_evals + 5 * i;
            q(Commitment::LookupZ(i), 0, Eval::Proof(e));
            q(Commitment::LookupInput(i), 0, Eval::Proof(e + 2));
            q(Commitment::LookupTable(i), 0, Eval::Proof(e + 4));
            q(Commitment::LookupInput(i), -1, Eval::Proof(e + 3));
            q(Commitment::LookupZ(i), 1, Eval::Proof(e + 1));
        }
        for (i, (col, rot)) in cs.fixed_queries().iter().enumerate() {
            q(
                Commitment::Fixed(col.index()),
                rot.0,
                Eval::Proof(fixed_evals + i),
            );
        }
        for i in 0..perm_cols {
            q(Commitment::Sigma(i), 0, Eval::Proof(sigma_evals + i));
        }
        q(Commitment::Quotient, 0, Eval::Quotient);
        q(Commitment::Random, 0, Eval::Proof(random_eval));

        let sets = rotation_sets(&queries);
        Ok(Self {
            cs: cs.clone(),
            degree,
            quotient_pieces,
            blinding_factors,
            perm_chunks,
            points_before_evals,
            num_scalars,
            advice_evals,
            fixed_evals,
            random_eval,
            sigma_evals,
            perm_evals,
            lookup_evals,
            queries,
            sets,
        })
    }

    /// Proof byte offset of the `i`-th point (of those before the evaluations).
    pub fn point(&self, i: usize) -> usize {
        i * POINT_BYTES
    }

    /// Proof byte offset of scalar `i`.
    pub fn scalar(&self, i: usize) -> usize {
        self.points_before_evals * POINT_BYTES + i * SCALAR_BYTES
    }

    /// Proof byte offset of the SHPLONK points W and W'.
    pub fn opening_points(&self) -> (usize, usize) {
        let w = self.scalar(self.num_scalars);
        (w, w + POINT_BYTES)
    }

    /// Total proof length in bytes.
    pub fn proof_len(&self) -> usize {
        self.opening_points().1 + POINT_BYTES
    }

    /// Proof offset of a committed polynomial's point (proof commitments only).
    pub fn proof_point(&self, c: Commitment) -> Option<usize> {
        let adv = self.cs.num_advice_columns();
        let lk = self.cs.lookups().len();
        let idx = match c {
            Commitment::Advice(i) => i,
            Commitment::LookupInput(i) => adv + 2 * i,
            Commitment::LookupTable(i) => adv + 2 * i + 1,
            Commitment::PermZ(j) => adv + 2 * lk + j,
            Commitment::LookupZ(i) => adv + 2 * lk + self.perm_chunks + i,
            Commitment::Random => adv + 3 * lk + self.perm_chunks,
            Commitment::Fixed(_) | Commitment::Sigma(_) | Commitment::Quotient => return None,
        };
        Some(self.point(idx))
    }

    /// Proof offset of quotient piece `i`.
    pub fn quotient_point(&self, i: usize) -> usize {
        self.point(self.points_before_evals - self.quotient_pieces + i)
    }

    /// Where the transcript squeezes.
    pub fn squeezes(&self) -> Squeezes {
        let adv = self.cs.num_advice_columns();
        let lk = self.cs.lookups().len();
        Squeezes {
            theta: self.point(adv),
            beta: self.point(adv + 2 * lk),
            y: self.point(adv + 3 * lk + self.perm_chunks + 1),
            x: self.point(self.points_before_evals),
            shplonk_y: self.scalar(self.num_scalars),
            u: self.opening_points().1,
        }
    }

    /// Distinct rotations of all queries (the SHPLONK super point set).
    pub fn rotations(&self) -> Vec<i32> {
        let mut r: Vec<i32> = self.queries.iter().map(|q| q.rotation).collect();
        r.sort();
        r.dedup();
        r
    }

    /// Rotations `r ≠ 0` whose `ω^r` the verifier uses: the queried ones, the blinding rows and
    /// the last usable row `−(b + 1) ..= −1`.
    pub fn omega_powers(&self) -> Vec<i32> {
        let b = self.blinding_factors as i32;
        let mut r: Vec<i32> = self.rotations().into_iter().chain(-(b + 1)..0).collect();
        r.sort();
        r.dedup();
        r.retain(|r| *r != 0);
        r
    }

    /// Points of the largest rotation set.
    pub fn max_set_len(&self) -> usize {
        self.sets
            .iter()
            .map(|s| s.rotations.len())
            .max()
            .unwrap_or(1)
    }

    /// `(set, point)` of every point of a rotation set with more than one point, in order:
    /// the points whose barycentric weight `Π_{c ≠ a} 1/(ω^{r_a} − ω^{r_c})` the key holds.
    pub fn weighted_points(&self) -> Vec<(usize, usize)> {
        self.sets
            .iter()
            .enumerate()
            .filter(|(_, s)| s.rotations.len() > 1)
            .flat_map(|(i, s)| (0..s.rotations.len()).map(move |a| (i, a)))
            .collect()
    }

    /// Index of the advice/fixed query `(column, rotation)` in the proof's scalars; the
    /// instance column (column 0 at the current row) is `None`.
    pub fn column_eval(&self, column: Any, index: usize, rotation: i32) -> Option<usize> {
        match column {
            Any::Advice(_) => self
                .cs
                .advice_queries()
                .iter()
                .position(|(c, r)| c.index() == index && r.0 == rotation)
                .map(|i| self.advice_evals + i),
            Any::Fixed => self
                .cs
                .fixed_queries()
                .iter()
                .position(|(c, r)| c.index() == index && r.0 == rotation)
                .map(|i| self.fixed_evals + i),
            Any::Instance => None,
        }
    }
}

/// SHPLONK's grouping (halo2 `construct_intermediate_sets`): commitments in first-query
/// order, each with its set of rotations; commitments with equal sets share a rotation set,
/// sets in the order they first appear.
fn rotation_sets(queries: &[Query]) -> Vec<RotationSet> {
    let mut per_commitment: Vec<(Commitment, Vec<i32>)> = Vec::new();
    for q in queries {
        match per_commitment.iter_mut().find(|(c, _)| *c == q.commitment) {
            Some((_, rots)) if !rots.contains(&q.rotation) => rots.push(q.rotation),
            Some(_) => {}
            None => per_commitment.push((q.commitment, vec![q.rotation])),
        }
    }
    let mut sets: Vec<RotationSet> = Vec::new();
    for (c, rots) in per_commitment {
        let mut key = rots.clone();
        key.sort();
        let evals_for = |rotations: &[i32]| -> Vec<Eval> {
            rotations
                .iter()
                .map(|r| {
                    queries
                        .iter()
                        .find(|q| q.commitment == c && q.rotation == *r)
                        .expect("queried")
                        .eval
                })
                .collect()
        };
        let existing = sets.iter_mut().find(|s| {
            let mut k = s.rotations.clone();
            k.sort();
            k == key
        });
        match existing {
            Some(s) => {
                let evals = evals_for(&s.rotations);
                s.commitments.push((c, evals));
            }
            None => {
                let evals = evals_for(&rots);
                sets.push(RotationSet {
                    rotations: rots,
                    commitments: vec![(c, evals)],
                })
            }
        }
    }
    sets
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chip_plan() -> Plan {
        let mut cs = ConstraintSystem::<Fr>::default();
        zkinfer_circuits::chip::ChipConfig::configure(
            &mut cs,
            zkinfer_circuits::chip::Layout::Tall,
        );
        let pieces = cs.degree() - 1;
        Plan::new(&cs, pieces).unwrap()
    }

    #[test]
    fn every_query_is_in_exactly_one_rotation_set() {
        let plan = chip_plan();
        let opened: usize = plan
            .sets
            .iter()
            .map(|s| s.commitments.len() * s.rotations.len())
            .sum();
        assert_eq!(opened, plan.queries.len());
        for s in &plan.sets {
            for (_, evals) in &s.commitments {
                assert_eq!(evals.len(), s.rotations.len());
            }
        }
        // The advice column is opened at the rows of a block and at the next block's `z`;
        // its one permutation product at the current and the next row.
        use zkinfer_circuits::chip::{BLOCK, LANES};
        let block: Vec<i32> = (0..BLOCK)
            .chain([BLOCK + LANES])
            .map(|r| r as i32)
            .collect();
        assert_eq!(plan.sets[0].rotations, block);
        assert!(plan.sets.iter().any(|s| s.rotations == vec![0, 1]));
    }

    #[test]
    fn proof_layout_adds_up() {
        let plan = chip_plan();
        let sq = plan.squeezes();
        assert!(sq.theta < sq.beta && sq.beta < sq.y && sq.y < sq.x);
        assert_eq!(sq.x, plan.scalar(0));
        assert_eq!(sq.u + POINT_BYTES, plan.proof_len());
        let evals: std::collections::BTreeSet<usize> = plan
            .queries
            .iter()
            .filter_map(|q| match q.eval {
                Eval::Proof(i) => Some(i),
                Eval::Quotient => None,
            })
            .collect();
        // Every scalar of the proof is opened exactly once.
        assert_eq!(evals.len(), plan.num_scalars);
        assert_eq!(evals.iter().next_back(), Some(&(plan.num_scalars - 1)));
    }
}
