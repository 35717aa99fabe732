//! Reading `.qdpx` projects and `.qdc` codebooks into the [`Exchange`]
//! model, leniently (every attribute but `guid` optional, any
//! `urn:QDA-XML:*` namespace, any `.qde` name, sources found by file name
//! whatever the folder's case) and safely (zip entries, inflated bytes and
//! XML size capped; unsafe entry names, DTDs and entities refused; no panic
//! on any input).
//!
//! Source text is decoded but otherwise kept as written (CRLF, decomposed
//! accents …): selections count positions in exactly that text, and
//! `positions` maps them onto Parley's normalised text.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::fmt::Display;
use std::io::Cursor;
use std::rc::Rc;

use quick_xml::events::{BytesRef, Event};
use quick_xml::{Reader, XmlVersion};
use zip::ZipArchive;

use super::{
    Case, Code, Coding, Exchange, Note, OtherSource, Selection, Set, TextSource, User, Value,
    Variable, guid,
};
use crate::formats::{FormatError, ZipBudget, ZipLimits, describe_bytes};

/// The largest XML document read, whether from a zip or on its own.
pub const MAX_XML_BYTES: usize = 32 * 1024 * 1024;

/// The most elements a REFI-QDA document may have. A project of a hundred
/// transcripts and 50,000 codings has about 200,000; the cap keeps the
/// parsed tree (about a hundred bytes an element) well inside the server's
/// memory budget whatever a file repeats.
pub const MAX_ELEMENTS: usize = 500_000;

/// Elements may nest this deep (REFI files need about a dozen levels plus
/// the code hierarchy); deeper is refused rather than risking the stack.
const MAX_DEPTH: usize = 256;

/// Read a `.qdpx` project: the single `.qde` in it, and the plain text of
/// each text source from the archive.
pub fn read_qdpx(bytes: &[u8], limits: &ZipLimits) -> Result<Exchange, FormatError> {
    let mut archive = ZipArchive::new(Cursor::new(bytes)).map_err(|_| not_a_qdpx())?;
    if archive.len() > limits.max_entries {
        return Err(FormatError::new(format!(
            "the .qdpx file holds {} entries, more than the {} allowed; refusing to read it",
            archive.len(),
            limits.max_entries
        )));
    }
    let mut entries: Vec<(usize, String)> = Vec::new();
    for index in 0..archive.len() {
        let name = match archive.name_for_index(index) {
            Some(Ok(name)) => name.into_owned(),
            _ => {
                return Err(FormatError::new(
                    "the .qdpx file is damaged: the name of one of its entries cannot be read",
                ));
            }
        };
        check_entry_name(&name)?;
        if !name.ends_with(['/', '\\']) {
            entries.push((index, name));
        }
    }
    let (qde_index, qde_name) = find_qde(&entries)?;
    let mut budget = ZipBudget::new(limits, "the .qdpx file", "the .qdpx file");
    let qde = budget.read(&mut archive, qde_index, &qde_name)?;
    let xml = decode(qde).map_err(|_| {
        FormatError::new(format!(
            "the project file {qde_name} is not UTF-8 (or UTF-16) text; it may be damaged"
        ))
    })?;

    // Reading a source can fail for the whole archive (the cap); the
    // callback can only say "no file", so the failure waits here.
    let mut failure: Option<FormatError> = None;
    let label = format!("the project file {qde_name}");
    let result = read_project(&xml, &label, |path| {
        if failure.is_some() {
            return None;
        }
        let (index, name) = resolve(path, &entries)?;
        match budget.read(&mut archive, *index, name) {
            Ok(bytes) => Some(bytes),
            Err(e) => {
                failure = Some(e);
                None
            }
        }
    });
    match failure {
        Some(e) => Err(e),
        None => result,
    }
}

/// Read a project document (`project.qde`); `file` returns the bytes of a
/// file named by a `plainTextPath` (as written, e.g. `internal://x.txt`),
/// or `None` when there is no such file.
pub fn read_qde(
    xml: &str,
    file: impl FnMut(&str) -> Option<Vec<u8>>,
) -> Result<Exchange, FormatError> {
    read_project(xml, "the project file", file)
}

/// Read a `.qdc` codebook: its codes, and its code sets.
pub fn read_qdc(bytes: &[u8]) -> Result<Exchange, FormatError> {
    let label = "the codebook file";
    if bytes.len() > MAX_XML_BYTES {
        return Err(too_large(label));
    }
    let xml = decode(bytes.to_vec()).map_err(|_| {
        FormatError::new(format!(
            "{label} is not UTF-8 (or UTF-16) text; save it as UTF-8 and try again"
        ))
    })?;
    let root = parse(&xml, label)?;
    match &*root.name {
        "CodeBook" => {}
        "Project" => {
            return Err(FormatError::new(
                "this is a REFI-QDA project, not a codebook; import it as a project (.qdpx) instead",
            ));
        }
        other => return Err(not_refi(label, other, "CodeBook")),
    }
    check_namespace(&root, label)?;
    let mut walker = Walker::new(&xml, label, |_: &str| None);
    let mut ex = Exchange {
        name: root.attr("name").unwrap_or_default().to_owned(),
        origin: root.opt("origin"),
        ..Exchange::default()
    };
    walker.codebook(&root, &mut ex)?;
    ex.skipped = walker.skipped.lines();
    Ok(ex)
}

fn read_project(
    xml: &str,
    label: &str,
    file: impl FnMut(&str) -> Option<Vec<u8>>,
) -> Result<Exchange, FormatError> {
    if xml.len() > MAX_XML_BYTES {
        return Err(too_large(label));
    }
    let xml = xml.strip_prefix('\u{feff}').unwrap_or(xml);
    let root = parse(xml, label)?;
    match &*root.name {
        "Project" => {}
        "CodeBook" => {
            return Err(FormatError::new(
                "this is a REFI-QDA codebook (.qdc), not a project; import it as a codebook instead",
            ));
        }
        other => return Err(not_refi(label, other, "Project")),
    }
    check_namespace(&root, label)?;
    let mut walker = Walker::new(xml, label, file);
    let mut ex = walker.project(&root)?;
    if !walker.bad_files.is_empty() {
        return Err(FormatError::new(format!(
            "these text sources are not UTF-8 text, so their codings cannot be placed: {}. \
             REFI-QDA files must hold UTF-8 text; export the project again, or save the \
             files as UTF-8",
            walker.bad_files.join(", ")
        )));
    }
    ex.skipped = walker.skipped.lines();
    Ok(ex)
}

fn not_a_qdpx() -> FormatError {
    FormatError::new(
        "not a valid .qdpx file: a REFI-QDA project is a zip archive holding a .qde file; \
         it may be damaged or of another kind",
    )
}

fn too_large(label: &str) -> FormatError {
    FormatError::new(format!(
        "{label} is larger than {}; refusing to read it",
        describe_bytes(MAX_XML_BYTES as u64)
    ))
}

fn not_refi(label: &str, root: &str, expected: &str) -> FormatError {
    FormatError::new(format!(
        "{label} is not a REFI-QDA file: its root element is <{root}>, not <{expected}>"
    ))
}

// ---------------------------------------------------------------- zip ----

/// Entry names that would escape a folder if extracted (absolute paths,
/// drive letters, `..` with either slash) mark a hostile archive.
fn check_entry_name(name: &str) -> Result<(), FormatError> {
    let first = name.split(['/', '\\']).next().unwrap_or_default();
    let unsafe_name = name.starts_with(['/', '\\'])
        || name.contains('\0')
        || first.contains(':')
        || name.split(['/', '\\']).any(|part| part.trim() == "..");
    if unsafe_name {
        return Err(FormatError::new(format!(
            "the .qdpx file holds an entry with an unsafe name ({:?}): absolute paths and \"..\" \
             are not allowed; refusing to read it",
            name.chars().take(200).collect::<String>()
        )));
    }
    Ok(())
}

fn parts(name: &str) -> impl Iterator<Item = &str> {
    name.split(['/', '\\']).filter(|p| !p.is_empty())
}

fn file_name(path: &str) -> &str {
    parts(path).last().unwrap_or_default()
}

/// The single `.qde` at the root of the archive, any case, any name. If
/// there is none at the root, a single one in a folder (a project folder
/// zipped by hand) will do. macOS resource forks (`__MACOSX/`, `._x`) are
/// not candidates.
fn find_qde(entries: &[(usize, String)]) -> Result<(usize, String), FormatError> {
    let candidates: Vec<&(usize, String)> = entries
        .iter()
        .filter(|(_, name)| {
            name.to_ascii_lowercase().ends_with(".qde")
                && !parts(name).any(|p| p.eq_ignore_ascii_case("__MACOSX") || p.starts_with("._"))
        })
        .collect();
    let at_root: Vec<&(usize, String)> = candidates
        .iter()
        .copied()
        .filter(|(_, name)| parts(name).count() == 1)
        .collect();
    let chosen = match (at_root.as_slice(), candidates.as_slice()) {
        ([one], _) | ([], [one]) => one,
        ([], []) => {
            return Err(FormatError::new(
                "the .qdpx file holds no project file (.qde); it is not a REFI-QDA project, \
                 or it is damaged",
            ));
        }
        (several, _) => {
            let several = if several.is_empty() {
                &candidates
            } else {
                several
            };
            let names: Vec<&str> = several.iter().map(|(_, n)| n.as_str()).collect();
            return Err(FormatError::new(format!(
                "the .qdpx file holds {} project files ({}); a REFI-QDA project has exactly one",
                names.len(),
                names.join(", ")
            )));
        }
    };
    Ok((*chosen).clone())
}

