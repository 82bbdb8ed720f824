//! The free-cell guard: two checks over a recorded assignment ([`Capture`]) that find a cell
//! the prover can change without any constraint noticing, without knowing where to look.
//!
//! * **Coverage.** On every row, every cell that an *active* term of a gate or lookup reads
//!   (a term whose fixed polynomial is non-zero there, [`super::terms`]) must be assigned by
//!   the layout or copy-constrained. A read cell that is neither is a free variable: a
//!   product term over two such cells can move a result by any amount.
//! * **Fuzzing.** Single-cell changes (a random field element, and `+1`) of every cell an
//!   active term reads, and pair changes (`(r, r)`, `(r, −r)`, `(1, 1)`, `(1, −1)`) of every
//!   two cells one constraint reads together, each checked against every constraint that
//!   reads a changed cell, the copy constraints and the lookup table. A change that passes is
//!   a finding unless every changed cell is *dead*: not connected, through active terms and
//!   copies, to a public instance (an input nothing uses, say), so that no statement the
//!   proof makes depends on it.
//!
//! The checks are generic: they read the gates and lookups from the constraint system, so a
//! gate added later (second-phase gates included, challenges taken as seeded random values)
//! is covered without change here.

use super::capture::{Capture, CellRef};
use super::terms::{expand, Query, Term};
use halo2_axiom::halo2curves::bn256::Fr;
use halo2_axiom::halo2curves::ff::{Field, PrimeField};
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use std::collections::{HashMap, HashSet};

/// A gate polynomial or a lookup argument.
#[derive(Clone, Debug)]
pub struct Constraint {
    /// `gate 'linear' #0` or `lookup 'limb or function'`.
    pub name: String,
    /// Whether it is a lookup (its expressions must form a table row) or a gate (its one
    /// expression must vanish).
    pub lookup: bool,
    /// One term list per expression.
    exprs: Vec<Vec<Term>>,
}

/// A constraint at a row where some term reads a cell: per expression, the active terms
/// (fixed coefficient, term index).
type Instance = Vec<Vec<(Fr, usize)>>;

/// A cell read by an active term that the layout neither assigns nor copies.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hole {
    /// The constraint reading it.
    pub constraint: String,
    /// The row the constraint is evaluated at.
    pub row: usize,
    /// The cell.
    pub cell: CellRef,
}

/// A change that every constraint accepts although it touches a live cell.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    /// The cells changed and their new values.
    pub changes: Vec<(CellRef, Fr)>,
    /// What the change was (`single +1`, `pair (r, −r)`, …).
    pub kind: &'static str,
}

/// What the guard found, with what it tried.
#[derive(Clone, Debug, Default)]
pub struct Report {
    /// Coverage failures.
    pub holes: Vec<Hole>,
    /// Accepted changes of live cells.
    pub findings: Vec<Finding>,
    /// Cells some active term reads.
    pub cells_read: usize,
    /// Changes tried.
    pub changes_tried: usize,
}

/// The recorded circuit with its constraints indexed by the cells they read.
pub struct Guard<'c> {
    cap: &'c Capture,
    constraints: Vec<Constraint>,
    /// Active constraint instances, keyed by (constraint, row).
    active: HashMap<(usize, usize), Instance>,
    /// For each read advice cell, the active instances reading it.
    readers: HashMap<CellRef, Vec<(usize, usize)>>,
    /// Each lookup's table rows (by constraint index).
    tables: HashMap<usize, HashSet<Vec<[u8; 32]>>>,
    /// Copy class of each copied cell, and the classes' members.
    class_of: HashMap<CellRef, usize>,
    classes: Vec<Vec<CellRef>>,
    /// Cells connected to a public instance.
    live: HashSet<CellRef>,
}

fn key(v: &Fr) -> [u8; 32] {
    v.to_repr()
}

