//! A code report: one theme (or a branch) as co-authors read it — the
//! code's definition, then every excerpt grouped by stakeholder group (or
//! an attribute), each with who said it, where, and who coded it. As a Word
//! document; the print view draws the same [`Report`].

use super::markdown::{self, Block, BlockKind};
use super::theme_export::xml_text;
use docx_rs::{BreakType, Docx, PageMargin, Paragraph, Run, RunFonts};

#[derive(Debug, Clone)]
pub struct Excerpt {
    pub text: String,
    /// "C07 (Carer, North)".
    pub speaker: String,
    pub document: String,
    /// "turn 12, 00:03:12".
    pub location: String,
    pub code: String,
    pub coder: String,
    pub starred: bool,
}

#[derive(Debug, Clone)]
pub struct Section {
    pub heading: String,
    pub excerpts: Vec<Excerpt>,
}

#[derive(Debug, Clone)]
pub struct Report {
    pub title: String,
    /// Definition, inclusion, exclusion, example: (label, text), non-empty.
    pub definition: Vec<(String, String)>,
    /// What was included: sub-codes, filters, the grouping.
    pub note: String,
    pub sections: Vec<Section>,
}

impl Report {
    pub fn excerpts(&self) -> usize {
        self.sections.iter().map(|s| s.excerpts.len()).sum()
    }
}

fn run(text: &str) -> Run {
    Run::new().add_text(xml_text(text))
}