/// The archive entry a source path names. `internal://`, `relative://`,
/// `absolute://` and bare paths are all looked up by their path and then
/// by file name, ignoring case (`sources/`, `Sources/` or no folder).
fn resolve<'e>(path: &str, entries: &'e [(usize, String)]) -> Option<&'e (usize, String)> {
    let mut path = path.trim();
    for scheme in ["internal://", "relative://", "absolute://", "file://"] {
        if path
            .get(..scheme.len())
            .is_some_and(|p| p.eq_ignore_ascii_case(scheme))
        {
            path = &path[scheme.len()..];
            break;
        }
    }
    let mut forms = vec![path.to_owned()];
    if let Some(decoded) = percent_decode(path)
        && decoded != path
    {
        forms.push(decoded);
    }
    for form in forms {
        let wanted: Vec<&str> = parts(&form).collect();
        let Some(name) = wanted.last() else {
            continue;
        };
        // Few entries share the file name, so the finer checks run on few.
        let by_name: Vec<&(usize, String)> = entries
            .iter()
            .filter(|(_, e)| file_name(e).eq_ignore_ascii_case(name))
            .collect();
        let same = |entry: &str, with: &[&str]| {
            let got: Vec<&str> = parts(entry).collect();
            got.len() == with.len() && got.iter().zip(with).all(|(a, b)| a.eq_ignore_ascii_case(b))
        };
        let in_sources: Vec<&str> = std::iter::once("sources")
            .chain(wanted.iter().copied())
            .collect();
        let exact = by_name
            .iter()
            .find(|(_, e)| same(e, &wanted) || same(e, &in_sources));
        let in_usual_place = by_name.iter().find(|(_, e)| {
            let p: Vec<&str> = parts(e).collect();
            p.len() == 1 || (p.len() == 2 && p[0].eq_ignore_ascii_case("sources"))
        });
        if let Some(entry) = exact.or(in_usual_place).or(by_name.first()) {
            return Some(entry);
        }
    }
    None
}

/// `%20` and friends, as a URL may carry them; `None` if the result is not
/// UTF-8.
fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%'
            && let (Some(h), Some(l)) = (
                bytes.get(i + 1).and_then(|&b| hex(b)),
                bytes.get(i + 2).and_then(|&b| hex(b)),
            )
        {
            out.push((h * 16 + l) as u8);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// UTF-8 (a BOM dropped) or UTF-16 with a BOM; nothing is normalised, so
/// positions still count the text as its tool wrote it (after the BOM).
fn decode(mut bytes: Vec<u8>) -> Result<String, Vec<u8>> {
    // Taken by value: UTF-8 (most files) becomes the string in place,
    // without a second copy of a file that may be tens of megabytes.
    let utf16 = |bytes: &[u8], from: fn([u8; 2]) -> u16| {
        if !bytes.len().is_multiple_of(2) {
            return None;
        }
        let units = bytes.chunks_exact(2).map(|p| from([p[0], p[1]]));
        char::decode_utf16(units)
            .collect::<Result<String, _>>()
            .ok()
    };
    let order: Option<fn([u8; 2]) -> u16> = match bytes.as_slice() {
        [0xFF, 0xFE, ..] => Some(u16::from_le_bytes),
        [0xFE, 0xFF, ..] => Some(u16::from_be_bytes),
        _ => None,
    };
    if let Some(from) = order {
        return utf16(&bytes[2..], from).ok_or(bytes);
    }
    if bytes.starts_with(&[0xEF, 0xBB, 0xBF]) {
        bytes.drain(..3);
    }
    String::from_utf8(bytes).map_err(std::string::FromUtf8Error::into_bytes)
}

// ---------------------------------------------------------------- XML ----

/// An element with its attributes, its own text and its child elements;
/// `'x` is the file's text, which character data borrows from.
struct El<'x> {
    /// Local name (no prefix), shared by every element of that name: a
    /// file may hold half a million elements, and each its own copy of
    /// its name cost more than the element.
    name: Rc<str>,
    /// The prefix the name is written with, if any.
    prefix: Option<Box<str>>,
    /// Attributes as written (qualified names), values unescaped.
    attrs: Vec<(String, String)>,
    /// All character data directly inside, concatenated, with line breaks
    /// as written (an XML parser would make CRLF and CR into LF; see
    /// [`El::text`]).
    raw: Cow<'x, str>,
    children: Vec<El<'x>>,
    /// Byte offset of the start tag, for messages.
    at: usize,
}

impl El<'_> {
    /// An attribute by local name; namespace declarations are not
    /// attributes here.
    fn attr(&self, local: &str) -> Option<&str> {
        self.attrs
            .iter()
            .filter(|(k, _)| k != "xmlns" && !k.starts_with("xmlns:"))
            .find(|(k, _)| k.rsplit(':').next() == Some(local))
            .map(|(_, v)| v.as_str())
    }

    /// An attribute by its exact written name (for `xmlns`).
    fn raw_attr(&self, key: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// The character data with line breaks as XML 1.0 reads them (`\n`);
    /// borrowed when there is nothing to change (a long description is
    /// then copied once, not three times).
    fn text(&self) -> Cow<'_, str> {
        if self.raw.contains('\r') {
            Cow::Owned(self.raw.replace("\r\n", "\n").replace('\r', "\n"))
        } else {
            Cow::Borrowed(&*self.raw)
        }
    }

    /// [`El::text`] without white space around it.
    fn trimmed(&self) -> String {
        match self.text() {
            Cow::Owned(s) if s.trim().len() == s.len() => s,
            text => text.trim().to_owned(),
        }
    }

    fn child(&self, name: &str) -> Option<&El<'_>> {
        self.children.iter().find(|c| &*c.name == name)
    }

    /// A non-blank attribute, trimmed.
    fn opt(&self, local: &str) -> Option<String> {
        self.attr(local)
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
    }

    /// A GUID-valued attribute, normalised.
    fn guid_attr(&self, local: &str) -> Option<String> {
        self.attr(local).map(guid).filter(|g| !g.is_empty())
    }
}

/// The `name` attribute as written, unless it is missing or blank.
fn name_of(el: &El) -> Option<String> {
    el.attr("name")
        .filter(|n| !n.trim().is_empty())
        .map(str::to_owned)
}

fn line_col(xml: &str, at: usize) -> (usize, usize) {
    let before = &xml.as_bytes()[..at.min(xml.len())];
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let line_start = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |p| p + 1);
    let col = String::from_utf8_lossy(&before[line_start..])
        .chars()
        .count()
        + 1;
    (line, col)
}

fn malformed(xml: &str, label: &str, at: u64, e: impl Display) -> FormatError {
    let (line, col) = line_col(xml, usize::try_from(at).unwrap_or(usize::MAX));
    FormatError::new(format!(
        "{label} is not well-formed XML ({e}) at line {line}, column {col}"
    ))
}

fn dtd_refused(label: &str) -> FormatError {
    FormatError::new(format!(
        "{label} contains a DTD (<!DOCTYPE …>), which is not allowed in REFI-QDA files; \
         refusing to read it"
    ))
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

/// Add character data to an element's: the first piece is borrowed from
/// the file (a long description is then not copied at all), later ones
/// make it owned.
fn append<'x>(raw: &mut Cow<'x, str>, text: Cow<'x, str>) {
    if raw.is_empty() {
        *raw = text;
    } else {
        raw.to_mut().push_str(&text);
    }
}

