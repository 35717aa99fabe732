//! Writing `.qdpx` projects and `.qdc` codebooks that validate against the
//! REFI-QDA schemas (element order as the XSD gives it, the normative
//! namespaces, UTF-8 without a BOM). Text sources go to `sources/<GUID>.txt`;
//! selections are code points, as the standard says.

use super::{Case, Code, Exchange, Note, Selection, TextSource, Value};
use crate::formats::FormatError;
use std::fmt::Write as _;
use std::io::Write as _;

const PROJECT_NS: &str = "urn:QDA-XML:project:1.0";
const CODEBOOK_NS: &str = "urn:QDA-XML:codebook:1.0";

/// Text as XML 1.0 may carry it (control characters other than tab and
/// line breaks become spaces), escaped.
fn esc(text: &str) -> String {
    let clean: String = text
        .chars()
        .map(|c| {
            if (c.is_control() && !matches!(c, '\t' | '\n' | '\r'))
                || matches!(c, '\u{FFFE}' | '\u{FFFF}')
            {
                ' '
            } else {
                c
            }
        })
        .collect();
    quick_xml::escape::escape(clean.as_str())
        .replace('\n', "&#10;")
        .replace('\r', "&#13;")
        .replace('\t', "&#9;")
}

/// Element text: like [`esc`] but line breaks stay as they are.
fn text(s: &str) -> String {
    esc(s)
        .replace("&#10;", "\n")
        .replace("&#13;", "\r")
        .replace("&#9;", "\t")
}

/// The GUID as written: lower case, hyphenated. Both cases are valid;
/// some readers refuse upper case.
fn g(guid: &str) -> String {
    guid.to_ascii_lowercase()
}

fn attr(out: &mut String, name: &str, value: Option<&str>) {
    if let Some(v) = value {
        let _ = write!(out, " {name}=\"{}\"", esc(v));
    }
}

fn note_refs(out: &mut String, notes: &[String], indent: &str) {
    for n in notes {
        let _ = writeln!(out, "{indent}<NoteRef targetGUID=\"{}\"/>", g(n));
    }
}

/// A code and its sub-codes, nested, written with a stack rather than
/// recursion (a codebook's depth is the user's to choose).
fn code(out: &mut String, top: &Code, with_notes: bool) {
    enum Step<'c> {
        Open(&'c Code, usize),
        Close(usize),
    }
    let mut steps = vec![Step::Open(top, 0)];
    while let Some(step) = steps.pop() {
        let (c, depth) = match step {
            Step::Open(c, depth) => (c, depth),
            Step::Close(depth) => {
                let _ = writeln!(out, "{}</Code>", "  ".repeat(depth + 3));
                continue;
            }
        };
        let indent = "  ".repeat(depth + 3);
        let _ = write!(
            out,
            "{indent}<Code guid=\"{}\" name=\"{}\" isCodable=\"{}\"",
            g(&c.guid),
            esc(&c.name),
            c.codable
        );
        attr(out, "color", c.color.as_deref());
        let notes = with_notes && !c.notes.is_empty();
        if c.description.is_empty() && !notes && c.children.is_empty() {
            out.push_str("/>\n");
            continue;
        }
        out.push_str(">\n");
        if !c.description.is_empty() {
            let _ = writeln!(
                out,
                "{indent}  <Description>{}</Description>",
                text(&c.description)
            );
        }
        if with_notes {
            note_refs(out, &c.notes, &format!("{indent}  "));
        }
        steps.push(Step::Close(depth));
        steps.extend(c.children.iter().rev().map(|k| Step::Open(k, depth + 1)));
    }
}

fn value(out: &mut String, v: &Value, indent: &str) {
    let _ = writeln!(
        out,
        "{indent}<VariableValue><VariableRef targetGUID=\"{}\"/><TextValue>{}</TextValue></VariableValue>",
        g(&v.variable),
        text(&v.value)
    );
}

