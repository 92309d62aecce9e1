//! Go's `text/tabwriter` as `kubectl describe` uses it (`minwidth 0,
//! padding 2, padchar ' '`): a tab ends a cell, and a column is as wide as
//! its widest cell in the block of consecutive lines that have it, plus
//! two. Text after a line's last tab is not aligned.

/// Aligns `text` (lines of tab-terminated cells).
pub fn align(text: &str) -> String {
    let lines: Vec<Vec<&str>> = text.lines().map(|l| l.split('\t').collect()).collect();
    let mut out = String::with_capacity(text.len() * 2);
    let mut widths = Vec::new();
    format(&lines, &mut widths, 0, lines.len(), &mut out);
    out
}

const PADDING: usize = 2;

/// Go's `Writer.format`: lines `line0..line1` with the column widths
/// found so far, recursing into each block of the next column.
fn format(
    lines: &[Vec<&str>],
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
            width = width.max(lines[this][column].chars().count() + PADDING);
            this += 1;
        }
        widths.push(width);
        format(lines, widths, line0, this, out);
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
}
