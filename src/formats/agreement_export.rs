//! The agreement table as files: tidy CSV (one row per code and the pooled
//! row, every figure in its own column, for R) and a workbook whose first
//! sheet reads as the table a methods section cites, with a sheet stating
//! how it was made and, for more than two coders, κ for each pair.

use super::theme_export::{header, put_text};
use rust_xlsxwriter::{Format, Workbook, XlsxError};

/// One row of the table: a code's figures or the pooled ones.
#[derive(Debug, Clone)]
pub struct Row {
    /// The code's path, or "All codes (pooled)".
    pub label: String,
    pub units: u64,
    /// both, only A, only B, neither — two coders only.
    pub table: Option<[u64; 4]>,
    pub percent: Option<f64>,
    pub kappa: Option<f64>,
    pub kappa_ci: Option<(f64, f64)>,
    pub alpha: Option<f64>,
    pub alpha_ci: Option<(f64, f64)>,
    /// κ of each pair, in the order of [`Table::pairs`].
    pub pair_kappas: Vec<Option<f64>>,
}

/// The whole table with what it was made from.
#[derive(Debug, Clone)]
pub struct Table {
    pub project: String,
    /// `character`, `word` or `turn`.
    pub unit: String,
    pub coders: Vec<String>,
    /// "Ann – Ben" for each pair.
    pub pairs: Vec<String>,
    pub documents: usize,
    pub rollup: bool,
    pub bootstrap: usize,
    pub seed: u64,
    pub rows: Vec<Row>,
}

const CSV_HEAD: [&str; 16] = [
    "code",
    "unit",
    "coders",
    "units",
    "both",
    "only_a",
    "only_b",
    "neither",
    "percent_agreement",
    "kappa",
    "kappa_ci_low",
    "kappa_ci_high",
    "alpha",
    "alpha_ci_low",
    "alpha_ci_high",
    "bootstrap_resamples",
];

fn num(x: Option<f64>) -> String {
    x.map_or_else(String::new, |x| format!("{x}"))
}

fn count(x: Option<u64>) -> String {
    x.map_or_else(String::new, |x| x.to_string())
}

/// Tidy CSV: blank cells for undefined figures.
pub fn csv(t: &Table) -> Result<String, csv::Error> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut head: Vec<String> = CSV_HEAD.iter().map(|s| (*s).to_owned()).collect();
    head.extend(t.pairs.iter().map(|p| format!("kappa {p}")));
    w.write_record(&head)?;
    let coders = t.coders.join("; ");
    for r in &t.rows {
        let cell = |i: usize| count(r.table.map(|t| t[i]));
        let mut rec = vec![
            super::codebook_csv::neutralise(&r.label).into_owned(),
            t.unit.clone(),
            coders.clone(),
            r.units.to_string(),
            cell(0),
            cell(1),
            cell(2),
            cell(3),
            num(r.percent),
            num(r.kappa),
            num(r.kappa_ci.map(|c| c.0)),
            num(r.kappa_ci.map(|c| c.1)),
            num(r.alpha),
            num(r.alpha_ci.map(|c| c.0)),
            num(r.alpha_ci.map(|c| c.1)),
            t.bootstrap.to_string(),
        ];
        rec.extend(r.pair_kappas.iter().map(|k| num(*k)));
        w.write_record(&rec)?;
    }
    let bytes = w
        .into_inner()
        .map_err(|e| csv::Error::from(e.into_error()))?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// A figure as a methods section prints it: "0.62 [0.55, 0.70]".
pub fn with_ci(x: Option<f64>, ci: Option<(f64, f64)>) -> String {
    match (x, ci) {
        (None, _) => "–".into(),
        (Some(x), None) => format!("{x:.2}"),
        (Some(x), Some((lo, hi))) => format!("{x:.2} [{lo:.2}, {hi:.2}]"),
    }
}

/// What the table was made with, in sentences.
pub fn method(t: &Table) -> Vec<(String, String)> {
    let intervals = if t.bootstrap == 0 {
        "none".to_owned()
    } else {
        format!(
            "95% percentile bootstrap, {} resamples of documents (seed {})",
            t.bootstrap, t.seed
        )
    };
    vec![
        ("Project".into(), t.project.clone()),
        ("Coders".into(), t.coders.join(", ")),
        (
            "Unit".into(),
            format!("{} (each one decided: code applied or not)", t.unit),
        ),
        ("Documents".into(), t.documents.to_string()),
        (
            "Codes".into(),
            if t.rollup {
                "each with its sub-codes (rolled up)".into()
            } else {
                "each by itself (sub-codes apart)".into()
            },
        ),
        (
            "Statistics".into(),
            "percent agreement; Cohen's κ per pair of coders; Krippendorff's α (nominal) over \
             all coders; pooled = every (code, unit) decision together"
                .into(),
        ),
        ("Intervals".into(), intervals),
    ]
}

