//! Durations on the command line (`2160h`, `90d`, `30m`, `3600s`, `3600`), as whole seconds.

/// Parses a duration into seconds; clap calls this for `--max-ttl`.
pub fn parse_seconds(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let split = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: u64 = number.parse().map_err(|_| format!("{text:?} is not a duration like 2160h, 90d or 3600s"))?;
    let factor = match unit {
        "" | "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err(format!("{text:?}: unit must be s, m, h or d")),
    };
    number.checked_mul(factor).filter(|seconds| *seconds > 0).ok_or_else(|| format!("{text:?} is out of range"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_seconds("2160h"), Ok(7_776_000));
        assert_eq!(parse_seconds("90d"), Ok(7_776_000));
        assert_eq!(parse_seconds("3600"), Ok(3600));
        assert!(parse_seconds("0h").is_err() && parse_seconds("1w").is_err() && parse_seconds("h").is_err());
    }
}
