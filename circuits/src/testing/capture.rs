//! A circuit's whole assignment, recorded through halo2's own `Assignment` interface: every
//! fixed, advice and instance value, which advice cells the layout assigned, the copy
//! constraints and the lookup table. The guard ([`super::guard`]) reads it.

use halo2_axiom::circuit::Value;
use halo2_axiom::halo2curves::bn256::Fr;
use halo2_axiom::plonk::{
    Advice, Any, Assigned, Assignment, Challenge, Circuit, Column, ConstraintSystem, Error,
    Expression, Fixed, FloorPlanner, Instance, Selector,
};
use halo2_axiom::poly::Rotation;
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;

/// A cell of a column that takes part in the permutation (or any advice cell).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CellRef {
    /// Advice column index.
    pub column: usize,
    /// Circuit row.
    pub row: usize,
}

/// The recorded assignment of one circuit.
pub struct Capture {
    /// `2^k` rows.
    pub n: usize,
    /// Rows before the blinding rows (gates and lookups are checked on these).
    pub usable: usize,
    /// The constraint system the circuit configured.
    pub cs: ConstraintSystem<Fr>,
    /// Fixed values, `[column][row]` (zero where unassigned).
    pub fixed: Vec<Vec<Fr>>,
    /// Selectors, `[selector][row]`.
    pub selectors: Vec<Vec<bool>>,
    /// Advice values, `[column][row]` (zero where unassigned, as in a proof).
    pub advice: Vec<Vec<Fr>>,
    /// Whether the layout assigned each advice cell.
    pub assigned: Vec<Vec<bool>>,
    /// Instance values, `[column][row]` (zero past the given ones).
    pub instance: Vec<Vec<Fr>>,
    /// A value per challenge (random, seeded).
    pub challenges: Vec<Fr>,
    /// The permutation's columns, in the order of `cs.permutation()`.
    perm_columns: Vec<Column<Any>>,
    /// Union-find parents over the permutation's cells (`position·n + row`).
    parent: Vec<usize>,
    /// The synthesis phase being recorded.
    phase: u8,
}

impl Capture {
    /// Synthesizes `circuit` at `2^k` rows with these instance columns and records it.
    pub fn run<C: Circuit<Fr>>(k: u32, circuit: &C, instance: Vec<Vec<Fr>>) -> Result<Self, Error> {
        let n = 1usize << k;
        let mut cs = ConstraintSystem::default();
        let config = C::configure_with_params(&mut cs, circuit.params());
        let usable = n - (cs.blinding_factors() + 1);
        let perm_columns = cs.permutation().get_columns();
        let mut rng = ChaCha20Rng::seed_from_u64(0x5eed);
        let challenges = (0..cs.num_challenges())
            .map(|_| <Fr as halo2_axiom::halo2curves::ff::Field>::random(&mut rng))
            .collect();
        let instance = instance
            .into_iter()
            .map(|mut col| {
                col.resize(n, Fr::zero());
                col
            })
            .collect();
        let mut cap = Self {
            n,
            usable,
            fixed: vec![vec![Fr::zero(); n]; cs.num_fixed_columns()],
            selectors: vec![vec![false; n]; cs.num_selectors()],
            advice: vec![vec![Fr::zero(); n]; cs.num_advice_columns()],
            assigned: vec![vec![false; n]; cs.num_advice_columns()],
            instance,
            challenges,
            parent: (0..perm_columns.len() * n).collect(),
            perm_columns,
            phase: 0,
            cs,
        };
        let constants = cap.cs.constants().clone();
        C::FloorPlanner::synthesize(&mut cap, circuit, config, constants)?;
        Ok(cap)
    }

    /// Position of `column` in the permutation, if it takes part.
    fn perm_position(&self, column: Column<Any>) -> Option<usize> {
        self.perm_columns.iter().position(|c| *c == column)
    }

    fn find(&self, mut x: usize) -> usize {
        while self.parent[x] != x {
            x = self.parent[x];
        }
        x
    }

    fn union(&mut self, a: usize, b: usize) {
        let (ra, rb) = (self.find(a), self.find(b));
        if ra != rb {
            let (lo, hi) = if ra < rb { (ra, rb) } else { (rb, ra) };
            self.parent[hi] = lo;
        }
    }

