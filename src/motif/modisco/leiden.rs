//! Leiden clustering for modularity (Traag, Waltman and van Eck 2019), as modisco-lite runs
//! it through `leidenalg`: the best-quality partition over several seeded runs, each run
//! repeated from its own result until modularity stops rising.
//!
//! A run moves nodes between communities from a queue (fast local moving), refines each
//! community by merging its singletons greedily into well-placed sub-communities, and
//! aggregates the refined communities into nodes whose starting community is the one they
//! came from, until no node moves. The partitions are like leidenalg's but not the same: its
//! random stream and tie-breaking are its own.

use std::collections::VecDeque;

use rand::seq::SliceRandom;

use super::affinity::Graph;

/// One level's graph: neighbours without self-loops, each node's self weight (every
/// internal entry of what it aggregates) and strength.
struct Level {
    adj: Vec<Vec<(usize, f64)>>,
    self_weight: Vec<f64>,
    strength: Vec<f64>,
}

impl Level {
    fn base(g: &Graph) -> Level {
        let n = g.rows.len();
        let mut adj = vec![Vec::new(); n];
        let mut self_weight = vec![0.0; n];
        let mut strength = vec![0.0; n];
        for (i, row) in g.rows.iter().enumerate() {
            for &(j, w) in row {
                strength[i] += w;
                if j == i {
                    self_weight[i] += w;
                } else {
                    adj[i].push((j, w));
                }
            }
        }
        Level {
            adj,
            self_weight,
            strength,
        }
    }

    fn len(&self) -> usize {
        self.adj.len()
    }

    /// The graph whose nodes are the groups of `group` (numbered from 0).
    fn aggregate(&self, group: &[usize], groups: usize) -> Level {
        let mut self_weight = vec![0.0; groups];
        let mut strength = vec![0.0; groups];
        let mut adj: Vec<Vec<(usize, f64)>> = vec![Vec::new(); groups];
        let mut slot = vec![usize::MAX; groups];
        let mut members: Vec<Vec<usize>> = vec![Vec::new(); groups];
        for (v, &c) in group.iter().enumerate() {
            members[c].push(v);
        }
        for (c, vs) in members.iter().enumerate() {
            let mut row: Vec<(usize, f64)> = Vec::new();
            for &v in vs {
                self_weight[c] += self.self_weight[v];
                strength[c] += self.strength[v];
                for &(u, w) in &self.adj[v] {
                    let d = group[u];
                    if d == c {
                        self_weight[c] += w;
                    } else if slot[d] == usize::MAX {
                        slot[d] = row.len();
                        row.push((d, w));
                    } else {
                        row[slot[d]].1 += w;
                    }
                }
            }
            for &(d, _) in &row {
                slot[d] = usize::MAX;
            }
            adj[c] = row;
        }
        Level {
            adj,
            self_weight,
            strength,
        }
    }
}

/// Modularity of `membership` on the base graph.
fn quality(level: &Level, membership: &[usize]) -> f64 {
    let total: f64 = level.strength.iter().sum();
    if total == 0.0 {
        return 0.0;
    }
    let groups = membership.iter().max().map_or(0, |m| m + 1);
    let mut internal = vec![0.0; groups];
    let mut k = vec![0.0; groups];
    for v in 0..level.len() {
        let c = membership[v];
        internal[c] += level.self_weight[v];
        k[c] += level.strength[v];
        for &(u, w) in &level.adj[v] {
            if membership[u] == c {
                internal[c] += w;
            }
        }
    }
    internal
        .iter()
        .zip(&k)
        .map(|(i, k)| i - k * k / total)
        .sum::<f64>()
        / total
}

/// Scratch for summing a node's weights to the communities around it.
struct Tally {
    weight: Vec<f64>,
    seen: Vec<bool>,
    touched: Vec<usize>,
}

impl Tally {
    fn new(n: usize) -> Tally {
        Tally {
            weight: vec![0.0; n],
            seen: vec![false; n],
            touched: Vec::new(),
        }
    }

    fn add(&mut self, c: usize, w: f64) {
        if !self.seen[c] {
            self.seen[c] = true;
            self.touched.push(c);
        }
        self.weight[c] += w;
    }

