//! Text similarity for clustering: terms (stemmed words and whole identifiers), TF-IDF
//! vectors, and the cosine and overlap measures over them.

use std::collections::HashMap;

/// A sparse, L2-normalised TF-IDF vector sorted by term id, with each term's IDF kept for
/// the overlap measure.
#[derive(Debug, Clone, Default)]
pub struct SparseVec {
    /// (term id, normalised TF-IDF weight), sorted by term id.
    weights: Vec<(u32, f32)>,
    /// Each term's IDF, parallel to `weights`.
    idf: Vec<f32>,
    /// The sum of `idf`.
    idf_total: f32,
}

impl SparseVec {
    /// One walk over both sorted term lists: the dot product of the weights, and the IDF of
    /// the shared terms.
    fn shared(&self, other: &SparseVec) -> (f64, f64) {
        let (a, b) = (&self.weights, &other.weights);
        let (mut i, mut j) = (0, 0);
        let (mut dot, mut shared) = (0.0f64, 0.0f64);
        while i < a.len() && j < b.len() {
            match a[i].0.cmp(&b[j].0) {
                std::cmp::Ordering::Less => i += 1,
                std::cmp::Ordering::Greater => j += 1,
                std::cmp::Ordering::Equal => {
                    dot += f64::from(a[i].1) * f64::from(b[j].1);
                    shared += f64::from(self.idf[i]);
                    i += 1;
                    j += 1;
                }
            }
        }
        (dot, shared)
    }

    fn overlap_of(&self, other: &SparseVec, shared: f64) -> f64 {
        let smaller = f64::from(self.idf_total.min(other.idf_total));
        if smaller > 0.0 {
            shared / smaller
        } else {
            0.0
        }
    }

    /// The IDF-weighted overlap coefficient: the weight of the shared terms over the weight
    /// of the smaller text. Unlike the cosine, a terse finding is not penalised for being
    /// terse: "forEach(async) not awaited in X" is wholly contained in a long explanation
    /// of the same bug.
    pub fn overlap(&self, other: &SparseVec) -> f64 {
        self.overlap_of(other, self.shared(other).1)
    }

    /// The similarity used for clustering: the mean of the cosine (are the two texts about
    /// the same things overall) and the overlap (is the shorter one contained in the longer).
    pub fn similarity(&self, other: &SparseVec) -> f64 {
        let (dot, shared) = self.shared(other);
        0.5 * dot + 0.5 * self.overlap_of(other, shared)
    }

    pub fn cosine(&self, other: &SparseVec) -> f64 {
        self.shared(other).0
    }

    pub fn terms(&self) -> impl Iterator<Item = u32> + '_ {
        self.weights.iter().map(|(t, _)| *t)
    }
}

const STOPWORDS: &[&str] = &[
    "the",
    "and",
    "for",
    "that",
    "this",
    "with",
    "from",
    "are",
    "was",
    "were",
    "will",
    "would",
    "can",
    "could",
    "should",
    "may",
    "might",
    "not",
    "but",
    "when",
    "which",
    "what",
    "where",
    "into",
    "onto",
    "than",
    "then",
    "there",
    "their",
    "they",
    "them",
    "its",
    "has",
    "have",
    "had",
    "been",
    "being",
    "also",
    "any",
    "all",
    "only",
    "more",
    "most",
    "some",
    "such",
    "does",
    "did",
    "doing",
    "how",
    "why",
    "who",
    "whom",
    "each",
    "other",
    "use",
    "uses",
    "used",
    "using",
    "via",
    "about",
    "after",
    "before",
    "because",
    "while",
    "just",
    "like",
    "one",
    "two",
    "new",
    "code",
    "line",
    "lines",
    "file",
    "files",
    "function",
    "method",
    "value",
    "values",
    "call",
    "calls",
    "called",
    "issue",
    "problem",
    "potential",
    "possible",
    "possibly",
    "instead",
    "ensure",
    "consider",
    "need",
    "needs",
    "make",
    "makes",
    "made",
    "cause",
    "causes",
    "causing",
    "lead",
    "leads",
    "leading",
    "result",
    "results",
    "resulting",
    "without",
    "within",
    "your",
    "you",
    "our",
    "here",
    "these",
    "those",
    "both",
    "same",
    "still",
    "even",
    "very",
    "over",
    "under",
];

fn stem(w: &str) -> String {
    for suffix in ["ingly", "edly", "ing", "ies", "ed", "es", "ly", "s"] {
        if let Some(base) = w.strip_suffix(suffix) {
            if base.len() >= 4 {
                return if suffix == "ies" {
                    format!("{base}y")
                } else {
                    base.to_string()
                };
            }
        }
    }
    w.to_string()
}

/// Terms of a text: stemmed words, plus identifiers (snake_case, camelCase, dotted,
/// backticked) kept whole and weighted up, since a shared identifier is strong evidence.
pub fn terms(text: &str) -> Vec<(String, f32)> {
    let mut out: Vec<(String, f32)> = Vec::new();
    for raw in text.split(|c: char| c.is_whitespace() || "()[]{}<>,;:'\"!?=|*+&^%$#@~".contains(c))
    {
        let token = raw.trim_matches(|c: char| !c.is_alphanumeric() && c != '_');
        if token.is_empty() {
            continue;
        }
        let is_ident = token.contains('_')
            || token.contains("::")
            || (token.contains('.')
                && token.chars().any(|c| c.is_alphabetic())
                && !token.ends_with('.'))
            || token.chars().skip(1).any(|c| c.is_uppercase())
                && token.chars().any(|c| c.is_lowercase());
        if is_ident && token.len() >= 3 {
            out.push((format!("#{}", token.to_lowercase()), 2.0));
        }
        for word in token.split(|c: char| !c.is_alphanumeric()) {
            for part in split_camel(word) {
                let lower = part.to_lowercase();
                if lower.len() < 3 || lower.chars().all(|c| c.is_ascii_digit()) {
                    continue;
                }
                if STOPWORDS.contains(&lower.as_str()) {
                    continue;
                }
                out.push((stem(&lower), 1.0));
            }
        }
    }
    out
}

