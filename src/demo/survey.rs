//! The demo's staff questionnaire: two waves (2002, 2004), four localities,
//! two scales with reverse-keyed items. Synthetic, and made so that the
//! seed study's finding shows at once: the overall change is small while
//! the localities move apart (Northvale and Eastmoor improve, Riverside and
//! Westbrook decline).

use crate::domain::questionnaire::{Column, ColumnKind, Response};
use std::collections::BTreeMap;

/// Role clarity items (rc2 and rc4 reverse-keyed) and job satisfaction
/// items (js3 reverse-keyed).
pub const ROLE_CLARITY: [&str; 5] = ["rc1", "rc2", "rc3", "rc4", "rc5"];
pub const ROLE_CLARITY_REVERSED: [&str; 2] = ["rc2", "rc4"];
pub const JOB_SATISFACTION: [&str; 4] = ["js1", "js2", "js3", "js4"];
pub const JOB_SATISFACTION_REVERSED: [&str; 1] = ["js3"];

/// (locality, respondents in 2002, in 2004, change in role clarity, in job
/// satisfaction).
const LOCALITIES: [(&str, usize, usize, f64, f64); 4] = [
    ("Northvale", 34, 30, 0.45, 0.35),
    ("Riverside", 28, 31, -0.55, -0.45),
    ("Eastmoor", 40, 36, 0.35, 0.25),
    ("Westbrook", 18, 21, -0.45, -0.30),
];

const PROFESSIONS: [&str; 5] = [
    "Nurse",
    "Social worker",
    "Occupational therapist",
    "Psychiatrist",
    "Support worker",
];

/// A small deterministic generator (xorshift64*): the demo is the same
/// every time.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Roughly normal: the sum of four uniforms, centred and scaled.
    fn normal(&mut self, sd: f64) -> f64 {
        let s: f64 = (0..4).map(|_| self.next()).sum::<f64>() - 2.0;
        s * sd * (3.0f64).sqrt()
    }
}

/// The file's columns, as an import would classify them.
pub fn columns() -> Vec<Column> {
    let mut c = vec![
        Column {
            name: "id".into(),
            kind: ColumnKind::Respondent,
        },
        Column {
            name: "wave".into(),
            kind: ColumnKind::Wave,
        },
        Column {
            name: "locality".into(),
            kind: ColumnKind::Attribute,
        },
        Column {
            name: "profession".into(),
            kind: ColumnKind::Attribute,
        },
    ];
    for item in ROLE_CLARITY.iter().chain(&JOB_SATISFACTION) {
        c.push(Column {
            name: (*item).into(),
            kind: ColumnKind::Item,
        });
    }
    c
}

fn answer(rng: &mut Rng, latent: f64, reversed: bool) -> Option<f64> {
    // One answer in forty is left blank.
    if rng.next() < 0.025 {
        return None;
    }
    let v = (latent + rng.normal(0.7)).round().clamp(1.0, 5.0);
    Some(if reversed { 6.0 - v } else { v })
}

/// Every response, in file order.
pub fn responses() -> Vec<Response> {
    let mut rng = Rng(0x5EED_2002_2004);
    let mut out = Vec::new();
    let mut line = 2;
    for (w, wave) in ["2002", "2004"].into_iter().enumerate() {
        for (l, (locality, n02, n04, d_rc, d_js)) in LOCALITIES.iter().enumerate() {
            let n = if w == 0 { *n02 } else { *n04 };
            for k in 0..n {
                let person = rng.normal(0.45);
                let rc = 3.3 + if w == 1 { *d_rc } else { 0.0 } + person;
                let js = 3.1 + if w == 1 { *d_js } else { 0.0 } + 0.6 * person + rng.normal(0.3);
                let mut items = Vec::new();
                for item in ROLE_CLARITY {
                    items.push(answer(&mut rng, rc, ROLE_CLARITY_REVERSED.contains(&item)));
                }
                for item in JOB_SATISFACTION {
                    items.push(answer(
                        &mut rng,
                        js,
                        JOB_SATISFACTION_REVERSED.contains(&item),
                    ));
                }
                let mut attributes = BTreeMap::new();
                attributes.insert("locality".into(), (*locality).into());
                attributes.insert(
                    "profession".into(),
                    PROFESSIONS[(k + l) % PROFESSIONS.len()].into(),
                );
                out.push(Response {
                    line,
                    respondent: Some(format!("{}{:02}", &locality[..1], k + 1)),
                    wave: wave.into(),
                    attributes,
                    items,
                });
                line += 1;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::survey::{self as stats, Scale};

    fn scores() -> Vec<(usize, String, f64)> {
        let mut scale = Scale::new(1.0, 5.0);
        scale.reversed = vec![1, 3];
        scale.min_items = Some(4);
        responses()
            .iter()
            .filter_map(|r| {
                let s = scale.score(&r.items[..5])?;
                Some((
                    usize::from(r.wave == "2004"),
                    r.attributes["locality"].clone(),
                    s,
                ))
            })
            .collect()
    }

    #[test]
    fn the_overall_change_is_small_while_localities_move_apart() {
        let s = scores();
        let wave = |w: usize| {
            s.iter()
                .filter(|x| x.0 == w)
                .map(|x| x.2)
                .collect::<Vec<_>>()
        };
        let overall = stats::welch_t_test(&wave(0), &wave(1)).unwrap();
        assert!(overall.difference.abs() < 0.15, "{overall:?}");
        assert!(overall.p > 0.05, "{overall:?}");
        let anova = stats::two_way_anova(&s).unwrap();
        let interaction = anova.interaction.unwrap();
        assert!(interaction.p < 0.001, "{interaction:?}");
        // Respondents are unique within a wave, so the file would import.
        let table_ok = {
            let mut seen = std::collections::HashSet::new();
            responses()
                .iter()
                .all(|r| seen.insert((r.wave.clone(), r.respondent.clone())))
        };
        assert!(table_ok);
    }
}
