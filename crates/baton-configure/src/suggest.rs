//! "Did you mean …": the closest known name to a misspelled one.

/// "; did you mean `x`?" for the closest of `known` within two edits (or
/// one inside the other), or "".
pub(crate) fn suggestion<'a>(word: &str, known: impl Iterator<Item = &'a str>) -> String {
    let word = word.to_ascii_lowercase();
    known
        .map(|k| {
            let lower = k.to_ascii_lowercase();
            // `stopped` for `stop`: one word inside the other is as close.
            let nested = lower.len() >= 3 && (word.starts_with(&lower) || lower.starts_with(&word));
            let distance = edit_distance(&word, &lower);
            (if nested { distance.min(1) } else { distance }, k)
        })
        .filter(|(d, _)| *d <= 2)
        .min()
        .map(|(_, k)| format!("; did you mean `{k}`?"))
        .unwrap_or_default()
}

/// Levenshtein distance, by characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitute = previous[j] + usize::from(ca != *cb);
            current.push(substitute.min(previous[j + 1] + 1).min(current[j] + 1));
        }
        previous = current;
    }
    previous[b.len()]
}
