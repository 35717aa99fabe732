//! Word `.docx` files read into plain text: each paragraph (or table row) of
//! the main document part becomes one line, as the final, accepted text of
//! any tracked changes. Zip and XML are read under caps so hostile files fail.

use std::fmt::Display;
use std::io::{Cursor, Read};

use quick_xml::Reader;
use quick_xml::XmlVersion;
use quick_xml::events::{BytesRef, Event};
use zip::ZipArchive;

use super::{FormatError, ZipBudget, ZipLimits};
use crate::domain::document::{MAX_CHARS, thousands};

const CONTENT_TYPES: &str = "[Content_Types].xml";
const DEFAULT_MAIN_PART: &str = "word/document.xml";

/// Content types that mark the main part of a Word document, template, or
/// their macro-enabled variants; all hold the body text the same way.
const MAIN_CONTENT_TYPES: [&str; 4] = [
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.template.main+xml",
    "application/vnd.ms-word.document.macroEnabled.main+xml",
    "application/vnd.ms-word.template.macroEnabledTemplate.main+xml",
];

/// Elements whose whole content is left out: deleted and moved-away text,
/// field codes, formatting properties, and the fallback copy of alternate
/// content (its text already came from the chosen branch).
const SKIPPED: &[&str] = &[
    "del",
    "moveFrom",
    "delText",
    "delInstrText",
    "instrText",
    "pPr",
    "rPr",
    "tblPr",
    "tblGrid",
    "trPr",
    "tcPr",
    "sectPr",
    "sdtPr",
    "sdtEndPr",
    "sym",
    "softHyphen",
    "Fallback",
];

/// Read the text of a Word .docx file: paragraphs in reading order, one line each.
pub fn read(bytes: &[u8], limits: &ZipLimits) -> Result<String, FormatError> {
    let mut archive = ZipArchive::new(Cursor::new(bytes)).map_err(|_| not_a_docx())?;
    if archive.len() > limits.max_entries {
        return Err(FormatError::new(format!(
            "the .docx file holds {} entries, more than the {} allowed; refusing to read it",
            archive.len(),
            limits.max_entries
        )));
    }
    let mut budget = ZipBudget::new(limits, "the document", "the .docx file");

    // Without [Content_Types].xml the package is damaged, but Word's own
    // layout is still worth trying before giving up.
    let named_part = match find_entry(&archive, CONTENT_TYPES) {
        Some(index) => {
            let xml = read_xml_entry(&mut archive, index, CONTENT_TYPES, &mut budget)?;
            main_part_name(&xml)?
        }
        None => None,
    };
    let (index, part) = named_part
        .and_then(|name| find_entry(&archive, &name).map(|index| (index, name)))
        .or_else(|| {
            find_entry(&archive, DEFAULT_MAIN_PART)
                .map(|index| (index, DEFAULT_MAIN_PART.to_owned()))
        })
        .ok_or_else(|| {
            FormatError::new(
                "the .docx file has no main document part (word/document.xml); \
                 it may be damaged, or not a Word document",
            )
        })?;
    let xml = read_xml_entry(&mut archive, index, &part, &mut budget)?;
    extract_text(&xml, &part)
}

fn not_a_docx() -> FormatError {
    FormatError::new(
        "not a valid .docx (Word 2007 or later) document; an old .doc file must be \
         opened in Word and saved as .docx first, and a password-protected document \
         must have its password removed",
    )
}

/// Part names compare case-insensitively (OPC), so the zip item may differ
/// in case from the name `[Content_Types].xml` gives.
fn find_entry<R: Read + std::io::Seek>(archive: &ZipArchive<R>, name: &str) -> Option<usize> {
    archive.index_for_name(name).or_else(|| {
        (0..archive.len()).find(|&i| {
            archive
                .name_for_index(i)
                .is_some_and(|n| n.is_ok_and(|n| n.eq_ignore_ascii_case(name)))
        })
    })
}

fn read_xml_entry<R: Read + std::io::Seek>(
    archive: &mut ZipArchive<R>,
    index: usize,
    part: &str,
    budget: &mut ZipBudget,
) -> Result<String, FormatError> {
    let bytes = budget.read(archive, index, part)?;
    decode(bytes).ok_or_else(|| {
        FormatError::new(format!(
            "the .docx file is damaged: {part} is not UTF-8 or UTF-16 text"
        ))
    })
}

