//! The subscription table: each event name's subscribers, in order. A
//! dispatch takes a name's list as it is, by reference count, without
//! copying it; a change makes a new list, so a dispatch under way keeps
//! the one it took.

use std::collections::HashMap;
use std::sync::Arc;

/// Subscribers of type `S` by event name.
pub(super) struct Table<S> {
    lists: HashMap<Arc<str>, Arc<[S]>>,
}

impl<S> Default for Table<S> {
    fn default() -> Self {
        Table {
            lists: HashMap::new(),
        }
    }
}

impl<S: Clone> Table<S> {
    /// Adds `subscriber` after the others of `name`.
    pub(super) fn push(&mut self, name: &str, subscriber: S) {
        let (key, list) = match self.lists.get_key_value(name) {
            Some((key, list)) => {
                let mut list = list.to_vec();
                list.push(subscriber);
                (key.clone(), list)
            }
            None => (Arc::from(name), vec![subscriber]),
        };
        self.lists.insert(key, list.into());
    }

    /// The subscribers of `name`, with the name as the table keeps it.
    pub(super) fn get(&self, name: &str) -> Option<(Arc<str>, Arc<[S]>)> {
        let (key, list) = self.lists.get_key_value(name)?;
        Some((key.clone(), list.clone()))
    }

    /// How many subscribers `name` has.
    pub(super) fn len(&self, name: &str) -> usize {
        self.lists.get(name).map_or(0, |list| list.len())
    }

    /// Whether one of `name`'s subscribers is `found`.
    pub(super) fn any(&self, name: &str, found: impl Fn(&S) -> bool) -> bool {
        self.lists
            .get(name)
            .is_some_and(|list| list.iter().any(found))
    }

    /// The names with a subscriber that is `found`.
    pub(super) fn names_with(&self, found: impl Fn(&S) -> bool) -> Vec<String> {
        self.lists
            .iter()
            .filter(|(_, list)| list.iter().any(&found))
            .map(|(name, _)| name.to_string())
            .collect()
    }

    /// Edits, with `edit`, the lists (of every name, or of `only`) that
    /// hold a subscriber `touched`; a list left empty goes. Whether any
    /// list was edited.
    pub(super) fn edit(
        &mut self,
        only: Option<&str>,
        touched: impl Fn(&S) -> bool,
        mut edit: impl FnMut(&str, &mut Vec<S>),
    ) -> bool {
        if let Some(only) = only {
            // One name: its list alone, not every name's.
            let Some((name, list)) = self.lists.get_key_value(only) else {
                return false;
            };
            if !list.iter().any(&touched) {
                return false;
            }
            let (name, mut changed) = (name.clone(), list.to_vec());
            edit(&name, &mut changed);
            match changed.is_empty() {
                true => self.lists.remove(only),
                false => self.lists.insert(name, changed.into()),
            };
            return true;
        }
        let mut edited = false;
        self.lists.retain(|name, list| {
            if !list.iter().any(&touched) {
                return true;
            }
            let mut changed = list.to_vec();
            edit(name, &mut changed);
            edited = true;
            *list = changed.into();
            !list.is_empty()
        });
        edited
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_change_makes_a_new_list_and_leaves_a_taken_one_as_it_was() {
        let mut table = Table::default();
        table.push("a", 1);
        table.push("a", 2);
        table.push("b", 3);
        let (name, taken) = table.get("a").unwrap();
        assert_eq!((&*name, &*taken), ("a", &[1, 2][..]));

        assert!(table.edit(None, |&n| n == 1, |_, list| list.retain(|&n| n != 1)));
        assert_eq!(&*taken, &[1, 2], "a dispatch under way keeps its list");
        assert_eq!(&*table.get("a").unwrap().1, &[2]);
        assert!(!table.edit(None, |&n| n == 1, |_, list| list.clear()));

        assert!(table.edit(Some("b"), |_| true, |_, list| list.clear()));
        assert_eq!(table.len("b"), 0);
        assert!(table.get("b").is_none(), "an empty list goes");
        assert_eq!(table.names_with(|&n| n == 2), ["a"]);
        assert!(table.any("a", |&n| n == 2) && !table.any("b", |_| true));
    }
}