/// The whole document as a tree. DTDs, unknown entities, several roots,
/// unclosed elements and nesting deeper than [`MAX_DEPTH`] are errors.
fn parse<'x>(xml: &'x str, label: &str) -> Result<El<'x>, FormatError> {
    let mut reader = Reader::from_str(xml);
    reader.config_mut().expand_empty_elements = true;
    reader.config_mut().check_end_names = true;
    let mut stack: Vec<El> = Vec::new();
    let mut root: Option<El> = None;
    let mut elements = 0usize;
    let mut names: HashMap<String, Rc<str>> = HashMap::new();
    loop {
        let before = reader.buffer_position();
        let event = reader
            .read_event()
            .map_err(|e| malformed(xml, label, reader.error_position(), e))?;
        match event {
            Event::Start(e) => {
                if stack.is_empty() && root.is_some() {
                    return Err(malformed(xml, label, before, "more than one root element"));
                }
                elements += 1;
                if elements > MAX_ELEMENTS {
                    return Err(FormatError::new(format!(
                        "{label} has more than {} elements, the most Parley reads in one file",
                        crate::domain::document::thousands(MAX_ELEMENTS)
                    )));
                }
                if stack.len() >= MAX_DEPTH {
                    return Err(FormatError::new(format!(
                        "{label} nests elements more than {MAX_DEPTH} levels deep; refusing to read it"
                    )));
                }
                let mut attrs = Vec::new();
                for attr in e.attributes() {
                    let attr = attr.map_err(|err| malformed(xml, label, before, err))?;
                    let value = attr
                        .normalized_value(XmlVersion::Implicit1_0)
                        .map_err(|err| malformed(xml, label, before, err))?;
                    let key = attr.key.as_ref().to_owned();
                    attrs.push((key, value.into_owned()));
                }
                let local = e.local_name();
                let name = match names.get(local.as_ref()) {
                    Some(name) => name.clone(),
                    None => {
                        let name: Rc<str> = Rc::from(local.as_ref());
                        names.insert(local.as_ref().to_owned(), name.clone());
                        name
                    }
                };
                let qname = e.name();
                stack.push(El {
                    name,
                    prefix: qname
                        .as_ref()
                        .split_once(':')
                        .map(|(prefix, _)| Box::from(prefix)),
                    attrs,
                    raw: Cow::Borrowed(""),
                    children: Vec::new(),
                    at: usize::try_from(before).unwrap_or(usize::MAX),
                });
            }
            Event::End(_) => {
                let Some(done) = stack.pop() else {
                    return Err(malformed(xml, label, before, "an end tag without a start"));
                };
                match stack.last_mut() {
                    Some(parent) => parent.children.push(done),
                    None => root = Some(done),
                }
            }
            Event::Text(t) => {
                let text = t.into_inner();
                match stack.last_mut() {
                    Some(top) => append(&mut top.raw, text),
                    None if text.trim().is_empty() => {}
                    None => {
                        return Err(malformed(
                            xml,
                            label,
                            before,
                            "text outside the root element",
                        ));
                    }
                }
            }
            Event::CData(t) => match stack.last_mut() {
                Some(top) => append(&mut top.raw, t.into_inner()),
                None => {
                    return Err(malformed(
                        xml,
                        label,
                        before,
                        "text outside the root element",
                    ));
                }
            },
            Event::GeneralRef(r) => {
                let resolved = resolve_reference(&r).ok_or_else(|| {
                    malformed(xml, label, before, format!("unknown entity &{};", &*r))
                })?;
                match stack.last_mut() {
                    Some(top) => top.raw.to_mut().push_str(&resolved),
                    None => {
                        return Err(malformed(
                            xml,
                            label,
                            before,
                            "text outside the root element",
                        ));
                    }
                }
            }
            Event::DocType(_) => return Err(dtd_refused(label)),
            Event::Eof => break,
            _ => {}
        }
    }
    if !stack.is_empty() {
        return Err(malformed(
            xml,
            label,
            reader.buffer_position(),
            "it ends before all its elements are closed",
        ));
    }
    root.ok_or_else(|| malformed(xml, label, 0, "no root element"))
}

/// Any `urn:QDA-XML:…` namespace (`project:1.0`, `codebook:1:0`,
/// `codebook:0:4` …) or none; another vocabulary is not REFI-QDA.
fn check_namespace(root: &El, label: &str) -> Result<(), FormatError> {
    let declared = match &root.prefix {
        Some(prefix) => root.raw_attr(&format!("xmlns:{prefix}")),
        None => root.raw_attr("xmlns"),
    };
    match declared.map(str::trim) {
        None | Some("") => Ok(()),
        Some(ns) if ns.to_ascii_lowercase().starts_with("urn:qda-xml:") => Ok(()),
        Some(ns) => Err(FormatError::new(format!(
            "{label} is not a REFI-QDA file: its elements are in the namespace {ns:?}, \
             not urn:QDA-XML:…"
        ))),
    }
}

// -------------------------------------------------------------- model ----

/// Counts of what was read but not kept, one report line per kind.
#[derive(Default)]
struct Tally(Vec<(String, String, usize)>);

impl Tally {
    fn add(&mut self, one: &str, many: &str) {
        match self.0.iter_mut().find(|(o, _, _)| o == one) {
            Some(entry) => entry.2 += 1,
            None => self.0.push((one.to_owned(), many.to_owned(), 1)),
        }
    }

    fn unknown(&mut self, el: &El) {
        self.add(
            &format!("unknown <{}> element", el.name),
            &format!("unknown <{}> elements", el.name),
        );
    }

    fn lines(&self) -> Vec<String> {
        self.0
            .iter()
            .map(|(one, many, n)| {
                if *n == 1 {
                    format!("1 {one}")
                } else {
                    format!("{n} {many}")
                }
            })
            .collect()
    }
}

struct Walker<'x, F> {
    xml: &'x str,
    label: &'x str,
    file: F,
    skipped: Tally,
    /// Text sources whose file is not UTF-8: "name (path)".
    bad_files: Vec<String>,
}

impl<'x, F: FnMut(&str) -> Option<Vec<u8>>> Walker<'x, F> {
    fn new(xml: &'x str, label: &'x str, file: F) -> Self {
        Walker {
            xml,
            label,
            file,
            skipped: Tally::default(),
            bad_files: Vec::new(),
        }
    }

    /// The element's own GUID: the one attribute every element must have.
    fn guid_of(&self, el: &El) -> Result<String, FormatError> {
        el.guid_attr("guid").ok_or_else(|| {
            let (line, _) = line_col(self.xml, el.at);
            let named = el
                .opt("name")
                .map(|n| format!(" ({:?})", n.chars().take(80).collect::<String>()))
                .unwrap_or_default();
            FormatError::new(format!(
                "{} is not a valid REFI-QDA file: the <{}> element{named} at line {line} has no guid",
                self.label, el.name
            ))
        })
    }

    /// `targetGUID` (or, in codebooks, `guid`) of a reference.
    fn target(&mut self, el: &El) -> Option<String> {
        let target = el.guid_attr("targetGUID").or_else(|| el.guid_attr("guid"));
        if target.is_none() {
            self.skipped.add(
                "reference without a target GUID",
                "references without a target GUID",
            );
        }
        target
    }

    fn project(&mut self, root: &El) -> Result<Exchange, FormatError> {
        let mut ex = Exchange {
            name: root.attr("name").unwrap_or_default().to_owned(),
            origin: root.opt("origin"),
            ..Exchange::default()
        };
        for part in &root.children {
            match &*part.name {
                "Users" => {
                    for user in &part.children {
                        if &*user.name == "User" {
                            ex.users.push(User {
                                guid: self.guid_of(user)?,
                                name: user.attr("name").map(str::to_owned),
                            });
                        } else {
                            self.skipped.unknown(user);
                        }
                    }
                }
                "CodeBook" => self.codebook(part, &mut ex)?,
                "Variables" => {
                    for var in &part.children {
                        if &*var.name == "Variable" {
                            ex.variables.push(Variable {
                                guid: self.guid_of(var)?,
                                name: var.attr("name").unwrap_or_default().to_owned(),
                                kind: var.opt("typeOfVariable").unwrap_or_default(),
                            });
                        } else {
                            self.skipped.unknown(var);
                        }
                    }
                }
                "Cases" => {
                    for case in &part.children {
                        if &*case.name == "Case" {
                            let case = self.case(case)?;
                            ex.cases.push(case);
                        } else {
                            self.skipped.unknown(case);
                        }
                    }
                }
                "Sources" => {
                    for source in &part.children {
                        if &*source.name == "TextSource" {
                            let source = self.text_source(source)?;
                            ex.sources.push(source);
                        } else {
                            ex.other_sources.push(other_source(source));
                        }
                    }
                }
                "Notes" => {
                    for note in &part.children {
                        if &*note.name == "Note" {
                            let note = self.note(note)?;
                            ex.notes.push(note);
                        } else {
                            self.skipped.unknown(note);
                        }
                    }
                }
                "Links" => {
                    for link in &part.children {
                        if &*link.name == "Link" {
                            self.skipped.add("link", "links");
                        } else {
                            self.skipped.unknown(link);
                        }
                    }
                }
                "Sets" => self.sets(part, &mut ex.sets)?,
                "Graphs" => {
                    for graph in &part.children {
                        if &*graph.name == "Graph" {
                            self.skipped.add("graph", "graphs");
                        } else {
                            self.skipped.unknown(graph);
                        }
                    }
                }
                "Description" => ex.description = part.trimmed(),
                "NoteRef" => ex.project_notes.extend(self.target(part)),
                _ => self.skipped.unknown(part),
            }
        }
        Ok(ex)
    }

    /// `CodeBook`: `Codes`, and (in `.qdc` files) `Sets` of codes.
    fn codebook(&mut self, book: &El, ex: &mut Exchange) -> Result<(), FormatError> {
        for part in &book.children {
            match &*part.name {
                "Codes" => {
                    for code in &part.children {
                        if &*code.name == "Code" {
                            let code = self.code(code)?;
                            ex.codes.push(code);
                        } else {
                            self.skipped.unknown(code);
                        }
                    }
                }
                "Sets" => self.sets(part, &mut ex.sets)?,
                _ => self.skipped.unknown(part),
            }
        }
        Ok(())
    }

