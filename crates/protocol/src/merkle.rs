//! The Merkle tree of the office's append-only log, exactly as RFC 9162 (Certificate Transparency
//! 2.0) §2.1 defines it: leaf hash `SHA-256(0x00 || leaf)`, node hash `SHA-256(0x01 || left ||
//! right)`, the tree over `n` leaves split at the largest power of two below `n`; inclusion and
//! consistency proofs generated and verified with the RFC's algorithms.
//!
//! Storage keeps only *perfect* subtrees (aligned, power-of-two sized): the node at `(level, index)`
//! covers leaves `index·2^level .. (index+1)·2^level`. Appending a leaf completes at most
//! `log2(n)` of them ([`append`]); every root and proof is then a few lookups ([`range_hash`]).

use crate::Digest;
use sha2::{Digest as _, Sha256};

/// `SHA-256(0x00 || leaf)`.
pub fn leaf_hash(leaf: &[u8]) -> Digest {
    let mut h = Sha256::new();
    h.update([0u8]);
    h.update(leaf);
    Digest(h.finalize().into())
}

/// `SHA-256(0x01 || left || right)`.
pub fn node_hash(left: &Digest, right: &Digest) -> Digest {
    let mut h = Sha256::new();
    h.update([1u8]);
    h.update(left.0);
    h.update(right.0);
    Digest(h.finalize().into())
}

/// The root of the empty tree: `SHA-256("")`.
pub fn empty_root() -> Digest {
    Digest::of(b"")
}

/// The largest power of two strictly below `n` (for `n > 1`).
fn split(n: u64) -> u64 {
    debug_assert!(n > 1);
    1 << (63 - (n - 1).leading_zeros())
}

/// Perfect subtrees that appending leaf number `index` (0-based) completes, bottom up, starting
/// with the leaf itself at level 0. `node(level, index)` returns a stored perfect subtree.
pub fn append<E>(
    index: u64,
    leaf: Digest,
    mut node: impl FnMut(u32, u64) -> Result<Digest, E>,
) -> Result<Vec<(u32, u64, Digest)>, E> {
    let mut out = vec![(0, index, leaf)];
    let (mut level, mut idx, mut hash) = (0u32, index, leaf);
    while idx % 2 == 1 {
        let left = node(level, idx - 1)?;
        hash = node_hash(&left, &hash);
        level += 1;
        idx /= 2;
        out.push((level, idx, hash));
    }
    Ok(out)
}

/// The Merkle tree hash of leaves `start..end`, where `start` is aligned as every range in the
/// RFC's recursion is (a multiple of the largest power of two not above `end - start`).
pub fn range_hash<E>(
    start: u64,
    end: u64,
    node: &mut impl FnMut(u32, u64) -> Result<Digest, E>,
) -> Result<Digest, E> {
    let n = end - start;
    if n == 0 {
        return Ok(empty_root());
    }
    if n.is_power_of_two() && start.is_multiple_of(n) {
        let level = n.trailing_zeros();
        return node(level, start >> level);
    }
    let k = split(n);
    let left = range_hash(start, start + k, node)?;
    let right = range_hash(start + k, end, node)?;
    Ok(node_hash(&left, &right))
}

/// The root of a tree of `size` leaves.
pub fn root<E>(
    size: u64,
    mut node: impl FnMut(u32, u64) -> Result<Digest, E>,
) -> Result<Digest, E> {
    range_hash(0, size, &mut node)
}

/// The inclusion proof (audit path) of leaf `index` in the tree of `size` leaves (RFC 9162
/// §2.1.3.1), or `None` when `index >= size`.
pub fn inclusion_proof<E>(
    index: u64,
    size: u64,
    mut node: impl FnMut(u32, u64) -> Result<Digest, E>,
) -> Result<Option<Vec<Digest>>, E> {
    if index >= size {
        return Ok(None);
    }
    let mut path = Vec::new();
    let (mut start, mut end, mut m) = (0u64, size, index);
    // PATH(m, D[start:end]), iteratively; the RFC appends siblings from the leaf up.
    let mut siblings = Vec::new();
    while end - start > 1 {
        let k = split(end - start);
        if m < k {
            siblings.push((start + k, end));
            end = start + k;
        } else {
            siblings.push((start, start + k));
            m -= k;
            start += k;
        }
    }
    for (a, b) in siblings.into_iter().rev() {
        path.push(range_hash(a, b, &mut node)?);
    }
    Ok(Some(path))
}