fn case(out: &mut String, c: &Case) {
    let _ = write!(out, "    <Case guid=\"{}\"", g(&c.guid));
    attr(out, "name", c.name.as_deref());
    out.push_str(">\n");
    if !c.description.is_empty() {
        let _ = writeln!(
            out,
            "      <Description>{}</Description>",
            text(&c.description)
        );
    }
    for v in &c.values {
        value(out, v, "      ");
    }
    for s in &c.sources {
        let _ = writeln!(out, "      <SourceRef targetGUID=\"{}\"/>", g(s));
    }
    for s in &c.selections {
        let _ = writeln!(out, "      <SelectionRef targetGUID=\"{}\"/>", g(s));
    }
    out.push_str("    </Case>\n");
}

fn selection(out: &mut String, s: &Selection) {
    let _ = write!(out, "      <PlainTextSelection guid=\"{}\"", g(&s.guid));
    attr(out, "name", s.name.as_deref());
    let _ = write!(
        out,
        " startPosition=\"{}\" endPosition=\"{}\"",
        s.start, s.end
    );
    attr(out, "creatingUser", s.user.as_deref().map(g).as_deref());
    attr(out, "creationDateTime", s.created.as_deref());
    out.push_str(">\n");
    if !s.description.is_empty() {
        let _ = writeln!(
            out,
            "        <Description>{}</Description>",
            text(&s.description)
        );
    }
    for c in &s.codings {
        let _ = write!(out, "        <Coding guid=\"{}\"", g(&c.guid));
        attr(out, "creatingUser", c.user.as_deref().map(g).as_deref());
        attr(out, "creationDateTime", c.created.as_deref());
        let _ = writeln!(out, ">");
        let _ = writeln!(out, "          <CodeRef targetGUID=\"{}\"/>", g(&c.code));
        note_refs(out, &c.notes, "          ");
        out.push_str("        </Coding>\n");
    }
    note_refs(out, &s.notes, "        ");
    out.push_str("      </PlainTextSelection>\n");
}

fn source(out: &mut String, s: &TextSource) {
    let _ = write!(
        out,
        "    <TextSource guid=\"{}\" name=\"{}\" plainTextPath=\"internal://{}.txt\"",
        g(&s.guid),
        esc(&s.name),
        g(&s.guid)
    );
    out.push_str(">\n");
    if !s.description.is_empty() {
        let _ = writeln!(
            out,
            "      <Description>{}</Description>",
            text(&s.description)
        );
    }
    for sel in &s.selections {
        selection(out, sel);
    }
    note_refs(out, &s.notes, "      ");
    for v in &s.values {
        value(out, v, "      ");
    }
    out.push_str("    </TextSource>\n");
}

fn note(out: &mut String, n: &Note) {
    let _ = write!(out, "    <Note guid=\"{}\"", g(&n.guid));
    attr(out, "name", n.name.as_deref());
    attr(out, "creatingUser", n.user.as_deref().map(g).as_deref());
    attr(out, "creationDateTime", n.created.as_deref());
    let _ = writeln!(
        out,
        "><PlainTextContent>{}</PlainTextContent></Note>",
        text(&n.text)
    );
}