/// Word writes UTF-8; UTF-16 with a byte order mark is also valid XML and
/// quick-xml (built without its encoding feature) only reads UTF-8.
fn decode(mut bytes: Vec<u8>) -> Option<String> {
    let utf16 = |bytes: &[u8], from: fn([u8; 2]) -> u16| {
        let units = bytes
            .chunks(2)
            .map(|pair| <[u8; 2]>::try_from(pair).ok().map(from));
        let units: Option<Vec<u16>> = units.collect();
        char::decode_utf16(units?)
            .collect::<Result<String, _>>()
            .ok()
    };
    match bytes.as_slice() {
        [0xFF, 0xFE, rest @ ..] => utf16(rest, u16::from_le_bytes),
        [0xFE, 0xFF, rest @ ..] => utf16(rest, u16::from_be_bytes),
        _ => {
            if bytes.starts_with(&[0xEF, 0xBB, 0xBF]) {
                bytes.drain(..3);
            }
            String::from_utf8(bytes).ok()
        }
    }
}

fn xml_reader(xml: &str) -> Reader<&[u8]> {
    let mut reader = Reader::from_str(xml);
    // An empty `<w:p/>` is still a paragraph (a blank line), so it must
    // arrive as a start and an end like any other.
    reader.config_mut().expand_empty_elements = true;
    reader.config_mut().check_end_names = true;
    reader
}

fn malformed(part: &str, reader: &Reader<&[u8]>, e: impl Display) -> FormatError {
    FormatError::new(format!(
        "the .docx file is damaged: {part} is not well-formed XML ({e}, near byte {})",
        reader.error_position()
    ))
}

/// Checks quick-xml leaves to the caller: one root element, and every
/// element closed by the end of the part.
#[derive(Default)]
struct Nesting {
    depth: usize,
    roots: usize,
}

impl Nesting {
    fn start(&mut self) -> Result<(), &'static str> {
        if self.depth == 0 {
            self.roots += 1;
            if self.roots > 1 {
                return Err("more than one root element");
            }
        }
        self.depth += 1;
        Ok(())
    }

    fn end(&mut self) {
        self.depth = self.depth.saturating_sub(1);
    }

    fn finish(&self) -> Result<(), &'static str> {
        match (self.roots, self.depth) {
            (0, _) => Err("no root element"),
            (_, 0) => Ok(()),
            _ => Err("it ends before all its elements are closed"),
        }
    }
}

fn dtd_refused() -> FormatError {
    FormatError::new("the document contains a DTD, which is not allowed")
}

/// Only the five predefined entities and character references exist
/// without a DTD, and DTDs are refused, so anything else is an error.
fn resolve_reference(reference: &BytesRef<'_>) -> Option<String> {
    if reference.is_char_ref() {
        return reference
            .resolve_char_ref()
            .ok()
            .flatten()
            .map(String::from);
    }
    let resolved = match &**reference {
        "lt" => "<",
        "gt" => ">",
        "amp" => "&",
        "apos" => "'",
        "quot" => "\"",
        _ => return None,
    };
    Some(resolved.to_owned())
}

/// The part name of the main document from `[Content_Types].xml`, if listed.
fn main_part_name(xml: &str) -> Result<Option<String>, FormatError> {
    let mut reader = xml_reader(xml);
    let mut nesting = Nesting::default();
    loop {
        let event = reader
            .read_event()
            .map_err(|e| malformed(CONTENT_TYPES, &reader, e))?;
        if let Event::Start(_) = event {
            nesting
                .start()
                .map_err(|e| malformed(CONTENT_TYPES, &reader, e))?;
        }
        match event {
            Event::End(_) => nesting.end(),
            Event::Start(e) if e.local_name().as_ref() == "Override" => {
                let mut part_name = None;
                let mut content_type = None;
                for attr in e.attributes() {
                    let attr = attr.map_err(|e| malformed(CONTENT_TYPES, &reader, e))?;
                    let value = attr
                        .normalized_value(XmlVersion::Implicit1_0)
                        .map_err(|e| malformed(CONTENT_TYPES, &reader, e))?;
                    match attr.key.local_name().as_ref() {
                        "PartName" => part_name = Some(value),
                        "ContentType" => content_type = Some(value),
                        _ => {}
                    }
                }
                if let (Some(part_name), Some(content_type)) = (part_name, content_type)
                    && MAIN_CONTENT_TYPES
                        .iter()
                        .any(|main| content_type.trim().eq_ignore_ascii_case(main))
                {
                    let part_name = part_name.trim();
                    let part_name = part_name.strip_prefix('/').unwrap_or(part_name);
                    return Ok(Some(part_name.to_owned()));
                }
            }
            Event::DocType(_) => return Err(dtd_refused()),
            Event::GeneralRef(r) => {
                resolve_reference(&r).ok_or_else(|| {
                    malformed(CONTENT_TYPES, &reader, format!("unknown entity &{};", &*r))
                })?;
            }
            Event::Eof => {
                nesting
                    .finish()
                    .map_err(|e| malformed(CONTENT_TYPES, &reader, e))?;
                return Ok(None);
            }
            _ => {}
        }
    }
}