/// The consistency proof between the trees of `first` and `second` leaves (RFC 9162 §2.1.4.1), or
/// `None` unless `0 < first <= second`.
pub fn consistency_proof<E>(
    first: u64,
    second: u64,
    mut node: impl FnMut(u32, u64) -> Result<Digest, E>,
) -> Result<Option<Vec<Digest>>, E> {
    if first == 0 || first > second {
        return Ok(None);
    }
    // SUBPROOF(m, D[start:end], b), iteratively.
    let (mut start, mut end, mut m, mut whole) = (0u64, second, first, true);
    let mut tail = Vec::new();
    loop {
        let n = end - start;
        if m == n {
            if !whole {
                tail.push((start, end));
            }
            break;
        }
        let k = split(n);
        if m <= k {
            tail.push((start + k, end));
            end = start + k;
        } else {
            tail.push((start, start + k));
            m -= k;
            start += k;
            whole = false;
        }
    }
    let mut path = Vec::with_capacity(tail.len());
    for (a, b) in tail.into_iter().rev() {
        path.push(range_hash(a, b, &mut node)?);
    }
    Ok(Some(path))
}

/// Verify an inclusion proof (RFC 9162 §2.1.3.2).
pub fn verify_inclusion(
    leaf: &Digest,
    index: u64,
    size: u64,
    path: &[Digest],
    root: &Digest,
) -> bool {
    if index >= size {
        return false;
    }
    let (mut f, mut s) = (index, size - 1);
    let mut r = *leaf;
    for p in path {
        if s == 0 {
            return false;
        }
        if f % 2 == 1 || f == s {
            r = node_hash(p, &r);
            while f % 2 == 0 && f != 0 {
                f >>= 1;
                s >>= 1;
            }
        } else {
            r = node_hash(&r, p);
        }
        f >>= 1;
        s >>= 1;
    }
    s == 0 && r == *root
}

/// Verify a consistency proof (RFC 9162 §2.1.4.2): the tree of `second` leaves with root
/// `second_root` extends the tree of `first` leaves with root `first_root`, unchanged. Equal sizes
/// need an empty proof and equal roots.
pub fn verify_consistency(
    first: u64,
    second: u64,
    first_root: &Digest,
    second_root: &Digest,
    path: &[Digest],
) -> bool {
    if first == 0 || first > second {
        return false;
    }
    if first == second {
        return path.is_empty() && first_root == second_root;
    }
    let mut path: Vec<Digest> = path.to_vec();
    if first.is_power_of_two() {
        path.insert(0, *first_root);
    }
    let Some((head, rest)) = path.split_first() else {
        return false;
    };
    let (mut f, mut s) = (first - 1, second - 1);
    while f % 2 == 1 {
        f >>= 1;
        s >>= 1;
    }
    let (mut fr, mut sr) = (*head, *head);
    for c in rest {
        if s == 0 {
            return false;
        }
        if f % 2 == 1 || f == s {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            while f % 2 == 0 && f != 0 {
                f >>= 1;
                s >>= 1;
            }
        } else {
            sr = node_hash(&sr, c);
        }
        f >>= 1;
        s >>= 1;
    }
    fr == *first_root && sr == *second_root && s == 0
}

/// An in-memory tree: the reference the stored trees are tested against, and what small tools use.
#[derive(Debug, Clone, Default)]
pub struct MemoryTree {
    /// `levels[l][i]`: the perfect subtree at `(l, i)`.
    levels: Vec<Vec<Digest>>,
}

impl MemoryTree {
    pub fn new() -> MemoryTree {
        MemoryTree::default()
    }

    pub fn size(&self) -> u64 {
        self.levels.first().map_or(0, |l| l.len() as u64)
    }

    /// Append a leaf's bytes; returns its index.
    pub fn push(&mut self, leaf: &[u8]) -> u64 {
        self.push_hash(leaf_hash(leaf))
    }

    pub fn push_hash(&mut self, leaf: Digest) -> u64 {
        let index = self.size();
        let nodes = append(index, leaf, |l, i| self.get(l, i)).unwrap_or_default();
        for (level, idx, hash) in nodes {
            let level = level as usize;
            if self.levels.len() <= level {
                self.levels.push(Vec::new());
            }
            debug_assert_eq!(self.levels[level].len() as u64, idx);
            self.levels[level].push(hash);
        }
        index
    }

    /// The perfect subtree at `(level, index)` (level 0: a leaf hash), if complete.
    pub fn node(&self, level: u32, index: u64) -> Option<Digest> {
        self.get(level, index).ok()
    }

    fn get(&self, level: u32, index: u64) -> Result<Digest, MissingNode> {
        self.levels
            .get(level as usize)
            .and_then(|l| l.get(index as usize))
            .copied()
            .ok_or(MissingNode { level, index })
    }

