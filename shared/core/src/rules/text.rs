//! Text normalisation shared by the rules: lower case, no diacritics, word tokens.

use unicode_normalization::UnicodeNormalization;

/// Lower-cases and strips diacritics (`Długiej` → `dlugiej`, `gałąź` → `galaz`).
pub fn fold(text: &str) -> String {
    text.nfd()
        .filter(|c| !unicode_normalization::char::is_combining_mark(*c))
        .flat_map(char::to_lowercase)
        .map(|c| match c {
            'ł' => 'l',
            'ø' => 'o',
            'ß' => 's',
            other => other,
        })
        .collect()
}

/// Folded word tokens of at least two characters.
pub fn tokens(text: &str) -> Vec<String> {
    fold(text)
        .split(|c: char| !c.is_alphanumeric())
        .filter(|t| t.chars().count() >= 2)
        .map(str::to_owned)
        .collect()
}

/// A crude stem that survives Polish and English inflection: the first
/// `len - 2` characters, at least four (`dziura`/`dziurę`/`dziury` → `dziu`).
pub fn stem(token: &str) -> String {
    let n = token.chars().count();
    let keep = n.saturating_sub(2).max(4).min(n);
    token.chars().take(keep).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_polish() {
        assert_eq!(fold("Na ulicy Długiej GAŁĄŹ"), "na ulicy dlugiej galaz");
        assert_eq!(tokens("Dziura, w jezdni!"), vec!["dziura", "jezdni"]);
        assert_eq!(stem("dziurę"), stem("dziura"));
        assert_eq!(stem("tree"), "tree");
    }
}
