//! Documents' text and turns, kept in memory once read: they never change
//! once a document is stored (a document restored from the trash comes back
//! with its id, text and turns), so what one server keeps stays true
//! whatever another does. Creating a coding works out its attribution from
//! them with no read of its own.

use crate::domain::attribution::{OPENING, TurnSpan};
use crate::domain::ids::{DocumentId, ProjectId};
use crate::store;
use sqlx::PgPool;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// How much text a server keeps at most (about 400 hour-long transcripts).
const MOST_BYTES: usize = 16 << 20;

/// Every this many characters, where they start in the text's bytes.
const STRIDE: usize = 256;

/// One document's text and turns.
pub struct Text {
    pub project: ProjectId,
    body: String,
    /// Byte offset of every [`STRIDE`]th character.
    marks: Vec<u32>,
    chars: usize,
    /// Speaker label, start and end (code points), in document order.
    turns: Vec<(Option<String>, usize, usize)>,
}

impl Text {
    fn new(project: ProjectId, body: String, turns: Vec<(Option<String>, usize, usize)>) -> Text {
        let mut marks = Vec::with_capacity(body.len() / STRIDE + 1);
        let mut chars = 0;
        for (i, (at, _)) in body.char_indices().enumerate() {
            if i % STRIDE == 0 {
                marks.push(at as u32);
            }
            chars = i + 1;
        }
        Text {
            project,
            body,
            marks,
            chars,
            turns,
        }
    }

    /// Length in code points.
    pub fn chars(&self) -> usize {
        self.chars
    }

    /// The byte where character `pos` starts (the text's end past it).
    fn byte(&self, pos: usize) -> usize {
        if pos >= self.chars {
            return self.body.len();
        }
        let from = self.marks[pos / STRIDE] as usize;
        match self.body[from..].char_indices().nth(pos % STRIDE) {
            Some((at, _)) => from + at,
            None => self.body.len(),
        }
    }

    /// What attribution needs for `[start, end)`: the turns it meets, and
    /// the text from where it or the first of them starts to past the
    /// range and the last one's opening (see `attribution::parts`), with
    /// that window's first position.
    pub fn window(&self, start: usize, end: usize) -> (&str, usize, Vec<TurnSpan<'_>>) {
        // Turns are in order and do not overlap: those ending after
        // `start`, up to the first starting at or after `end`.
        let first = self.turns.partition_point(|t| t.2 <= start);
        let met: Vec<TurnSpan> = self.turns[first..]
            .iter()
            .take_while(|t| t.1 < end)
            .filter(|t| t.2 > start)
            .map(|(speaker, s, e)| TurnSpan {
                speaker: speaker.as_deref(),
                start: *s,
                end: *e,
            })
            .collect();
        let ws = met.first().map_or(start, |t| t.start.min(start));
        let we = met.last().map_or(end, |t| (t.start + OPENING).max(end));
        let (a, b) = (self.byte(ws), self.byte(we));
        (&self.body[a..b.max(a)], ws, met)
    }

    fn bytes(&self) -> usize {
        self.body.len() + self.marks.len() * 4 + self.turns.len() * 48
    }
}

/// The texts one server keeps.
#[derive(Default)]
pub struct Texts {
    kept: Mutex<Kept>,
}

#[derive(Default)]
struct Kept {
    texts: HashMap<DocumentId, Arc<Text>>,
    bytes: usize,
}

impl Texts {
    /// The text of `project`'s document `id`: kept, or read and kept.
    /// `None`: no such document in the project.
    pub async fn get(
        &self,
        db: &PgPool,
        project: ProjectId,
        id: DocumentId,
    ) -> sqlx::Result<Option<Arc<Text>>> {
        if let Some(text) = self.lock().texts.get(&id) {
            return Ok((text.project == project).then(|| text.clone()));
        }
        let Some((body, turns)) = store::documents::text_and_turns(db, project, id).await? else {
            return Ok(None);
        };
        let text = Arc::new(Text::new(project, body, turns));
        let size = text.bytes();
        if size <= MOST_BYTES / 4 {
            let mut kept = self.lock();
            // Make room by forgetting texts in no particular order.
            while kept.bytes + size > MOST_BYTES {
                let Some(&other) = kept.texts.keys().next() else {
                    break;
                };
                if let Some(gone) = kept.texts.remove(&other) {
                    kept.bytes -= gone.bytes();
                }
            }
            if let Some(old) = kept.texts.insert(id, text.clone()) {
                kept.bytes -= old.bytes();
            }
            kept.bytes += size;
        }
        Ok(Some(text))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Kept> {
        self.kept.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(body: &str, turns: &[(&str, usize, usize)]) -> Text {
        Text::new(
            ProjectId(1),
            body.to_string(),
            turns
                .iter()
                .map(|(l, s, e)| (Some(l.to_string()), *s, *e))
                .collect(),
        )
    }

    #[test]
    fn positions_are_code_points_past_many_strides() {
        let body: String = "é".repeat(1000) + "abc";
        let t = text(&body, &[]);
        assert_eq!(t.chars(), 1003);
        let (w, ws, met) = t.window(1000, 1002);
        assert_eq!((w, ws, met.len()), ("ab", 1000, 0));
        let (w, _, _) = t.window(255, 258);
        assert_eq!(w, "ééé");
        let (w, _, _) = t.window(1001, 5000);
        assert_eq!(w, "bc");
    }

    #[test]
    fn the_window_covers_the_turns_met_and_their_openings() {
        let body = "A: one two\nB: three four five\nA: six\n";
        let b = body.find("B:").unwrap();
        let a2 = body.rfind("A:").unwrap();
        let t = text(
            body,
            &[("A", 0, b), ("B", b, a2), ("A", a2, body.chars().count())],
        );
        // Inside B's turn: the window starts at B's turn.
        let (w, ws, met) = t.window(b + 3, b + 8);
        assert_eq!(ws, b);
        assert!(w.starts_with("B: three"));
        assert_eq!(met.len(), 1);
        assert_eq!(met[0].speaker, Some("B"));
        // Across all three.
        let (_, ws, met) = t.window(5, a2 + 4);
        assert_eq!(ws, 0);
        assert_eq!(
            met.iter().map(|m| m.speaker.unwrap()).collect::<String>(),
            "ABA"
        );
    }

    #[test]
    fn a_window_gives_the_attribution_a_whole_read_would() {
        use crate::domain::attribution::parts;
        let body =
            "Interviewer: how was it\n[00:01:02] P1: slow and cold, we waited\nP2: so did we\n";
        let p1 = body.find("[00:01:02]").unwrap();
        let p2 = body.find("P2:").unwrap();
        let n = body.chars().count();
        let turns = [("Interviewer", 0, p1), ("P1", p1, p2), ("P2", p2, n)];
        let t = text(body, &turns);
        let spans: Vec<TurnSpan> = turns
            .iter()
            .map(|(l, s, e)| TurnSpan {
                speaker: Some(l),
                start: *s,
                end: *e,
            })
            .collect();
        for (start, end) in [(0, n), (p1 + 2, p2 + 5), (p1 + 20, p1 + 30), (3, 9)] {
            let (w, ws, met) = t.window(start, end);
            assert_eq!(
                parts(w, ws, start, end, &met),
                parts(body, 0, start, end, &spans),
                "[{start}, {end})"
            );
        }
    }
}