/// Something whose text is being gathered, innermost last.
enum Frame {
    Paragraph(String),
    /// The text of each paragraph in a table cell.
    Cell(Vec<String>),
    /// The text of each cell in a table row.
    Row(Vec<String>),
    /// The text of each paragraph in a text box.
    TextBox(Vec<String>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Paragraph,
    Cell,
    Row,
    TextBox,
}

impl Frame {
    fn kind(&self) -> Kind {
        match self {
            Frame::Paragraph(_) => Kind::Paragraph,
            Frame::Cell(_) => Kind::Cell,
            Frame::Row(_) => Kind::Row,
            Frame::TextBox(_) => Kind::TextBox,
        }
    }
}

#[derive(Default)]
struct Extractor {
    lines: Vec<String>,
    stack: Vec<Frame>,
    /// How many `w:t` elements are open: only their character data is text.
    in_text: usize,
    /// One entry per open `mc:AlternateContent`: whether a choice was taken.
    alternates: Vec<bool>,
    /// Characters of text so far (a document may hold at most
    /// [`MAX_CHARS`](crate::domain::document::MAX_CHARS)).
    chars: usize,
}

impl Extractor {
    /// A table row must stay one line so the caller can split its cells on
    /// tabs; breaks and tabs inside it become spaces.
    fn in_table(&self) -> bool {
        self.stack
            .iter()
            .any(|f| matches!(f, Frame::Cell(_) | Frame::Row(_)))
    }

    fn push_text(&mut self, text: &str) {
        // Text outside any paragraph is schema-invalid but still the
        // participant's words; it gets a paragraph of its own.
        if !matches!(self.stack.last(), Some(Frame::Paragraph(_))) {
            self.stack.push(Frame::Paragraph(String::new()));
        }
        if let Some(Frame::Paragraph(paragraph)) = self.stack.last_mut() {
            paragraph.push_str(text);
        }
        self.chars += text.chars().count();
    }

    fn push_break(&mut self, in_line: &str) {
        let text = if self.in_table() { " " } else { in_line };
        self.push_text(text);
    }

    fn close(&mut self, kind: Kind) {
        // Every paragraph, cell or row closed is at least one character
        // (a line break, a tab) of the text: empty ones count too.
        self.chars += 1;
        if !self.stack.iter().any(|f| f.kind() == kind) {
            return;
        }
        while let Some(frame) = self.stack.pop() {
            let done = frame.kind() == kind;
            self.finish(frame);
            if done {
                break;
            }
        }
    }

    fn finish(&mut self, frame: Frame) {
        let in_table = self.in_table();
        let text = match frame {
            Frame::Paragraph(text) => text,
            Frame::Cell(paragraphs) => join_non_empty(&paragraphs, " "),
            // A row of a nested table is part of one outer cell, so its own
            // cells must not add tabs.
            Frame::Row(cells) => cells.join(if in_table { " " } else { "\t" }),
            Frame::TextBox(paragraphs) if in_table => join_non_empty(&paragraphs, " "),
            Frame::TextBox(paragraphs) => paragraphs.join("\n"),
        };
        match self.stack.last_mut() {
            None => self.lines.push(text),
            Some(Frame::Cell(parts) | Frame::Row(parts) | Frame::TextBox(parts)) => {
                parts.push(text);
            }
            // A text box sits inside a run of its anchoring paragraph.
            Some(Frame::Paragraph(paragraph)) => {
                if !paragraph.is_empty() && !text.is_empty() {
                    paragraph.push_str(if in_table { " " } else { "\n" });
                }
                paragraph.push_str(&text);
            }
        }
    }

