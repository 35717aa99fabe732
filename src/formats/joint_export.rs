//! The joint display as files: a Word table (landscape, header row
//! repeated on every page, rows kept whole), a workbook sheet with an
//! autofilter, and tidy CSV (one number a row) for R.

use super::codebook_csv::neutralise;
use super::theme_export::{header, lines_cell, put_text, text_cell, xml_text};
use docx_rs::{
    Docx, PageMargin, PageOrientationType, Paragraph, Run, Shading, ShdType, Table, TableCell,
    TableLayoutType, TableRow, WidthType,
};
use rust_xlsxwriter::{Format, Workbook, XlsxError};

/// One attribute value's line.
#[derive(Debug, Clone, Default)]
pub struct Line {
    pub value: String,
    pub n: [Option<usize>; 2],
    pub mean: [Option<f64>; 2],
    pub change: Option<f64>,
    pub change_ci: Option<(f64, f64)>,
    pub p: Option<f64>,
    pub g: Option<f64>,
    /// Per theme: cases, N, cases %.
    pub themes: Vec<(i64, Option<i64>, Option<f64>)>,
    /// Per theme: the quote and who said it.
    pub quotes: Vec<Option<(String, String)>>,
}

#[derive(Debug, Clone)]
pub struct Joint {
    pub title: String,
    pub scale: String,
    pub attribute: String,
    pub waves: [String; 2],
    pub themes: Vec<String>,
    /// The method in a sentence or two.
    pub note: String,
    pub lines: Vec<Line>,
}

fn num(x: Option<f64>, places: usize) -> String {
    x.map_or_else(|| "–".into(), |v| format!("{v:.places$}"))
}

fn p_text(p: Option<f64>) -> String {
    match p {
        None => "–".into(),
        Some(p) if p < 0.001 => "< .001".into(),
        Some(p) => format!("{p:.3}").trim_start_matches('0').to_owned(),
    }
}

fn change_text(l: &Line) -> String {
    match (l.change, l.change_ci) {
        (Some(c), Some((lo, hi))) => format!("{c:+.2} [{lo:.2}, {hi:.2}]"),
        (Some(c), None) => format!("{c:+.2}"),
        _ => "–".into(),
    }
}

fn theme_text((cases, n, pct): &(i64, Option<i64>, Option<f64>)) -> String {
    match (n, pct) {
        (Some(n), Some(p)) => format!("{p:.0}% ({cases}/{n})"),
        _ => "–".into(),
    }
}

/// Tidy CSV: `attribute, value, measure, number`.
pub fn csv(t: &Joint) -> Result<String, csv::Error> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(["attribute", "value", "measure", "number"])?;
    for l in &t.lines {
        let value = neutralise(&l.value).into_owned();
        let mut put = |measure: String, x: Option<String>| -> Result<(), csv::Error> {
            w.write_record([
                t.attribute.as_str(),
                value.as_str(),
                measure.as_str(),
                x.as_deref().unwrap_or(""),
            ])
        };
        for (i, wave) in t.waves.iter().enumerate() {
            put(
                format!("{} n {wave}", t.scale),
                l.n[i].map(|n| n.to_string()),
            )?;
            put(
                format!("{} mean {wave}", t.scale),
                l.mean[i].map(|m| m.to_string()),
            )?;
        }
        put(
            format!("{} change", t.scale),
            l.change.map(|c| c.to_string()),
        )?;
        put(
            format!("{} change ci low", t.scale),
            l.change_ci.map(|c| c.0.to_string()),
        )?;
        put(
            format!("{} change ci high", t.scale),
            l.change_ci.map(|c| c.1.to_string()),
        )?;
        put(format!("{} welch p", t.scale), l.p.map(|p| p.to_string()))?;
        put(format!("{} hedges g", t.scale), l.g.map(|g| g.to_string()))?;
        for (theme, cell) in t.themes.iter().zip(&l.themes) {
            let theme = neutralise(theme).into_owned();
            put(format!("{theme} cases"), Some(cell.0.to_string()))?;
            put(format!("{theme} N"), cell.1.map(|n| n.to_string()))?;
            put(format!("{theme} cases %"), cell.2.map(|p| p.to_string()))?;
        }
    }
    let bytes = w
        .into_inner()
        .map_err(|e| csv::Error::from(e.into_error()))?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