/// `project.qde` for `ex`.
pub fn project_xml(ex: &Exchange) -> String {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = write!(
        out,
        "<Project xmlns=\"{PROJECT_NS}\" name=\"{}\"",
        esc(&ex.name)
    );
    attr(&mut out, "origin", ex.origin.as_deref());
    out.push_str(">\n");
    if !ex.users.is_empty() {
        out.push_str("  <Users>\n");
        for u in &ex.users {
            let _ = write!(out, "    <User guid=\"{}\"", g(&u.guid));
            attr(&mut out, "name", u.name.as_deref());
            out.push_str("/>\n");
        }
        out.push_str("  </Users>\n");
    }
    if !ex.codes.is_empty() {
        out.push_str("  <CodeBook>\n    <Codes>\n");
        for c in &ex.codes {
            code(&mut out, c, true);
        }
        out.push_str("    </Codes>\n  </CodeBook>\n");
    }
    if !ex.variables.is_empty() {
        out.push_str("  <Variables>\n");
        for v in &ex.variables {
            let _ = writeln!(
                out,
                "    <Variable guid=\"{}\" name=\"{}\" typeOfVariable=\"{}\"/>",
                g(&v.guid),
                esc(&v.name),
                esc(if v.kind.is_empty() { "Text" } else { &v.kind })
            );
        }
        out.push_str("  </Variables>\n");
    }
    if !ex.cases.is_empty() {
        out.push_str("  <Cases>\n");
        for c in &ex.cases {
            case(&mut out, c);
        }
        out.push_str("  </Cases>\n");
    }
    if !ex.sources.is_empty() {
        out.push_str("  <Sources>\n");
        for s in &ex.sources {
            source(&mut out, s);
        }
        out.push_str("  </Sources>\n");
    }
    if !ex.notes.is_empty() {
        out.push_str("  <Notes>\n");
        for n in &ex.notes {
            note(&mut out, n);
        }
        out.push_str("  </Notes>\n");
    }
    let sets: Vec<_> = ex
        .sets
        .iter()
        .filter(|s| !s.sources.is_empty() || !s.codes.is_empty() || !s.notes.is_empty())
        .collect();
    if !sets.is_empty() {
        out.push_str("  <Sets>\n");
        for s in sets {
            let _ = writeln!(
                out,
                "    <Set guid=\"{}\" name=\"{}\">",
                g(&s.guid),
                esc(&s.name)
            );
            if !s.description.is_empty() {
                let _ = writeln!(
                    out,
                    "      <Description>{}</Description>",
                    text(&s.description)
                );
            }
            for c in &s.codes {
                let _ = writeln!(out, "      <MemberCode targetGUID=\"{}\"/>", g(c));
            }
            for c in &s.sources {
                let _ = writeln!(out, "      <MemberSource targetGUID=\"{}\"/>", g(c));
            }
            for c in &s.notes {
                let _ = writeln!(out, "      <MemberNote targetGUID=\"{}\"/>", g(c));
            }
            out.push_str("    </Set>\n");
        }
        out.push_str("  </Sets>\n");
    }
    if !ex.description.is_empty() {
        let _ = writeln!(
            out,
            "  <Description>{}</Description>",
            text(&ex.description)
        );
    }
    note_refs(&mut out, &ex.project_notes, "  ");
    out.push_str("</Project>\n");
    out
}

/// The `.qdpx` archive: `project.qde` and `sources/<GUID>.txt` for every
/// text source (UTF-8, no BOM, Parley's `\n` line endings), deflated at the
/// fastest level: the default level took ~40% of a 100-transcript export's
/// time, for an archive a third smaller.
pub fn qdpx(ex: &Exchange) -> Result<Vec<u8>, FormatError> {
    let fail =
        |e: &dyn std::fmt::Display| FormatError::new(format!("cannot write the archive: {e}"));
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .compression_level(Some(1));
    zip.start_file("project.qde", options)
        .map_err(|e| fail(&e))?;
    zip.write_all(project_xml(ex).as_bytes())
        .map_err(|e| fail(&e))?;
    zip.add_directory("sources/", options)
        .map_err(|e| fail(&e))?;
    for s in &ex.sources {
        zip.start_file(format!("sources/{}.txt", g(&s.guid)), options)
            .map_err(|e| fail(&e))?;
        zip.write_all(s.text.as_deref().unwrap_or("").as_bytes())
            .map_err(|e| fail(&e))?;
    }
    let cursor = zip.finish().map_err(|e| fail(&e))?;
    Ok(cursor.into_inner())
}

