//! Small helpers shared by several modules: durations in human form and from config text.

use std::time::Duration;

/// "3m 38s", "11 min 25 s"-style short form used in tables: `7m 08s`, `42s`, `1h 02m`.
pub fn human_duration(d: Duration) -> String {
    let secs = d.as_secs();
    if secs < 60 {
        if d.as_millis() < 10_000 && secs < 10 {
            return format!("{:.1}s", d.as_secs_f64());
        }
        return format!("{secs}s");
    }
    if secs < 3600 {
        return format!("{}m {:02}s", secs / 60, secs % 60);
    }
    format!("{}h {:02}m", secs / 3600, (secs % 3600) / 60)
}

/// The longest duration deep-review accepts. A review agent that needs more than a day is a
/// typo or a stuck process, and timers and `Instant` arithmetic overflow (a panic) long before
/// `u64::MAX` seconds; a bound turns both into a clear error.
pub const MAX_DURATION: Duration = Duration::from_secs(24 * 60 * 60);

/// Parses "90" (seconds), "90s", "20m", "1h", "1h30m", "500ms" (any `humantime` form), at most
/// [`MAX_DURATION`] and more than zero. The error says what was wrong, for the flag's or the
/// config key's message.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    let d = match t.parse::<u64>() {
        Ok(secs) => Duration::from_secs(secs),
        Err(_) => humantime::parse_duration(t).map_err(|e| {
            format!("`{t}` is not a duration ({e}); write seconds (90) or text (90s, 20m, 1h)")
        })?,
    };
    if d.is_zero() {
        return Err(format!(
            "`{t}` is zero; give the agents some time, e.g. 90s or 20m"
        ));
    }
    if d > MAX_DURATION {
        return Err(format!(
            "`{t}` is longer than the limit of {}; write at most 24h",
            humantime::format_duration(MAX_DURATION)
        ));
    }
    Ok(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_round_trip() {
        assert_eq!(parse_duration("90"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("5m"), Ok(Duration::from_secs(300)));
        assert_eq!(parse_duration("1h"), Ok(Duration::from_secs(3600)));
        assert_eq!(parse_duration("20m"), Ok(Duration::from_secs(1200)));
        assert_eq!(parse_duration("1h30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("24h"), Ok(MAX_DURATION));
        assert!(parse_duration("soon").is_err());
        assert!(parse_duration("5 parsecs").is_err());
        assert!(parse_duration("0").is_err());
        let huge = parse_duration("99999999999999999999h").unwrap_err();
        assert!(huge.contains("not a duration"), "{huge}");
        let long = parse_duration("25h").unwrap_err();
        assert!(long.contains("limit"), "{long}");
        assert!(parse_duration("18446744073709551615").is_err());
        assert_eq!(human_duration(Duration::from_secs(428)), "7m 08s");
        assert_eq!(human_duration(Duration::from_millis(2500)), "2.5s");
        assert_eq!(human_duration(Duration::from_secs(42)), "42s");
    }
}