fn head(t: &Joint) -> Vec<String> {
    let mut h = vec![
        t.attribute.clone(),
        format!("{} {} mean (n)", t.scale, t.waves[0]),
        format!("{} {} mean (n)", t.scale, t.waves[1]),
        "Change [95% CI]".into(),
        "p (Welch)".into(),
        "Hedges' g".into(),
    ];
    h.extend(t.themes.iter().map(|th| format!("{th}: cases %")));
    h.push("Illustrative quotes".into());
    h
}

fn mean_n(l: &Line, i: usize) -> String {
    match (l.mean[i], l.n[i]) {
        (Some(m), Some(n)) => format!("{m:.2} ({n})"),
        _ => "–".into(),
    }
}

/// The joint display workbook: one sheet, a row per value.
pub fn xlsx(t: &Joint) -> Result<Workbook, XlsxError> {
    let mut book = Workbook::new();
    let wrap = Format::new().set_text_wrap();
    let sheet = book.add_worksheet().set_name("Joint display")?;
    let names = head(t);
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let mut widths = vec![16.0, 16.0, 16.0, 20.0, 10.0, 10.0];
    widths.extend(t.themes.iter().map(|_| 14.0));
    widths.push(70.0);
    header(sheet, &refs, &widths)?;
    for (r, l) in t.lines.iter().enumerate() {
        let row = r as u32 + 1;
        put_text(sheet, row, 0, &l.value, None)?;
        put_text(sheet, row, 1, &mean_n(l, 0), None)?;
        put_text(sheet, row, 2, &mean_n(l, 1), None)?;
        put_text(sheet, row, 3, &change_text(l), None)?;
        put_text(sheet, row, 4, &p_text(l.p), None)?;
        if let Some(g) = l.g {
            sheet.write_number(row, 5, (g * 100.0).round() / 100.0)?;
        }
        for (i, cell) in l.themes.iter().enumerate() {
            if let Some(p) = cell.2 {
                sheet.write_number(row, 6 + i as u16, p.round())?;
            }
        }
        let quotes: Vec<String> = t
            .themes
            .iter()
            .zip(&l.quotes)
            .filter_map(|(th, q)| {
                q.as_ref()
                    .map(|(text, who)| format!("{th}: “{text}” ({who})"))
            })
            .collect();
        put_text(
            sheet,
            row,
            6 + t.themes.len() as u16,
            &quotes.join("\n"),
            Some(&wrap),
        )?;
    }
    sheet.autofilter(0, 0, t.lines.len() as u32, names.len() as u16 - 1)?;
    sheet.set_landscape();
    sheet.set_print_fit_to_pages(1, 0);
    let about = book.add_worksheet().set_name("About")?;
    header(about, &["", ""], &[16.0, 100.0])?;
    put_text(about, 1, 0, "Table", None)?;
    put_text(about, 1, 1, &t.title, None)?;
    put_text(about, 2, 0, "Method", None)?;
    put_text(about, 2, 1, &t.note, Some(&wrap))?;
    Ok(book)
}

/// Column widths in twentieths of a point across a landscape A4 page:
/// narrow numbers, a wide quotes column taking what is left.
fn widths(themes: usize) -> Vec<usize> {
    const PAGE: usize = 16838 - 2 * 900;
    let mut w = vec![1500, 1250, 1250, 1900, 1100, 1000];
    w.extend(std::iter::repeat_n(1150, themes));
    let used: usize = w.iter().sum();
    w.push(PAGE.saturating_sub(used).max(3500));
    w
}

fn sized(cells: Vec<TableCell>, widths: &[usize]) -> Vec<TableCell> {
    cells
        .into_iter()
        .zip(widths)
        .map(|(c, w)| c.width(*w, WidthType::Dxa))
        .collect()
}