/// The workbook: "Agreement" (the table), "Method", and "Pairs" with more
/// than two coders.
pub fn xlsx(t: &Table) -> Result<Workbook, XlsxError> {
    let mut workbook = Workbook::new();
    let wrap = Format::new().set_text_wrap();
    let two = t.coders.len() == 2;
    let right = Format::new().set_align(rust_xlsxwriter::FormatAlign::Right);
    let sheet = workbook.add_worksheet().set_name("Agreement")?;
    let only: Vec<String> = t.coders.iter().map(|c| format!("Only {c}")).collect();
    let mut names = vec!["Code", "Units"];
    if two {
        names.extend(["Both", only[0].as_str(), only[1].as_str(), "Neither"]);
    }
    names.extend(["Agreement %", "κ [95% CI]", "α [95% CI]"]);
    let mut widths = vec![40.0, 10.0];
    if two {
        widths.extend([9.0; 4]);
    }
    widths.extend([12.0, 20.0, 20.0]);
    header(sheet, &names, &widths)?;
    for (i, r) in t.rows.iter().enumerate() {
        let row = i as u32 + 1;
        put_text(sheet, row, 0, &r.label, Some(&wrap))?;
        sheet.write_number(row, 1, r.units as f64)?;
        let mut col = 2u16;
        if let (true, Some(table)) = (two, r.table) {
            for v in table {
                sheet.write_number(row, col, v as f64)?;
                col += 1;
            }
        } else if two {
            col += 4;
        }
        if let Some(p) = r.percent {
            sheet.write_number(row, col, (p * 10.0).round() / 10.0)?;
        }
        put_text(
            sheet,
            row,
            col + 1,
            &with_ci(r.kappa, r.kappa_ci),
            Some(&right),
        )?;
        put_text(
            sheet,
            row,
            col + 2,
            &with_ci(r.alpha, r.alpha_ci),
            Some(&right),
        )?;
    }
    sheet.autofilter(0, 0, t.rows.len() as u32, names.len() as u16 - 1)?;
    // Printed: landscape, as wide as one page.
    sheet.set_landscape();
    sheet.set_print_fit_to_pages(1, 0);
    let sheet = workbook.add_worksheet().set_name("Method")?;
    header(sheet, &["", ""], &[16.0, 90.0])?;
    for (i, (k, v)) in method(t).iter().enumerate() {
        put_text(sheet, i as u32 + 1, 0, k, None)?;
        put_text(sheet, i as u32 + 1, 1, v, Some(&wrap))?;
    }
    if !two {
        let sheet = workbook.add_worksheet().set_name("Pairs")?;
        let mut names = vec!["Code"];
        names.extend(t.pairs.iter().map(String::as_str));
        let mut widths = vec![40.0];
        widths.extend(t.pairs.iter().map(|_| 16.0));
        header(sheet, &names, &widths)?;
        for (i, r) in t.rows.iter().enumerate() {
            put_text(sheet, i as u32 + 1, 0, &r.label, Some(&wrap))?;
            for (j, k) in r.pair_kappas.iter().enumerate() {
                if let Some(k) = k {
                    sheet.write_number(i as u32 + 1, j as u16 + 1, *k)?;
                }
            }
        }
    }
    Ok(workbook)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> Table {
        Table {
            project: "Study".into(),
            unit: "word".into(),
            coders: vec!["Ann".into(), "Ben".into()],
            pairs: vec!["Ann – Ben".into()],
            documents: 3,
            rollup: false,
            bootstrap: 1000,
            seed: 7,
            rows: vec![Row {
                label: "=Trust".into(),
                units: 100,
                table: Some([20, 5, 10, 65]),
                percent: Some(85.0),
                kappa: Some(0.6),
                kappa_ci: Some((0.4, 0.75)),
                alpha: None,
                alpha_ci: None,
                pair_kappas: vec![Some(0.6)],
            }],
        }
    }

    #[test]
    fn csv_has_one_column_per_figure_and_neutralises_formulas() {
        let text = csv(&table()).unwrap();
        let mut lines = text.lines();
        let head = lines.next().unwrap();
        assert!(head.starts_with("code,unit,coders,units,both,only_a,only_b,neither"));
        assert!(head.ends_with("kappa Ann – Ben"));
        let row = lines.next().unwrap();
        assert!(
            row.starts_with("'=Trust,word,Ann; Ben,100,20,5,10,65,85,0.6,0.4,0.75,,,,1000"),
            "{row}"
        );
    }

    #[test]
    fn figures_print_with_their_intervals() {
        assert_eq!(with_ci(Some(0.625), Some((0.5, 0.7))), "0.62 [0.50, 0.70]");
        assert_eq!(with_ci(None, None), "–");
        assert!(xlsx(&table()).is_ok());
    }
}
