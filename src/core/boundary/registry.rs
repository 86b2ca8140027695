//! What the layers above the core register with it when an entry sets the platform (config
//! sections, job-id prefixes, parts of `health()`): a list per kind, one entry per key, kept
//! for the life of the module (the entries call set-up again on every `setPlatform`).

use std::cell::RefCell;
use std::thread::LocalKey;

pub type List<T> = LocalKey<RefCell<Vec<T>>>;

/// Adds `item` to `list` unless an entry with the same `key` is there already.
pub fn add_once<T>(list: &'static List<T>, item: T, key: fn(&T) -> &'static str) {
    list.with(|all| {
        let mut all = all.borrow_mut();
        if !all.iter().any(|x| key(x) == key(&item)) {
            all.push(item);
        }
    });
}

/// The entries as they are now.
pub fn entries<T: Clone>(list: &'static List<T>) -> Vec<T> {
    list.with(|all| all.borrow().clone())
}
