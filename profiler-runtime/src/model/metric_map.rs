//! [`MetricMap`]: an operation's metric aggregates by key, as a sorted vector.
//!
//! An operation reports a handful of metrics at most, so a sorted vector of exactly that many
//! entries beats a `BTreeMap`, whose first node alone holds room for eleven (about 700 bytes
//! per operation here, the largest part of a profile with many operations). It reads like a
//! map: `get`, `[key]`, `insert`, iteration in key order, and serialises as a JSON object.

use std::borrow::Borrow;
use std::fmt;
use std::ops::Index;

use serde::de::{MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::model::stats::MetricAggregate;

/// Metric aggregates by key, in key order (see the [module docs](self)).
///
/// ```
/// use profiler_runtime::model::metric_map::MetricMap;
/// use profiler_runtime::MetricAggregate;
/// let mut m = MetricMap::new();
/// m.insert("energy_pj".to_owned(), MetricAggregate::of(2.5));
/// m.insert("bytes".to_owned(), MetricAggregate::of(64.0));
/// assert_eq!(m["energy_pj"].sum, 2.5);
/// assert_eq!(m.keys().collect::<Vec<_>>(), ["bytes", "energy_pj"]);
/// ```
#[derive(Clone, Default, PartialEq)]
pub struct MetricMap(Vec<(String, MetricAggregate)>);

impl MetricMap {
    /// An empty map (no heap memory).
    pub const fn new() -> Self {
        MetricMap(Vec::new())
    }

    fn find(&self, key: &str) -> Result<usize, usize> {
        self.0.binary_search_by(|(k, _)| k.as_str().cmp(key))
    }

    /// The aggregate of `key`.
    pub fn get<Q: Borrow<str> + ?Sized>(&self, key: &Q) -> Option<&MetricAggregate> {
        self.find(key.borrow()).ok().map(|i| &self.0[i].1)
    }

    /// The aggregate of `key`, to change.
    pub fn get_mut<Q: Borrow<str> + ?Sized>(&mut self, key: &Q) -> Option<&mut MetricAggregate> {
        self.find(key.borrow()).ok().map(|i| &mut self.0[i].1)
    }

    /// Whether `key` has an aggregate.
    pub fn contains_key<Q: Borrow<str> + ?Sized>(&self, key: &Q) -> bool {
        self.find(key.borrow()).is_ok()
    }

    /// Sets `key`'s aggregate; returns the one it replaces.
    pub fn insert(&mut self, key: String, value: MetricAggregate) -> Option<MetricAggregate> {
        match self.find(&key) {
            Ok(i) => Some(std::mem::replace(&mut self.0[i].1, value)),
            Err(i) => {
                // Grow by one: maps stay exactly as long as their keys.
                self.0.reserve_exact(1);
                self.0.insert(i, (key, value));
                None
            }
        }
    }

    /// `key`'s entry, to fill or change in place (as `BTreeMap::entry`).
    ///
    /// ```
    /// use profiler_runtime::{model::metric_map::MetricMap, MetricAggregate};
    /// let mut m = MetricMap::new();
    /// for v in [1.0, 2.0] {
    ///     m.entry("bytes".to_owned())
    ///         .and_modify(|a| a.add(v))
    ///         .or_insert_with(|| MetricAggregate::of(v));
    /// }
    /// assert_eq!((m["bytes"].sum, m["bytes"].count), (3.0, 2));
    /// ```
    pub fn entry(&mut self, key: String) -> Entry<'_> {
        let at = self.find(&key);
        Entry { map: self, at, key }
    }

    /// Removes `key`'s aggregate.
    pub fn remove<Q: Borrow<str> + ?Sized>(&mut self, key: &Q) -> Option<MetricAggregate> {
        self.find(key.borrow()).ok().map(|i| self.0.remove(i).1)
    }

    /// Keeps the entries for which `f` holds.
    pub fn retain(&mut self, mut f: impl FnMut(&String, &mut MetricAggregate) -> bool) {
        self.0.retain_mut(|(k, v)| f(k, v));
    }

    /// Number of metrics.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `(key, aggregate)` in key order.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = (&String, &MetricAggregate)> {
        self.0.iter().map(|(k, v)| (k, v))
    }

    /// `(key, aggregate)` in key order, aggregates mutable.
    pub fn iter_mut(&mut self) -> impl DoubleEndedIterator<Item = (&String, &mut MetricAggregate)> {
        self.0.iter_mut().map(|(k, v)| (&*k, v))
    }

    /// The keys, in order.
    pub fn keys(&self) -> impl DoubleEndedIterator<Item = &String> {
        self.0.iter().map(|(k, _)| k)
    }

    /// The aggregates, in key order.
    pub fn values(&self) -> impl DoubleEndedIterator<Item = &MetricAggregate> {
        self.0.iter().map(|(_, v)| v)
    }

    /// The aggregates, mutably, in key order.
    pub fn values_mut(&mut self) -> impl DoubleEndedIterator<Item = &mut MetricAggregate> {
        self.0.iter_mut().map(|(_, v)| v)
    }
}

