//! How an ONNX tensor lays out an engine value.
//!
//! The engine keeps every value as `[batch, channels, length]` or `[batch, features]`.
//! Exporters move axes around that layout: PyTorch feeds a recurrent layer
//! `[length, batch, channels]`, the layer returns `[length, directions, batch, hidden]`, and
//! a Transpose/Reshape chain brings it back to `[batch, length * channels]` for a dense
//! layer. The importer follows such chains without moving data: a [`View`] says, for each
//! ONNX axis, which of the engine value's *atoms* (its batch, the factors of its channels,
//! its length) it merges, in which order. Reshapes that merge or split whole atoms, and
//! transposes, only relabel; a view is handed back to the engine when it is in the engine's
//! order again, or folded into the weights of the dense layer that reads it.

use std::fmt;

/// The size of an axis, possibly symbolic.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dim {
    Known(i64),
    /// The batch size.
    Batch,
    /// The sequence length of a model that leaves it open.
    Length,
}

impl fmt::Display for Dim {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Dim::Known(v) => write!(f, "{v}"),
            Dim::Batch => write!(f, "batch"),
            Dim::Length => write!(f, "length"),
        }
    }
}

/// One factor of an engine value's layout.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Atom {
    Batch,
    /// A factor of the channels (major factors first).
    Channel(usize),
    /// The length: `Some` when fixed.
    Length(Option<usize>),
}

impl Atom {
    fn dim(self) -> Dim {
        match self {
            Atom::Batch => Dim::Batch,
            Atom::Channel(c) => Dim::Known(c as i64),
            Atom::Length(Some(l)) => Dim::Known(l as i64),
            Atom::Length(None) => Dim::Length,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Atom::Batch => "batch",
            Atom::Channel(_) => "channels",
            Atom::Length(_) => "length",
        }
    }
}

/// An ONNX tensor over an engine value: `axes[i]` lists the atoms (indices into `atoms`,
/// the value's own order) that ONNX axis `i` merges, major first; an empty list is an axis
/// of size 1.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct View {
    pub atoms: Vec<Atom>,
    pub axes: Vec<Vec<usize>>,
}

impl fmt::Display for View {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let axes: Vec<String> = self
            .axes
            .iter()
            .map(|a| match a[..] {
                [] => "1".to_string(),
                _ => a
                    .iter()
                    .map(|&i| self.atoms[i].name())
                    .collect::<Vec<_>>()
                    .join("*"),
            })
            .collect();
        write!(f, "[{}]", axes.join(", "))
    }
}

impl View {
    /// The engine's own layout of a value of per-item shape `item` (`[c, l]` or `[f]`);
    /// `length` is `None` for a graph of any length.
    pub fn engine(item: &[usize], any_length: bool) -> View {
        match *item {
            [c, l] => View {
                atoms: vec![
                    Atom::Batch,
                    Atom::Channel(c),
                    Atom::Length((!any_length).then_some(l)),
                ],
                axes: vec![vec![0], vec![1], vec![2]],
            },
            _ => View {
                atoms: vec![Atom::Batch, Atom::Channel(item.iter().product())],
                axes: vec![vec![0], vec![1]],
            },
        }
    }

    /// Whether the tensor is the engine value in the engine's order: batch, then every
    /// channel factor in one axis, then the length (if any).
    pub fn is_engine_order(&self) -> bool {
        let channels: Vec<usize> = (0..self.atoms.len())
            .filter(|&i| matches!(self.atoms[i], Atom::Channel(_)))
            .collect();
        let length = self.atoms.iter().position(|a| matches!(a, Atom::Length(_)));
        let mut want = vec![vec![0], channels];
        want.extend(length.map(|l| vec![l]));
        self.atoms[0] == Atom::Batch && self.axes == want
    }

    /// Each axis's size.
    pub fn dims(&self) -> Result<Vec<Dim>, String> {
        self.axes.iter().map(|a| self.product(a)).collect()
    }

