//! What an HTTP reviewer costs: a price table (built in, extended by `[prices]`), and the
//! spend kept against the agent's budget and the review's.

use crate::agent::Budget;
use crate::agent::Tokens;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::sync::Mutex;

/// Dollars per million tokens.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Price {
    pub input_per_mtok: f64,
    pub output_per_mtok: f64,
    /// Cached input, when the API discounts it; else the input price.
    #[serde(default)]
    pub cached_input_per_mtok: Option<f64>,
}

/// List prices per million tokens (input, output), as the vendors published them in 2025.
/// Model names match by prefix, longest first (`gpt-5-mini-2025-08-07` is `gpt-5-mini`); a
/// vendor prefix (`openai/`, `anthropic/` on OpenRouter) is ignored. Anything else, a local
/// model included, has no price unless `[prices."name"]` gives one.
const BUILT_IN: &[(&str, f64, f64)] = &[
    ("gpt-5", 1.25, 10.0),
    ("gpt-5-mini", 0.25, 2.0),
    ("gpt-5-nano", 0.05, 0.40),
    ("gpt-4.1", 2.0, 8.0),
    ("gpt-4.1-mini", 0.40, 1.60),
    ("gpt-4.1-nano", 0.10, 0.40),
    ("gpt-4o", 2.50, 10.0),
    ("gpt-4o-mini", 0.15, 0.60),
    ("o3", 2.0, 8.0),
    ("o3-mini", 1.10, 4.40),
    ("o4-mini", 1.10, 4.40),
    ("claude-opus-4", 15.0, 75.0),
    ("claude-opus-4-1", 15.0, 75.0),
    ("claude-opus-4-5", 5.0, 25.0),
    ("claude-sonnet-4", 3.0, 15.0),
    ("claude-haiku-4-5", 1.0, 5.0),
    ("claude-3-5-haiku", 0.80, 4.0),
    ("gemini-2.5-pro", 1.25, 10.0),
    ("gemini-2.5-flash", 0.30, 2.50),
    ("gemini-2.5-flash-lite", 0.10, 0.40),
];

/// The price of `model`: the user's table by exact name (as configured or without a vendor
/// prefix), else the built-in one by longest prefix.
pub fn price_of(model: &str, user: &BTreeMap<String, Price>) -> Option<Price> {
    let bare = model.rsplit('/').next().unwrap_or(model);
    if let Some(p) = user.get(model).or_else(|| user.get(bare)) {
        return Some(*p);
    }
    let bare = bare.to_ascii_lowercase();
    BUILT_IN
        .iter()
        .filter(|(name, _, _)| {
            bare == *name
                || bare
                    .strip_prefix(name)
                    .is_some_and(|rest| rest.starts_with('-') || rest.starts_with('@'))
        })
        .max_by_key(|(name, _, _)| name.len())
        .map(|&(_, input, output)| Price {
            input_per_mtok: input,
            output_per_mtok: output,
            cached_input_per_mtok: None,
        })
}

pub fn cost(t: &Tokens, p: &Price) -> f64 {
    let cached = t.cached.min(t.input);
    let fresh = t.input - cached;
    (fresh as f64 * p.input_per_mtok
        + cached as f64 * p.cached_input_per_mtok.unwrap_or(p.input_per_mtok)
        + t.output as f64 * p.output_per_mtok)
        / 1_000_000.0
}

/// Everything spent in this review so far, by every agent (HTTP reviewers as they go, the
/// others when they finish).
static REVIEW_SPEND: Mutex<(u64, f64)> = Mutex::new((0, 0.0));

/// Adds a finished run's spend (the CLIs report theirs at the end).
pub fn record(tokens: Option<&Tokens>, cost_usd: Option<f64>) {
    if let Ok(mut s) = REVIEW_SPEND.lock() {
        s.0 += tokens.map(|t| t.input + t.output).unwrap_or(0);
        s.1 += cost_usd.unwrap_or(0.0);
    }
}

fn review_spend() -> (u64, f64) {
    REVIEW_SPEND.lock().map(|s| *s).unwrap_or((0, 0.0))
}