    /// Every copy class of two or more cells of advice columns: each advice cell in one
    /// maps to the class's index in the returned list of members.
    pub fn classes(&self) -> (std::collections::HashMap<CellRef, usize>, Vec<Vec<CellRef>>) {
        let mut by_root: std::collections::HashMap<usize, Vec<CellRef>> = Default::default();
        for (pos, col) in self.perm_columns.iter().enumerate() {
            if !matches!(col.column_type(), Any::Advice(_)) {
                continue;
            }
            for row in 0..self.n {
                let root = self.find(pos * self.n + row);
                by_root.entry(root).or_default().push(CellRef {
                    column: col.index(),
                    row,
                });
            }
        }
        let members: Vec<Vec<CellRef>> = by_root.into_values().filter(|v| v.len() > 1).collect();
        let mut of = std::collections::HashMap::new();
        for (i, m) in members.iter().enumerate() {
            for c in m {
                of.insert(*c, i);
            }
        }
        (of, members)
    }

    /// Evaluates `e` at `row` with advice values from `advice`.
    pub fn eval(&self, e: &Expression<Fr>, row: usize, advice: &dyn Fn(CellRef) -> Fr) -> Fr {
        let at = |rot: Rotation| (row as i64 + i64::from(rot.0)).rem_euclid(self.n as i64) as usize;
        e.evaluate(
            &|c| c,
            &|s: Selector| {
                if self.selectors[s.index()][row] {
                    Fr::one()
                } else {
                    Fr::zero()
                }
            },
            &|q| self.fixed[q.column_index()][at(q.rotation())],
            &|q| {
                advice(CellRef {
                    column: q.column_index(),
                    row: at(q.rotation()),
                })
            },
            &|q| self.instance[q.column_index()][at(q.rotation())],
            &|c| self.challenges[c.index()],
            &|a| -a,
            &|a, b| a + b,
            &|a, b| a * b,
            &|a, s| a * s,
        )
    }
}

impl Assignment<Fr> for Capture {
    fn enter_region<NR, N>(&mut self, _: N)
    where
        NR: Into<String>,
        N: FnOnce() -> NR,
    {
    }

    fn annotate_column<A, AR>(&mut self, _: A, _: Column<Any>)
    where
        A: FnOnce() -> AR,
        AR: Into<String>,
    {
    }

    fn exit_region(&mut self) {}

    fn enable_selector<A, AR>(&mut self, _: A, selector: &Selector, row: usize) -> Result<(), Error>
    where
        A: FnOnce() -> AR,
        AR: Into<String>,
    {
        self.selectors[selector.index()][row] = true;
        Ok(())
    }

    fn query_instance(&self, column: Column<Instance>, row: usize) -> Result<Value<Fr>, Error> {
        Ok(Value::known(self.instance[column.index()][row]))
    }

    fn assign_advice<'v>(
        &mut self,
        column: Column<Advice>,
        row: usize,
        to: Value<Assigned<Fr>>,
    ) -> Value<&'v Assigned<Fr>> {
        // Values of later phases are unknown until their phase; nothing reads the returned
        // reference in zkinfer's layouts.
        to.map(|v| {
            self.advice[column.index()][row] = v.evaluate();
            self.assigned[column.index()][row] = true;
        });
        Value::unknown()
    }

    fn assign_fixed(&mut self, column: Column<Fixed>, row: usize, to: Assigned<Fr>) {
        self.fixed[column.index()][row] = to.evaluate();
    }

    fn copy(&mut self, lc: Column<Any>, lr: usize, rc: Column<Any>, rr: usize) {
        let (Some(l), Some(r)) = (self.perm_position(lc), self.perm_position(rc)) else {
            panic!("copy between columns outside the permutation");
        };
        self.union(l * self.n + lr, r * self.n + rr);
    }

    fn fill_from_row(
        &mut self,
        column: Column<Fixed>,
        row: usize,
        to: Value<Assigned<Fr>>,
    ) -> Result<(), Error> {
        let mut value = None;
        to.map(|v| value = Some(v.evaluate()));
        let v = value.ok_or(Error::Synthesis)?;
        for r in row..self.usable {
            self.fixed[column.index()][r] = v;
        }
        Ok(())
    }

    fn get_challenge(&self, challenge: Challenge) -> Value<Fr> {
        if challenge.phase() < self.phase {
            Value::known(self.challenges[challenge.index()])
        } else {
            Value::unknown()
        }
    }

    fn push_namespace<NR, N>(&mut self, _: N)
    where
        NR: Into<String>,
        N: FnOnce() -> NR,
    {
    }

    fn pop_namespace(&mut self, _: Option<String>) {}

    fn next_phase(&mut self) {
        self.phase += 1;
    }
}