    fn finish_all(&mut self) {
        while let Some(frame) = self.stack.pop() {
            self.finish(frame);
        }
    }
}

fn join_non_empty(parts: &[String], separator: &str) -> String {
    let parts: Vec<&str> = parts
        .iter()
        .map(String::as_str)
        .filter(|p| !p.is_empty())
        .collect();
    parts.join(separator)
}

fn extract_text(xml: &str, part: &str) -> Result<String, FormatError> {
    let mut reader = xml_reader(xml);
    let mut ex = Extractor::default();
    let mut nesting = Nesting::default();
    loop {
        let event = reader
            .read_event()
            .map_err(|e| malformed(part, &reader, e))?;
        match event {
            Event::Start(e) => {
                nesting
                    .start()
                    .map_err(|err| malformed(part, &reader, err))?;
                match e.local_name().as_ref() {
                    "p" => ex.stack.push(Frame::Paragraph(String::new())),
                    "tc" => ex.stack.push(Frame::Cell(Vec::new())),
                    "tr" => ex.stack.push(Frame::Row(Vec::new())),
                    "txbxContent" => ex.stack.push(Frame::TextBox(Vec::new())),
                    "t" => ex.in_text += 1,
                    "tab" | "ptab" => ex.push_break("\t"),
                    "br" | "cr" => ex.push_break("\n"),
                    "noBreakHyphen" => ex.push_text("-"),
                    "AlternateContent" => ex.alternates.push(false),
                    // Consumers take the first choice they understand; every
                    // choice holds the same text, so later ones are skipped.
                    "Choice" if ex.alternates.last() == Some(&true) => {
                        reader
                            .read_to_end(e.name())
                            .map_err(|err| malformed(part, &reader, err))?;
                        nesting.end();
                    }
                    "Choice" => {
                        if let Some(taken) = ex.alternates.last_mut() {
                            *taken = true;
                        }
                    }
                    name if SKIPPED.contains(&name) => {
                        reader
                            .read_to_end(e.name())
                            .map_err(|err| malformed(part, &reader, err))?;
                        nesting.end();
                    }
                    _ => {}
                }
            }
            Event::End(e) => {
                nesting.end();
                match e.local_name().as_ref() {
                    "p" => ex.close(Kind::Paragraph),
                    "tc" => ex.close(Kind::Cell),
                    "tr" => ex.close(Kind::Row),
                    "txbxContent" => ex.close(Kind::TextBox),
                    "t" => ex.in_text = ex.in_text.saturating_sub(1),
                    "AlternateContent" => {
                        ex.alternates.pop();
                    }
                    _ => {}
                }
            }
            Event::Text(e) if ex.in_text > 0 => ex.push_text(&e.xml10_content()),
            Event::CData(e) if ex.in_text > 0 => ex.push_text(&e.xml10_content()),
            Event::GeneralRef(r) => {
                let resolved = resolve_reference(&r)
                    .ok_or_else(|| malformed(part, &reader, format!("unknown entity &{};", &*r)))?;
                if ex.in_text > 0 {
                    ex.push_text(&resolved);
                }
            }
            Event::DocType(_) => return Err(dtd_refused()),
            Event::Eof => break,
            _ => {}
        }
        if ex.chars > MAX_CHARS {
            return Err(FormatError::new(format!(
                "the document has more than {} characters; a document holds at most that many \
                 (split it into parts)",
                thousands(MAX_CHARS)
            )));
        }
    }
    nesting
        .finish()
        .map_err(|err| malformed(part, &reader, err))?;
    ex.finish_all();
    Ok(ex.lines.join("\n"))
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use zip::write::SimpleFileOptions;
    use zip::{CompressionMethod, ZipWriter};

    use super::*;
    use crate::formats::describe_bytes;

    const W: &str = "http://schemas.openxmlformats.org/wordprocessingml/2006/main";

    fn content_types(main_part: &str) -> String {
        format!(
            r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">
<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>
<Default Extension="xml" ContentType="application/xml"/>
<Override PartName="/{main_part}" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>
</Types>"#
        )
    }

    fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
        let mut writer = ZipWriter::new(Cursor::new(Vec::new()));
        let options = SimpleFileOptions::default().compression_method(CompressionMethod::Deflated);
        for (name, data) in entries {
            writer.start_file(*name, options).unwrap();
            writer.write_all(data).unwrap();
        }
        writer.finish().unwrap().into_inner()
    }

    fn docx(document_xml: &str) -> Vec<u8> {
        zip_of(&[
            (CONTENT_TYPES, content_types(DEFAULT_MAIN_PART).as_bytes()),
            (DEFAULT_MAIN_PART, document_xml.as_bytes()),
        ])
    }

    /// A whole document part around the given body content.
    fn document(body: &str) -> String {
        format!(
            r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w:document xmlns:w="{W}" xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006"><w:body>{body}<w:sectPr><w:pgSz w:w="11906" w:h="16838"/></w:sectPr></w:body></w:document>"#
        )
    }

    fn para(text: &str) -> String {
        format!("<w:p><w:r><w:t xml:space=\"preserve\">{text}</w:t></w:r></w:p>")
    }

    fn text_of(body: &str) -> String {
        read(&docx(&document(body)), &ZipLimits::default()).unwrap()
    }

    fn error(result: Result<String, FormatError>) -> String {
        match result {
            Ok(text) => panic!("expected an error, got {text:?}"),
            Err(e) => e.0,
        }
    }

