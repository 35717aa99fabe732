//! Memos are written in Markdown (CommonMark with ~~strikethrough~~). This
//! reads them two ways: as HTML for the pages, and as blocks of styled runs
//! for Word.
//!
//! The HTML is safe to put in a page whatever the memo holds: raw HTML is
//! shown as the text it is, links go only to `http`, `https`, `mailto` or
//! within Parley, and images become links (a memo never makes the browser
//! fetch anything). A line break in a memo is a line break on the page, as
//! it was typed.

use pulldown_cmark::{CowStr, Event, HeadingLevel, Options, Parser, Tag, TagEnd};

fn parser(md: &str) -> Parser<'_> {
    Parser::new_ext(md, Options::ENABLE_STRIKETHROUGH)
}

/// May a memo link here? Relative addresses, and the schemes that cannot
/// run anything.
fn safe_url(url: &str) -> bool {
    let url = url.trim();
    match url.find(':') {
        None => true,
        Some(colon) => {
            // A colon after a path, query or fragment begins no scheme.
            if url[..colon].contains(['/', '?', '#']) {
                return true;
            }
            let scheme = url[..colon].to_ascii_lowercase();
            matches!(scheme.as_str(), "http" | "https" | "mailto")
        }
    }
}

/// The memo as HTML, safe to insert in a page as is.
pub fn to_html(md: &str) -> String {
    // Links cannot nest in CommonMark, so one flag tells whether the link
    // being read was dropped.
    let mut dropped_link = false;
    let events = parser(md).filter_map(|event| match event {
        Event::Html(s) | Event::InlineHtml(s) => Some(Event::Text(s)),
        Event::Start(Tag::HtmlBlock) => Some(Event::Start(Tag::Paragraph)),
        Event::End(TagEnd::HtmlBlock) => Some(Event::End(TagEnd::Paragraph)),
        Event::SoftBreak => Some(Event::HardBreak),
        Event::Start(Tag::Link {
            link_type,
            dest_url,
            title,
            id,
        })
        | Event::Start(Tag::Image {
            link_type,
            dest_url,
            title,
            id,
        }) => {
            dropped_link = !safe_url(&dest_url);
            (!dropped_link).then_some(Event::Start(Tag::Link {
                link_type,
                dest_url,
                title,
                id,
            }))
        }
        Event::End(TagEnd::Link) | Event::End(TagEnd::Image) => {
            (!std::mem::take(&mut dropped_link)).then_some(Event::End(TagEnd::Link))
        }
        other => Some(other),
    });
    let mut html = String::with_capacity(md.len() * 3 / 2);
    pulldown_cmark::html::push_html(&mut html, events);
    html
}

/// A stretch of text in one style. A `\n` in `text` is a line break.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Span {
    pub text: String,
    pub bold: bool,
    pub italic: bool,
    pub strike: bool,
    pub code: bool,
}

/// What a block is, for the Word writer's paragraph style.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlockKind {
    Paragraph,
    /// 1 to 6.
    Heading(u8),
    /// A list item: its nesting (1 for a top-level list) and, in a
    /// numbered list, its number.
    Item {
        depth: usize,
        number: Option<u64>,
    },
    Quote,
    Code,
}

/// One paragraph of the memo.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block {
    pub kind: BlockKind,
    pub spans: Vec<Span>,
}

impl Block {
    /// The block's text without styles.
    pub fn text(&self) -> String {
        self.spans.iter().map(|s| s.text.as_str()).collect()
    }
}

#[derive(Default)]
struct Style {
    bold: usize,
    italic: usize,
    strike: usize,
}

