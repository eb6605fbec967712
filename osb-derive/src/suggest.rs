//! "Did you mean" suggestions by edit distance.

/// Levenshtein distance, for "did you mean" suggestions.
pub(crate) fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// The closest candidate within a small edit distance, if any.
pub(crate) fn suggest<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    candidates
        .iter()
        .map(|c| (edit_distance(word, c), *c))
        .filter(|(d, c)| *d <= 3.max(c.len() / 3) && *d < c.len())
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distance() {
        assert_eq!(edit_distance("provison", "provision"), 1);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("bind", "bind"), 0);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }

    #[test]
    fn suggestions() {
        let ops = ["provision", "deprovision", "bind", "unbind", "update"];
        assert_eq!(suggest("provison", &ops), Some("provision"));
        assert_eq!(suggest("deprovison", &ops), Some("deprovision"));
        assert_eq!(suggest("unbnd", &ops), Some("unbind"));
        assert_eq!(suggest("helper_that_is_long", &ops), None);
        assert_eq!(suggest("x", &ops), None);
    }
}