    /// Rewrite the uncompressed size that both the local and the central
    /// header declare for `name`, as a hostile archive would.
    fn lie_about_size(zip: &mut [u8], name: &str, size: u32) {
        let mut patched = 0;
        for at in 0..zip.len().saturating_sub(46) {
            let signature = &zip[at..at + 4];
            let (name_len_at, name_at, size_at) = if signature == [0x50, 0x4b, 0x03, 0x04] {
                (at + 26, at + 30, at + 22)
            } else if signature == [0x50, 0x4b, 0x01, 0x02] {
                (at + 28, at + 46, at + 24)
            } else {
                continue;
            };
            let name_len =
                usize::from(u16::from_le_bytes([zip[name_len_at], zip[name_len_at + 1]]));
            if zip.get(name_at..name_at + name_len) == Some(name.as_bytes()) {
                zip[size_at..size_at + 4].copy_from_slice(&size.to_le_bytes());
                patched += 1;
            }
        }
        assert_eq!(patched, 2, "both headers of {name} should be patched");
    }

    #[test]
    fn paragraphs_come_out_one_per_line_in_order() {
        let body = [para("Interviewer: How did it start?"), para("P1: Slowly.")].concat();
        assert_eq!(
            text_of(&body),
            "Interviewer: How did it start?\nP1: Slowly."
        );
    }

    #[test]
    fn runs_within_a_paragraph_join_without_separators() {
        let body =
            "<w:p><w:r><w:t>Hel</w:t></w:r><w:r><w:rPr><w:b/></w:rPr><w:t>lo</w:t></w:r></w:p>";
        assert_eq!(text_of(body), "Hello");
    }

    #[test]
    fn empty_paragraphs_are_kept_as_blank_lines() {
        let body = [
            para("A: one"),
            "<w:p/>".to_owned(),
            "<w:p><w:pPr><w:jc w:val=\"left\"/></w:pPr></w:p>".to_owned(),
            para("B: two"),
            "<w:p></w:p>".to_owned(),
        ]
        .concat();
        assert_eq!(text_of(&body), "A: one\n\n\nB: two\n");
    }

    #[test]
    fn whitespace_inside_text_is_not_trimmed() {
        assert_eq!(text_of(&para("  indented  ")), "  indented  ");
    }

    #[test]
    fn tabs_and_breaks_become_tab_and_newline() {
        let body = "<w:p><w:r><w:t>Q</w:t><w:tab/><w:t>first</w:t><w:br/><w:t>second</w:t>\
                    <w:cr/><w:t>third</w:t></w:r></w:p>";
        assert_eq!(text_of(body), "Q\tfirst\nsecond\nthird");
    }

    #[test]
    fn hyphens_and_symbols_follow_word_display() {
        let body = "<w:p><w:r><w:t>co</w:t><w:noBreakHyphen/><w:t>op</w:t><w:softHyphen/>\
                    <w:t>er</w:t><w:sym w:font=\"Wingdings\" w:char=\"F04A\"/><w:t>ate</w:t></w:r></w:p>";
        assert_eq!(text_of(body), "co-operate");
    }

    #[test]
    fn tracked_deletions_are_not_part_of_the_text() {
        let body = r#"<w:p><w:r><w:t xml:space="preserve">I was </w:t></w:r>
            <w:del w:id="1" w:author="A"><w:r><w:delText>very </w:delText></w:r></w:del>
            <w:ins w:id="2" w:author="A"><w:r><w:t xml:space="preserve">quite </w:t></w:r></w:ins>
            <w:r><w:t>happy</w:t></w:r><w:r><w:delText>!!</w:delText></w:r></w:p>"#;
        assert_eq!(text_of(body), "I was quite happy");
    }

    #[test]
    fn moved_text_appears_only_where_it_was_moved_to() {
        let body = r#"<w:p><w:moveFrom w:id="1"><w:r><w:t>moved</w:t></w:r></w:moveFrom><w:r><w:t>stay</w:t></w:r></w:p>
            <w:p><w:moveTo w:id="2"><w:r><w:t>moved</w:t></w:r></w:moveTo></w:p>"#;
        assert_eq!(text_of(body), "stay\nmoved");
    }

    #[test]
    fn field_codes_are_skipped_but_field_results_kept() {
        let body = r#"<w:p><w:r><w:fldChar w:fldCharType="begin"/></w:r>
            <w:r><w:instrText xml:space="preserve"> PAGE </w:instrText></w:r>
            <w:r><w:fldChar w:fldCharType="separate"/></w:r><w:r><w:t>7</w:t></w:r>
            <w:r><w:fldChar w:fldCharType="end"/></w:r></w:p>"#;
        assert_eq!(text_of(body), "7");
    }