fn split_camel(word: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut start = 0;
    let chars: Vec<(usize, char)> = word.char_indices().collect();
    for w in 1..chars.len() {
        let (i, c) = chars[w];
        let prev = chars[w - 1].1;
        if c.is_uppercase() && prev.is_lowercase() {
            parts.push(&word[start..i]);
            start = i;
        }
    }
    parts.push(&word[start..]);
    parts
}

/// TF-IDF vectors (sublinear tf, smoothed idf), L2-normalised.
pub fn tfidf(texts: &[String]) -> Vec<SparseVec> {
    let mut vocab: HashMap<String, u32> = HashMap::new();
    let docs: Vec<HashMap<u32, f32>> = texts
        .iter()
        .map(|t| {
            let mut tf: HashMap<u32, f32> = HashMap::new();
            for (term, w) in terms(t) {
                let next = vocab.len() as u32;
                let id = *vocab.entry(term).or_insert(next);
                *tf.entry(id).or_insert(0.0) += w;
            }
            tf
        })
        .collect();
    let mut df = vec![0u32; vocab.len()];
    for d in &docs {
        for &id in d.keys() {
            df[id as usize] += 1;
        }
    }
    let n = texts.len() as f32;
    docs.into_iter()
        .map(|d| {
            let idf_of = |id: u32| ((n + 1.0) / (df[id as usize] as f32 + 1.0)).ln() + 1.0;
            let mut v: Vec<(u32, f32)> = d
                .into_iter()
                .map(|(id, tf)| (id, (1.0 + tf.ln()) * idf_of(id)))
                .collect();
            let norm: f32 = v.iter().map(|(_, w)| w * w).sum::<f32>().sqrt();
            if norm > 0.0 {
                for (_, w) in &mut v {
                    *w /= norm;
                }
            }
            v.sort_by_key(|(id, _)| *id);
            let idf: Vec<f32> = v.iter().map(|(id, _)| idf_of(*id)).collect();
            let total = idf.iter().sum();
            SparseVec {
                weights: v,
                idf,
                idf_total: total,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn similar_texts_score_higher_than_different_ones() {
        let v = tfidf(&[
            "Data race on `a.client` read without clientMu in watchGuestAgentEvents".to_string(),
            "Unprotected read of a.client races with getOrCreateClient setting it to nil"
                .to_string(),
            "Missing documentation for the new Close method".to_string(),
        ]);
        assert!(v[0].cosine(&v[1]) > v[0].cosine(&v[2]));
        assert!(v[0].cosine(&v[2]) < 0.1);
    }

    #[test]
    fn terms_are_stemmed_words_without_stopwords_and_whole_identifiers_weighted_up() {
        let t = terms("The `cache_key` is computed twice in getOrCreate");
        assert_eq!(
            t,
            vec![
                ("#cache_key".to_string(), 2.0),
                ("cache".to_string(), 1.0),
                ("key".to_string(), 1.0),
                ("comput".to_string(), 1.0),
                ("twice".to_string(), 1.0),
                ("#getorcreate".to_string(), 2.0),
                ("get".to_string(), 1.0),
                ("create".to_string(), 1.0),
            ]
        );
        assert!(terms("").is_empty());
        assert!(terms("the and of 42 1234").is_empty());
    }

    #[test]
    fn stems_keep_at_least_four_letters() {
        assert_eq!(stem("caching"), "cach");
        assert_eq!(stem("racing"), "racing");
        assert_eq!(stem("entries"), "entry");
        assert_eq!(stem("locks"), "lock");
        assert_eq!(
            split_camel("getOrCreateClient"),
            ["get", "Or", "Create", "Client"]
        );
        assert_eq!(split_camel("HTTPServer"), ["HTTPServer"]);
    }

    #[test]
    fn identical_texts_are_fully_similar_and_disjoint_ones_not_at_all() {
        let v = tfidf(&[
            "mutex held across await".to_string(),
            "mutex held across await".to_string(),
            "documentation typo".to_string(),
        ]);
        assert!((v[0].cosine(&v[1]) - 1.0).abs() < 1e-6);
        assert!((v[0].similarity(&v[1]) - 1.0).abs() < 1e-6);
        assert_eq!(v[0].cosine(&v[2]), 0.0);
        assert_eq!(v[0].overlap(&v[2]), 0.0);
    }

    #[test]
    fn a_terse_text_contained_in_a_long_one_overlaps_fully() {
        let v = tfidf(&[
            "forEach async awaited".to_string(),
            "forEach async awaited: the loop returns before the writes finish, so errors vanish"
                .to_string(),
        ]);
        assert!((v[0].overlap(&v[1]) - 1.0).abs() < 1e-6);
        assert!(v[0].cosine(&v[1]) < 0.9);
    }

    #[test]
    fn empty_input_and_empty_texts_give_empty_vectors() {
        assert!(tfidf(&[]).is_empty());
        let v = tfidf(&[String::new(), "lock".to_string()]);
        assert_eq!(v[0].terms().count(), 0);
        assert_eq!(v[0].similarity(&v[1]), 0.0);
    }
}