/// A `.qdc` codebook: the code tree (with descriptions and colours) and
/// non-empty code sets.
pub fn qdc(ex: &Exchange) -> String {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = write!(out, "<CodeBook xmlns=\"{CODEBOOK_NS}\"");
    attr(&mut out, "origin", ex.origin.as_deref());
    out.push_str(">\n  <Codes>\n");
    for c in &ex.codes {
        code(&mut out, c, false);
    }
    out.push_str("  </Codes>\n");
    let sets: Vec<_> = ex.sets.iter().filter(|s| !s.codes.is_empty()).collect();
    if !sets.is_empty() {
        out.push_str("  <Sets>\n");
        for s in sets {
            let _ = writeln!(
                out,
                "    <Set guid=\"{}\" name=\"{}\">",
                g(&s.guid),
                esc(&s.name)
            );
            for c in &s.codes {
                let _ = writeln!(out, "      <MemberCode guid=\"{}\"/>", g(c));
            }
            out.push_str("    </Set>\n");
        }
        out.push_str("  </Sets>\n");
    }
    out.push_str("</CodeBook>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::refi::{Coding, User, Variable};

    pub fn sample() -> Exchange {
        Exchange {
            name: "Study <1> & \"2\"".into(),
            origin: Some("Parley 0.1".into()),
            users: vec![User {
                guid: "11111111-1111-4111-8111-111111111111".into(),
                name: Some("Ann".into()),
            }],
            codes: vec![Code {
                guid: "22222222-2222-4222-8222-222222222222".into(),
                name: "Inpatient frames".into(),
                color: Some("#4e79a7".into()),
                description: "Frames\nof care".into(),
                codable: true,
                notes: vec!["55555555-5555-4555-8555-555555555555".into()],
                children: vec![Code {
                    guid: "33333333-3333-4333-8333-333333333333".into(),
                    name: "Sanctuary".into(),
                    codable: true,
                    ..Code::default()
                }],
            }],
            variables: vec![Variable {
                guid: "44444444-4444-4444-8444-444444444444".into(),
                name: "Stakeholder group".into(),
                kind: "Text".into(),
            }],
            sources: vec![TextSource {
                guid: "66666666-6666-4666-8666-666666666666".into(),
                name: "Interview 1".into(),
                text: Some("P01: It felt like a sanctuary 😀\n".into()),
                selections: vec![Selection {
                    guid: "77777777-7777-4777-8777-777777777777".into(),
                    start: 5,
                    end: 30,
                    codings: vec![Coding {
                        guid: "88888888-8888-4888-8888-888888888888".into(),
                        code: "33333333-3333-4333-8333-333333333333".into(),
                        user: Some("11111111-1111-4111-8111-111111111111".into()),
                        created: Some("2026-11-26T01:00:00Z".into()),
                        notes: vec![],
                    }],
                    ..Selection::default()
                }],
                ..TextSource::default()
            }],
            notes: vec![Note {
                guid: "55555555-5555-4555-8555-555555555555".into(),
                name: Some("Memo".into()),
                text: "A memo with \u{1} a control character".into(),
                ..Note::default()
            }],
            ..Exchange::default()
        }
    }

    #[test]
    fn the_project_xml_escapes_and_orders_elements() {
        let xml = project_xml(&sample());
        assert!(xml.contains("name=\"Study &lt;1&gt; &amp; &quot;2&quot;\""));
        assert!(!xml.contains('\u{1}'));
        let order = [
            "<Users>",
            "<CodeBook>",
            "<Variables>",
            "<Sources>",
            "<Notes>",
        ];
        let at: Vec<usize> = order.iter().map(|t| xml.find(t).unwrap()).collect();
        assert!(at.windows(2).all(|w| w[0] < w[1]), "{xml}");
        assert!(
            xml.contains("plainTextPath=\"internal://66666666-6666-4666-8666-666666666666.txt\"")
        );
    }

    #[test]
    fn the_archive_holds_the_project_and_its_texts() {
        let bytes = qdpx(&sample()).unwrap();
        let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
        let mut text = String::new();
        std::io::Read::read_to_string(
            &mut zip
                .by_name("sources/66666666-6666-4666-8666-666666666666.txt")
                .unwrap(),
            &mut text,
        )
        .unwrap();
        assert_eq!(text, "P01: It felt like a sanctuary 😀\n");
        assert!(zip.by_name("project.qde").is_ok());
    }

    #[test]
    fn the_codebook_has_no_note_refs() {
        let xml = qdc(&sample());
        assert!(xml.starts_with("<?xml"));
        assert!(xml.contains("<CodeBook xmlns=\"urn:QDA-XML:codebook:1.0\""));
        assert!(!xml.contains("NoteRef"));
        assert!(xml.contains("<Code guid=\"33333333-3333-4333-8333-333333333333\" name=\"Sanctuary\" isCodable=\"true\"/>"));
    }
}
