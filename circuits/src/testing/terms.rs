//! A gate polynomial or lookup input as a sum of terms: each term is a product of cells the
//! prover or verifier supplies (advice, instance) times a polynomial in the circuit's fixed
//! values (fixed columns, selectors, challenges, constants). At a row, a term is *active*
//! when its fixed polynomial is non-zero there: only then do its cells matter.
//!
//! Grouping by the cells before evaluating matters: `[v = 2]·z = (v² − v)/2·z` is two
//! monomials whose fixed factors cancel at `v = 1`, so `z` is not read there.

use super::capture::{Capture, CellRef};
use halo2_axiom::halo2curves::bn256::Fr;
use halo2_axiom::plonk::Expression;
use std::collections::BTreeMap;

/// A value the prover does not choose.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum FixedFactor {
    /// A fixed column at a rotation.
    Fixed {
        /// Fixed column index.
        column: usize,
        /// Rotation from the row evaluated.
        rotation: i32,
    },
    /// A simple selector.
    Selector(usize),
    /// A verifier challenge.
    Challenge(usize),
}

/// A cell a term reads: advice (the prover's) or instance (the statement).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Query {
    /// An advice column at a rotation.
    Advice {
        /// Advice column index.
        column: usize,
        /// Rotation from the row evaluated.
        rotation: i32,
    },
    /// An instance column at a rotation.
    Instance {
        /// Instance column index.
        column: usize,
        /// Rotation from the row evaluated.
        rotation: i32,
    },
}

/// `(Σ c·Π fixed) · Π cells`.
#[derive(Clone, Debug)]
pub struct Term {
    /// The cells multiplied (sorted; empty for a term of fixed values only).
    pub cells: Vec<Query>,
    /// The fixed polynomial: monomials `c·Π factors`.
    pub coef: Vec<(Fr, Vec<FixedFactor>)>,
}

type Monomial = (Fr, Vec<FixedFactor>, Vec<Query>);

fn expand_monomials(e: &Expression<Fr>) -> Vec<Monomial> {
    match e {
        Expression::Constant(c) => vec![(*c, vec![], vec![])],
        Expression::Selector(s) => {
            vec![(Fr::one(), vec![FixedFactor::Selector(s.index())], vec![])]
        }
        Expression::Fixed(q) => vec![(
            Fr::one(),
            vec![FixedFactor::Fixed {
                column: q.column_index(),
                rotation: q.rotation().0,
            }],
            vec![],
        )],
        Expression::Advice(q) => vec![(
            Fr::one(),
            vec![],
            vec![Query::Advice {
                column: q.column_index(),
                rotation: q.rotation().0,
            }],
        )],
        Expression::Instance(q) => vec![(
            Fr::one(),
            vec![],
            vec![Query::Instance {
                column: q.column_index(),
                rotation: q.rotation().0,
            }],
        )],
        Expression::Challenge(c) => {
            vec![(Fr::one(), vec![FixedFactor::Challenge(c.index())], vec![])]
        }
        Expression::Negated(a) => expand_monomials(a)
            .into_iter()
            .map(|(c, f, q)| (-c, f, q))
            .collect(),
        Expression::Scaled(a, s) => expand_monomials(a)
            .into_iter()
            .map(|(c, f, q)| (c * s, f, q))
            .collect(),
        Expression::Sum(a, b) => {
            let mut v = expand_monomials(a);
            v.extend(expand_monomials(b));
            v
        }
        Expression::Product(a, b) => {
            let (a, b) = (expand_monomials(a), expand_monomials(b));
            let mut out = Vec::with_capacity(a.len() * b.len());
            for (ca, fa, qa) in &a {
                for (cb, fb, qb) in &b {
                    let mut f = fa.clone();
                    f.extend(fb);
                    let mut q = qa.clone();
                    q.extend(qb);
                    out.push((*ca * cb, f, q));
                }
            }
            out
        }
    }
}

/// `e` as terms grouped by the cells they read; monomials that cancel are dropped.
pub fn expand(e: &Expression<Fr>) -> Vec<Term> {
    let mut by_cells: BTreeMap<Vec<Query>, BTreeMap<Vec<FixedFactor>, Fr>> = BTreeMap::new();
    for (c, mut f, mut q) in expand_monomials(e) {
        f.sort();
        q.sort();
        *by_cells
            .entry(q)
            .or_default()
            .entry(f)
            .or_insert(Fr::zero()) += c;
    }
    by_cells
        .into_iter()
        .map(|(cells, coef)| Term {
            cells,
            coef: coef
                .into_iter()
                .filter(|(_, c)| !bool::from(halo2_axiom::halo2curves::ff::Field::is_zero(c)))
                .map(|(f, c)| (c, f))
                .collect(),
        })
        .filter(|t| !t.coef.is_empty())
        .collect()
}

impl Term {
    /// The fixed polynomial's value at `row`.
    pub fn coef_at(&self, cap: &Capture, row: usize) -> Fr {
        let n = cap.n as i64;
        let at = |rot: i32| (row as i64 + i64::from(rot)).rem_euclid(n) as usize;
        self.coef
            .iter()
            .map(|(c, factors)| {
                factors.iter().fold(*c, |acc, f| {
                    acc * match *f {
                        FixedFactor::Fixed { column, rotation } => cap.fixed[column][at(rotation)],
                        FixedFactor::Selector(s) => Fr::from(u64::from(cap.selectors[s][row])),
                        FixedFactor::Challenge(i) => cap.challenges[i],
                    }
                })
            })
            .sum()
    }
}

impl Query {
    /// The advice cell this query reads at `row` (`None` for an instance cell).
    pub fn advice_cell(&self, n: usize, row: usize) -> Option<CellRef> {
        match *self {
            Query::Advice { column, rotation } => Some(CellRef {
                column,
                row: (row as i64 + i64::from(rotation)).rem_euclid(n as i64) as usize,
            }),
            Query::Instance { .. } => None,
        }
    }
}