/// The joint display as a landscape Word table.
pub fn docx(t: &Joint) -> Result<Vec<u8>, String> {
    let widths = widths(t.themes.len());
    let fill = Shading::new().shd_type(ShdType::Clear).fill("E7F0F7");
    let head_row = TableRow::new(sized(
        head(t)
            .iter()
            .map(|h| text_cell(h, true).shading(fill.clone()))
            .collect(),
        &widths,
    ))
    .cant_split();
    let mut rows = vec![head_row];
    for l in &t.lines {
        let mut cells = vec![
            text_cell(&l.value, true),
            lines_cell(&[mean_n(l, 0)]),
            lines_cell(&[mean_n(l, 1)]),
            lines_cell(&[change_text(l)]),
            lines_cell(&[p_text(l.p)]),
            lines_cell(&[num(l.g, 2)]),
        ];
        cells.extend(l.themes.iter().map(|c| lines_cell(&[theme_text(c)])));
        let mut quotes = TableCell::new();
        let mut any = false;
        for (th, q) in t.themes.iter().zip(&l.quotes) {
            if let Some((text, who)) = q {
                any = true;
                quotes = quotes.add_paragraph(
                    Paragraph::new()
                        .add_run(
                            Run::new()
                                .add_text(xml_text(&format!("{th}: ")))
                                .bold()
                                .size(16),
                        )
                        .add_run(
                            Run::new()
                                .add_text(xml_text(&format!("“{text}”")))
                                .italic()
                                .size(16),
                        )
                        .add_run(Run::new().add_text(xml_text(&format!(" ({who})"))).size(16)),
                );
            }
        }
        if !any {
            quotes = quotes.add_paragraph(Paragraph::new());
        }
        cells.push(quotes);
        rows.push(TableRow::new(sized(cells, &widths)).cant_split());
    }
    let table = Table::new(rows)
        .set_grid(widths.clone())
        .layout(TableLayoutType::Fixed)
        .width(widths.iter().sum(), WidthType::Dxa);
    let doc = Docx::new()
        .page_size(16838, 11906)
        .page_orient(PageOrientationType::Landscape)
        .page_margin(PageMargin::new().top(900).bottom(900).left(900).right(900))
        .add_paragraph(
            Paragraph::new().add_run(Run::new().add_text(xml_text(&t.title)).bold().size(28)),
        )
        .add_paragraph(
            Paragraph::new().add_run(
                Run::new()
                    .add_text(xml_text(&t.note))
                    .size(16)
                    .color("555555"),
            ),
        )
        .add_table(table);
    let mut buf = std::io::Cursor::new(Vec::new());
    doc.build()
        .pack(&mut buf)
        .map_err(|e| format!("cannot write the Word file: {e}"))?;
    super::theme_export::repeat_header_rows(buf.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn joint() -> Joint {
        Joint {
            title: "Role clarity and themes by locality".into(),
            scale: "Role clarity".into(),
            attribute: "locality".into(),
            waves: ["2002".into(), "2004".into()],
            themes: vec!["=Access".into()],
            note: "Method.".into(),
            lines: vec![Line {
                value: "North".into(),
                n: [Some(36), Some(30)],
                mean: [Some(3.28), Some(3.66)],
                change: Some(0.375),
                change_ci: Some((0.09, 0.66)),
                p: Some(0.011),
                g: Some(0.63),
                themes: vec![(3, Some(4), Some(75.0))],
                quotes: vec![Some(("We waited.".into(), "C01, Carer, North".into()))],
            }],
        }
    }

    #[test]
    fn tidy_csv_has_one_number_a_row() {
        let text = csv(&joint()).unwrap();
        assert!(text.starts_with("attribute,value,measure,number\n"));
        assert!(text.contains("locality,North,Role clarity mean 2004,3.66\n"));
        assert!(
            text.contains("locality,North,'=Access cases %,75\n"),
            "{text}"
        );
    }

    #[test]
    fn the_word_table_repeats_its_header_and_keeps_rows_whole() {
        let bytes = docx(&joint()).unwrap();
        let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
        let mut xml = String::new();
        std::io::Read::read_to_string(&mut zip.by_name("word/document.xml").unwrap(), &mut xml)
            .unwrap();
        assert!(xml.contains("<w:tblHeader"), "header row repeats");
        assert!(xml.contains("<w:cantSplit"), "rows do not split");
        assert!(xml.contains("w:orient=\"landscape\""));
        assert!(xlsx(&joint()).is_ok());
    }
}