/// One key's place in a [`MetricMap`] (see [`MetricMap::entry`]).
#[derive(Debug)]
pub struct Entry<'a> {
    map: &'a mut MetricMap,
    at: Result<usize, usize>,
    key: String,
}

impl<'a> Entry<'a> {
    /// Changes the aggregate if there is one.
    pub fn and_modify(self, f: impl FnOnce(&mut MetricAggregate)) -> Self {
        if let Ok(i) = self.at {
            f(&mut self.map.0[i].1);
        }
        self
    }

    /// The aggregate, inserting `value` if there is none.
    pub fn or_insert(self, value: MetricAggregate) -> &'a mut MetricAggregate {
        self.or_insert_with(|| value)
    }

    /// The aggregate, inserting `f()` if there is none.
    pub fn or_insert_with(self, f: impl FnOnce() -> MetricAggregate) -> &'a mut MetricAggregate {
        let i = match self.at {
            Ok(i) => i,
            Err(i) => {
                self.map.0.reserve_exact(1);
                self.map.0.insert(i, (self.key, f()));
                i
            }
        };
        &mut self.map.0[i].1
    }

    /// The aggregate, inserting an empty one if there is none.
    pub fn or_default(self) -> &'a mut MetricAggregate {
        self.or_insert(MetricAggregate::EMPTY)
    }
}

impl fmt::Debug for MetricMap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl<Q: Borrow<str> + ?Sized> Index<&Q> for MetricMap {
    type Output = MetricAggregate;

    /// # Panics
    /// If `key` has no aggregate (as a `BTreeMap` does).
    fn index(&self, key: &Q) -> &MetricAggregate {
        match self.get(key) {
            Some(v) => v,
            None => panic!("no metric `{}`", key.borrow()),
        }
    }
}

impl FromIterator<(String, MetricAggregate)> for MetricMap {
    fn from_iter<I: IntoIterator<Item = (String, MetricAggregate)>>(iter: I) -> Self {
        let mut m = MetricMap::new();
        m.extend(iter);
        m
    }
}

impl Extend<(String, MetricAggregate)> for MetricMap {
    fn extend<I: IntoIterator<Item = (String, MetricAggregate)>>(&mut self, iter: I) {
        for (k, v) in iter {
            self.insert(k, v);
        }
    }
}

impl<'a> IntoIterator for &'a MetricMap {
    type Item = (&'a String, &'a MetricAggregate);
    type IntoIter = std::iter::Map<
        std::slice::Iter<'a, (String, MetricAggregate)>,
        fn(&'a (String, MetricAggregate)) -> (&'a String, &'a MetricAggregate),
    >;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter().map(|(k, v)| (k, v))
    }
}

impl IntoIterator for MetricMap {
    type Item = (String, MetricAggregate);
    type IntoIter = std::vec::IntoIter<(String, MetricAggregate)>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl From<std::collections::BTreeMap<String, MetricAggregate>> for MetricMap {
    fn from(m: std::collections::BTreeMap<String, MetricAggregate>) -> Self {
        MetricMap(m.into_iter().collect())
    }
}

impl Serialize for MetricMap {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}

impl<'de> Deserialize<'de> for MetricMap {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Entries;
        impl<'de> Visitor<'de> for Entries {
            type Value = MetricMap;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a map of metric aggregates")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<MetricMap, A::Error> {
                let mut m = MetricMap::new();
                while let Some((k, v)) = map.next_entry::<String, MetricAggregate>()? {
                    m.insert(k, v);
                }
                Ok(m)
            }
        }
        d.deserialize_map(Entries)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_like_a_sorted_map_and_serialises_as_an_object() {
        let mut m: MetricMap = [("b", 2.0), ("a", 1.0), ("c", 3.0)]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), MetricAggregate::of(v)))
            .collect();
        assert_eq!(m.keys().collect::<Vec<_>>(), ["a", "b", "c"]);
        assert_eq!(
            m.insert("b".into(), MetricAggregate::of(5.0))
                .map(|o| o.sum),
            Some(2.0)
        );
        assert_eq!(m["b"].sum, 5.0);
        m.retain(|k, _| k != "a");
        assert!(!m.contains_key("a") && m.len() == 2);
        let json = serde_json::to_string(&m).unwrap();
        assert!(json.starts_with(r#"{"b":{"#), "{json}");
        let back: MetricMap = serde_json::from_str(&json).unwrap();
        assert_eq!(back, m);
        // An aggregate with one metric costs one entry, not a tree node of eleven.
        let one: MetricMap = [("energy_pj".to_owned(), MetricAggregate::of(1.0))]
            .into_iter()
            .collect();
        assert_eq!(one.0.capacity(), 1);
    }
}
