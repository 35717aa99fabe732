//! The coding page's position conversion (static/js/coding/positions.js),
//! run in the real browser against a real transcript page: code points as
//! Rust counts them (`chars()`) ↔ DOM positions in UTF-16.

use crate::harness::{Chromium, click, fill, wait_for_url, wait_until};
use crate::helpers::{PASSWORD, TestApp};
use chromiumoxide::Page;
use serde::Deserialize;
use serde_json::{Value, json};
use sqlx::PgPool;
use std::collections::BTreeSet;

/// Astral characters (🙂, 𝒳, a flag), a family joined by zero-width
/// joiners (five code points, eight UTF-16 units), combining accents, and
/// turns over several lines.
const TEXT: &str = "Recorded at home 🙂 — e\u{301}te\u{301} notes\n\n\
    Interviewer: How was the first week? 👩\u{200d}👩\u{200d}👧\n\n\
    P01: O\u{323}\u{300}yo\u{323}\u{301} mornings 🙂🙂 were the best — 𝒳 marks the spot, naïve 🇬🇧 even.\n\
    And the second line 🙂 of it.\n\n\
    Interviewer: And the evenings?\n\n\
    P01: Long. 👩\u{200d}👩\u{200d}👧 came at six.\n";

const FAMILY: &str = "👩\u{200d}👩\u{200d}👧";

/// "Ọ̀yọ́" as stored (the server keeps text in NFC): Ọ and ọ are one code
/// point each, the grave and acute accents stay combining marks.
const OYO: &str = "\u{1ecc}\u{300}y\u{1ecd}\u{301}";

/// Every single code point and every span of the text through
/// `rangeFor` and back through `posOf`, and each stretch's element
/// boundaries.
const ROUND_TRIP: &str = "(async () => {
  const p = await import('/static/js/coding/positions.js');
  const article = document.getElementById('transcript');
  const chunks = p.indexChunks(article);
  const end = chunks.length ? chunks[chunks.length - 1].end : 0;
  const back = (r) => r && [
    p.posOf(chunks, r.startContainer, r.startOffset, false),
    p.posOf(chunks, r.endContainer, r.endOffset, true),
  ];
  // Text as code point numbers: a broken range may cut a surrogate pair,
  // and a lone surrogate does not survive the trip back as a string.
  const cps = (s) => Array.from(s, (c) => c.codePointAt(0));
  const single = [];
  for (let pos = 0; pos < end; pos++) {
    const r = p.rangeFor(chunks, pos, pos + 1);
    single.push(r && [...back(r), cps(r.toString()), cps(p.charAt(chunks, pos))]);
  }
  const spans = [];
  for (let a = 0; a < end; a++) {
    for (let b = a + 1; b <= end; b++) spans.push(back(p.rangeFor(chunks, a, b)));
  }
  const elements = chunks.map((c) => [
    p.posOf(chunks, c.el, 0, false),
    p.posOf(chunks, c.el, c.el.childNodes.length, true),
  ]);
  return {
    chunks: chunks.map((c) => [c.start, c.end, c.node.data]),
    single,
    spans,
    elements,
  };
})()";

/// One code point's range mapped back: start, end, the range's text and
/// `charAt` (texts as code point numbers).
type Single = (usize, usize, Vec<u32>, Vec<u32>);

#[derive(Deserialize)]
struct RoundTrip {
    chunks: Vec<(usize, usize, String)>,
    single: Vec<Option<Single>>,
    spans: Vec<Option<(usize, usize)>>,
    elements: Vec<(usize, usize)>,
}

/// Select in the page from `from` (its first occurrence, moved by
/// `from_shift` UTF-16 units) to the end of `to` (moved by `to_shift`),
/// and read the selection's code-point range, snapped to words or not.
const SELECT: &str = "async (from, fromShift, to, toShift, snap) => {
  const p = await import('/static/js/coding/positions.js');
  const article = document.getElementById('transcript');
  const chunks = p.indexChunks(article);
  const node = (needle) => chunks.find((c) => c.node.data.includes(needle)).node;
  const a = node(from);
  const b = node(to);
  getSelection().setBaseAndExtent(
    a, a.data.indexOf(from) + fromShift,
    b, b.data.indexOf(to) + to.length + toShift);
  const r = p.selectionRange(article, chunks, getSelection(), snap);
  return r && [r.start, r.end];
}";

async fn select(
    page: &Page,
    from: (&str, i32),
    to: (&str, i32),
    snap: bool,
) -> Option<(usize, usize)> {
    let args = [
        json!(from.0),
        json!(from.1),
        json!(to.0),
        json!(to.1),
        json!(snap),
    ]
    .map(|v| v.to_string())
    .join(", ");
    page.evaluate(format!("({SELECT})({args})"))
        .await
        .unwrap_or_else(|e| panic!("selecting {from:?}..{to:?}: {e}"))
        .into_value()
        .unwrap()
}

/// Code-point position of the first `needle` in `text`, plus `plus`.
fn at(text: &str, needle: &str, plus: usize) -> usize {
    let byte = text
        .find(needle)
        .unwrap_or_else(|| panic!("{needle:?} not in the text"));
    text[..byte].chars().count() + plus
}

/// Code-point position just after the first `needle` in `text`.
fn after(text: &str, needle: &str) -> usize {
    at(text, needle, needle.chars().count())
}