    #[test]
    fn a_two_column_table_becomes_tab_separated_lines() {
        let body = r#"<w:tbl><w:tblPr><w:tblW w:w="0" w:type="auto"/></w:tblPr>
            <w:tblGrid><w:gridCol w:w="2000"/><w:gridCol w:w="7000"/></w:tblGrid>
            <w:tr><w:tc><w:tcPr><w:tcW w:w="2000"/></w:tcPr><w:p><w:r><w:t>Interviewer</w:t></w:r></w:p></w:tc>
                  <w:tc><w:p><w:r><w:t>Tell me more.</w:t></w:r></w:p></w:tc></w:tr>
            <w:tr><w:tc><w:p><w:r><w:t>P2</w:t></w:r></w:p></w:tc>
                  <w:tc><w:p><w:r><w:t>Well,</w:t></w:r></w:p><w:p><w:r><w:t>it was hard.</w:t></w:r></w:p></w:tc></w:tr>
            </w:tbl>"#;
        let body = [para("Before"), body.to_owned(), para("After")].concat();
        assert_eq!(
            text_of(&body),
            "Before\nInterviewer\tTell me more.\nP2\tWell, it was hard.\nAfter"
        );
    }

    #[test]
    fn a_three_column_table_keeps_time_speaker_and_text() {
        let row = |time: &str, who: &str, text: &str| {
            format!(
                "<w:tr><w:tc>{}</w:tc><w:tc>{}</w:tc><w:tc>{}</w:tc></w:tr>",
                para(time),
                para(who),
                para(text)
            )
        };
        let body = format!(
            "<w:tbl>{}{}</w:tbl>",
            row("00:01", "Int", "Hello"),
            row("00:05", "P1", "Hi there")
        );
        assert_eq!(text_of(&body), "00:01\tInt\tHello\n00:05\tP1\tHi there");
    }

    #[test]
    fn an_empty_cell_still_holds_its_column() {
        let body = "<w:tbl><w:tr><w:tc><w:p/></w:tc><w:tc><w:p><w:r><w:t>text</w:t></w:r></w:p></w:tc></w:tr></w:tbl>";
        assert_eq!(text_of(body), "\ttext");
    }

    #[test]
    fn breaks_inside_a_table_cell_do_not_split_the_row() {
        let body = "<w:tbl><w:tr><w:tc><w:p><w:r><w:t>P1</w:t></w:r></w:p></w:tc>\
                    <w:tc><w:p><w:r><w:t>one</w:t><w:br/><w:t>two</w:t></w:r></w:p></w:tc></w:tr></w:tbl>";
        assert_eq!(text_of(body), "P1\tone two");
    }

    #[test]
    fn a_nested_table_is_flattened_into_its_cell() {
        let inner = format!(
            "<w:tbl><w:tr><w:tc>{}</w:tc><w:tc>{}</w:tc></w:tr></w:tbl>",
            para("x"),
            para("y")
        );
        let body = format!(
            "<w:tbl><w:tr><w:tc>{}</w:tc><w:tc>{}{inner}<w:p/></w:tc></w:tr></w:tbl>",
            para("P1"),
            para("see:")
        );
        assert_eq!(text_of(&body), "P1\tsee: x y");
    }

    #[test]
    fn alternate_content_is_read_once() {
        let body = r#"<w:p><w:r><w:t xml:space="preserve">Anchor </w:t></w:r><w:r>
            <mc:AlternateContent>
              <mc:Choice Requires="wps"><w:drawing><wps:wsp xmlns:wps="x"><wps:txbx>
                <w:txbxContent><w:p><w:r><w:t>Boxed</w:t></w:r></w:p></w:txbxContent>
              </wps:txbx></wps:wsp></w:drawing></mc:Choice>
              <mc:Fallback><w:pict><v:shape xmlns:v="urn:v"><v:textbox>
                <w:txbxContent><w:p><w:r><w:t>Boxed</w:t></w:r></w:p></w:txbxContent>
              </v:textbox></v:shape></w:pict></mc:Fallback>
            </mc:AlternateContent></w:r></w:p>"#;
        let text = text_of(body);
        assert_eq!(text.matches("Boxed").count(), 1, "{text:?}");
        assert!(text.starts_with("Anchor "), "{text:?}");
    }

    #[test]
    fn accented_emoji_and_cjk_text_survive() {
        let body = [
            para("Éloïse: ça va, Zoë? ñ"),
            para("P3: 😀 👍🏽"),
            para("受访者：我觉得很好。"),
        ]
        .concat();
        assert_eq!(
            text_of(&body),
            "Éloïse: ça va, Zoë? ñ\nP3: 😀 👍🏽\n受访者：我觉得很好。"
        );
    }