    fn clear(&mut self) {
        for &c in &self.touched {
            self.seen[c] = false;
            self.weight[c] = 0.0;
        }
        self.touched.clear();
    }
}

/// Fast local moving: each node, from a queue in random order, goes to the community that
/// raises modularity most; the neighbours it leaves behind are queued again. Returns whether
/// any node moved.
fn move_nodes(level: &Level, comm: &mut [usize], total: f64, rng: &mut crate::nn::Rng) -> bool {
    let n = level.len();
    let mut k_comm = vec![0.0; n];
    let mut size = vec![0usize; n];
    for v in 0..n {
        k_comm[comm[v]] += level.strength[v];
        size[comm[v]] += 1;
    }
    let mut empty: Vec<usize> = (0..n).filter(|&c| size[c] == 0).collect();
    let mut order: Vec<usize> = (0..n).collect();
    order.shuffle(rng);
    let mut queue: VecDeque<usize> = order.into_iter().collect();
    let mut queued = vec![true; n];
    let mut tally = Tally::new(n);
    let mut moved = false;
    while let Some(v) = queue.pop_front() {
        queued[v] = false;
        let (old, kv) = (comm[v], level.strength[v]);
        for &(u, w) in &level.adj[v] {
            tally.add(comm[u], w);
        }
        k_comm[old] -= kv;
        size[old] -= 1;
        let gain = |c: usize, w: f64| w - kv * k_comm[c] / total;
        let mut best = old;
        let mut best_gain = gain(
            old,
            if tally.seen[old] {
                tally.weight[old]
            } else {
                0.0
            },
        );
        for &c in &tally.touched {
            let g = gain(c, tally.weight[c]);
            if g > best_gain {
                best = c;
                best_gain = g;
            }
        }
        if best_gain < 0.0 && size[old] > 0 {
            // Alone in a new community (gain 0) is better.
            if let Some(c) = empty.pop() {
                best = c;
            }
        }
        tally.clear();
        k_comm[best] += kv;
        size[best] += 1;
        if size[old] == 0 && best != old {
            empty.push(old);
        }
        if best != old {
            comm[v] = best;
            moved = true;
            for &(u, _) in &level.adj[v] {
                if !queued[u] && comm[u] != best {
                    queued[u] = true;
                    queue.push_back(u);
                }
            }
        }
    }
    moved
}

/// Refinement: within each community, every node still alone joins the neighbouring
/// sub-community (of the same community) that raises modularity most, if any does.
fn refine(level: &Level, comm: &[usize], total: f64, rng: &mut crate::nn::Rng) -> Vec<usize> {
    let n = level.len();
    let mut sub: Vec<usize> = (0..n).collect();
    let mut k_sub = level.strength.clone();
    let mut size = vec![1usize; n];
    let mut order: Vec<usize> = (0..n).collect();
    order.shuffle(rng);
    let mut tally = Tally::new(n);
    for v in order {
        if size[sub[v]] != 1 {
            continue;
        }
        let kv = level.strength[v];
        for &(u, w) in &level.adj[v] {
            if comm[u] == comm[v] && sub[u] != sub[v] {
                tally.add(sub[u], w);
            }
        }
        let (mut best, mut best_gain) = (sub[v], 0.0);
        for &c in &tally.touched {
            let g = tally.weight[c] - kv * k_sub[c] / total;
            if g > best_gain {
                best = c;
                best_gain = g;
            }
        }
        tally.clear();
        if best != sub[v] {
            k_sub[sub[v]] -= kv;
            size[sub[v]] -= 1;
            sub[v] = best;
            k_sub[best] += kv;
            size[best] += 1;
        }
    }
    sub
}

/// Numbers groups from 0 in order of first appearance; returns the count.
fn renumber(labels: &mut [usize]) -> usize {
    let mut map = vec![usize::MAX; labels.len().max(1)];
    let mut next = 0;
    for l in labels.iter_mut() {
        if map[*l] == usize::MAX {
            map[*l] = next;
            next += 1;
        }
        *l = map[*l];
    }
    next
}

