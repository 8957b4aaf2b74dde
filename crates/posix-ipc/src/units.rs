//! Sizes as people write and read them: `64K` and `1MiB` on the command line,
//! `4K` and `1.5M` in tables.
//!
//! # Input ([`parse_size`])
//! A whole number of bytes, optionally followed by a unit, with no space:
//! `K`, `M`, `G`, `T`, `P`, `E` (or `KiB`, `MiB`, ...) multiply by 1024,
//! 1024², ...; `KB`, `MB`, `GB`, ... multiply by 1000, 1000², ...; `B` alone
//! means bytes. Letters may be upper or lower case. No fractions (`1.5M` is
//! refused: write `1536K`), no signs, and at most `i64::MAX` bytes (what
//! `ftruncate` and `off_t` take). These are the rules of util-linux's `ipcmk`,
//! less its fractions.
//!
//! # Output ([`human_bytes`])
//! Below 1024 the number and `B` (`512B`); above, one letter for the power of
//! 1024 with at most one decimal, dropped when it is 0 (`4K`, `1.5M`, `2G`),
//! as `lsipc`, `ls -h` and `df -h` write them. `--bytes` shows the exact number.

/// The power-of-1024 letters, in order.
const LETTERS: [char; 6] = ['K', 'M', 'G', 'T', 'P', 'E'];

/// A size as written on the command line (see the module documentation).
pub fn parse_size(text: &str) -> Result<u64, String> {
    let bad = || {
        format!(
            "'{text}' is not a size: a whole number of bytes, optionally with a unit \
             such as 64K, 1M, 4KiB, 1GB (K = 1024, KB = 1000), at most {}",
            i64::MAX
        )
    };
    let digits = text.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 {
        return Err(bad());
    }
    let number: u64 = text[..digits].parse().map_err(|_| bad())?;
    let unit = text[digits..].to_ascii_uppercase();
    let multiplier: u64 = match unit.as_str() {
        "" | "B" => 1,
        _ => {
            let mut chars = unit.chars();
            let letter = chars.next().ok_or_else(bad)?;
            let power = LETTERS.iter().position(|&l| l == letter).ok_or_else(bad)? as u32 + 1;
            let base: u64 = match chars.as_str() {
                "" | "IB" => 1024,
                "B" => 1000,
                _ => return Err(bad()),
            };
            base.pow(power)
        }
    };
    number
        .checked_mul(multiplier)
        .filter(|&n| n <= i64::MAX as u64)
        .ok_or_else(bad)
}

/// A size for a table: `512B`, `4K`, `1.5M` (see the module documentation).
pub fn human_bytes(n: u64) -> String {
    if n < 1024 {
        return format!("{n}B");
    }
    let mut power = 0;
    let mut whole = n;
    while whole >= 1024 * 1024 && power + 1 < LETTERS.len() {
        whole /= 1024;
        power += 1;
    }
    // `whole` is now the size in units of 1024^power, at least 1024: one more step.
    let tenths = (whole * 10 + 512) / 1024;
    let (int, frac) = (tenths / 10, tenths % 10);
    if frac == 0 {
        format!("{int}{}", LETTERS[power])
    } else {
        format!("{int}.{frac}{}", LETTERS[power])
    }
}

/// `4K` (or the exact number, with `exact`), for a count of bytes.
pub fn bytes_cell(n: u64, exact: bool) -> String {
    if exact {
        n.to_string()
    } else {
        human_bytes(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_with_units() {
        assert_eq!(parse_size("0"), Ok(0));
        assert_eq!(parse_size("4096"), Ok(4096));
        assert_eq!(parse_size("64K"), Ok(65_536));
        assert_eq!(parse_size("64k"), Ok(65_536));
        assert_eq!(parse_size("4KiB"), Ok(4096));
        assert_eq!(parse_size("1M"), Ok(1 << 20));
        assert_eq!(parse_size("1MB"), Ok(1_000_000));
        assert_eq!(parse_size("2G"), Ok(2 << 30));
        assert_eq!(parse_size("10B"), Ok(10));
        assert_eq!(parse_size("7E"), Ok(7 << 60));
        for bad in [
            "",
            "K",
            "1.5M",
            "-1",
            "1 M",
            "1X",
            "1KIBB",
            "8E",
            "99999999999999999999",
        ] {
            assert!(parse_size(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn human_sizes() {
        assert_eq!(human_bytes(0), "0B");
        assert_eq!(human_bytes(1023), "1023B");
        assert_eq!(human_bytes(1024), "1K");
        assert_eq!(human_bytes(1536), "1.5K");
        assert_eq!(human_bytes(4096), "4K");
        assert_eq!(human_bytes(1 << 20), "1M");
        assert_eq!(human_bytes(3 << 29), "1.5G");
        assert_eq!(human_bytes(u64::MAX), "16E");
    }
}