    fn code(&mut self, el: &El) -> Result<Code, FormatError> {
        let mut code = Code {
            guid: self.guid_of(el)?,
            name: el.attr("name").unwrap_or_default().to_owned(),
            color: el.opt("color"),
            description: String::new(),
            codable: el
                .attr("isCodable")
                .is_none_or(|v| !matches!(v.trim().to_ascii_lowercase().as_str(), "false" | "0")),
            notes: Vec::new(),
            children: Vec::new(),
        };
        for part in &el.children {
            match &*part.name {
                "Description" => code.description = part.trimmed(),
                "NoteRef" => code.notes.extend(self.target(part)),
                "Code" => {
                    let child = self.code(part)?;
                    code.children.push(child);
                }
                _ => self.skipped.unknown(part),
            }
        }
        Ok(code)
    }

    fn sets(&mut self, el: &El, sets: &mut Vec<Set>) -> Result<(), FormatError> {
        for set in &el.children {
            if &*set.name != "Set" {
                self.skipped.unknown(set);
                continue;
            }
            let mut out = Set {
                guid: self.guid_of(set)?,
                name: set.attr("name").unwrap_or_default().to_owned(),
                ..Set::default()
            };
            for member in &set.children {
                match &*member.name {
                    "Description" => out.description = member.trimmed(),
                    "MemberCode" => out.codes.extend(self.target(member)),
                    "MemberSource" => out.sources.extend(self.target(member)),
                    "MemberNote" => out.notes.extend(self.target(member)),
                    _ => self.skipped.unknown(member),
                }
            }
            sets.push(out);
        }
        Ok(())
    }

    fn value(&mut self, el: &El) -> Option<Value> {
        let variable = el
            .child("VariableRef")
            .and_then(|r| r.guid_attr("targetGUID"));
        let value = el.children.iter().find_map(|c| match &*c.name {
            "TextValue" => Some(c.text().into_owned()),
            "BooleanValue" | "IntegerValue" | "FloatValue" | "DateValue" | "DateTimeValue" => {
                Some(c.trimmed())
            }
            _ => None,
        });
        match (variable, value) {
            (Some(variable), Some(value)) => Some(Value { variable, value }),
            _ => {
                self.skipped
                    .add("incomplete variable value", "incomplete variable values");
                None
            }
        }
    }

    fn case(&mut self, el: &El) -> Result<Case, FormatError> {
        let mut case = Case {
            guid: self.guid_of(el)?,
            name: name_of(el),
            ..Case::default()
        };
        for part in &el.children {
            match &*part.name {
                "Description" => case.description = part.trimmed(),
                "VariableValue" => case.values.extend(self.value(part)),
                "SourceRef" => case.sources.extend(self.target(part)),
                "SelectionRef" => case.selections.extend(self.target(part)),
                "CodeRef" => self
                    .skipped
                    .add("code assigned to a case", "codes assigned to cases"),
                _ => self.skipped.unknown(part),
            }
        }
        Ok(case)
    }

    /// A file's text: `Some` when the file exists (if it is not UTF-8, the
    /// source is listed for the error), `None` when it is missing.
    fn load(&mut self, path: &str) -> Option<Result<String, ()>> {
        let bytes = (self.file)(path)?;
        Some(decode(bytes).map_err(|_| ()))
    }

    fn text_source(&mut self, el: &El) -> Result<TextSource, FormatError> {
        let path = el.opt("plainTextPath");
        let mut source = TextSource {
            guid: self.guid_of(el)?,
            name: name_of(el)
                .or_else(|| path.as_deref().map(file_name).map(str::to_owned))
                .unwrap_or_default(),
            path: path.clone(),
            ..TextSource::default()
        };
        let mut content: Option<String> = None;
        for part in &el.children {
            match &*part.name {
                "Description" => source.description = part.trimmed(),
                // Kept exactly: the positions count this text as its tool
                // did, and a CRLF read as one (Crlf::One) is what an XML
                // parser would have made of it.
                "PlainTextContent" => content = Some(part.raw.clone().into_owned()),
                "PlainTextSelection" => source.selections.extend(self.selection(part)?),
                "Coding" => self
                    .skipped
                    .add("whole-document coding", "whole-document codings"),
                "NoteRef" => source.notes.extend(self.target(part)),
                "VariableValue" => source.values.extend(self.value(part)),
                _ => self.skipped.unknown(part),
            }
        }
        let from_file = match path.as_deref().and_then(|p| self.load(p)) {
            Some(Ok(text)) => Some(text),
            Some(Err(())) => {
                self.bad_files.push(format!(
                    "{:?} ({})",
                    source.name,
                    path.as_deref().unwrap_or_default()
                ));
                None
            }
            None => None,
        };
        source.text = from_file.or(content);
        Ok(source)
    }

    fn selection(&mut self, el: &El) -> Result<Option<Selection>, FormatError> {
        let guid = self.guid_of(el)?;
        let (Some(start), Some(end)) = (
            position(el.attr("startPosition")),
            position(el.attr("endPosition")),
        ) else {
            self.skipped.add(
                "text selection without valid positions",
                "text selections without valid positions",
            );
            return Ok(None);
        };
        let mut selection = Selection {
            guid,
            name: name_of(el),
            start,
            end,
            user: el.guid_attr("creatingUser"),
            created: el.opt("creationDateTime"),
            ..Selection::default()
        };
        for part in &el.children {
            match &*part.name {
                "Description" => selection.description = part.trimmed(),
                "Coding" => {
                    let coding = self.coding(part)?;
                    selection.codings.push(coding);
                }
                "NoteRef" => selection.notes.extend(self.target(part)),
                _ => self.skipped.unknown(part),
            }
        }
        Ok(Some(selection))
    }

    fn coding(&mut self, el: &El) -> Result<Coding, FormatError> {
        let mut coding = Coding {
            guid: self.guid_of(el)?,
            user: el.guid_attr("creatingUser"),
            created: el.opt("creationDateTime"),
            ..Coding::default()
        };
        for part in &el.children {
            match &*part.name {
                "CodeRef" => {
                    if let Some(code) = self.target(part) {
                        coding.code = code;
                    }
                }
                "NoteRef" => coding.notes.extend(self.target(part)),
                _ => self.skipped.unknown(part),
            }
        }
        Ok(coding)
    }

    fn note(&mut self, el: &El) -> Result<Note, FormatError> {
        let mut note = Note {
            guid: self.guid_of(el)?,
            name: el.attr("name").map(str::to_owned),
            user: el.guid_attr("creatingUser"),
            created: el.opt("creationDateTime"),
            ..Note::default()
        };
        let mut content = None;
        for part in &el.children {
            match &*part.name {
                "PlainTextContent" => content = Some(part.text().into_owned()),
                "PlainTextSelection" => self
                    .skipped
                    .add("selection in a note", "selections in notes"),
                "Description" | "NoteRef" | "VariableValue" | "Coding" => {}
                _ => self.skipped.unknown(part),
            }
        }
        let from_file = match el.opt("plainTextPath") {
            Some(path) => match (self.file)(&path) {
                Some(bytes) => Some(decode(bytes).unwrap_or_else(|bytes| {
                    self.skipped.add(
                        "note whose file is not UTF-8 (read with replacement characters)",
                        "notes whose files are not UTF-8 (read with replacement characters)",
                    );
                    String::from_utf8_lossy(&bytes).into_owned()
                })),
                None if content.is_none() => {
                    self.skipped.add(
                        "note whose text file is missing",
                        "notes whose text files are missing",
                    );
                    None
                }
                None => None,
            },
            None => None,
        };
        note.text = from_file.or(content).unwrap_or_default();
        Ok(note)
    }
}

/// `startPosition`/`endPosition`: an integer, also written as `12.0`.
fn position(value: Option<&str>) -> Option<i64> {
    let value = value?.trim();
    if let Ok(n) = value.parse::<i64>() {
        return Some(n);
    }
    let f = value.parse::<f64>().ok()?;
    (f.fract() == 0.0 && f.abs() < 9.0e15).then_some(f as i64)
}