    fn product(&self, atoms: &[usize]) -> Result<Dim, String> {
        match atoms {
            [one] => Ok(self.atoms[*one].dim()),
            _ => atoms
                .iter()
                .try_fold(Dim::Known(1), |acc, &i| match (acc, self.atoms[i].dim()) {
                    (Dim::Known(a), Dim::Known(b)) => a
                        .checked_mul(b)
                        .map(Dim::Known)
                        .ok_or_else(|| format!("an axis of {self} is too large")),
                    _ => Err(format!(
                        "an axis of {self} merges the {} with other axes",
                        self.atoms[i].name()
                    )),
                }),
        }
    }

    /// ONNX `Transpose` with `perm`.
    pub fn transpose(&self, perm: &[i64]) -> Result<View, String> {
        let r = self.axes.len();
        let mut seen = vec![false; r];
        let mut axes = Vec::with_capacity(r);
        for &p in perm {
            let p = usize::try_from(p)
                .ok()
                .filter(|&p| p < r && !seen[p])
                .ok_or_else(|| format!("perm {perm:?} is not a permutation of {r} axes"))?;
            seen[p] = true;
            axes.push(self.axes[p].clone());
        }
        if axes.len() != r {
            return Err(format!("perm {perm:?} is not a permutation of {r} axes"));
        }
        Ok(View {
            atoms: self.atoms.clone(),
            axes,
        })
    }