impl<'c> Guard<'c> {
    /// Indexes `cap`: expands every gate and lookup and finds where each is active.
    pub fn new(cap: &'c Capture) -> Self {
        let mut constraints = Vec::new();
        for (gi, gate) in cap.cs.gates().iter().enumerate() {
            for (pi, poly) in gate.polynomials().iter().enumerate() {
                constraints.push(Constraint {
                    name: format!("gate '{}' #{gi}.{pi}", gate.name()),
                    lookup: false,
                    exprs: vec![expand(poly)],
                });
            }
        }
        let mut tables = HashMap::new();
        for lookup in cap.cs.lookups() {
            let index = constraints.len();
            constraints.push(Constraint {
                name: format!("lookup '{}'", lookup.name()),
                lookup: true,
                exprs: lookup.input_expressions().iter().map(expand).collect(),
            });
            let rows = (0..cap.usable)
                .map(|r| {
                    let no_advice = |_: CellRef| Fr::zero();
                    lookup
                        .table_expressions()
                        .iter()
                        .map(|e| key(&cap.eval(e, r, &no_advice)))
                        .collect()
                })
                .collect();
            tables.insert(index, rows);
        }
        let (class_of, classes) = cap.classes();
        let mut g = Self {
            cap,
            constraints,
            active: HashMap::new(),
            readers: HashMap::new(),
            tables,
            class_of,
            classes,
            live: HashSet::new(),
        };
        g.index();
        g.find_live();
        g
    }

    /// Finds the active instances and their readers.
    fn index(&mut self) {
        let n = self.cap.n;
        for (ci, c) in self.constraints.iter().enumerate() {
            for row in 0..self.cap.usable {
                let inst: Instance = c
                    .exprs
                    .iter()
                    .map(|terms| {
                        terms
                            .iter()
                            .enumerate()
                            .filter_map(|(ti, t)| {
                                let v = t.coef_at(self.cap, row);
                                (!bool::from(v.is_zero())).then_some((v, ti))
                            })
                            .collect()
                    })
                    .collect();
                let mut cells: Vec<CellRef> = Vec::new();
                for (terms, act) in c.exprs.iter().zip(&inst) {
                    for (_, ti) in act {
                        cells.extend(
                            terms[*ti]
                                .cells
                                .iter()
                                .filter_map(|q| q.advice_cell(n, row)),
                        );
                    }
                }
                if cells.is_empty() {
                    continue;
                }
                cells.sort();
                cells.dedup();
                for cell in cells {
                    self.readers.entry(cell).or_default().push((ci, row));
                }
                self.active.insert((ci, row), inst);
            }
        }
    }

    /// The advice cells an active instance reads, and whether it reads an instance cell.
    fn reads(&self, ci: usize, row: usize) -> (Vec<CellRef>, bool) {
        let (mut cells, mut public) = (Vec::new(), false);
        let c = &self.constraints[ci];
        for (terms, act) in c.exprs.iter().zip(&self.active[&(ci, row)]) {
            for (_, ti) in act {
                for q in &terms[*ti].cells {
                    match q.advice_cell(self.cap.n, row) {
                        Some(cell) => cells.push(cell),
                        None => public = true,
                    }
                }
            }
        }
        cells.sort();
        cells.dedup();
        (cells, public)
    }

    /// Marks the cells connected to a public instance through active terms and copies.
    fn find_live(&mut self) {
        let mut edges: HashMap<CellRef, Vec<CellRef>> = HashMap::new();
        let mut frontier: Vec<CellRef> = Vec::new();
        for &(ci, row) in self.active.keys() {
            let (cells, public) = self.reads(ci, row);
            if public {
                frontier.extend(&cells);
            }
            for w in cells.windows(2) {
                edges.entry(w[0]).or_default().push(w[1]);
                edges.entry(w[1]).or_default().push(w[0]);
            }
        }
        for members in &self.classes {
            for w in members.windows(2) {
                edges.entry(w[0]).or_default().push(w[1]);
                edges.entry(w[1]).or_default().push(w[0]);
            }
        }
        while let Some(c) = frontier.pop() {
            if self.live.insert(c) {
                frontier.extend(edges.get(&c).into_iter().flatten());
            }
        }
    }

    /// The constraints, in the order their indices refer to.
    pub fn constraints(&self) -> &[Constraint] {
        &self.constraints
    }

    /// Evaluates an active instance with `changes` applied: `Ok` when it holds.
    fn holds(&self, ci: usize, row: usize, changes: &[(CellRef, Fr)]) -> bool {
        let value = |q: &Query| match q.advice_cell(self.cap.n, row) {
            Some(cell) => changes
                .iter()
                .find(|(c, _)| *c == cell)
                .map_or(self.cap.advice[cell.column][cell.row], |(_, v)| *v),
            None => {
                let Query::Instance { column, rotation } = *q else {
                    unreachable!()
                };
                let r = (row as i64 + i64::from(rotation)).rem_euclid(self.cap.n as i64);
                self.cap.instance[column][r as usize]
            }
        };
        let c = &self.constraints[ci];
        let evals: Vec<Fr> = c
            .exprs
            .iter()
            .zip(&self.active[&(ci, row)])
            .map(|(terms, act)| {
                act.iter()
                    .map(|(coef, ti)| terms[*ti].cells.iter().fold(*coef, |a, q| a * value(q)))
                    .sum()
            })
            .collect();
        if c.lookup {
            self.tables[&ci].contains(&evals.iter().map(key).collect::<Vec<_>>())
        } else {
            bool::from(evals[0].is_zero())
        }
    }