/// A source Parley does not import, with the selections and codings in it
/// (a PDF selection repeated in the PDF's text representation counts once).
fn other_source(el: &El) -> OtherSource {
    fn walk(
        el: &El,
        selection: Option<&str>,
        selections: &mut HashSet<String>,
        codings: &mut HashSet<(String, String)>,
        loose: &mut usize,
    ) {
        for child in &el.children {
            if child.name.ends_with("Selection") {
                let key = child
                    .guid_attr("guid")
                    .unwrap_or_else(|| format!("#{}", child.at));
                selections.insert(key.clone());
                walk(child, Some(&key), selections, codings, loose);
            } else if &*child.name == "Coding" {
                let code = child
                    .child("CodeRef")
                    .and_then(|r| r.guid_attr("targetGUID"));
                match (selection, code) {
                    (Some(s), Some(c)) => {
                        codings.insert((s.to_owned(), c));
                    }
                    _ => *loose += 1,
                }
            } else {
                walk(child, selection, selections, codings, loose);
            }
        }
    }
    let mut selections = HashSet::new();
    let mut codings = HashSet::new();
    let mut loose = 0;
    walk(el, None, &mut selections, &mut codings, &mut loose);
    OtherSource {
        kind: el.name.to_string(),
        name: name_of(el)
            .or_else(|| el.attr("path").map(file_name).map(str::to_owned))
            .unwrap_or_default(),
        selections: selections.len(),
        codings: codings.len() + loose,
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use zip::write::SimpleFileOptions;
    use zip::{CompressionMethod, ZipWriter};

    use super::*;
    use crate::formats::refi::positions::{self, Crlf, Unit};

    const QC_DEMO: &[u8] =
        include_bytes!("../../../tests/fixtures/refi/samples/qc-1.3.2_demo.qdpx");
    const ATLAS: &[u8] = include_bytes!(
        "../../../tests/fixtures/refi/samples/refi-1.5-annexA2_atlasti-8.4-example.qdpx"
    );
    const TAGUETTE: &[u8] = include_bytes!("../../../tests/fixtures/refi/taguette-1.4.1.qdc");
    const NVIVO_MAC_QDC: &[u8] =
        include_bytes!("../../../tests/fixtures/refi/nvivo-mac-codebook-1-0.qdc");

    fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
        let mut writer = ZipWriter::new(Cursor::new(Vec::new()));
        let options = SimpleFileOptions::default().compression_method(CompressionMethod::Deflated);
        for (name, data) in entries {
            writer.start_file(*name, options).unwrap();
            writer.write_all(data).unwrap();
        }
        writer.finish().unwrap().into_inner()
    }

    fn error<T: std::fmt::Debug>(result: Result<T, FormatError>) -> String {
        match result {
            Ok(v) => panic!("expected an error, got {v:?}"),
            Err(e) => e.0,
        }
    }

    fn qdpx(entries: &[(&str, &[u8])]) -> Result<Exchange, FormatError> {
        read_qdpx(&zip_of(entries), &ZipLimits::default())
    }

    fn all_codes(codes: &[Code]) -> Vec<&Code> {
        codes
            .iter()
            .flat_map(|c| std::iter::once(c).chain(all_codes(&c.children)))
            .collect()
    }

    const PROJECT: &str = r##"<?xml version="1.0" encoding="utf-8"?>
<Project xmlns="urn:QDA-XML:project:1.0" name="Tiny" origin="MAXQDA 24">
  <CodeBook><Codes>
    <Code guid="{AAAAAAAA-0000-0000-0000-000000000001}" name="Care" isCodable="0" color="#ff0000">
      <Description> looking after </Description>
      <Code guid="AAAAAAAA-0000-0000-0000-000000000002" name="Respite" isCodable="1"/>
    </Code>
  </Codes></CodeBook>
  <Sources>
    <TextSource guid="BBBBBBBB-0000-0000-0000-000000000001" name="Interview 1"
        plainTextPath="internal://BBBBBBBB-0000-0000-0000-000000000001.txt">
      <PlainTextSelection guid="CCCCCCCC-0000-0000-0000-000000000001" startPosition="0"
          endPosition="5" name="Hello">
        <Coding guid="DDDDDDDD-0000-0000-0000-000000000001">
          <CodeRef targetGUID="{aaaaaaaa-0000-0000-0000-000000000002}"/>
        </Coding>
      </PlainTextSelection>
    </TextSource>
  </Sources>
</Project>"##;

    #[test]
    fn the_qc_demo_reads_with_its_codes_selections_and_text() {
        let ex = read_qdpx(QC_DEMO, &ZipLimits::default()).unwrap();
        assert_eq!(ex.name, "qc project");
        assert_eq!(ex.origin.as_deref(), Some("qc 1.3.2"));
        assert_eq!(ex.users.len(), 1);
        assert_eq!(ex.sources.len(), 2);
        assert_eq!(all_codes(&ex.codes).len(), 262);
        let selections: Vec<&Selection> = ex.sources.iter().flat_map(|s| &s.selections).collect();
        assert_eq!(selections.len(), 158);
        let codings: usize = selections.iter().map(|s| s.codings.len()).sum();
        assert_eq!(codings, 205);
        // Bare plainTextPath, no names: the file name stands in.
        let names: Vec<&str> = ex.sources.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["board_2017.txt", "admin-1.txt"]);
        for source in &ex.sources {
            let text = source.text.as_deref().expect("text found");
            assert!(text.len() > 30_000, "{}", source.name);
        }
        assert!(ex.other_sources.is_empty());
        assert!(ex.skipped.is_empty(), "{:?}", ex.skipped);
        // Every coding names a code of the codebook.
        let guids: HashSet<&str> = all_codes(&ex.codes)
            .iter()
            .map(|c| c.guid.as_str())
            .collect();
        assert!(
            selections
                .iter()
                .flat_map(|s| &s.codings)
                .all(|c| guids.contains(c.code.as_str()))
        );
        // Its selections fit the text as code points and are all placed.
        let board = &ex.sources[0];
        let raw = board.text.as_deref().unwrap();
        let sels: Vec<(i64, i64, Option<&str>)> = board
            .selections
            .iter()
            .map(|s| (s.start, s.end, s.name.as_deref()))
            .collect();
        let (unit, crlf, score) = positions::choose_unit(raw, &sels, ex.origin.as_deref());
        assert_eq!((unit, crlf), (Unit::CodePoints, Crlf::Two));
        assert_eq!(score.in_range, sels.len());
    }

    #[test]
    fn the_atlas_example_reads_with_every_element_type() {
        let ex = read_qdpx(ATLAS, &ZipLimits::default()).unwrap();
        assert_eq!(ex.name, "ATLAS.ti standard project");
        assert!(ex.origin.as_deref().unwrap().starts_with("ATLAS.ti 8.4"));
        assert_eq!(ex.users.len(), 3);
        assert_eq!(ex.users[0].guid, "c32a2bd5-537f-4838-8b17-df9efbafdf4b");
        assert_eq!(ex.codes.len(), 14);
        assert!(ex.codes.iter().any(|c| c.name == "Coke::diet Coke"));
        assert!(ex.codes.iter().any(|c| c.name == "\"rushed\""));
        let feelings = ex.codes.iter().find(|c| c.name == "Feelings").unwrap();
        assert_eq!(feelings.description, "thoughts about breakfast foods");
        assert_eq!(feelings.color.as_deref(), Some("#F00082"));
        // Six text sources; their files are absent from this archive.
        assert_eq!(ex.sources.len(), 6);
        assert!(ex.sources.iter().all(|s| s.text.is_none()));
        assert_eq!(
            ex.sources[0].path.as_deref(),
            Some("internal://01106019-2518-43DD-BBD1-8F0252BACB30.txt")
        );
        let simon = ex.sources.iter().find(|s| s.name == "Simon.docx").unwrap();
        assert_eq!(simon.selections.len(), 3);
        assert_eq!(
            simon.selections[0].description,
            "why does Simon feel the need to do this?"
        );
        let mabel = ex.sources.iter().find(|s| s.name == "Mabel.txt").unwrap();
        assert_eq!(mabel.selections[0].codings.len(), 3);
        assert_eq!(
            mabel.selections[0].codings[0].user.as_deref(),
            Some("ad68fbe7-e1ee-4a82-a279-23cc698c89eb")
        );
        assert_eq!(
            mabel.selections[0].codings[0].created.as_deref(),
            Some("2018-03-27T19:04:42Z")
        );
        // Picture, two PDFs, audio and two videos are listed, not imported.
        let kinds: Vec<&str> = ex.other_sources.iter().map(|s| s.kind.as_str()).collect();
        assert_eq!(
            kinds,
            [
                "PictureSource",
                "PDFSource",
                "PDFSource",
                "AudioSource",
                "VideoSource",
                "VideoSource"
            ]
        );
        let picture = &ex.other_sources[0];
        assert_eq!((picture.selections, picture.codings), (1, 2));
        assert_eq!(picture.name, "cornflakes-n-milk.jpg");
        let pdf = &ex.other_sources[2];
        assert!(pdf.name.starts_with("Pay de Lim"));
        // Two of its four selections are repeated in its text representation.
        assert_eq!((pdf.selections, pdf.codings), (4, 4));
        let video = &ex.other_sources[5];
        assert_eq!((video.selections, video.codings), (2, 1));
        // Notes, sets, and what was left out.
        assert_eq!(ex.notes.len(), 2);
        assert_eq!(ex.notes[0].name.as_deref(), Some("Research Plan"));
        assert!(ex.notes[0].text.starts_with("This is a great project"));
        assert_eq!(ex.sets.len(), 16);
        let feelings_set = ex.sets.iter().find(|s| s.name == "Feelings").unwrap();
        assert_eq!(feelings_set.codes.len(), 6);
        let mabel_set = ex.sets.iter().find(|s| s.name == "Mabel").unwrap();
        assert_eq!(mabel_set.sources.len(), 2);
        assert!(ex.sets.iter().any(|s| s.name == "<3"));
        assert_eq!(ex.skipped, ["1 link", "1 graph"]);
    }

    #[test]
    fn sources_are_found_by_file_name_in_any_folder_and_case() {
        let project = PROJECT.replace(
            "internal://BBBBBBBB-0000-0000-0000-000000000001.txt",
            "internal://bbbbbbbb-0000-0000-0000-000000000001.TXT",
        );
        for (qde, folder) in [
            ("project.qde", "sources/"),
            ("Project.qde", "Sources/"),
            ("My Study.QDE", ""),
        ] {
            let txt = format!("{folder}BBBBBBBB-0000-0000-0000-000000000001.txt");
            let ex = qdpx(&[
                (qde, project.as_bytes()),
                (&txt, b"Hello world"),
                ("sources/.root", b""),
            ])
            .unwrap();
            assert_eq!(ex.sources[0].text.as_deref(), Some("Hello world"), "{qde}");
        }
        for path in [
            "relative:///board.txt",
            "board.txt",
            "Sources/board.txt",
            "internal://board%20.txt",
            "absolute:///C:/Users/someone/board.txt",
        ] {
            let project =
                PROJECT.replace("internal://BBBBBBBB-0000-0000-0000-000000000001.txt", path);
            let file = if path.contains("%20") {
                "sources/board .txt"
            } else {
                "sources/board.txt"
            };
            let ex = qdpx(&[("project.qde", project.as_bytes()), (file, b"Hello")]).unwrap();
            assert_eq!(ex.sources[0].text.as_deref(), Some("Hello"), "{path}");
        }
    }

    #[test]
    fn the_tiny_project_reads_fully() {
        let ex = qdpx(&[
            ("project.qde", PROJECT.as_bytes()),
            (
                "sources/BBBBBBBB-0000-0000-0000-000000000001.txt",
                b"\xEF\xBB\xBFHello\r\nworld",
            ),
        ])
        .unwrap();
        assert_eq!(ex.origin.as_deref(), Some("MAXQDA 24"));
        let care = &ex.codes[0];
        assert_eq!(care.guid, "aaaaaaaa-0000-0000-0000-000000000001");
        assert!(!care.codable);
        assert_eq!(care.description, "looking after");
        assert_eq!(care.color.as_deref(), Some("#ff0000"));
        assert!(care.children[0].codable);
        let source = &ex.sources[0];
        assert_eq!(source.guid, "bbbbbbbb-0000-0000-0000-000000000001");
        // BOM dropped, CRLF kept.
        assert_eq!(source.text.as_deref(), Some("Hello\r\nworld"));
        let selection = &source.selections[0];
        assert_eq!((selection.start, selection.end), (0, 5));
        assert_eq!(selection.name.as_deref(), Some("Hello"));
        // Braced, lower-case reference to an upper-case GUID: the same code.
        assert_eq!(selection.codings[0].code, care.children[0].guid);
    }

    #[test]
    fn a_missing_source_file_keeps_the_source_without_text() {
        let ex = qdpx(&[("project.qde", PROJECT.as_bytes())]).unwrap();
        assert_eq!(ex.sources.len(), 1);
        assert_eq!(ex.sources[0].text, None);
        assert_eq!(ex.sources[0].selections.len(), 1);
        assert_eq!(
            ex.sources[0].path.as_deref(),
            Some("internal://BBBBBBBB-0000-0000-0000-000000000001.txt")
        );
    }

    #[test]
    fn source_text_may_be_utf16_but_not_another_encoding() {
        let utf16: Vec<u8> = [0xFF, 0xFE]
            .into_iter()
            .chain("Héllo 😀".encode_utf16().flat_map(u16::to_le_bytes))
            .collect();
        let txt = "sources/BBBBBBBB-0000-0000-0000-000000000001.txt";
        let ex = qdpx(&[("project.qde", PROJECT.as_bytes()), (txt, &utf16)]).unwrap();
        assert_eq!(ex.sources[0].text.as_deref(), Some("Héllo 😀"));
        let message = error(qdpx(&[
            ("project.qde", PROJECT.as_bytes()),
            (txt, b"caf\xE9 au lait"),
        ]));
        assert!(message.contains("not UTF-8"), "{message}");
        assert!(message.contains("\"Interview 1\""), "{message}");
        assert!(message.contains("BBBBBBBB-0000"), "{message}");
    }

    #[test]
    fn text_may_come_inline_and_decomposed_accents_stay_as_written() {
        let xml = r#"<Project name="x"><Sources>
            <TextSource guid="11111111-1111-1111-1111-111111111111" name="inline">
              <PlainTextContent>Cafe&#x301; au lait</PlainTextContent>
              <PlainTextSelection guid="22222222-2222-2222-2222-222222222222" startPosition="6" endPosition="8"/>
            </TextSource></Sources></Project>"#;
        let ex = read_qde(xml, |_| None).unwrap();
        let raw = ex.sources[0].text.as_deref().unwrap();
        assert_eq!(raw, "Cafe\u{301} au lait");
        let (text, table) = positions::normalise_with_map(raw, Unit::CodePoints, Crlf::Two);
        let m = positions::map(&table, 6, 8).unwrap();
        let selected: String = text.chars().skip(m.start).take(m.end - m.start).collect();
        assert_eq!(selected, "au");

        // A literal CRLF in inline text stays (an XML parser would read LF):
        // positions from a tool that counted it as two still fit.
        let xml = "<Project><Sources><TextSource guid=\"11111111-1111-1111-1111-111111111111\">\
                   <PlainTextContent>one\r\ntwo</PlainTextContent><Description>a\r\nb</Description>\
                   </TextSource></Sources></Project>";
        let ex = read_qde(xml, |_| None).unwrap();
        assert_eq!(ex.sources[0].text.as_deref(), Some("one\r\ntwo"));
        assert_eq!(ex.sources[0].description, "a\nb");
    }

    #[test]
    fn cases_variables_notes_and_references_are_read() {
        let xml = r#"<?xml version="1.0"?>
<Project xmlns="urn:QDA-XML:project:1.0" name="Groups">
  <Users><User guid="EEEEEEEE-0000-0000-0000-000000000001" name="Ann"/></Users>
  <Variables>
    <Variable guid="F0000000-0000-0000-0000-000000000001" name="Stakeholder group" typeOfVariable="Text"><Description>who</Description></Variable>
    <Variable guid="F0000000-0000-0000-0000-000000000002" name="Age" typeOfVariable="Integer"/>
  </Variables>
  <Cases>
    <Case guid="C0000000-0000-0000-0000-000000000001" name="P1">
      <Description>first</Description>
      <CodeRef targetGUID="AAAAAAAA-0000-0000-0000-000000000001"/>
      <VariableValue><VariableRef targetGUID="F0000000-0000-0000-0000-000000000001"/><TextValue>carer</TextValue></VariableValue>
      <VariableValue><VariableRef targetGUID="F0000000-0000-0000-0000-000000000002"/><IntegerValue> 67 </IntegerValue></VariableValue>
      <SourceRef targetGUID="B0000000-0000-0000-0000-000000000001"/>
      <SelectionRef targetGUID="{S0000000-0000-0000-0000-000000000001}"/>
    </Case>
    <Case guid="C0000000-0000-0000-0000-000000000002"/>
  </Cases>
  <Sources>
    <TextSource guid="B0000000-0000-0000-0000-000000000001" plainTextPath="internal://t.txt">
      <PlainTextSelection guid="50000000-0000-0000-0000-000000000001" startPosition="0" endPosition="2"
          creatingUser="EEEEEEEE-0000-0000-0000-000000000001" creationDateTime="2024-01-01T00:00:00Z">
        <Description>memo</Description>
        <Coding guid="60000000-0000-0000-0000-000000000001" creatingUser="EEEEEEEE-0000-0000-0000-000000000001">
          <CodeRef targetGUID="AAAAAAAA-0000-0000-0000-000000000001"/>
          <NoteRef targetGUID="N0000000-0000-0000-0000-000000000001"/>
        </Coding>
        <NoteRef targetGUID="N0000000-0000-0000-0000-000000000002"/>
      </PlainTextSelection>
      <PlainTextSelection guid="50000000-0000-0000-0000-000000000002" startPosition="x"/>
      <Coding guid="60000000-0000-0000-0000-000000000002"><CodeRef targetGUID="AAAAAAAA-0000-0000-0000-000000000001"/></Coding>
      <NoteRef targetGUID="N0000000-0000-0000-0000-000000000001"/>
      <VariableValue><VariableRef targetGUID="F0000000-0000-0000-0000-000000000001"/><TextValue>staff</TextValue></VariableValue>
      <Shiny/>
    </TextSource>
  </Sources>
  <Notes>
    <Note guid="N0000000-0000-0000-0000-000000000001" name="Journal" plainTextPath="internal://journal.txt"/>
    <Note guid="N0000000-0000-0000-0000-000000000002"><PlainTextContent>inline memo</PlainTextContent></Note>
    <Note guid="N0000000-0000-0000-0000-000000000003" plainTextPath="internal://gone.txt"/>
  </Notes>
  <Links><Link guid="L0000000-0000-0000-0000-000000000001"/><Link guid="L0000000-0000-0000-0000-000000000002"/><Link guid="L0000000-0000-0000-0000-000000000003"/></Links>
  <Sets><Set guid="50000000-5000-0000-0000-000000000001" name="Group A"><Description>d</Description>
    <MemberSource targetGUID="B0000000-0000-0000-0000-000000000001"/><MemberNote targetGUID="N0000000-0000-0000-0000-000000000001"/></Set></Sets>
  <Description>The project</Description>
  <NoteRef targetGUID="N0000000-0000-0000-0000-000000000002"/>
  <Extension/><Extension/>
</Project>"#;
        let ex = read_qde(xml, |path| match path {
            "internal://t.txt" => Some(b"Hi there".to_vec()),
            "internal://journal.txt" => Some(b"\xEF\xBB\xBFDear diary".to_vec()),
            _ => None,
        })
        .unwrap();
        assert_eq!(ex.users[0].name.as_deref(), Some("Ann"));
        assert_eq!(ex.variables.len(), 2);
        assert_eq!(ex.variables[1].kind, "Integer");
        let p1 = &ex.cases[0];
        assert_eq!(p1.name.as_deref(), Some("P1"));
        assert_eq!(p1.description, "first");
        assert_eq!(p1.values[0].value, "carer");
        assert_eq!(p1.values[1].value, "67");
        assert_eq!(
            p1.values[1].variable,
            "f0000000-0000-0000-0000-000000000002"
        );
        assert_eq!(p1.sources, ["b0000000-0000-0000-0000-000000000001"]);
        assert_eq!(p1.selections, ["s0000000-0000-0000-0000-000000000001"]);
        assert_eq!(ex.cases[1].name, None);
        let source = &ex.sources[0];
        assert_eq!(source.name, "t.txt");
        assert_eq!(source.text.as_deref(), Some("Hi there"));
        assert_eq!(source.selections.len(), 1);
        let selection = &source.selections[0];
        assert_eq!(selection.description, "memo");
        assert_eq!(
            selection.user.as_deref(),
            Some("eeeeeeee-0000-0000-0000-000000000001")
        );
        assert_eq!(selection.created.as_deref(), Some("2024-01-01T00:00:00Z"));
        assert_eq!(selection.notes, ["n0000000-0000-0000-0000-000000000002"]);
        assert_eq!(
            selection.codings[0].notes,
            ["n0000000-0000-0000-0000-000000000001"]
        );
        assert_eq!(source.notes, ["n0000000-0000-0000-0000-000000000001"]);
        assert_eq!(source.values[0].value, "staff");
        assert_eq!(ex.notes[0].text, "Dear diary");
        assert_eq!(ex.notes[1].text, "inline memo");
        assert_eq!(ex.notes[2].text, "");
        assert_eq!(ex.sets[0].sources.len(), 1);
        assert_eq!(ex.sets[0].notes.len(), 1);
        assert_eq!(ex.sets[0].description, "d");
        assert_eq!(ex.description, "The project");
        assert_eq!(ex.project_notes, ["n0000000-0000-0000-0000-000000000002"]);
        assert_eq!(
            ex.skipped,
            [
                "1 code assigned to a case",
                "1 text selection without valid positions",
                "1 whole-document coding",
                "1 unknown <Shiny> element",
                "1 note whose text file is missing",
                "3 links",
                "2 unknown <Extension> elements",
            ]
        );
    }

    #[test]
    fn missing_attributes_other_than_guid_are_tolerated() {
        let xml = r#"<Project><CodeBook><Codes><Code guid="AAAAAAAA-0000-0000-0000-000000000001"/></Codes></CodeBook>
            <Sources><TextSource guid="BBBBBBBB-0000-0000-0000-000000000001"/></Sources>
            <Sets><Set guid="CCCCCCCC-0000-0000-0000-000000000001"><MemberCode/></Set></Sets></Project>"#;
        let ex = read_qde(xml, |_| None).unwrap();
        assert_eq!(ex.name, "");
        assert_eq!(ex.codes[0].name, "");
        assert!(ex.codes[0].codable);
        assert_eq!(ex.sources[0].name, "");
        assert_eq!(ex.sources[0].text, None);
        assert_eq!(ex.skipped, ["1 reference without a target GUID"]);

        let no_guid = r#"<Project><CodeBook><Codes>
            <Code name="Orphan" isCodable="true"/></Codes></CodeBook></Project>"#;
        let message = error(read_qde(no_guid, |_| None));
        assert!(
            message.contains("<Code> element (\"Orphan\") at line 2 has no guid"),
            "{message}"
        );
    }

    #[test]
    fn is_codable_accepts_words_and_digits() {
        for (value, codable) in [
            ("true", true),
            ("false", false),
            ("1", true),
            ("0", false),
            (" FALSE ", false),
        ] {
            let xml = format!(
                r#"<CodeBook><Codes><Code guid="AAAAAAAA-0000-0000-0000-000000000001" name="c" isCodable="{value}"/></Codes></CodeBook>"#
            );
            assert_eq!(
                read_qdc(xml.as_bytes()).unwrap().codes[0].codable,
                codable,
                "{value}"
            );
        }
    }

    #[test]
    fn codebooks_read_in_every_namespace_variant() {
        for root in [
            r#"<CodeBook xmlns="urn:QDA-XML:codebook:1.0" origin="x">"#,
            r#"<CodeBook xmlns="urn:QDA-XML:codebook:1:0" origin="x">"#,
            r#"<CodeBook xmlns="urn:QDA-XML:codebook:0:4" origin="x">"#,
            r#"<CodeBook origin="x">"#,
        ] {
            let xml = format!(
                r#"<?xml version="1.0" encoding="utf-8"?>{root}<Codes><Code guid="{{AAAAAAAA-0000-0000-0000-00000000000A}}" name="A" isCodable="true"><Code guid="aaaaaaaa-0000-0000-0000-00000000000b" name="B" isCodable="true"/></Code></Codes></CodeBook>"#
            );
            let ex = read_qdc(xml.as_bytes()).unwrap();
            assert_eq!(ex.origin.as_deref(), Some("x"));
            assert_eq!(ex.codes[0].guid, "aaaaaaaa-0000-0000-0000-00000000000a");
            assert_eq!(ex.codes[0].children[0].name, "B");
        }
        let prefixed = r#"<qda:CodeBook xmlns:qda="urn:QDA-XML:codebook:1.0"><qda:Codes><qda:Code guid="AAAAAAAA-0000-0000-0000-000000000001" name="P" isCodable="true"/></qda:Codes></qda:CodeBook>"#;
        assert_eq!(read_qdc(prefixed.as_bytes()).unwrap().codes[0].name, "P");
        let foreign = r#"<CodeBook xmlns="http://example.com/other"><Codes/></CodeBook>"#;
        assert!(error(read_qdc(foreign.as_bytes())).contains("namespace"));
        let project = r#"<Project xmlns="urn:QDA-XML:project:1.0" name="p"/>"#;
        assert!(error(read_qdc(project.as_bytes())).contains("not a codebook"));
        assert!(
            error(read_qde(r#"<CodeBook><Codes/></CodeBook>"#, |_| None)).contains("not a project")
        );
        assert!(error(read_qdc(b"<html><body/></html>")).contains("root element is <html>"));
    }

    #[test]
    fn fixture_codebooks_read() {
        // Taguette: flat, no colours, an empty (schema-invalid) <Sets/>.
        let ex = read_qdc(TAGUETTE).unwrap();
        assert_eq!(ex.origin.as_deref(), Some("Taguette 1.4.1"));
        assert_eq!(ex.codes.len(), 3);
        assert!(
            ex.codes
                .iter()
                .all(|c| c.color.is_none() && c.children.is_empty())
        );
        assert!(ex.sets.is_empty());
        assert!(ex.skipped.is_empty());
        // NVivo for Mac template: `codebook:1:0`, a BOM, braced upper-case
        // GUIDs, code sets with MemberCode@guid.
        let ex = read_qdc(NVIVO_MAC_QDC).unwrap();
        assert_eq!(ex.codes.len(), 2);
        assert_eq!(ex.codes[0].guid, "0e3c1d2a-7f41-4b2e-9a7c-3c5d2e1f0a01");
        assert!(!ex.codes[0].codable);
        assert_eq!(ex.codes[0].children.len(), 2);
        assert_eq!(ex.codes[0].children[1].name, "Café & co");
        assert_eq!(ex.sets.len(), 1);
        assert_eq!(
            ex.sets[0].codes,
            [
                "0e3c1d2a-7f41-4b2e-9a7c-3c5d2e1f0a02",
                "0e3c1d2a-7f41-4b2e-9a7c-3c5d2e1f0a04"
            ]
        );
        // UTF-16 codebooks are read too.
        let utf16: Vec<u8> = [0xFE, 0xFF]
            .into_iter()
            .chain(
                String::from_utf8(TAGUETTE.to_vec())
                    .unwrap()
                    .encode_utf16()
                    .flat_map(u16::to_be_bytes),
            )
            .collect();
        assert_eq!(read_qdc(&utf16).unwrap().codes.len(), 3);
        assert!(error(read_qdc(b"<CodeBook>\xE9</CodeBook>")).contains("not UTF-8"));
    }

    #[test]
    fn a_dtd_and_entities_are_refused() {
        let bomb = r#"<?xml version="1.0"?><!DOCTYPE Project [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]><Project name="&lol2;"/>"#;
        let message = error(read_qde(bomb, |_| None));
        assert!(message.contains("DTD"), "{message}");
        let external =
            r#"<!DOCTYPE CodeBook SYSTEM "file:///etc/passwd"><CodeBook><Codes/></CodeBook>"#;
        assert!(error(read_qdc(external.as_bytes())).contains("DTD"));
        let in_zip = zip_of(&[("project.qde", bomb.as_bytes())]);
        assert!(error(read_qdpx(&in_zip, &ZipLimits::default())).contains("DTD"));
        let undefined = r#"<Project name="a"><Description>&nbsp;</Description></Project>"#;
        let message = error(read_qde(undefined, |_| None));
        assert!(message.contains("unknown entity &nbsp;"), "{message}");
        let undefined_attr = r#"<Project name="&lol;"/>"#;
        assert!(error(read_qde(undefined_attr, |_| None)).contains("not well-formed"));
    }

    #[test]
    fn malformed_xml_is_an_error_with_a_position_not_a_panic() {
        let cases = [
            (PROJECT[..PROJECT.len() / 2].to_owned(), ""),
            (PROJECT.replace("</Codes>", "</Code>"), "line 8"),
            ("<Project><Sources>".to_owned(), ""),
            ("<Project></Sources>".to_owned(), "line 1"),
            ("<Project/><Project/>".to_owned(), "more than one root"),
            ("not xml at all".to_owned(), ""),
            (String::new(), "no root element"),
            ("<Project name=\"a\" name=\"b\"/>".to_owned(), ""),
            (
                "<Project><Description>&#0;</Description></Project>".to_owned(),
                "",
            ),
            (
                "<Project><Description>&#xFFFFFFFF;</Description></Project>".to_owned(),
                "",
            ),
            (
                "<Project>\n  <Sources><TextSource guid=\"x\" name=\"a></Sources></Project>"
                    .to_owned(),
                "line 2",
            ),
        ];
        for (xml, expected) in cases {
            let message = error(read_qde(&xml, |_| None));
            assert!(
                message.contains("not well-formed XML"),
                "{xml:?}: {message}"
            );
            assert!(message.contains("line "), "{xml:?}: {message}");
            assert!(message.contains(expected), "{xml:?}: {message}");
        }
        // Every truncation of a real document fails cleanly or reads.
        for cut in 0..PROJECT.len() {
            if PROJECT.is_char_boundary(cut) {
                let _ = read_qde(&PROJECT[..cut], |_| None);
            }
        }
    }

    #[test]
    fn absurd_nesting_is_refused() {
        let deep = format!(
            "<Project><CodeBook><Codes>{}{}</Codes></CodeBook></Project>",
            "<Code guid=\"AAAAAAAA-0000-0000-0000-000000000001\">".repeat(10_000),
            "</Code>".repeat(10_000)
        );
        assert!(error(read_qde(&deep, |_| None)).contains("levels deep"));
        let fine = format!(
            "<Project><CodeBook><Codes>{}{}</Codes></CodeBook></Project>",
            "<Code guid=\"AAAAAAAA-0000-0000-0000-000000000001\">".repeat(100),
            "</Code>".repeat(100)
        );
        assert_eq!(read_qde(&fine, |_| None).unwrap().codes.len(), 1);
    }

    #[test]
    fn unsafe_entry_names_are_refused() {
        for name in [
            "../x.txt",
            "sources/../../x.txt",
            "/etc/passwd",
            "\\windows\\system32\\x",
            "sources\\..\\..\\x.txt",
            "C:/x.txt",
            "C:\\x.txt",
        ] {
            let message = error(qdpx(&[("project.qde", PROJECT.as_bytes()), (name, b"x")]));
            assert!(message.contains("unsafe name"), "{name}: {message}");
        }
    }

    #[test]
    fn the_project_file_must_be_there_once() {
        let message = error(qdpx(&[("sources/a.txt", b"x")]));
        assert!(message.contains("no project file"), "{message}");
        let message = error(qdpx(&[
            ("project.qde", PROJECT.as_bytes()),
            ("Other.qde", PROJECT.as_bytes()),
        ]));
        assert!(message.contains("2 project files"), "{message}");
        assert!(message.contains("Other.qde"), "{message}");
        // A project folder zipped by hand, with macOS's resource forks.
        let ex = qdpx(&[
            ("Study/project.qde", PROJECT.as_bytes()),
            ("__MACOSX/Study/._project.qde", b"\x00\x05\x16\x07"),
            (
                "Study/sources/BBBBBBBB-0000-0000-0000-000000000001.txt",
                b"Hello",
            ),
        ])
        .unwrap();
        assert_eq!(ex.sources[0].text.as_deref(), Some("Hello"));
        assert!(
            error(read_qdpx(b"PK\x03\x04 not really", &ZipLimits::default()))
                .contains("not a valid .qdpx")
        );
        assert!(error(read_qdpx(b"", &ZipLimits::default())).contains("not a valid .qdpx"));
        let not_text = zip_of(&[("project.qde", b"<Project>\xFF\xFE\xFD</Project>\x80")]);
        assert!(error(read_qdpx(&not_text, &ZipLimits::default())).contains("not UTF-8"));
    }

    #[test]
    fn too_many_entries_are_refused() {
        let names: Vec<String> = (0..20).map(|i| format!("sources/{i}.txt")).collect();
        let mut entries: Vec<(&str, &[u8])> =
            names.iter().map(|n| (n.as_str(), &b"x"[..])).collect();
        entries.push(("project.qde", PROJECT.as_bytes()));
        let limits = ZipLimits {
            max_entries: 10,
            ..ZipLimits::default()
        };
        let message = error(read_qdpx(&zip_of(&entries), &limits));
        assert!(message.contains("21 entries"), "{message}");
        assert!(message.contains("refusing to read it"), "{message}");
    }

    /// Rewrite the uncompressed size both headers declare for `name`.
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
    fn a_zip_bomb_is_stopped_at_the_cap() {
        let txt = "sources/BBBBBBBB-0000-0000-0000-000000000001.txt";
        let bomb = vec![b'a'; 4 * 1024 * 1024];
        let zip = zip_of(&[("project.qde", PROJECT.as_bytes()), (txt, &bomb)]);
        assert!(zip.len() < 64 * 1024, "the bomb compresses well");
        let limits = ZipLimits {
            max_total_bytes: 1024 * 1024,
            ..ZipLimits::default()
        };
        let message = error(read_qdpx(&zip, &limits));
        assert_eq!(
            message,
            "the .qdpx file expands to more than 1 MiB; refusing to read it"
        );
        // A header that understates the size does not get it through.
        let mut lying = zip.clone();
        lie_about_size(&mut lying, txt, 10);
        let message = error(read_qdpx(&lying, &limits));
        assert!(
            message.starts_with("the .qdpx file expands to more than")
                || message.starts_with("the .qdpx file is damaged"),
            "{message}"
        );
        // The project file counts too.
        let tiny = ZipLimits {
            max_total_bytes: 100,
            ..ZipLimits::default()
        };
        assert!(error(read_qdpx(&zip, &tiny)).contains("expands to more than 100 bytes"));
        // Within the cap, it reads.
        let ex = read_qdpx(&zip, &ZipLimits::default()).unwrap();
        assert_eq!(
            ex.sources[0].text.as_ref().map(String::len),
            Some(bomb.len())
        );
    }

    #[test]
    fn garbage_never_panics() {
        let real = zip_of(&[
            ("project.qde", PROJECT.as_bytes()),
            ("sources/BBBBBBBB-0000-0000-0000-000000000001.txt", b"Hello"),
        ]);
        let mut state = 0x9e37_79b9_u64;
        for round in 0..400 {
            let mut bytes = real.clone();
            for _ in 0..(round % 8 + 1) {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                let at = (state % bytes.len() as u64) as usize;
                bytes[at] = (state >> 32) as u8;
            }
            let _ = read_qdpx(&bytes, &ZipLimits::default());
            let _ = read_qdc(&bytes);
        }
        for cut in (0..real.len()).step_by(7) {
            let _ = read_qdpx(&real[..cut], &ZipLimits::default());
        }
    }
}
