//! Speaker mapping: each speaker label of a document is a participant, the
//! interviewer role (never attributed to anyone), or unassigned.

use super::ids::ParticipantId;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SpeakerRole {
    Participant,
    Interviewer,
    Unassigned,
}

/// One label's mapping.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mapping {
    pub label: String,
    pub participant: Option<ParticipantId>,
    pub interviewer: bool,
}

impl Mapping {
    pub fn role(&self) -> SpeakerRole {
        match (self.interviewer, self.participant) {
            (true, _) => SpeakerRole::Interviewer,
            (false, Some(_)) => SpeakerRole::Participant,
            (false, None) => SpeakerRole::Unassigned,
        }
    }
}

/// Labels that obviously mean the interviewer or facilitator:
/// Interviewer, I, Q, Facilitator, Moderator — also numbered ("Interviewer 2")
/// and common variants.
pub fn is_interviewer_label(label: &str) -> bool {
    let l = label.trim().to_lowercase();
    let base = l.trim_end_matches(|c: char| c.is_ascii_digit() || c.is_whitespace());
    let base = if base.is_empty() { l.as_str() } else { base };
    matches!(
        base,
        "interviewer"
            | "i"
            | "q"
            | "int"
            | "facilitator"
            | "co-facilitator"
            | "cofacilitator"
            | "moderator"
            | "researcher"
            | "int."
            | "iv"
    )
}

/// The automatic mapping of a new document's labels: interviewer-like labels
/// to the interviewer role; a label equal (ignoring case) to a participant's
/// label to that participant; and, for a one-to-one interview whose
/// participant was named at import, every other label to that participant.
pub fn auto_map(
    labels: &[String],
    participants: &[(ParticipantId, String)],
    named: Option<ParticipantId>,
) -> Vec<Mapping> {
    labels
        .iter()
        .map(|label| {
            let interviewer = is_interviewer_label(label);
            let participant = if interviewer {
                None
            } else {
                participants
                    .iter()
                    .find(|(_, p)| p.trim().to_lowercase() == label.trim().to_lowercase())
                    .map(|(id, _)| *id)
                    .or(named)
            };
            Mapping {
                label: label.clone(),
                participant,
                interviewer,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interviewer_like_labels_are_recognised() {
        for l in [
            "Interviewer",
            "I",
            "q",
            "Facilitator",
            "MODERATOR",
            "Interviewer 2",
            "Co-facilitator",
        ] {
            assert!(is_interviewer_label(l), "{l}");
        }
        for l in ["Ian", "P1", "Carer 1", "Inspector", "Queen"] {
            assert!(!is_interviewer_label(l), "{l}");
        }
    }

    #[test]
    fn labels_map_to_participants_with_the_same_label() {
        let ps = [
            (ParticipantId(1), "P07".to_owned()),
            (ParticipantId(2), "Ruth".to_owned()),
        ];
        let m = auto_map(
            &["Interviewer".into(), "p07".into(), "Someone".into()],
            &ps,
            None,
        );
        assert_eq!(m[0].role(), SpeakerRole::Interviewer);
        assert_eq!(m[1].participant, Some(ParticipantId(1)));
        assert_eq!(m[2].role(), SpeakerRole::Unassigned);
    }

    #[test]
    fn a_named_participant_takes_the_other_labels_of_a_one_to_one_interview() {
        let m = auto_map(&["I".into(), "R".into()], &[], Some(ParticipantId(9)));
        assert_eq!(m[0].role(), SpeakerRole::Interviewer);
        assert_eq!(m[1].participant, Some(ParticipantId(9)));
    }
}
