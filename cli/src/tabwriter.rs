//! Go's `text/tabwriter` (`minwidth 0, padchar ' '`), the one column
//! aligner of the CLI: a tab ends a cell, and a column is as wide as its
//! widest cell (in characters, as Go counts runes) in the block of
//! consecutive lines that have it, plus the padding. Text after a line's
//! last tab is not aligned.
//!
//! `kubectl describe` pads by two ([`align`]); `kubectl get` and
//! `docker image ls` by three ([`table`]).

/// `kubectl describe`'s padding.
const DESCRIBE_PADDING: usize = 2;

/// The padding of `kubectl get` and `docker image ls` tables.
const TABLE_PADDING: usize = 3;

/// Aligns `text` (lines of tab-terminated cells) as `kubectl describe`
/// does.
pub fn align(text: &str) -> String {
    align_with(text, DESCRIBE_PADDING)
}

/// Aligns rows of cells as `kubectl get` and `docker image ls` print them:
/// every cell but a row's last padded to its column's widest cell plus
/// three; one line a row. Cells must not hold tabs or newlines.
pub fn table<R: AsRef<[String]>>(rows: &[R]) -> String {
    let text: String = rows
        .iter()
        .map(|row| row.as_ref().join("\t") + "\n")
        .collect();
    align_with(&text, TABLE_PADDING)
}

fn align_with(text: &str, padding: usize) -> String {
    let lines: Vec<Vec<&str>> = text.lines().map(|l| l.split('\t').collect()).collect();
    let mut out = String::with_capacity(text.len() * 2);
    let mut widths = Vec::new();
    format(&lines, padding, &mut widths, 0, lines.len(), &mut out);
    out
}

/// Go's `Writer.format`: lines `line0..line1` with the column widths
/// found so far, recursing into each block of the next column.
fn format(
    lines: &[Vec<&str>],
    padding: usize,
    widths: &mut Vec<usize>,
    mut line0: usize,
    line1: usize,
    out: &mut String,
) {
    let column = widths.len();
    let mut this = line0;
    while this < line1 {
        if column + 1 >= lines[this].len() {
            this += 1;
            continue;
        }
        write_lines(lines, widths, line0, this, out);
        line0 = this;
        let mut width = 0;
        while this < line1 && column + 1 < lines[this].len() {
            width = width.max(lines[this][column].chars().count() + padding);
            this += 1;
        }
        widths.push(width);
        format(lines, padding, widths, line0, this, out);
        widths.pop();
        line0 = this;
    }
    write_lines(lines, widths, line0, line1, out);
}

fn write_lines(lines: &[Vec<&str>], widths: &[usize], from: usize, to: usize, out: &mut String) {
    for cells in &lines[from..to] {
        let mut line = String::new();
        for (j, cell) in cells.iter().enumerate() {
            line.push_str(cell);
            if let Some(&w) = widths.get(j)
                && j + 1 < cells.len()
            {
                let pad = w.saturating_sub(cell.chars().count());
                line.extend(std::iter::repeat_n(' ', pad));
            }
        }
        out.push_str(&line);
        out.push('\n');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_align_per_block_of_consecutive_lines() {
        let text = "Name:\tweb\nNamespace:\tdefault\nIPs:\n  IP:\t10.0.0.2\nContainers:\nQoS Class:\tBestEffort\n";
        assert_eq!(
            align(text),
            "Name:       web\nNamespace:  default\nIPs:\n  IP:  10.0.0.2\nContainers:\nQoS Class:  BestEffort\n"
        );
    }

    #[test]
    fn nested_columns_and_empty_first_cells() {
        let text =
            "Labels:\ta=1\n\tb=2\nEvents:\n  Type\tReason\n  ----\t------\n  Normal\tStarted\n";
        assert_eq!(
            align(text),
            "Labels:  a=1\n         b=2\nEvents:\n  Type    Reason\n  ----    ------\n  Normal  Started\n"
        );
    }

    #[test]
    fn table_rows_pad_by_three_and_count_characters() {
        let rows = [
            ["NAME", "TAG", "AGE"],
            ["é", "ünï", "1s"],
            ["web", "", "2m"],
        ]
        .map(|r| r.map(String::from));
        assert_eq!(
            table(&rows),
            "NAME   TAG   AGE\né      ünï   1s\nweb          2m\n"
        );
    }
}