#[sqlx::test]
async fn positions_round_trip_between_code_points_and_the_dom(pool: PgPool) {
    let Some(chromium) = Chromium::launch().await else {
        return;
    };
    let app = TestApp::spawn(pool).await;
    let owner = app.person("ann@example.org").await;
    let p = owner.project("Home visits").await;
    let doc: Value = owner
        .post(
            &format!("/projects/{p}/documents"),
            json!({"title": "Home visit 3", "text": TEXT}),
        )
        .await
        .json()
        .await
        .unwrap();
    let id = doc["id"].as_i64().unwrap();
    // Positions count the text as the server stored it.
    let text = doc["text"].as_str().unwrap().to_owned();
    assert!(text.contains(FAMILY) && text.contains(OYO), "{text:?}");
    let chars: Vec<char> = text.chars().collect();

    let page = chromium.browser.new_page(app.url("/login")).await.unwrap();
    fill(&page, "input[name=email]", "ann@example.org").await;
    fill(&page, "input[name=password]", PASSWORD).await;
    click(&page, "button[type=submit].primary").await;
    wait_for_url(&page, |u| u.ends_with("/projects")).await;
    page.goto(app.url(&format!("/projects/{p}/documents/{id}")))
        .await
        .unwrap();
    // The page's own script has run.
    wait_until(
        &page,
        "document.getElementById('coding-count').textContent.endsWith('shown')",
    )
    .await;

    let trip: RoundTrip = page
        .evaluate(ROUND_TRIP)
        .await
        .unwrap()
        .into_value()
        .unwrap();

    // Each stretch holds exactly the text's characters at its positions.
    assert!(trip.chunks.len() > 5, "stretches: {:?}", trip.chunks);
    let mut covered = BTreeSet::new();
    for (start, end, data) in &trip.chunks {
        let expected: String = chars[*start..*end].iter().collect();
        assert_eq!(data, &expected, "the stretch at {start}..{end}");
        covered.extend(*start..*end);
    }
    assert!(
        text.chars().count() - covered.len() < 12,
        "the stretches cover the text but for turn breaks"
    );

    // Every code point: its range holds that character, and maps back.
    let end = trip.chunks.last().unwrap().1;
    assert_eq!(trip.single.len(), end);
    for (pos, got) in trip.single.iter().enumerate() {
        if covered.contains(&pos) {
            let c = vec![u32::from(chars[pos])];
            assert_eq!(
                got.as_ref(),
                Some(&(pos, pos + 1, c.clone(), c)),
                "code point {pos} ({:?})",
                chars[pos]
            );
        } else {
            assert_eq!(got, &None, "code point {pos} is not rendered");
        }
    }

    // Every span [a, b): its range maps back to the span, clipped to the
    // rendered text.
    let mut spans = trip.spans.iter();
    for a in 0..end {
        for b in a + 1..=end {
            let clipped = covered
                .range(a..b)
                .next()
                .map(|&first| (first, covered.range(a..b).next_back().unwrap() + 1));
            assert_eq!(spans.next().unwrap(), &clipped, "the span {a}..{b}");
        }
    }

    // A stretch's element, from before its text to after it.
    for ((start, end, _), got) in trip.chunks.iter().zip(&trip.elements) {
        assert_eq!(got, &(*start, *end), "the element of {start}..{end}");
    }

    // A selection over emoji in one stretch.
    assert_eq!(
        select(&page, ("🙂🙂", 0), ("best", 0), false).await,
        Some((at(&text, "🙂🙂", 0), after(&text, "best")))
    );
    // … across turns, from the family (five code points) to a word.
    assert_eq!(
        select(&page, (FAMILY, 0), ("mornings", 0), false).await,
        Some((at(&text, FAMILY, 0), after(&text, "mornings")))
    );
    // … of the family alone.
    assert_eq!(
        select(&page, (FAMILY, 0), (FAMILY, 0), false).await,
        Some((at(&text, FAMILY, 0), at(&text, FAMILY, 5)))
    );
    // … over a flag (two code points) and the mathematical 𝒳.
    assert_eq!(
        select(&page, ("𝒳", 0), ("🇬🇧", 0), false).await,
        Some((at(&text, "𝒳", 0), after(&text, "🇬🇧")))
    );
    // A boundary inside a surrogate pair counts the whole character: the
    // start moves past the first 🙂, the end past the second.
    assert_eq!(
        select(&page, ("🙂🙂", 1), ("🙂🙂", -1), false).await,
        Some((at(&text, "🙂🙂", 1), at(&text, "🙂🙂", 2)))
    );
    // Snapped to words: combining accents belong to their word, emoji and
    // white space at the ends are trimmed. (The "y" of Ọ̀yọ́ alone, then
    // snapped.)
    let y = (&OYO[OYO.find('y').unwrap()..], 0);
    let to_y = (&OYO[..=OYO.find('y').unwrap()], 0);
    assert_eq!(
        select(&page, y, to_y, false).await,
        Some((at(&text, OYO, 2), at(&text, OYO, 3)))
    );
    assert_eq!(
        select(&page, y, to_y, true).await,
        Some((at(&text, OYO, 0), after(&text, OYO)))
    );
    assert_eq!(
        select(&page, ("rnings 🙂🙂 w", 0), ("rnings 🙂🙂 w", 0), true).await,
        Some((at(&text, "mornings", 0), after(&text, "were")))
    );
    assert_eq!(
        select(&page, ("s 🙂🙂 ", 1), ("s 🙂🙂 ", 0), true).await,
        Some((at(&text, "🙂🙂", 0), after(&text, "🙂🙂")))
    );

    chromium.close().await;
}