    #[test]
    fn entities_and_character_references_are_resolved() {
        assert_eq!(
            text_of(&para(
                "a &lt;b&gt; &amp; &quot;c&quot; &apos;d&apos; &#233;&#x4E2D;"
            )),
            "a <b> & \"c\" 'd' é中"
        );
    }

    #[test]
    fn any_namespace_prefix_is_understood() {
        let xml = format!(
            r#"<x:document xmlns:x="{W}"><x:body><x:p><x:r><x:t>one</x:t></x:r></x:p><x:p><x:r><x:t>two</x:t></x:r></x:p></x:body></x:document>"#
        );
        assert_eq!(
            read(&docx(&xml), &ZipLimits::default()).unwrap(),
            "one\ntwo"
        );
    }

    #[test]
    fn the_main_part_named_in_content_types_is_read() {
        let bytes = zip_of(&[
            (
                CONTENT_TYPES,
                content_types("word/document2.xml").as_bytes(),
            ),
            ("word/document.xml", document(&para("decoy")).as_bytes()),
            (
                "word/document2.xml",
                document(&para("the real one")).as_bytes(),
            ),
        ]);
        assert_eq!(read(&bytes, &ZipLimits::default()).unwrap(), "the real one");
    }

    #[test]
    fn a_macro_enabled_document_is_read() {
        let types = r#"<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">
            <Override PartName="/word/main.xml" ContentType="application/vnd.ms-word.document.macroEnabled.main+xml"/></Types>"#;
        let bytes = zip_of(&[
            (CONTENT_TYPES, types.as_bytes()),
            ("word/main.xml", document(&para("macro")).as_bytes()),
        ]);
        assert_eq!(read(&bytes, &ZipLimits::default()).unwrap(), "macro");
    }

    #[test]
    fn without_content_types_word_document_xml_is_used() {
        let bytes = zip_of(&[(DEFAULT_MAIN_PART, document(&para("fallback")).as_bytes())]);
        assert_eq!(read(&bytes, &ZipLimits::default()).unwrap(), "fallback");
    }

    #[test]
    fn a_utf16_document_part_is_read() {
        let xml = document(&para("ünïcode"));
        let mut bytes = vec![0xFF, 0xFE];
        bytes.extend(xml.encode_utf16().flat_map(u16::to_le_bytes));
        let zip = zip_of(&[
            (CONTENT_TYPES, content_types(DEFAULT_MAIN_PART).as_bytes()),
            (DEFAULT_MAIN_PART, &bytes),
        ]);
        assert_eq!(read(&zip, &ZipLimits::default()).unwrap(), "ünïcode");
    }

    #[test]
    fn a_byte_order_mark_is_not_part_of_the_text() {
        let mut bytes = b"\xEF\xBB\xBF".to_vec();
        bytes.extend(document(&para("bom")).into_bytes());
        let zip = zip_of(&[(DEFAULT_MAIN_PART, &bytes)]);
        assert_eq!(read(&zip, &ZipLimits::default()).unwrap(), "bom");
    }

    #[test]
    fn a_file_that_is_not_a_zip_is_refused_with_advice_about_doc() {
        let message = error(read(
            b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1 old Word 97 file",
            &ZipLimits::default(),
        ));
        assert!(message.contains("not a valid .docx"), "{message}");
        assert!(message.contains(".doc file"), "{message}");
        assert!(error(read(b"", &ZipLimits::default())).contains("not a valid .docx"));
    }

    #[test]
    fn a_zip_without_a_document_part_is_refused() {
        let bytes = zip_of(&[
            (CONTENT_TYPES, content_types("word/document.xml").as_bytes()),
            ("xl/workbook.xml", b"<workbook/>"),
        ]);
        let message = error(read(&bytes, &ZipLimits::default()));
        assert!(message.contains("no main document part"), "{message}");
    }

    #[test]
    fn a_dtd_is_refused() {
        let xml = format!(
            r#"<?xml version="1.0"?><!DOCTYPE w:document [<!ENTITY lol "lol">]><w:document xmlns:w="{W}"><w:body><w:p><w:r><w:t>&lol;</w:t></w:r></w:p></w:body></w:document>"#
        );
        let message = error(read(&docx(&xml), &ZipLimits::default()));
        assert_eq!(message, "the document contains a DTD, which is not allowed");
    }

    #[test]
    fn a_dtd_in_content_types_is_refused() {
        let types = r#"<!DOCTYPE Types [<!ENTITY x "y">]><Types/>"#;
        let bytes = zip_of(&[
            (CONTENT_TYPES, types.as_bytes()),
            (DEFAULT_MAIN_PART, document(&para("x")).as_bytes()),
        ]);
        assert!(error(read(&bytes, &ZipLimits::default())).contains("DTD"));
    }