    pub fn root(&self, size: u64) -> Option<Digest> {
        (size <= self.size()).then(|| root(size, |l, i| self.get(l, i)).ok())?
    }

    pub fn inclusion_proof(&self, index: u64, size: u64) -> Option<Vec<Digest>> {
        if size > self.size() {
            return None;
        }
        inclusion_proof(index, size, |l, i| self.get(l, i)).ok()?
    }

    pub fn consistency_proof(&self, first: u64, second: u64) -> Option<Vec<Digest>> {
        if second > self.size() {
            return None;
        }
        consistency_proof(first, second, |l, i| self.get(l, i)).ok()?
    }
}

/// A perfect subtree that storage does not hold (a damaged or truncated log).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the log holds no node at level {level}, index {index}")]
pub struct MissingNode {
    pub level: u32,
    pub index: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// MTH straight from the RFC's recursive definition, for comparison.
    fn mth(leaves: &[Vec<u8>]) -> Digest {
        match leaves.len() {
            0 => empty_root(),
            1 => leaf_hash(&leaves[0]),
            n => {
                let k = split(n as u64) as usize;
                node_hash(&mth(&leaves[..k]), &mth(&leaves[k..]))
            }
        }
    }

    fn leaves(n: usize) -> Vec<Vec<u8>> {
        (0..n).map(|i| format!("leaf {i}").into_bytes()).collect()
    }

    #[test]
    fn stored_perfect_subtrees_give_the_rfc_root_for_every_size() {
        let all = leaves(70);
        let mut t = MemoryTree::new();
        for (i, l) in all.iter().enumerate() {
            t.push(l);
            assert_eq!(
                t.root(i as u64 + 1),
                Some(mth(&all[..=i])),
                "root of {} leaves",
                i + 1
            );
        }
        for size in 0..=70 {
            assert_eq!(
                t.root(size),
                Some(mth(&all[..size as usize])),
                "old roots stay computable: {size}"
            );
        }
    }

    #[test]
    fn every_inclusion_proof_verifies_and_a_wrong_one_does_not() {
        let mut t = MemoryTree::new();
        let all = leaves(33);
        for l in &all {
            t.push(l);
        }
        for size in 1..=33u64 {
            let root = t.root(size).expect("root");
            for index in 0..size {
                let proof = t.inclusion_proof(index, size).expect("proof");
                let leaf = leaf_hash(&all[index as usize]);
                assert!(
                    verify_inclusion(&leaf, index, size, &proof, &root),
                    "leaf {index} of {size}"
                );
                let other = leaf_hash(b"not in the log");
                assert!(
                    !verify_inclusion(&other, index, size, &proof, &root),
                    "a foreign leaf fails at {index} of {size}"
                );
                if size > 1 {
                    assert!(
                        !verify_inclusion(&leaf, (index + 1) % size, size, &proof, &root),
                        "the wrong index fails"
                    );
                }
            }
        }
    }

    #[test]
    fn consistency_proofs_hold_for_every_pair_and_catch_a_rewritten_past() {
        let all = leaves(40);
        let mut t = MemoryTree::new();
        for l in &all {
            t.push(l);
        }
        for second in 1..=40u64 {
            for first in 1..=second {
                let proof = t.consistency_proof(first, second).expect("proof");
                let (r1, r2) = (t.root(first).expect("r1"), t.root(second).expect("r2"));
                assert!(
                    verify_consistency(first, second, &r1, &r2, &proof),
                    "{first} → {second}"
                );
                if first < second {
                    // The office rewrote leaf 0 after handing out the first tree head.
                    let mut forged = all[..second as usize].to_vec();
                    forged[0] = b"rewritten".to_vec();
                    let mut f = MemoryTree::new();
                    for l in &forged {
                        f.push(l);
                    }
                    let fproof = f.consistency_proof(first, second).expect("proof");
                    let froot = f.root(second).expect("root");
                    assert!(
                        !verify_consistency(first, second, &r1, &froot, &fproof),
                        "a log that changed an old leaf cannot prove it extends {first}"
                    );
                }
            }
        }
        assert!(
            !verify_consistency(5, 3, &empty_root(), &empty_root(), &[]),
            "a tree cannot shrink"
        );
    }

    #[test]
    fn a_missing_node_is_an_error_not_a_wrong_root() {
        let r = root(3, |l, i| {
            Err::<Digest, _>(MissingNode { level: l, index: i })
        });
        assert!(r.is_err(), "a damaged log must not yield a root");
    }
}