    /// ONNX `Reshape` to `target` (`0` copies the input's axis unless `allowzero`, `-1`
    /// takes what is left). Only reshapes that merge whole atoms, or split a channel factor,
    /// are layouts; any other mixes values of different positions or channels, and is
    /// refused.
    pub fn reshape(&self, target: &[Dim], allowzero: bool) -> Result<View, String> {
        let refuse = || {
            format!(
                "reshaping {self} to [{}] is not a regrouping of its axes",
                target
                    .iter()
                    .map(|d| d.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
        let dims = self.dims()?;
        let target: Vec<Dim> = target
            .iter()
            .enumerate()
            .map(|(i, &d)| match d {
                Dim::Known(0) if !allowzero => dims.get(i).copied().ok_or_else(refuse),
                d => Ok(d),
            })
            .collect::<Result<_, _>>()?;
        let mut view = self.clone();
        loop {
            match view.regroup(&target) {
                Ok(axes) => {
                    return Ok(View {
                        atoms: view.atoms,
                        axes,
                    });
                }
                Err(Some((atom, major))) => view = view.split(atom, major),
                Err(None) => return Err(refuse()),
            }
        }
    }

    /// The axes of `target` as groups of atoms, or the channel factor to split first
    /// (`Some((atom, major size))`), or `None` when the target is not a regrouping.
    #[allow(clippy::type_complexity)]
    fn regroup(&self, target: &[Dim]) -> Result<Vec<Vec<usize>>, Option<(usize, usize)>> {
        let seq: Vec<usize> = self.axes.iter().flatten().copied().collect();
        // Matches `d` against `atoms` (in reading order), returning how many it takes.
        let take = |d: Dim, atoms: &mut dyn Iterator<Item = usize>, forwards: bool| {
            match d {
                Dim::Batch | Dim::Length => match atoms.next() {
                    Some(i) if self.atoms[i].dim() == d => Ok(1),
                    _ => Err(None),
                },
                Dim::Known(k) if k >= 1 => {
                    let (mut size, mut n) = (1i64, 0);
                    while size < k {
                        let i = atoms.next().ok_or(None)?;
                        let Dim::Known(s) = self.atoms[i].dim() else {
                            return Err(None);
                        };
                        let Some(next) = size.checked_mul(s) else {
                            return Err(None);
                        };
                        if next > k || s <= 0 {
                            // This axis ends inside a channel factor: split off its major
                            // part (only reading forwards, where major comes first).
                            return match self.atoms[i] {
                                Atom::Channel(c)
                                    if forwards
                                        && k % size == 0
                                        && c % (k / size) as usize == 0 =>
                                {
                                    Err(Some((i, (k / size) as usize)))
                                }
                                _ => Err(None),
                            };
                        }
                        size = next;
                        n += 1;
                    }
                    Ok(n)
                }
                _ => Err(None),
            }
        };
        let wild: Vec<usize> = (0..target.len())
            .filter(|&i| target[i] == Dim::Known(-1))
            .collect();
        let split = match wild[..] {
            [] => target.len(),
            [w] => w,
            _ => return Err(None),
        };
        let mut axes = Vec::with_capacity(target.len());
        let mut at = 0;
        for &d in &target[..split] {
            let n = take(d, &mut seq[at..].iter().copied(), true)?;
            axes.push(seq[at..at + n].to_vec());
            at += n;
        }
        if split == target.len() {
            return if at == seq.len() { Ok(axes) } else { Err(None) };
        }
        // The axes after -1, matched from the end; -1 takes the atoms between.
        let mut end = seq.len();
        let mut back = Vec::new();
        for &d in target[split + 1..].iter().rev() {
            let n = take(d, &mut seq[at..end].iter().rev().copied(), false)?;
            back.push(seq[end - n..end].to_vec());
            end -= n;
        }
        axes.push(seq[at..end].to_vec());
        axes.extend(back.into_iter().rev());
        Ok(axes)
    }

    /// The view with channel atom `i` split into a major part of `major` and the rest,
    /// which follows it in both the value's order and every axis.
    fn split(&self, i: usize, major: usize) -> View {
        let Atom::Channel(c) = self.atoms[i] else {
            return self.clone();
        };
        let mut atoms = self.atoms.clone();
        atoms[i] = Atom::Channel(major);
        atoms.insert(i + 1, Atom::Channel(c / major));
        let axes = self
            .axes
            .iter()
            .map(|a| {
                a.iter()
                    .flat_map(|&j| match j.cmp(&i) {
                        std::cmp::Ordering::Less => vec![j],
                        std::cmp::Ordering::Equal => vec![i, i + 1],
                        std::cmp::Ordering::Greater => vec![j + 1],
                    })
                    .collect()
            })
            .collect();
        View { atoms, axes }
    }

    /// ONNX `Flatten` at `axis` (negative counts from the end): two axes, the atoms before
    /// and from it.
    pub fn flatten(&self, axis: i64) -> Result<View, String> {
        let r = self.axes.len() as i64;
        let k = if axis < 0 { axis + r } else { axis };
        if !(0..=r).contains(&k) {
            return Err(format!("axis {axis} is outside a rank-{r} tensor"));
        }
        let (a, b) = self.axes.split_at(k as usize);
        Ok(View {
            atoms: self.atoms.clone(),
            axes: vec![a.concat(), b.concat()],
        })
    }

    /// ONNX `Squeeze` of `axes` (all axes of size 1 when `None`).
    pub fn squeeze(&self, axes: Option<&[i64]>) -> Result<View, String> {
        let r = self.axes.len() as i64;
        let drop: Vec<usize> = match axes {
            None => (0..self.axes.len())
                .filter(|&i| self.axes[i].is_empty())
                .collect(),
            Some(list) => list
                .iter()
                .map(|&a| if a < 0 { a + r } else { a })
                .map(|a| {
                    usize::try_from(a)
                        .ok()
                        .filter(|&a| a < self.axes.len() && self.axes[a].is_empty())
                        .ok_or_else(|| format!("axis {a} of {self} is not of size 1"))
                })
                .collect::<Result<_, _>>()?,
        };
        Ok(View {
            atoms: self.atoms.clone(),
            axes: (0..self.axes.len())
                .filter(|i| !drop.contains(i))
                .map(|i| self.axes[i].clone())
                .collect(),
        })
    }

    /// ONNX `Unsqueeze` at `axes` (positions in the result).
    pub fn unsqueeze(&self, axes: &[i64]) -> Result<View, String> {
        let r = (self.axes.len() + axes.len()) as i64;
        let mut at: Vec<usize> = axes
            .iter()
            .map(|&a| if a < 0 { a + r } else { a })
            .map(|a| {
                usize::try_from(a)
                    .ok()
                    .filter(|&a| (a as i64) < r)
                    .ok_or_else(|| format!("axis {a} is outside the rank-{r} result"))
            })
            .collect::<Result<_, _>>()?;
        at.sort_unstable();
        let mut out = self.axes.clone();
        for a in at {
            out.insert(a, Vec::new());
        }
        Ok(View {
            atoms: self.atoms.clone(),
            axes: out,
        })
    }

    /// For a rank-2 view `[batch, features]` of `expected` features: for each ONNX feature
    /// index, the engine's (the value flattened in its own order); an error when a size is
    /// open or the count is not `expected` (checked before anything is allocated).
    pub fn feature_order(&self, expected: usize) -> Result<Vec<usize>, String> {
        let [b, features] = &self.axes[..] else {
            return Err(format!("{self} is not [batch, features]"));
        };
        if b[..] != [0] || self.atoms[0] != Atom::Batch {
            return Err(format!("{self} does not keep the batch first"));
        }
        let size = |i: usize| match self.atoms[i].dim() {
            Dim::Known(k) => Ok(k as usize),
            _ => Err(format!(
                "{self} flattens the {}, which the model leaves open",
                self.atoms[i].name()
            )),
        };
        // Strides of each atom in the engine's flattening (atoms 1.. in order).
        let mut stride = vec![0usize; self.atoms.len()];
        let mut s = 1;
        for i in (1..self.atoms.len()).rev() {
            stride[i] = s;
            s = s
                .checked_mul(size(i)?)
                .filter(|&s| s <= expected)
                .ok_or_else(|| format!("{self} has more than the {expected} features expected"))?;
        }
        let total = s;
        if total != expected {
            return Err(format!(
                "{self} has {total} features; {expected} are expected"
            ));
        }
        let sizes: Vec<usize> = features
            .iter()
            .map(|&i| size(i))
            .collect::<Result<_, _>>()?;
        let mut order = Vec::with_capacity(total);
        let mut idx = vec![0usize; features.len()];
        for _ in 0..total {
            order.push(
                features
                    .iter()
                    .zip(&idx)
                    .map(|(&a, &k)| stride[a] * k)
                    .sum(),
            );
            for p in (0..idx.len()).rev() {
                idx[p] += 1;
                if idx[p] < sizes[p] {
                    break;
                }
                idx[p] = 0;
            }
        }
        Ok(order)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ncl(c: usize, l: usize) -> View {
        View::engine(&[c, l], false)
    }

    #[test]
    fn pytorch_lstm_output_back_to_batch_first_and_flattened() {
        // Y [L, D, N, H] over an engine value [N, D*H, L] with D = 2, H = 3, L = 4.
        let y = View {
            atoms: vec![
                Atom::Batch,
                Atom::Channel(2),
                Atom::Channel(3),
                Atom::Length(Some(4)),
            ],
            axes: vec![vec![3], vec![1], vec![0], vec![2]],
        };
        let t = y.transpose(&[0, 2, 1, 3]).unwrap();
        let r = t
            .reshape(&[Dim::Known(0), Dim::Known(0), Dim::Known(-1)], false)
            .unwrap();
        assert_eq!(r.to_string(), "[length, batch, channels*channels]");
        let f = r
            .transpose(&[1, 0, 2])
            .unwrap()
            .reshape(&[Dim::Batch, Dim::Known(24)], false)
            .unwrap();
        // ONNX feature j = (t, d, h) = t*6 + d*3 + h; engine e = (d*3 + h)*4 + t.
        let order = f.feature_order(24).unwrap();
        assert_eq!(order[0], 0);
        assert_eq!(order[1], 4);
        assert_eq!(order[6], 1);
        assert_eq!(order[23], (3 + 2) * 4 + 3);
        assert!(!f.is_engine_order());
    }

    #[test]
    fn transposing_twice_is_the_engine_order_again() {
        let v = ncl(4, 10);
        let t = v.transpose(&[2, 0, 1]).unwrap();
        assert!(!t.is_engine_order());
        assert!(t.transpose(&[1, 2, 0]).unwrap().is_engine_order());
    }

    #[test]
    fn reshapes_that_mix_positions_are_refused() {
        let v = ncl(4, 10);
        assert!(
            v.reshape(&[Dim::Batch, Dim::Known(8), Dim::Known(5)], false)
                .is_err()
        );
        let split = v
            .reshape(
                &[Dim::Batch, Dim::Known(2), Dim::Known(2), Dim::Known(10)],
                false,
            )
            .unwrap();
        assert!(
            split
                .reshape(&[Dim::Batch, Dim::Known(4), Dim::Known(-1)], false)
                .unwrap()
                .is_engine_order()
        );
    }
}