    /// Whether every constraint accepts `changes` (new values of distinct cells).
    pub fn accepts(&self, changes: &[(CellRef, Fr)]) -> bool {
        // Copies: a class is intact only if all its members changed, to one value.
        let mut per_class: HashMap<usize, Vec<Fr>> = HashMap::new();
        for (cell, v) in changes {
            if let Some(k) = self.class_of.get(cell) {
                per_class.entry(*k).or_default().push(*v);
            }
        }
        for (k, vals) in &per_class {
            if vals.len() != self.classes[*k].len() || vals.iter().any(|v| *v != vals[0]) {
                return false;
            }
        }
        let mut seen = HashSet::new();
        changes
            .iter()
            .flat_map(|(cell, _)| self.readers.get(cell).into_iter().flatten())
            .filter(|inst| seen.insert(**inst))
            .all(|&(ci, row)| self.holds(ci, row, changes))
    }

    /// The first failing constraint instance of the honest assignment, if any (the guard's
    /// own sanity check: MockProver should agree).
    pub fn honest_failure(&self) -> Option<(String, usize)> {
        let mut keys: Vec<_> = self.active.keys().copied().collect();
        keys.sort();
        keys.into_iter()
            .find(|&(ci, row)| !self.holds(ci, row, &[]))
            .map(|(ci, row)| (self.constraints[ci].name.clone(), row))
    }

    /// The coverage check.
    pub fn holes(&self) -> Vec<Hole> {
        let mut keys: Vec<_> = self.active.keys().copied().collect();
        keys.sort();
        let mut out = Vec::new();
        for (ci, row) in keys {
            for cell in self.reads(ci, row).0 {
                let assigned = self.cap.assigned[cell.column][cell.row];
                if !assigned && !self.class_of.contains_key(&cell) {
                    out.push(Hole {
                        constraint: self.constraints[ci].name.clone(),
                        row,
                        cell,
                    });
                }
            }
        }
        out
    }

    /// Both checks, with at most `max_findings` findings kept.
    pub fn run(&self, max_findings: usize) -> Report {
        let mut report = Report {
            holes: self.holes(),
            cells_read: self.readers.len(),
            ..Report::default()
        };
        let mut rng = ChaCha20Rng::seed_from_u64(0xf2e3);
        let mut cells: Vec<CellRef> = self.readers.keys().copied().collect();
        cells.sort();
        let value = |c: CellRef| self.cap.advice[c.column][c.row];
        let try_change = |report: &mut Report, changes: Vec<(CellRef, Fr)>, kind| {
            report.changes_tried += 1;
            let live = changes.iter().any(|(c, _)| self.live.contains(c));
            if live && report.findings.len() < max_findings && self.accepts(&changes) {
                report.findings.push(Finding { changes, kind });
            }
        };
        for &c in &cells {
            let r = Fr::random(&mut rng);
            try_change(&mut report, vec![(c, value(c) + r)], "single +r");
            try_change(&mut report, vec![(c, value(c) + Fr::one())], "single +1");
        }
        let mut pairs = HashSet::new();
        let mut keys: Vec<_> = self.active.keys().copied().collect();
        keys.sort();
        for (ci, row) in keys {
            let read = self.reads(ci, row).0;
            for (i, &a) in read.iter().enumerate() {
                for &b in &read[i + 1..] {
                    if !pairs.insert((a, b)) {
                        continue;
                    }
                    let r = Fr::random(&mut rng);
                    for (da, db, kind) in [
                        (r, r, "pair (r, r)"),
                        (r, -r, "pair (r, -r)"),
                        (Fr::one(), Fr::one(), "pair (1, 1)"),
                        (Fr::one(), -Fr::one(), "pair (1, -1)"),
                    ] {
                        try_change(
                            &mut report,
                            vec![(a, value(a) + da), (b, value(b) + db)],
                            kind,
                        );
                    }
                }
            }
        }
        report
    }
}