    #[test]
    fn undefined_entities_are_refused() {
        let message = error(read(
            &docx(&document(&para("&nbsp;"))),
            &ZipLimits::default(),
        ));
        assert!(message.contains("not well-formed XML"), "{message}");
    }

    #[test]
    fn malformed_xml_is_an_error_not_a_panic() {
        let full = document(&[para("one"), para("two")].concat());
        let cases = [
            full[..full.len() / 2].to_owned(),
            full.replace("</w:t>", "</w:x>"),
            "<w:document><w:body><w:p>".to_owned(),
            "<w:document></w:body>".to_owned(),
            "<w:p/><w:p/>".to_owned(),
            "not xml at all".to_owned(),
            String::new(),
            "<w:p><w:t>&#0;</w:t></w:p>".to_owned(),
            "<w:p><w:t>&#xFFFFFFFF;</w:t></w:p>".to_owned(),
        ];
        for xml in cases {
            let message = error(read(&docx(&xml), &ZipLimits::default()));
            assert!(
                message.contains("not well-formed XML"),
                "{xml:?}: {message}"
            );
        }
    }

    #[test]
    fn a_part_that_is_not_text_is_an_error_not_a_panic() {
        let zip = zip_of(&[(DEFAULT_MAIN_PART, b"<w:p>\xFF\xFE\xFD</w:p>\x80")]);
        assert!(error(read(&zip, &ZipLimits::default())).contains("not UTF-8"));
        let odd_utf16 = zip_of(&[(DEFAULT_MAIN_PART, b"\xFF\xFE<\x00p")]);
        assert!(error(read(&odd_utf16, &ZipLimits::default())).contains("not UTF-8"));
    }

    #[test]
    fn too_many_entries_are_refused() {
        let names: Vec<String> = (0..20).map(|i| format!("junk/{i}.xml")).collect();
        let mut entries: Vec<(&str, &[u8])> =
            names.iter().map(|n| (n.as_str(), &b"x"[..])).collect();
        let xml = document(&para("x"));
        entries.push((DEFAULT_MAIN_PART, xml.as_bytes()));
        let limits = ZipLimits {
            max_entries: 10,
            ..ZipLimits::default()
        };
        let message = error(read(&zip_of(&entries), &limits));
        assert!(message.contains("refusing to read it"), "{message}");
        assert!(message.contains("21 entries"), "{message}");
    }

    fn bomb_document() -> String {
        document(&para(&"0".repeat(10_000)))
    }

    #[test]
    fn an_entry_declared_larger_than_the_cap_is_refused() {
        let limits = ZipLimits {
            max_total_bytes: 1_000,
            ..ZipLimits::default()
        };
        let message = error(read(&docx(&bomb_document()), &limits));
        assert_eq!(
            message,
            "the document expands to more than 1000 bytes; refusing to read it"
        );
    }

    #[test]
    fn an_entry_that_inflates_past_the_cap_is_refused_whatever_its_header_says() {
        let mut bytes = docx(&bomb_document());
        lie_about_size(&mut bytes, DEFAULT_MAIN_PART, 10);
        let limits = ZipLimits {
            max_total_bytes: 1_000,
            ..ZipLimits::default()
        };
        // zip itself stops at the declared size, so the refusal may come
        // from there rather than from the cap; either way nothing is read.
        for limits in [limits, ZipLimits::default()] {
            let message = error(read(&bytes, &limits));
            assert!(
                message.starts_with("the document expands to more than")
                    || message.starts_with("the .docx file is damaged"),
                "{message}"
            );
        }
    }

    #[test]
    fn the_cap_counts_every_part_read() {
        let xml = document(&para("small"));
        let types = content_types(DEFAULT_MAIN_PART);
        let both = u64::try_from(xml.len() + types.len()).unwrap();
        let exact = ZipLimits {
            max_total_bytes: both,
            ..ZipLimits::default()
        };
        assert_eq!(read(&docx(&xml), &exact).unwrap(), "small");
        let short = ZipLimits {
            max_total_bytes: both - 1,
            ..ZipLimits::default()
        };
        assert!(error(read(&docx(&xml), &short)).contains("refusing to read it"));
    }

    #[test]
    fn sizes_in_messages_read_naturally() {
        assert_eq!(describe_bytes(256 * 1024 * 1024), "256 MiB");
        assert_eq!(describe_bytes(1_000), "1000 bytes");
        assert_eq!(describe_bytes(1536 * 1024), "1.5 MiB");
    }
}