/// The memo as paragraphs of styled text, for documents that are not HTML.
/// A link keeps its text and adds its address in brackets when the two
/// differ.
pub fn to_blocks(md: &str) -> Vec<Block> {
    let mut blocks: Vec<Block> = Vec::new();
    let mut current: Option<Block> = None;
    // Each open list's next number (`None` for a bulleted list).
    let mut lists: Vec<Option<u64>> = Vec::new();
    let mut quotes = 0usize;
    let mut style = Style::default();
    let mut link: Option<(String, usize)> = None;

    fn flush(blocks: &mut Vec<Block>, current: &mut Option<Block>) {
        if let Some(mut b) = current.take() {
            while b.spans.last().is_some_and(|s| s.text == "\n") {
                b.spans.pop();
            }
            if !b.spans.is_empty() {
                blocks.push(b);
            }
        }
    }
    let plain = |quotes: usize| {
        if quotes > 0 {
            BlockKind::Quote
        } else {
            BlockKind::Paragraph
        }
    };

    for event in parser(md) {
        let inline_code = matches!(event, Event::Code(_));
        match event {
            Event::Start(Tag::Paragraph) | Event::Start(Tag::HtmlBlock) => {
                // A list item's first paragraph is the item itself.
                let item_open = current.as_ref().is_some_and(|b| {
                    matches!(b.kind, BlockKind::Item { .. }) && b.spans.is_empty()
                });
                if !item_open {
                    flush(&mut blocks, &mut current);
                    current = Some(Block {
                        kind: plain(quotes),
                        spans: Vec::new(),
                    });
                }
            }
            Event::Start(Tag::Heading { level, .. }) => {
                flush(&mut blocks, &mut current);
                let level = match level {
                    HeadingLevel::H1 => 1,
                    HeadingLevel::H2 => 2,
                    HeadingLevel::H3 => 3,
                    HeadingLevel::H4 => 4,
                    HeadingLevel::H5 => 5,
                    HeadingLevel::H6 => 6,
                };
                current = Some(Block {
                    kind: BlockKind::Heading(level),
                    spans: Vec::new(),
                });
            }
            Event::Start(Tag::CodeBlock(_)) => {
                flush(&mut blocks, &mut current);
                current = Some(Block {
                    kind: BlockKind::Code,
                    spans: Vec::new(),
                });
            }
            Event::Start(Tag::BlockQuote(_)) => {
                flush(&mut blocks, &mut current);
                quotes += 1;
            }
            Event::End(TagEnd::BlockQuote(_)) => {
                flush(&mut blocks, &mut current);
                quotes = quotes.saturating_sub(1);
            }
            Event::Start(Tag::List(first)) => {
                flush(&mut blocks, &mut current);
                lists.push(first);
            }
            Event::End(TagEnd::List(_)) => {
                flush(&mut blocks, &mut current);
                lists.pop();
            }
            Event::Start(Tag::Item) => {
                flush(&mut blocks, &mut current);
                let number = match lists.last_mut() {
                    Some(Some(n)) => {
                        let this = *n;
                        *n += 1;
                        Some(this)
                    }
                    _ => None,
                };
                current = Some(Block {
                    kind: BlockKind::Item {
                        depth: lists.len().max(1),
                        number,
                    },
                    spans: Vec::new(),
                });
            }
            Event::End(
                TagEnd::Paragraph
                | TagEnd::Heading(_)
                | TagEnd::CodeBlock
                | TagEnd::Item
                | TagEnd::HtmlBlock,
            ) => flush(&mut blocks, &mut current),
            Event::Start(Tag::Strong) => style.bold += 1,
            Event::End(TagEnd::Strong) => style.bold = style.bold.saturating_sub(1),
            Event::Start(Tag::Emphasis) => style.italic += 1,
            Event::End(TagEnd::Emphasis) => style.italic = style.italic.saturating_sub(1),
            Event::Start(Tag::Strikethrough) => style.strike += 1,
            Event::End(TagEnd::Strikethrough) => style.strike = style.strike.saturating_sub(1),
            Event::Start(Tag::Link { dest_url, .. } | Tag::Image { dest_url, .. }) => {
                let at = current.as_ref().map_or(0, |b| b.spans.len());
                link = Some((dest_url.to_string(), at));
            }
            Event::End(TagEnd::Link | TagEnd::Image) => {
                if let (Some((url, at)), Some(b)) = (link.take(), current.as_mut()) {
                    let text: String = b.spans[at.min(b.spans.len())..]
                        .iter()
                        .map(|s| s.text.as_str())
                        .collect();
                    let bare = url.strip_prefix("mailto:").unwrap_or(&url);
                    if !url.is_empty() && text.trim() != bare {
                        b.spans.push(Span {
                            text: format!(" ({url})"),
                            ..Span::default()
                        });
                    }
                }
            }
            Event::Text(t) | Event::Code(t) | Event::Html(t) | Event::InlineHtml(t) => {
                let code =
                    inline_code || current.as_ref().is_some_and(|b| b.kind == BlockKind::Code);
                let block = current.get_or_insert_with(|| Block {
                    kind: plain(quotes),
                    spans: Vec::new(),
                });
                let text: CowStr = if block.kind == BlockKind::Code {
                    t.trim_end_matches('\n').to_owned().into()
                } else {
                    t
                };
                block.spans.push(Span {
                    text: text.to_string(),
                    bold: style.bold > 0,
                    italic: style.italic > 0 || block.kind == BlockKind::Quote,
                    strike: style.strike > 0,
                    code,
                });
            }
            Event::SoftBreak | Event::HardBreak => {
                if let Some(b) = current.as_mut() {
                    b.spans.push(Span {
                        text: "\n".into(),
                        ..Span::default()
                    });
                }
            }
            Event::Rule => {
                flush(&mut blocks, &mut current);
                blocks.push(Block {
                    kind: BlockKind::Paragraph,
                    spans: vec![Span {
                        text: "———".into(),
                        ..Span::default()
                    }],
                });
            }
            _ => {}
        }
    }
    flush(&mut blocks, &mut current);
    blocks
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emphasis_lists_and_line_breaks_render() {
        let html = to_html("**Key** point, *maybe*\nsecond line\n\n- one\n- two\n");
        assert!(html.contains("<strong>Key</strong>"), "{html}");
        assert!(html.contains("<em>maybe</em>"), "{html}");
        assert!(html.contains("<br />"), "a typed line break stays: {html}");
        assert!(html.contains("<ul>\n<li>one</li>"), "{html}");
    }

    #[test]
    fn raw_html_is_shown_as_text() {
        let html = to_html("<script>alert(1)</script>\n\nsee <img src=x onerror=alert(1)>");
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.contains("<img"), "{html}");
        assert!(html.contains("&lt;script&gt;"), "{html}");
    }

    #[test]
    fn only_harmless_links_are_links() {
        let html = to_html(
            "[a](javascript:alert(1)) [b](JaVaScRiPt:x) [c](data:text/html,x) \
             [d](https://example.org) [e](/projects/1/codes/2) [f](mailto:a@b.org) \
             [g](vbscript:x) [h](?q=a:b)",
        );
        assert!(!html.to_lowercase().contains("javascript"), "{html}");
        assert!(!html.contains("data:"), "{html}");
        assert!(!html.contains("vbscript"), "{html}");
        for (href, text) in [
            ("https://example.org", "d"),
            ("/projects/1/codes/2", "e"),
            ("mailto:a@b.org", "f"),
            ("?q=a:b", "h"),
        ] {
            assert!(
                html.contains(&format!("<a href=\"{href}\">{text}</a>")),
                "{href}: {html}"
            );
        }
        // The dropped links keep their text.
        assert!(html.contains(">a ") || html.contains("a b c"), "{html}");
    }

    #[test]
    fn images_become_links_and_fetch_nothing() {
        let html = to_html("![chart](https://example.org/x.png) ![bad](javascript:x)");
        assert!(!html.contains("<img"), "{html}");
        assert!(
            html.contains("<a href=\"https://example.org/x.png\">chart</a>"),
            "{html}"
        );
        assert!(!html.contains("javascript"), "{html}");
    }

    #[test]
    fn attributes_cannot_be_broken_out_of() {
        let html = to_html("[x](https://e.org/\"onmouseover=alert(1))");
        assert!(!html.contains("\"onmouseover"), "{html}");
    }

    #[test]
    fn blocks_keep_styles_numbers_and_nesting() {
        let blocks = to_blocks(
            "# Decisions\n\nWe **merged** *two* codes.\nNext line.\n\n\
             3. first\n4. second\n   - inner\n\n> quoted\n\n`x` and [site](https://e.org)\n\n---\n\n    code\n",
        );
        let kinds: Vec<BlockKind> = blocks.iter().map(|b| b.kind).collect();
        assert_eq!(
            kinds,
            vec![
                BlockKind::Heading(1),
                BlockKind::Paragraph,
                BlockKind::Item {
                    depth: 1,
                    number: Some(3)
                },
                BlockKind::Item {
                    depth: 1,
                    number: Some(4)
                },
                BlockKind::Item {
                    depth: 2,
                    number: None
                },
                BlockKind::Quote,
                BlockKind::Paragraph,
                BlockKind::Paragraph,
                BlockKind::Code,
            ]
        );
        assert_eq!(blocks[1].text(), "We merged two codes.\nNext line.");
        let merged = &blocks[1].spans[1];
        assert!(merged.bold && !merged.italic && merged.text == "merged");
        assert!(blocks[1].spans[3].italic);
        assert_eq!(blocks[3].text(), "second");
        assert_eq!(blocks[6].text(), "x and site (https://e.org)");
        assert!(blocks[6].spans[0].code);
        assert_eq!(blocks[8].text(), "code");
    }

    #[test]
    fn raw_html_and_plain_text_come_through_as_text() {
        let blocks = to_blocks("<b>not bold</b>\n\nplain 3 < 4");
        assert_eq!(blocks.len(), 2);
        assert_eq!(blocks[0].text(), "<b>not bold</b>");
        assert!(!blocks[0].spans.iter().any(|s| s.bold));
        assert_eq!(blocks[1].text(), "plain 3 < 4");
    }
}