/// The report as a Word document (A4 portrait).
pub fn docx(r: &Report) -> Result<Vec<u8>, String> {
    let mut doc = Docx::new()
        .page_margin(
            PageMargin::new()
                .top(1100)
                .bottom(1100)
                .left(1200)
                .right(1200),
        )
        .add_paragraph(Paragraph::new().add_run(run(&r.title).bold().size(32)));
    for (label, text) in &r.definition {
        doc = doc.add_paragraph(
            Paragraph::new()
                .add_run(run(&format!("{label}: ")).bold().size(20))
                .add_run(run(text).size(20)),
        );
    }
    doc = doc.add_paragraph(Paragraph::new().add_run(run(&r.note).size(16).color("555555")));
    for s in &r.sections {
        doc = doc.add_paragraph(
            Paragraph::new().add_run(
                run(&format!("{} ({})", s.heading, s.excerpts.len()))
                    .bold()
                    .size(26),
            ),
        );
        for e in &s.excerpts {
            let star = if e.starred { "★ " } else { "" };
            doc = doc
                .add_paragraph(
                    Paragraph::new()
                        .indent(Some(360), None, None, None)
                        .add_run(run(&format!("{star}“{}”", e.text)).italic().size(20)),
                )
                .add_paragraph(
                    Paragraph::new()
                        .indent(Some(360), None, None, None)
                        .add_run(
                            run(&format!(
                                "{} · {} · {} · {} · coded by {}",
                                e.speaker, e.document, e.location, e.code, e.coder
                            ))
                            .size(16)
                            .color("555555"),
                        ),
                );
        }
    }
    let mut buf = std::io::Cursor::new(Vec::new());
    doc.build()
        .pack(&mut buf)
        .map_err(|e| format!("cannot write the Word file: {e}"))?;
    Ok(buf.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_report_holds_every_excerpt_under_its_heading() {
        let r = Report {
            title: "Code report: Access > Waiting".into(),
            definition: vec![("Definition".into(), "Time before help.".into())],
            note: "Sub-codes included.".into(),
            sections: vec![Section {
                heading: "Carer".into(),
                excerpts: vec![Excerpt {
                    text: "We waited <weeks>.".into(),
                    speaker: "C01 (Carer)".into(),
                    document: "Interview C01".into(),
                    location: "turn 4".into(),
                    code: "Waiting".into(),
                    coder: "Ann".into(),
                    starred: true,
                }],
            }],
        };
        assert_eq!(r.excerpts(), 1);
        let bytes = docx(&r).unwrap();
        let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
        let mut xml = String::new();
        std::io::Read::read_to_string(&mut zip.by_name("word/document.xml").unwrap(), &mut xml)
            .unwrap();
        assert!(xml.contains("Carer (1)"));
        assert!(xml.contains("We waited &lt;weeks&gt;."));
        assert!(xml.contains("turn 4"));
    }
}

/// One memo as the memo file prints it.
#[derive(Debug, Clone)]
pub struct MemoOut {
    /// "Project", "Document", "Code" or "Coding".
    pub kind: String,
    pub about: String,
    pub text: String,
    /// "Ann, 2026-12-06".
    pub byline: String,
    /// For a coding's memo: the coded passage.
    pub excerpt: Option<String>,
}

/// One paragraph of a memo, styled as its Markdown says: headings bold,
/// list items indented with their bullet or number, quotes indented in
/// italics, code in a fixed-width font. Text is only ever text.
fn memo_paragraph(block: &Block) -> Paragraph {
    let (size, indent, prefix) = match block.kind {
        BlockKind::Heading(1) => (26, 0, String::new()),
        BlockKind::Heading(_) => (22, 0, String::new()),
        BlockKind::Item { depth, number } => (
            20,
            360 * depth as i32,
            match number {
                Some(n) => format!("{n}. "),
                None => "• ".into(),
            },
        ),
        BlockKind::Quote => (20, 360, String::new()),
        BlockKind::Code => (18, 360, String::new()),
        BlockKind::Paragraph => (20, 0, String::new()),
    };
    let heading = matches!(block.kind, BlockKind::Heading(_));
    let mut p = Paragraph::new();
    if indent > 0 {
        p = p.indent(Some(indent), None, None, None);
    }
    if !prefix.is_empty() {
        p = p.add_run(run(&prefix).size(size));
    }
    for span in &block.spans {
        for (i, line) in span.text.split('\n').enumerate() {
            let mut r = if i > 0 {
                Run::new().add_break(BreakType::TextWrapping)
            } else {
                Run::new()
            };
            if line.is_empty() {
                if i > 0 {
                    p = p.add_run(r);
                }
                continue;
            }
            r = r.add_text(xml_text(line)).size(size);
            if span.bold || heading {
                r = r.bold();
            }
            if span.italic {
                r = r.italic();
            }
            if span.strike {
                r = r.strike();
            }
            if span.code {
                r = r.fonts(RunFonts::new().ascii("Consolas").hi_ansi("Consolas"));
            }
            p = p.add_run(r);
        }
    }
    p
}

/// The project's memos as a Word document, under a heading per kind. Memo
/// text is Markdown, written as Word styles (bold, lists, quotes); raw HTML
/// in a memo stays text.
pub fn memos_docx(title: &str, memos: &[MemoOut]) -> Result<Vec<u8>, String> {
    let mut doc = Docx::new()
        .page_margin(
            PageMargin::new()
                .top(1100)
                .bottom(1100)
                .left(1200)
                .right(1200),
        )
        .add_paragraph(Paragraph::new().add_run(run(title).bold().size(32)));
    let mut last_kind = "";
    for m in memos {
        if m.kind != last_kind {
            doc = doc.add_paragraph(Paragraph::new().add_run(run(&m.kind).bold().size(26)));
            last_kind = &m.kind;
        }
        doc = doc.add_paragraph(
            Paragraph::new()
                .add_run(run(&m.about).bold().size(20))
                .add_run(run(&format!("  {}", m.byline)).size(16).color("555555")),
        );
        if let Some(e) = &m.excerpt {
            doc = doc.add_paragraph(
                Paragraph::new()
                    .indent(Some(360), None, None, None)
                    .add_run(run(&format!("“{e}”")).italic().size(18)),
            );
        }
        for block in markdown::to_blocks(&m.text) {
            doc = doc.add_paragraph(memo_paragraph(&block));
        }
    }
    let mut buf = std::io::Cursor::new(Vec::new());
    doc.build()
        .pack(&mut buf)
        .map_err(|e| format!("cannot write the Word file: {e}"))?;
    Ok(buf.into_inner())
}
