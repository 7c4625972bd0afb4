//! The language a resident wrote in, for answering a text message or an
//! e-mail in it: the common short words of each language are counted, and
//! a word with Polish letters counts for Polish (so an English text naming
//! ul. Długa stays English). `None` when the text does not say
//! (a case number, an address): the caller keeps what it knew.

use crate::language::Language;

/// Words that are almost only in one of the two languages (not "a", "i",
/// "to" or "no", which both use).
const POLISH_WORDS: [&str; 32] = [
    "oraz", "w", "na", "nie", "jest", "sie", "się", "z", "do", "przy", "ulicy", "ul", "od", "jak",
    "czy", "prosze", "proszę", "dziura", "jezdni", "latarnia", "smieci", "śmieci", "mam", "moja",
    "moje", "tak", "pod", "obok", "ze", "juz", "już", "bardzo",
];
const ENGLISH_WORDS: [&str; 32] = [
    "the", "was", "an", "is", "are", "and", "of", "on", "in", "at", "there", "street", "road",
    "please", "my", "near", "hole", "light", "broken", "not", "it", "has", "been", "for", "from",
    "with", "this", "that", "yes", "there's", "what", "where",
];

/// The language of `text`, when it shows one.
pub fn language_of(text: &str) -> Option<Language> {
    let mut polish = 0usize;
    let mut english = 0usize;
    for word in text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
    {
        polish += usize::from(
            POLISH_WORDS.contains(&word.as_str()) || word.chars().any(|c| "ąćęłńóśźż".contains(c)),
        );
        english += usize::from(ENGLISH_WORDS.contains(&word.as_str()));
    }
    match polish.cmp(&english) {
        std::cmp::Ordering::Greater => Some(Language::Pl),
        std::cmp::Ordering::Less => Some(Language::En),
        std::cmp::Ordering::Equal => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn polish_letters_or_common_words_decide_and_bare_facts_do_not() {
        assert_eq!(
            language_of("Dziura w jezdni na Długiej"),
            Some(Language::Pl)
        );
        // Typed without diacritics, as phones often send it.
        assert_eq!(
            language_of("Nie swieci latarnia przy ulicy Dlugiej"),
            Some(Language::Pl)
        );
        assert_eq!(
            language_of("There is a big hole in the road near the school"),
            Some(Language::En)
        );
        assert_eq!(
            language_of("The streetlight on Dluga is broken"),
            Some(Language::En)
        );
        assert_eq!(language_of("7H3K-9QX2"), None);
        assert_eq!(language_of("ul Długa 10"), Some(Language::Pl));
        assert_eq!(language_of("Dluga 10"), None);
        assert_eq!(
            language_of("The street light is broken in front of ul. Długa 20, please fix it"),
            Some(Language::En)
        );
        assert_eq!(language_of(""), None);
        // Words both languages write count for neither.
        assert_eq!(language_of("I have a problem to report"), None);
        assert_eq!(language_of("to jest problem"), Some(Language::Pl));
    }
}