/// One pass of Leiden from `membership` (on the base graph).
fn pass(base: &Level, membership: &[usize], total: f64, rng: &mut crate::nn::Rng) -> Vec<usize> {
    let mut node_of: Vec<usize> = (0..base.len()).collect();
    let mut comm = membership.to_vec();
    renumber(&mut comm);
    let mut level_owned: Option<Level> = None;
    loop {
        let level = level_owned.as_ref().unwrap_or(base);
        let moved = move_nodes(level, &mut comm, total, rng);
        let communities = renumber(&mut comm);
        if !moved && level_owned.is_some() || communities == level.len() {
            break;
        }
        let mut sub = refine(level, &comm, total, rng);
        let groups = renumber(&mut sub);
        if groups == level.len() && !moved {
            break;
        }
        let mut parent = vec![0; groups];
        for v in 0..level.len() {
            parent[sub[v]] = comm[v];
        }
        let next = level.aggregate(&sub, groups);
        for x in node_of.iter_mut() {
            *x = sub[*x];
        }
        comm = parent;
        level_owned = Some(next);
    }
    node_of.iter().map(|&a| comm[a]).collect()
}

/// The best (highest-modularity) partition over `runs` seeded Leiden runs, communities
/// numbered by size, largest first (ties by their first node).
pub fn cluster(graph: &Graph, runs: usize) -> Vec<usize> {
    let base = Level::base(graph);
    let total: f64 = base.strength.iter().sum();
    let n = base.len();
    let results = crate::nn::par_map(
        runs.max(1),
        || (),
        |_, r| {
            let mut rng = crate::nn::rng(100 * (r as u64 + 1));
            let mut membership: Vec<usize> = (0..n).collect();
            let mut q = quality(&base, &membership);
            // leidenalg's n_iterations = -1: again from the result until it stops improving.
            for _ in 0..100 {
                let next = pass(&base, &membership, total, &mut rng);
                let nq = quality(&base, &next);
                if nq <= q {
                    break;
                }
                membership = next;
                q = nq;
            }
            (q, membership)
        },
    );
    let mut best = 0;
    for (i, r) in results.iter().enumerate() {
        if r.0 > results[best].0 {
            best = i;
        }
    }
    let mut membership = results
        .into_iter()
        .nth(best)
        .map(|r| r.1)
        .unwrap_or_default();
    let groups = renumber(&mut membership);
    let mut sizes = vec![0usize; groups];
    for &c in &membership {
        sizes[c] += 1;
    }
    let mut order: Vec<usize> = (0..groups).collect();
    order.sort_by(|&a, &b| sizes[b].cmp(&sizes[a]).then(a.cmp(&b)));
    let mut rank = vec![0; groups];
    for (r, &c) in order.iter().enumerate() {
        rank[c] = r;
    }
    membership.iter().map(|&c| rank[c]).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two 5-cliques joined by one weak edge, plus a self-loop on every node (as density
    /// adaptation gives): the cliques are the communities, and modularity agrees with the
    /// hand calculation.
    #[test]
    fn two_cliques() {
        let n = 10;
        let mut rows = vec![Vec::new(); n];
        for (i, row) in rows.iter_mut().enumerate() {
            for j in 0..n {
                if i == j {
                    row.push((j, 0.5));
                } else if i / 5 == j / 5 {
                    row.push((j, 1.0));
                }
            }
        }
        rows[4].push((5, 0.1));
        rows[5].insert(0, (4, 0.1));
        let g = Graph { rows };
        let m = cluster(&g, 5);
        assert!(m[..5].iter().all(|&c| c == m[0]) && m[5..].iter().all(|&c| c == m[5]));
        assert_ne!(m[0], m[5]);
        // Each node: 4 + 0.5 (+ 0.1 for nodes 4 and 5); total 45.2. Each clique holds
        // 20 + 2.5 = 22.5 internally with strength 22.6: Q = 2 (22.5 - 22.6^2 / 45.2) / 45.2.
        let q = quality(&Level::base(&g), &m);
        let want = 2.0 * (22.5 - 22.6 * 22.6 / 45.2) / 45.2;
        assert!((q - want).abs() < 1e-12, "{q} vs {want}");
    }
}