/// One run's spend against its limits.
#[derive(Debug, Default)]
pub struct Spend {
    pub tokens: Tokens,
    /// None while the model has no price.
    pub cost_usd: Option<f64>,
    /// The input of the last turn: the next one sends at least as much.
    last_input: u64,
}

impl Spend {
    /// Adds one turn's usage, here and to the review's total.
    pub fn add(&mut self, usage: &Tokens, price: Option<&Price>) {
        self.tokens.input += usage.input;
        self.tokens.output += usage.output;
        self.tokens.cached += usage.cached;
        self.last_input = usage.input;
        let turn_cost = price.map(|p| cost(usage, p));
        if let Some(c) = turn_cost {
            self.cost_usd = Some(self.cost_usd.unwrap_or(0.0) + c);
        }
        record(Some(usage), turn_cost);
    }

    /// The limit another tool turn would pass, if any, in words: the loop stops there and
    /// asks for the answer. A turn sends at least the last turn's input again, so the check
    /// is against what the next turn would bring the total to.
    pub fn reached(&self, b: &Budget) -> Option<String> {
        let next = self.tokens.input + self.tokens.output + self.last_input;
        let (review_tokens, review_cost) = review_spend();
        let per_turn_cost = match self.cost_usd {
            Some(c) if self.tokens.input > 0 => {
                c * self.last_input as f64 / self.tokens.input as f64
            }
            _ => 0.0,
        };
        if let Some(max) = b.max_tokens.filter(|&m| next >= m) {
            return Some(format!("the agent's token budget of {max}"));
        }
        if let Some(max) = b
            .max_cost_usd
            .filter(|&m| self.cost_usd.unwrap_or(0.0) + per_turn_cost >= m)
        {
            return Some(format!("the agent's budget of ${max:.2}"));
        }
        if let Some(max) = b
            .review_max_tokens
            .filter(|&m| review_tokens + self.last_input >= m)
        {
            return Some(format!("the review's token budget of {max}"));
        }
        if let Some(max) = b
            .review_max_cost_usd
            .filter(|&m| review_cost + per_turn_cost >= m)
        {
            return Some(format!("the review's budget of ${max:.2}"));
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prices_match_by_longest_prefix_and_the_user_table_wins() {
        let none = BTreeMap::new();
        assert_eq!(
            price_of("gpt-5-mini-2025-08-07", &none)
                .unwrap()
                .input_per_mtok,
            0.25
        );
        assert_eq!(price_of("gpt-5", &none).unwrap().output_per_mtok, 10.0);
        assert_eq!(
            price_of("anthropic/claude-sonnet-4-5", &none)
                .unwrap()
                .input_per_mtok,
            3.0
        );
        assert!(price_of("qwen2.5-coder:14b", &none).is_none());
        assert!(price_of("gpt-50", &none).is_none());
        let mut user = BTreeMap::new();
        user.insert(
            "qwen2.5-coder:14b".to_string(),
            Price {
                input_per_mtok: 0.0,
                output_per_mtok: 0.0,
                cached_input_per_mtok: None,
            },
        );
        assert_eq!(
            price_of("qwen2.5-coder:14b", &user).unwrap().input_per_mtok,
            0.0
        );
        let t = Tokens {
            input: 1_000_000,
            output: 100_000,
            cached: 0,
        };
        let c = cost(&t, &price_of("gpt-5", &none).unwrap());
        assert!((c - 2.25).abs() < 1e-9, "{c}");
    }

    #[test]
    fn the_loop_stops_before_the_next_turn_passes_the_budget() {
        let mut s = Spend::default();
        let b = Budget {
            max_tokens: Some(1000),
            ..Budget::default()
        };
        s.add(
            &Tokens {
                input: 300,
                output: 50,
                cached: 0,
            },
            None,
        );
        assert_eq!(s.reached(&b), None);
        s.add(
            &Tokens {
                input: 400,
                output: 50,
                cached: 0,
            },
            None,
        );
        assert_eq!(
            s.reached(&b).as_deref(),
            Some("the agent's token budget of 1000")
        );
    }
}
