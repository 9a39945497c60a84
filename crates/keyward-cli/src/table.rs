//! The `keys list` tables: a default one that fits a terminal, and `--wide` with every
//! column.

use keyward::clock::Timestamp;
use keyward::store::KeyState;
use keyward::{ExpiredReason, KeySummary};

/// The width the default table keeps to, in characters.
pub(crate) const WIDTH: usize = 100;

/// The narrowest the name column gets, however wide the others are.
const MIN_NAME: usize = 12;

/// Between two columns.
pub(crate) const GAP: &str = "  ";

/// The default table: id, name (cut with `…` to what the row leaves), masked key,
/// state, creation date and expiry. Expiry rather than last use: it is when the key
/// stops working, which is what a reader acts on; last use is in `--wide` and
/// `keys show`, and is written back in batches anyway.
pub(crate) fn narrow(keys: &[KeySummary]) -> Vec<String> {
    let rows: Vec<[String; 6]> = keys
        .iter()
        .map(|k| {
            [
                k.id.to_string(),
                k.name.clone(),
                masked(k),
                state(k),
                date(k.created_at),
                k.expires_at.map_or_else(|| "never".to_owned(), minute),
            ]
        })
        .collect();
    let header = ["ID", "NAME", "KEY", "STATE", "CREATED", "EXPIRES (UTC)"].map(str::to_owned);
    let mut widths = column_widths(&header, &rows);
    const NAME: usize = 1;
    let others: usize = widths
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != NAME)
        .map(|(_, w)| w + GAP.len())
        .sum();
    widths[NAME] = widths[NAME].min(WIDTH.saturating_sub(others).max(MIN_NAME));
    let mut lines = vec![line(&header, &widths)];
    for mut row in rows {
        row[NAME] = cut(&row[NAME], widths[NAME]);
        lines.push(line(&row, &widths));
    }
    lines
}

/// `--wide`: every column, each as wide as its widest cell.
pub(crate) fn wide(keys: &[KeySummary]) -> Vec<String> {
    let rows: Vec<[String; 11]> = keys
        .iter()
        .map(|k| {
            [
                k.id.to_string(),
                k.name.clone(),
                masked(k),
                k.owner.clone(),
                k.tenant
                    .as_ref()
                    .map_or_else(|| "-".to_owned(), ToString::to_string),
                k.capabilities.join(","),
                k.created_at.to_string(),
                time(k.last_used_at),
                time(k.expires_at),
                time(k.revoked_at),
                state(k),
            ]
        })
        .collect();
    let header = [
        "ID",
        "NAME",
        "KEY",
        "OWNER",
        "TENANT",
        "CAPABILITIES",
        "CREATED",
        "LAST USED",
        "EXPIRES",
        "REVOKED",
        "STATE",
    ]
    .map(str::to_owned);
    let widths = column_widths(&header, &rows);
    let mut lines = vec![line(&header, &widths)];
    lines.extend(rows.iter().map(|row| line(row, &widths)));
    lines
}

/// The key's state, and why when it expired by going unused: `expired (unused)`; a
/// honeytoken's is marked: `active (honeytoken)`.
pub(crate) fn state(k: &KeySummary) -> String {
    let state = match (k.state, k.expired_reason) {
        (KeyState::Expired, Some(ExpiredReason::Unused)) => "expired (unused)".to_owned(),
        (state, _) => state.to_string(),
    };
    if k.honeytoken {
        format!("{state} (honeytoken)")
    } else {
        state
    }
}

/// `sk_live_AbCd…x9Qz`: never the whole key.
fn masked(k: &KeySummary) -> String {
    format!("{}…{}", k.key_prefix, k.last4)
}

/// A full time, or `-` for none.
pub(crate) fn time(t: Option<Timestamp>) -> String {
    t.map_or_else(|| "-".to_owned(), |t| t.to_string())
}

/// `2025-01-31` of a time printed `2025-01-31T12:00:00Z`.
fn date(t: Timestamp) -> String {
    t.to_string().chars().take(10).collect()
}

/// `2025-01-31 12:00` of a time printed `2025-01-31T12:00:00Z`.
fn minute(t: Timestamp) -> String {
    t.to_string()
        .replacen('T', " ", 1)
        .chars()
        .take(16)
        .collect()
}

/// `s` in at most `width` characters, the last of them `…` when it was cut.
pub(crate) fn cut(s: &str, width: usize) -> String {
    if s.chars().count() <= width {
        return s.to_owned();
    }
    let mut out: String = s.chars().take(width.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// Each column's widest cell, the header's included, in characters.
pub(crate) fn column_widths<const N: usize>(
    header: &[String; N],
    rows: &[[String; N]],
) -> [usize; N] {
    let mut widths = header.each_ref().map(|h| h.chars().count());
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    widths
}

/// One row, each cell padded to its column's width, without trailing blanks.
pub(crate) fn line<const N: usize>(cells: &[String; N], widths: &[usize; N]) -> String {
    let padded: Vec<String> = cells
        .iter()
        .zip(widths)
        .map(|(cell, &width)| format!("{cell:<width$}"))
        .collect();
    padded.join(GAP).trim_end().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cut_keeps_short_text_and_marks_a_cut() {
        assert_eq!(cut("CI", 5), "CI");
        assert_eq!(cut("abcdef", 6), "abcdef");
        assert_eq!(cut("abcdefg", 6), "abcde…");
        assert_eq!(cut("ééééééé", 3), "éé…");
    }

    #[test]
    fn times_are_cut_to_the_day_and_minute() {
        let t = Timestamp::from_unix_seconds(1_738_324_800); // 2025-01-31T12:00:00Z
        assert_eq!(date(t), "2025-01-31");
        assert_eq!(minute(t), "2025-01-31 12:00");
    }
}
