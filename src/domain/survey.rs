//! Statistics for staff questionnaires: comparing questionnaire scale scores
//! between two (or more) survey waves, overall and by an attribute of the
//! respondent such as their locality.
//!
//! A typical analysis scores each respondent's answers on a scale
//! ([`Scale::score`]), checks that the scale's items hang together
//! ([`cronbach_alpha`]), describes each wave ([`describe`]) and compares the
//! later wave with the earlier one ([`welch_t_test`], [`hedges_g`]). An
//! overall comparison can hide what matters: the overall change masks
//! differences between localities when some improve and others decline.
//! [`two_way_anova`] tests exactly that, the wave × group interaction
//! (Type II sums of squares, as statsmodels' `anova_lm(..., typ=2)`).
//!
//! Everything here is pure: no I/O, no database. No function panics on any
//! input (empty slices, NaN, infinities); a statistic that is undefined for
//! the data — too few values, no variance — is `None`, never NaN. Numbers
//! equal SciPy and statsmodels to 1e-6; `scripts/reference/survey.py` made
//! the fixture the tests compare with. Distributions come from the `statrs`
//! crate's regularized incomplete beta function.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use statrs::distribution::{Continuous, StudentsT};
use statrs::function::beta::checked_beta_reg;

/// A standard deviation at most this fraction of the largest absolute value
/// in the data counts as zero: rounding leaves a tiny non-zero variance on
/// constant data such as `[0.1, 0.1, 0.1]`.
const REL_TOL: f64 = 1e-12;

// ------------------------------------------------------------ scale scores

/// How a scale's answered items combine into a score.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scoring {
    /// The mean of the answered items.
    Mean,
    /// The sum of the answered items. With missing items this is the sum of
    /// those answered (not prorated), so compare sums only between
    /// respondents who answered the same number of items, or use `Mean`.
    Sum,
}

/// A questionnaire scale: how a respondent's item answers become one score.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Scale {
    /// The lowest response (e.g. 1 on a 1–5 Likert item).
    pub min: f64,
    /// The highest response.
    pub max: f64,
    /// Indices of the reverse-keyed items: their value counts as
    /// `min + max − value`.
    pub reversed: Vec<usize>,
    pub scoring: Scoring,
    /// The fewest answered items for a score; `None` means all items.
    pub min_items: Option<usize>,
}

impl Scale {
    /// A mean-scored scale over `min..=max`, no reverse-keyed items, every
    /// item required.
    pub fn new(min: f64, max: f64) -> Scale {
        Scale {
            min,
            max,
            reversed: Vec::new(),
            scoring: Scoring::Mean,
            min_items: None,
        }
    }

    fn is_valid(&self) -> bool {
        self.min.is_finite() && self.max.is_finite() && self.min < self.max
    }

    /// Item `item`'s answer as it counts towards the score: reversed if the
    /// item is reverse-keyed, `None` if missing, not finite or outside
    /// `min..=max` (an out-of-range value counts as missing).
    pub fn keyed(&self, item: usize, value: Option<f64>) -> Option<f64> {
        let value = value.filter(|v| self.is_valid() && (self.min..=self.max).contains(v))?;
        Some(if self.reversed.contains(&item) {
            self.min + self.max - value
        } else {
            value
        })
    }

    /// All of a respondent's answers keyed (see [`Scale::keyed`]): the rows
    /// to give [`cronbach_alpha`].
    pub fn keyed_items(&self, answers: &[Option<f64>]) -> Vec<Option<f64>> {
        answers
            .iter()
            .enumerate()
            .map(|(i, &v)| self.keyed(i, v))
            .collect()
    }

    /// The respondent's score: the mean (or sum) of the keyed answered items,
    /// or `None` if fewer than `min_items` (default: all items) or no item at
    /// all were answered, or the scale's range is invalid.
    pub fn score(&self, answers: &[Option<f64>]) -> Option<f64> {
        let answered: Vec<f64> = self.keyed_items(answers).into_iter().flatten().collect();
        let need = self.min_items.unwrap_or(answers.len());
        if answered.is_empty() || answered.len() < need {
            return None;
        }
        let sum: f64 = answered.iter().sum();
        let score = match self.scoring {
            Scoring::Mean => sum / answered.len() as f64,
            Scoring::Sum => sum,
        };
        finite(score)
    }
}

// ------------------------------------------------------------ sample helpers

fn finite(x: f64) -> Option<f64> {
    x.is_finite().then_some(x)
}

fn finite_values(values: &[f64]) -> Vec<f64> {
    values.iter().copied().filter(|v| v.is_finite()).collect()
}

fn mean(x: &[f64]) -> Option<f64> {
    if x.is_empty() {
        return None;
    }
    finite(x.iter().sum::<f64>() / x.len() as f64)
}

/// Sample variance (n − 1 in the denominator), two-pass.
fn variance(x: &[f64]) -> Option<f64> {
    if x.len() < 2 {
        return None;
    }
    let m = mean(x)?;
    finite(x.iter().map(|v| (v - m).powi(2)).sum::<f64>() / (x.len() - 1) as f64)
}

fn max_abs(x: &[f64]) -> f64 {
    x.iter().fold(0.0, |m, v| m.max(v.abs()))
}

/// Whether a standard deviation counts as zero for data of this magnitude.
fn negligible(sd: f64, scale: f64) -> bool {
    sd.is_nan() || sd <= REL_TOL * scale
}

/// Pearson's r, or `None` if either variable has no variance.
fn pearson(x: &[f64], y: &[f64]) -> Option<f64> {
    let (vx, vy) = (variance(x)?, variance(y)?);
    if x.len() != y.len() || negligible(vx.sqrt(), max_abs(x)) || negligible(vy.sqrt(), max_abs(y))
    {
        return None;
    }
    let (mx, my) = (mean(x)?, mean(y)?);
    let sxy: f64 = x.iter().zip(y).map(|(a, b)| (a - mx) * (b - my)).sum();
    finite((sxy / (x.len() - 1) as f64 / (vx * vy).sqrt()).clamp(-1.0, 1.0))
}

/// A two-sided interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Interval {
    pub low: f64,
    pub high: f64,
}

fn interval(center: f64, half_width: f64) -> Option<Interval> {
    Some(Interval {
        low: finite(center - half_width)?,
        high: finite(center + half_width)?,
    })
}

// ------------------------------------------------------------ Cronbach's alpha

/// Cronbach's α of a scale and how each item contributes to it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Reliability {
    pub alpha: f64,
    /// Number of items k (the longest row).
    pub items: usize,
    /// Complete rows used.
    pub complete: usize,
    /// Rows dropped for a missing (or non-finite) value.
    pub dropped: usize,
    /// One entry per item, in order.
    pub item_stats: Vec<ItemReliability>,
}

/// One item's part in a scale's reliability.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ItemReliability {
    /// Corrected item–total correlation: Pearson's r of the item with the
    /// sum of the other items (`None` if either has no variance).
    pub item_total: Option<f64>,
    /// α of the scale without this item (`None` with fewer than 3 items or
    /// when the other items' total has no variance).
    pub alpha_if_deleted: Option<f64>,
}

/// Cronbach's α for a respondents × items matrix (one row per respondent,
/// items already keyed, see [`Scale::keyed_items`]):
///
/// α = k / (k − 1) · (1 − Σ var(itemᵢ) / var(total)), sample variances.
///
/// Complete cases only: a row shorter than the longest, or with a missing or
/// non-finite value, is dropped. `None` when k < 2, fewer than 2 rows are
/// complete, or the totals have no variance.
pub fn cronbach_alpha<R: AsRef<[Option<f64>]>>(rows: &[R]) -> Option<Reliability> {
    let k = rows.iter().map(|r| r.as_ref().len()).max()?;
    let columns = complete_columns(rows, k);
    let complete = columns.first().map_or(0, Vec::len);
    let alpha = alpha_of(&columns, None)?;
    let totals = row_totals(&columns, None);
    let item_stats = (0..k)
        .map(|j| {
            let rest: Vec<f64> = totals.iter().zip(&columns[j]).map(|(t, v)| t - v).collect();
            ItemReliability {
                item_total: pearson(&columns[j], &rest),
                alpha_if_deleted: alpha_of(&columns, Some(j)),
            }
        })
        .collect();
    Some(Reliability {
        alpha,
        items: k,
        complete,
        dropped: rows.len() - complete,
        item_stats,
    })
}

/// The complete rows of `k` values, column by column (one `Vec` per item).
fn complete_columns<R: AsRef<[Option<f64>]>>(rows: &[R], k: usize) -> Vec<Vec<f64>> {
    let mut columns = vec![Vec::with_capacity(rows.len()); k];
    for row in rows.iter().map(AsRef::as_ref) {
        if row.len() == k && row.iter().all(|v| v.is_some_and(f64::is_finite)) {
            for (column, &v) in columns.iter_mut().zip(row.iter().flatten()) {
                column.push(v);
            }
        }
    }
    columns
}

/// Each row's sum over the items, leaving out item `skip`.
fn row_totals(columns: &[Vec<f64>], skip: Option<usize>) -> Vec<f64> {
    let n = columns.first().map_or(0, Vec::len);
    let mut totals = vec![0.0; n];
    for (_, column) in columns.iter().enumerate().filter(|(j, _)| Some(*j) != skip) {
        for (t, v) in totals.iter_mut().zip(column) {
            *t += v;
        }
    }
    totals
}

/// α over the items except `skip`.
fn alpha_of(columns: &[Vec<f64>], skip: Option<usize>) -> Option<f64> {
    let k = columns.len() - usize::from(skip.is_some_and(|j| j < columns.len()));
    if k < 2 {
        return None;
    }
    let totals = row_totals(columns, skip);
    let var_total = variance(&totals)?;
    if negligible(var_total.sqrt(), max_abs(&totals)) {
        return None;
    }
    let item_var = columns
        .iter()
        .enumerate()
        .filter(|(j, _)| Some(*j) != skip)
        .map(|(_, c)| variance(c))
        .sum::<Option<f64>>()?;
    let k = k as f64;
    finite(k / (k - 1.0) * (1.0 - item_var / var_total))
}

// ------------------------------------------------------------ descriptives

/// A sample described: n, mean, standard deviation and the 95% confidence
/// interval of the mean.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Descriptives {
    /// Number of finite values (NaN and infinities are left out).
    pub n: usize,
    /// `None` when n = 0.
    pub mean: Option<f64>,
    /// Sample standard deviation (n − 1); `None` when n < 2.
    pub sd: Option<f64>,
    /// mean ± t₀.₉₇₅,ₙ₋₁ · SD / √n; `None` when n < 2.
    pub ci95: Option<Interval>,
}

/// n, mean, SD and the t-based 95% CI of the mean of the finite values.
pub fn describe(values: &[f64]) -> Descriptives {
    let x = finite_values(values);
    let n = x.len();
    let mean = mean(&x);
    let sd = variance(&x).map(f64::sqrt);
    let ci95 = match (mean, sd) {
        (Some(m), Some(s)) => {
            t_quantile(0.975, (n - 1) as f64).and_then(|q| interval(m, q * s / (n as f64).sqrt()))
        }
        _ => None,
    };
    Descriptives { n, mean, sd, ci95 }
}

// ------------------------------------------------------------ two waves

/// Welch's two-sample t-test of later − earlier.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct WelchTest {
    pub t: f64,
    /// Welch–Satterthwaite degrees of freedom.
    pub df: f64,
    /// Two-sided p-value.
    pub p: f64,
    /// mean(later) − mean(earlier).
    pub difference: f64,
    /// 95% CI of the difference: difference ± t₀.₉₇₅,df · SE.
    pub ci95: Interval,
}

/// Welch's t-test comparing `later` with `earlier` (unequal variances),
/// as `scipy.stats.ttest_ind(later, earlier, equal_var=False)`:
///
/// SE² = s²_later/n_later + s²_earlier/n_earlier, t = difference / SE,
/// df = SE⁴ / ((s²_later/n_later)²/(n_later − 1) + (s²_earlier/n_earlier)²/(n_earlier − 1)).
///
/// Non-finite values are left out. `None` when either sample has fewer than
/// 2 values or SE = 0 (both samples constant).
pub fn welch_t_test(earlier: &[f64], later: &[f64]) -> Option<WelchTest> {
    let (a, b) = (finite_values(later), finite_values(earlier));
    let (na, nb) = (a.len() as f64, b.len() as f64);
    let (va, vb) = (variance(&a)? / na, variance(&b)? / nb);
    let se = (va + vb).sqrt();
    if negligible(se, max_abs(&a).max(max_abs(&b))) {
        return None;
    }
    let difference = finite(mean(&a)? - mean(&b)?)?;
    let t = finite(difference / se)?;
    let df = finite((va + vb).powi(2) / (va.powi(2) / (na - 1.0) + vb.powi(2) / (nb - 1.0)))?;
    Some(WelchTest {
        t,
        df,
        p: t_two_sided_p(t, df)?,
        difference,
        ci95: interval(difference, t_quantile(0.975, df)? * se)?,
    })
}

/// Hedges' g of `later` against `earlier`:
///
/// g = J · (mean_later − mean_earlier) / s_pooled, where
/// s²_pooled = ((n₁ − 1)s₁² + (n₂ − 1)s₂²) / (n₁ + n₂ − 2) and the
/// small-sample correction J = 1 − 3 / (4(n₁ + n₂) − 9).
///
/// Non-finite values are left out. `None` when either sample has fewer than
/// 2 values or the pooled SD is 0.
pub fn hedges_g(earlier: &[f64], later: &[f64]) -> Option<f64> {
    let (a, b) = (finite_values(later), finite_values(earlier));
    let (n2, n1) = (a.len() as f64, b.len() as f64);
    let pooled = ((n1 - 1.0) * variance(&b)? + (n2 - 1.0) * variance(&a)?) / (n1 + n2 - 2.0);
    let sd = pooled.sqrt();
    if negligible(sd, max_abs(&a).max(max_abs(&b))) {
        return None;
    }
    let j = 1.0 - 3.0 / (4.0 * (n1 + n2) - 9.0);
    finite(j * (mean(&a)? - mean(&b)?) / sd)
}

// ------------------------------------------------------------ two-way ANOVA

/// One line of an ANOVA table.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Effect {
    /// Type II sum of squares.
    pub ss: f64,
    pub df1: usize,
    /// Residual degrees of freedom.
    pub df2: usize,
    pub f: f64,
    pub p: f64,
}

impl Effect {
    fn new(ss: f64, df1: usize, df2: usize, mse: f64) -> Option<Effect> {
        if df1 == 0 {
            return None;
        }
        let f = finite(ss / df1 as f64 / mse)?;
        let p = f_sf(f, df1 as f64, df2 as f64)?;
        Some(Effect { ss, df1, df2, f, p })
    }
}

/// Two-way ANOVA of score ~ wave + group + wave × group with Type II sums
/// of squares.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TwoWayAnova {
    /// SS = RSS(group) − RSS(wave + group).
    pub wave: Option<Effect>,
    /// SS = RSS(wave) − RSS(wave + group).
    pub group: Option<Effect>,
    /// SS = RSS(wave + group) − RSS(wave × group); `None` unless every
    /// wave × group cell has data (see [`two_way_anova`]).
    pub interaction: Option<Effect>,
    /// Within-cell sum of squares: RSS of the full (cell means) model.
    pub residual_ss: f64,
    /// N − number of non-empty cells.
    pub residual_df: usize,
    /// Observations used.
    pub n: usize,
    pub waves: usize,
    pub groups: usize,
    pub empty_cells: usize,
}

/// Two-way ANOVA with Type II sums of squares of `(wave, group, score)`
/// observations, unbalanced cells allowed: equal to statsmodels'
/// `anova_lm(ols("score ~ C(wave) * C(group)", data).fit(), typ=2)` when
/// every cell has data. The interaction is the question "did the groups
/// change differently between waves?".
///
/// Each RSS is the residual sum of squares of a least-squares fit: the full
/// model fits cell means, the one-factor models level means, and the
/// additive model is solved exactly (its normal equations reduced to the
/// waves' effects). A Type II SS is the squared distance between two
/// nested fits, summed over cells, so nothing cancels. Degrees of freedom
/// use ranks: with `c` non-empty cells and `m` connected parts of the
/// wave–group design, wave has a − m, group b − m, interaction c − (a + b − m)
/// and the residual N − c.
///
/// With an empty cell the interaction is `None`: only some of its contrasts
/// can be estimated, and statsmodels' `typ=2` table is not a model
/// comparison there (with one empty cell of 2 × 4 it reports NaN for wave, a
/// group SS that is not RSS(wave) − RSS(wave + group), and the interaction
/// with 3 degrees of freedom where the design has 2). The main effects are
/// still reported as the model comparisons above; an effect with no degrees
/// of freedom (wave confounded with group) is `None`.
///
/// Observations with a non-finite score are left out. `None` when there are
/// fewer than 2 waves or 2 groups, no residual degrees of freedom, or no
/// variation within cells.
pub fn two_way_anova<W: Ord, G: Ord>(observations: &[(W, G, f64)]) -> Option<TwoWayAnova> {
    let cells = Cells::new(observations)?;
    let (a, b) = (cells.count.len(), cells.count[0].len());
    let filled = cells.count.iter().flatten().filter(|&&n| n > 0.0).count();
    let residual_df = cells.total.checked_sub(filled).filter(|&df| df > 0)?;
    let residual_ss = finite(cells.within_ss)?;
    let mse = residual_ss / residual_df as f64;
    if negligible(mse.sqrt(), cells.max_abs) {
        return None;
    }
    let fit = additive_fit(&cells)?;
    let ss = type_two_ss(&cells, &fit.fitted);
    let effect = |ss: f64, df1: usize| Effect::new(ss, df1, residual_df, mse);
    let interaction = if filled == a * b {
        effect(ss.interaction, filled + fit.components - a - b)
    } else {
        None
    };
    Some(TwoWayAnova {
        wave: effect(ss.wave, a - fit.components),
        group: effect(ss.group, b - fit.components),
        interaction,
        residual_ss,
        residual_df,
        n: cells.total,
        waves: a,
        groups: b,
        empty_cells: a * b - filled,
    })
}

/// Sufficient statistics of a wave × group design, indexed `[wave][group]`
/// in the levels' sorted order.
struct Cells {
    count: Vec<Vec<f64>>,
    /// Cell means minus the grand mean (0 for an empty cell).
    mean: Vec<Vec<f64>>,
    within_ss: f64,
    total: usize,
    max_abs: f64,
}

/// Each distinct key's index in sorted order.
fn levels<'a, K: Ord>(keys: impl Iterator<Item = &'a K>) -> BTreeMap<&'a K, usize> {
    let mut map: BTreeMap<&K, usize> = keys.map(|k| (k, 0)).collect();
    for (i, index) in map.values_mut().enumerate() {
        *index = i;
    }
    map
}

impl Cells {
    /// `None` with fewer than 2 waves or groups among the finite scores.
    fn new<W: Ord, G: Ord>(observations: &[(W, G, f64)]) -> Option<Cells> {
        let kept: Vec<&(W, G, f64)> = observations.iter().filter(|o| o.2.is_finite()).collect();
        let waves = levels(kept.iter().map(|o| &o.0));
        let groups = levels(kept.iter().map(|o| &o.1));
        if waves.len() < 2 || groups.len() < 2 {
            return None;
        }
        let indexed: Vec<(usize, usize, f64)> = kept
            .iter()
            .filter_map(|o| Some((*waves.get(&o.0)?, *groups.get(&o.1)?, o.2)))
            .collect();
        Cells::from_indexed(&indexed, waves.len(), groups.len())
    }

    fn from_indexed(obs: &[(usize, usize, f64)], a: usize, b: usize) -> Option<Cells> {
        let grand = mean(&obs.iter().map(|o| o.2).collect::<Vec<_>>())?;
        let mut count = vec![vec![0.0; b]; a];
        let mut mean = vec![vec![0.0; b]; a];
        for &(i, j, y) in obs {
            count[i][j] += 1.0;
            mean[i][j] += y - grand;
        }
        for (means, counts) in mean.iter_mut().zip(&count) {
            for (m, &n) in means.iter_mut().zip(counts) {
                *m = if n > 0.0 { *m / n } else { 0.0 };
            }
        }
        let within_ss = obs
            .iter()
            .map(|&(i, j, y)| (y - grand - mean[i][j]).powi(2))
            .sum();
        let max_abs = obs.iter().fold(0.0_f64, |m, o| m.max(o.2.abs()));
        Some(Cells {
            count,
            mean,
            within_ss,
            total: obs.len(),
            max_abs,
        })
    }

    /// Σ over the cells of `f(count, wave, group)`.
    fn sum(&self, f: impl Fn(f64, usize, usize) -> f64) -> f64 {
        let mut total = 0.0;
        for (i, counts) in self.count.iter().enumerate() {
            for (j, &n) in counts.iter().enumerate() {
                if n > 0.0 {
                    total += f(n, i, j);
                }
            }
        }
        total
    }

    /// Level means of waves (by wave) and of groups (by group), centred.
    fn margins(&self) -> (Vec<f64>, Vec<f64>) {
        let (a, b) = (self.count.len(), self.count[0].len());
        let (mut wave, mut wave_n) = (vec![0.0; a], vec![0.0; a]);
        let (mut group, mut group_n) = (vec![0.0; b], vec![0.0; b]);
        for (i, counts) in self.count.iter().enumerate() {
            for (j, &n) in counts.iter().enumerate() {
                wave[i] += n * self.mean[i][j];
                wave_n[i] += n;
                group[j] += n * self.mean[i][j];
                group_n[j] += n;
            }
        }
        let divide = |sums: &mut Vec<f64>, ns: &[f64]| {
            sums.iter_mut()
                .zip(ns)
                .for_each(|(s, &n)| *s = if n > 0.0 { *s / n } else { 0.0 })
        };
        divide(&mut wave, &wave_n);
        divide(&mut group, &group_n);
        (wave, group)
    }
}

/// Type II sums of squares, from the additive model's fitted cell values.
struct TypeTwo {
    wave: f64,
    group: f64,
    interaction: f64,
}

/// Nested least-squares fits are orthogonal projections, so the difference
/// of two RSS is the squared distance between the two fits: Σ n·(Δ fit)².
fn type_two_ss(cells: &Cells, fitted: &[Vec<f64>]) -> TypeTwo {
    let (wave_mean, group_mean) = cells.margins();
    TypeTwo {
        wave: cells.sum(|n, i, j| n * (fitted[i][j] - group_mean[j]).powi(2)),
        group: cells.sum(|n, i, j| n * (fitted[i][j] - wave_mean[i]).powi(2)),
        interaction: cells.sum(|n, i, j| n * (cells.mean[i][j] - fitted[i][j]).powi(2)),
    }
}

/// The additive model's fitted cell values αᵢ + βⱼ and the number of
/// connected parts of the design.
struct AdditiveFit {
    fitted: Vec<Vec<f64>>,
    components: usize,
}

/// Least squares of the additive model y = αᵢ + βⱼ on the cells. The group
/// effects are eliminated, βⱼ = (Y·ⱼ − Σᵢ nᵢⱼαᵢ) / n·ⱼ, which leaves the
/// normal equations for the waves, Σₖ Cᵢₖ αₖ = Yᵢ· − Σⱼ nᵢⱼ Y·ⱼ / n·ⱼ with
/// Cᵢₖ = nᵢ·δᵢₖ − Σⱼ nᵢⱼ nₖⱼ / n·ⱼ. C is singular (one dimension per connected
/// part of the design); fixing one wave's α at 0 in each part leaves a
/// positive definite system, solved by Gaussian elimination with pivoting.
/// The fitted values do not depend on which α was fixed.
fn additive_fit(cells: &Cells) -> Option<AdditiveFit> {
    let (labels, components) = wave_components(&cells.count);
    let mut alpha = vec![0.0; cells.count.len()];
    for part in 0..components {
        let waves: Vec<usize> = (0..labels.len()).filter(|&i| labels[i] == part).collect();
        let free = waves.get(1..).unwrap_or_default();
        let (matrix, rhs) = reduced_normal_equations(cells, free);
        for (&i, value) in free.iter().zip(solve(matrix, rhs)?) {
            alpha[i] = value;
        }
    }
    let b = cells.count[0].len();
    let beta: Vec<f64> = (0..b)
        .map(|j| {
            let (sum, n) = cells
                .count
                .iter()
                .enumerate()
                .fold((0.0, 0.0), |(s, t), (i, c)| {
                    (s + c[j] * (cells.mean[i][j] - alpha[i]), t + c[j])
                });
            if n > 0.0 { sum / n } else { 0.0 }
        })
        .collect();
    let fitted = alpha
        .iter()
        .map(|ai| beta.iter().map(|bj| ai + bj).collect())
        .collect();
    Some(AdditiveFit { fitted, components })
}

/// The system Cα = r of [`additive_fit`] restricted to the `free` waves.
fn reduced_normal_equations(cells: &Cells, free: &[usize]) -> (Vec<Vec<f64>>, Vec<f64>) {
    let count = &cells.count;
    let group_n: Vec<f64> = (0..count[0].len())
        .map(|j| count.iter().map(|c| c[j]).sum())
        .collect();
    let group_sum: Vec<f64> = (0..count[0].len())
        .map(|j| {
            (0..count.len())
                .map(|i| count[i][j] * cells.mean[i][j])
                .sum()
        })
        .collect();
    let per_group = |j: usize| {
        if group_n[j] > 0.0 {
            1.0 / group_n[j]
        } else {
            0.0
        }
    };
    let matrix = free
        .iter()
        .map(|&i| {
            let n_i: f64 = count[i].iter().sum();
            let row = free.iter().map(|&k| {
                let shared: f64 = (0..group_n.len())
                    .map(|j| count[i][j] * count[k][j] * per_group(j))
                    .sum();
                if i == k { n_i - shared } else { -shared }
            });
            row.collect()
        })
        .collect();
    let rhs = free
        .iter()
        .map(|&i| {
            (0..group_n.len())
                .map(|j| count[i][j] * (cells.mean[i][j] - group_sum[j] * per_group(j)))
                .sum()
        })
        .collect();
    (matrix, rhs)
}

/// Which connected part of the wave–group design (waves and groups linked
/// by non-empty cells) each wave is in, and the number of parts.
fn wave_components(count: &[Vec<f64>]) -> (Vec<usize>, usize) {
    let (a, b) = (count.len(), count.first().map_or(0, Vec::len));
    // nodes: waves 0..a, groups a..a + b
    let mut label: Vec<Option<usize>> = vec![None; a + b];
    let mut parts = 0;
    for start in 0..a + b {
        if label[start].is_some() {
            continue;
        }
        let mut stack = vec![start];
        label[start] = Some(parts);
        while let Some(node) = stack.pop() {
            let linked: Vec<usize> = if node < a {
                (0..b)
                    .filter(|&j| count[node][j] > 0.0)
                    .map(|j| a + j)
                    .collect()
            } else {
                (0..a).filter(|&i| count[i][node - a] > 0.0).collect()
            };
            for next in linked {
                if label[next].is_none() {
                    label[next] = Some(parts);
                    stack.push(next);
                }
            }
        }
        parts += 1;
    }
    let waves = label[..a].iter().map(|l| l.unwrap_or_default()).collect();
    (waves, parts)
}

/// Solves `matrix · x = rhs` by Gaussian elimination with partial pivoting;
/// `None` if the matrix is singular.
fn solve(mut matrix: Vec<Vec<f64>>, mut rhs: Vec<f64>) -> Option<Vec<f64>> {
    let n = rhs.len();
    for col in 0..n {
        let pivot =
            (col..n).max_by(|&r, &s| matrix[r][col].abs().total_cmp(&matrix[s][col].abs()))?;
        matrix.swap(col, pivot);
        rhs.swap(col, pivot);
        let p = matrix[col][col];
        if p == 0.0 || !p.is_finite() {
            return None;
        }
        for row in col + 1..n {
            let factor = matrix[row][col] / p;
            let (upper, lower) = matrix.split_at_mut(row);
            for (x, y) in lower[0][col..].iter_mut().zip(&upper[col][col..]) {
                *x -= factor * y;
            }
            rhs[row] -= factor * rhs[col];
        }
    }
    let mut x = vec![0.0; n];
    for row in (0..n).rev() {
        let known: f64 = (row + 1..n).map(|c| matrix[row][c] * x[c]).sum();
        x[row] = finite((rhs[row] - known) / matrix[row][row])?;
    }
    Some(x)
}

// ------------------------------------------------------------ distributions

fn valid_df(df: f64) -> bool {
    df.is_finite() && df > 0.0
}

/// I_x(a, b), the regularized incomplete beta function (statrs).
fn beta_reg(a: f64, b: f64, x: f64) -> Option<f64> {
    checked_beta_reg(a, b, x.clamp(0.0, 1.0))
        .ok()
        .and_then(finite)
        .map(|v| v.clamp(0.0, 1.0))
}

/// P(|T| ≥ |t|) for Student's t with `df` degrees of freedom:
/// I_{df/(df+t²)}(df/2, 1/2).
fn t_two_sided_p(t: f64, df: f64) -> Option<f64> {
    if t.is_nan() || !valid_df(df) {
        return None;
    }
    // df / (df + t²), without overflow for large |t|
    let root = df.sqrt();
    let x = if t.abs() <= root {
        1.0 / (1.0 + (t / root).powi(2))
    } else {
        let r = (root / t).powi(2);
        r / (1.0 + r)
    };
    beta_reg(df / 2.0, 0.5, x)
}

/// Student's t cumulative distribution function P(T ≤ x); `None` for a NaN
/// `x` or `df` not finite and positive.
pub fn t_cdf(x: f64, df: f64) -> Option<f64> {
    let tail = t_two_sided_p(x, df)? / 2.0;
    Some(if x > 0.0 { 1.0 - tail } else { tail })
}

/// Student's t quantile: the x with P(T ≤ x) = p, for 0 < p < 1 (`None`
/// otherwise, or for `df` not finite and positive, or if x overflows).
/// Found as the root of the upper tail by Newton steps kept inside a
/// bracket (bisection when a step leaves it).
pub fn t_quantile(p: f64, df: f64) -> Option<f64> {
    if !(p > 0.0 && p < 1.0 && valid_df(df)) {
        return None;
    }
    if p == 0.5 {
        return Some(0.0);
    }
    // upper-tail probability, exact: 1 − p has no rounding for p ≥ 0.5
    let tail = if p > 0.5 { 1.0 - p } else { p };
    let x = t_upper_quantile(tail, df)?;
    Some(if p > 0.5 { x } else { -x })
}

/// The x > 0 with P(T > x) = `tail` (0 < tail < 0.5), or `None` if it
/// cannot be found to a relative 1e-9 in `tail` (extreme tails of tiny df).
fn t_upper_quantile(tail: f64, df: f64) -> Option<f64> {
    let x = t_upper_root(tail, df)?;
    let found = t_two_sided_p(x, df)? / 2.0;
    ((found - tail).abs() <= 1e-9 * tail).then_some(x)
}

fn t_upper_root(tail: f64, df: f64) -> Option<f64> {
    let dist = StudentsT::new(0.0, 1.0, df).ok()?;
    let upper = |x: f64| t_two_sided_p(x, df).map(|p| p / 2.0);
    let (mut lo, mut hi) = (0.0, 1.0);
    while upper(hi)? > tail {
        lo = hi;
        hi *= 2.0;
        if !hi.is_finite() {
            return None;
        }
    }
    let mut x = 0.5 * (lo + hi);
    for _ in 0..200 {
        let excess = upper(x)? - tail; // decreasing in x
        if excess > 0.0 {
            lo = x;
        } else {
            hi = x;
        }
        let newton = x + excess / dist.pdf(x);
        let next = if newton > lo && newton < hi {
            newton
        } else {
            0.5 * (lo + hi)
        };
        if (next - x).abs() <= 4.0 * f64::EPSILON * x.abs() || hi - lo <= f64::EPSILON * hi {
            return finite(next);
        }
        x = next;
    }
    finite(x)
}

/// F distribution survival function P(F ≥ x) with (`df1`, `df2`) degrees of
/// freedom: I_{df2/(df2 + df1·x)}(df2/2, df1/2). `None` for a NaN `x` or
/// degrees of freedom not finite and positive.
pub fn f_sf(x: f64, df1: f64, df2: f64) -> Option<f64> {
    if x.is_nan() || !valid_df(df1) || !valid_df(df2) {
        return None;
    }
    if x <= 0.0 {
        return Some(1.0);
    }
    beta_reg(df2 / 2.0, df1 / 2.0, df2 / (df2 + df1 * x))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn fixture() -> Value {
        serde_json::from_str(include_str!("../../tests/fixtures/survey/stats.json")).unwrap()
    }

    fn section(name: &str) -> Vec<Value> {
        let cases = fixture()[name].as_array().unwrap().clone();
        assert!(!cases.is_empty(), "{name}");
        cases
    }

    /// Equal to 1e-6, relative to the value when it is larger than 1.
    fn close(got: Option<f64>, want: &Value, what: &str) {
        match want.as_f64() {
            Some(want) => {
                let got = got.unwrap_or_else(|| panic!("{what}: got None, want {want}"));
                let tol = 1e-6 * want.abs().max(1.0);
                assert!((got - want).abs() <= tol, "{what}: got {got}, want {want}");
            }
            None => assert!(
                want.is_null() && got.is_none(),
                "{what}: got {got:?}, want {want}"
            ),
        }
    }

    fn close_interval(got: Option<Interval>, want: &Value, what: &str) {
        match want.as_array() {
            Some(pair) => {
                close(got.map(|i| i.low), &pair[0], &format!("{what} low"));
                close(got.map(|i| i.high), &pair[1], &format!("{what} high"));
            }
            None => assert!(
                want.is_null() && got.is_none(),
                "{what}: got {got:?}, want null"
            ),
        }
    }

    fn floats(v: &Value) -> Vec<f64> {
        serde_json::from_value(v.clone()).unwrap()
    }

    #[test]
    fn scale_scores_equal_the_reference() {
        for case in section("scale") {
            let name = case["name"].as_str().unwrap();
            let scale = Scale {
                min: case["min"].as_f64().unwrap(),
                max: case["max"].as_f64().unwrap(),
                reversed: serde_json::from_value(case["reversed"].clone()).unwrap(),
                scoring: serde_json::from_value(case["scoring"].clone()).unwrap(),
                min_items: serde_json::from_value(case["min_items"].clone()).unwrap(),
            };
            let values: Vec<Option<f64>> = serde_json::from_value(case["values"].clone()).unwrap();
            close(scale.score(&values), &case["score"], name);
        }
    }

    #[test]
    fn cronbach_alpha_equals_the_reference() {
        for case in section("cronbach") {
            let name = case["name"].as_str().unwrap();
            let rows: Vec<Vec<Option<f64>>> = serde_json::from_value(case["rows"].clone()).unwrap();
            let got = cronbach_alpha(&rows);
            close(got.as_ref().map(|r| r.alpha), &case["alpha"], name);
            let Some(got) = got else { continue };
            assert_eq!(
                got.complete as u64,
                case["complete"].as_u64().unwrap(),
                "{name}"
            );
            assert_eq!(got.complete + got.dropped, rows.len(), "{name}");
            let items = case["items"].as_array().unwrap();
            assert_eq!(items.len(), got.item_stats.len(), "{name}");
            for (j, (want, item)) in items.iter().zip(&got.item_stats).enumerate() {
                close(
                    item.item_total,
                    &want["item_total"],
                    &format!("{name} r[{j}]"),
                );
                let what = format!("{name} alpha-if-deleted[{j}]");
                close(item.alpha_if_deleted, &want["alpha_if_deleted"], &what);
            }
        }
    }

    #[test]
    fn descriptives_equal_the_reference() {
        for case in section("descriptives") {
            let name = case["name"].as_str().unwrap();
            let got = describe(&floats(&case["values"]));
            assert_eq!(got.n as u64, case["n"].as_u64().unwrap(), "{name}");
            close(got.mean, &case["mean"], &format!("{name} mean"));
            close(got.sd, &case["sd"], &format!("{name} sd"));
            close_interval(got.ci95, &case["ci"], &format!("{name} ci"));
        }
    }

    #[test]
    fn welch_equals_scipy() {
        for case in section("welch") {
            let name = case["name"].as_str().unwrap();
            let got = welch_t_test(&floats(&case["earlier"]), &floats(&case["later"]));
            close(got.map(|w| w.t), &case["t"], &format!("{name} t"));
            close(got.map(|w| w.df), &case["df"], &format!("{name} df"));
            close(got.map(|w| w.p), &case["p"], &format!("{name} p"));
            close(
                got.map(|w| w.difference),
                &case["difference"],
                &format!("{name} diff"),
            );
            close_interval(got.map(|w| w.ci95), &case["ci"], &format!("{name} ci"));
        }
    }

    #[test]
    fn hedges_g_equals_the_reference() {
        for case in section("hedges") {
            let name = case["name"].as_str().unwrap();
            let got = hedges_g(&floats(&case["earlier"]), &floats(&case["later"]));
            close(got, &case["g"], name);
        }
    }

    fn anova_data(case: &Value) -> Vec<(String, String, f64)> {
        serde_json::from_value(case["data"].clone()).unwrap()
    }

    fn close_effect(got: Option<Effect>, want: &Value, what: &str) {
        if want.is_null() {
            assert_eq!(got, None, "{what}: want null");
            return;
        }
        let got = got.unwrap_or_else(|| panic!("{what}: got None, want {want}"));
        close(Some(got.ss), &want["ss"], &format!("{what} ss"));
        close(Some(got.df1 as f64), &want["df1"], &format!("{what} df1"));
        close(Some(got.df2 as f64), &want["df2"], &format!("{what} df2"));
        close(Some(got.f), &want["f"], &format!("{what} F"));
        close(Some(got.p), &want["p"], &format!("{what} p"));
    }

    #[test]
    fn two_way_anova_equals_statsmodels() {
        let cases = section("anova");
        assert!(cases.len() >= 6);
        for case in cases {
            let name = case["name"].as_str().unwrap();
            let got = two_way_anova(&anova_data(&case)).unwrap_or_else(|| panic!("{name}"));
            close_effect(got.wave, &case["wave"], &format!("{name} wave"));
            close_effect(got.group, &case["group"], &format!("{name} group"));
            close_effect(
                got.interaction,
                &case["interaction"],
                &format!("{name} interaction"),
            );
            close(
                Some(got.residual_ss),
                &case["residual"]["ss"],
                &format!("{name} residual"),
            );
            close(Some(got.residual_df as f64), &case["residual"]["df"], name);
            assert_eq!(
                got.empty_cells == 0,
                case["all_cells"].as_bool().unwrap(),
                "{name}"
            );
        }
    }

    /// Opposite changes by locality: the overall Welch test sees nothing,
    /// the interaction is clear.
    #[test]
    fn the_overall_change_masks_the_localities() {
        let cases = section("anova");
        let case = cases
            .iter()
            .find(|c| c["name"] == "masking_opposite_directions")
            .unwrap();
        let data = anova_data(case);
        let wave =
            |w: &str| -> Vec<f64> { data.iter().filter(|o| o.0 == w).map(|o| o.2).collect() };
        let overall = welch_t_test(&wave("2023"), &wave("2025")).unwrap();
        assert!(overall.p > 0.2, "{overall:?}");
        let anova = two_way_anova(&data).unwrap();
        assert!(anova.interaction.unwrap().p < 0.001);
    }

    #[test]
    fn distributions_equal_scipy_to_1e10() {
        let d = fixture()["distributions"].clone();
        for c in d["t_cdf"].as_array().unwrap() {
            let (x, df) = (c["x"].as_f64().unwrap(), c["df"].as_f64().unwrap());
            let (got, want) = (t_cdf(x, df).unwrap(), c["cdf"].as_f64().unwrap());
            assert!((got - want).abs() < 1e-10, "t cdf({x}, {df}) {got} {want}");
        }
        for c in d["t_ppf"].as_array().unwrap() {
            let (p, df) = (c["p"].as_f64().unwrap(), c["df"].as_f64().unwrap());
            let (got, want) = (t_quantile(p, df).unwrap(), c["x"].as_f64().unwrap());
            assert!(
                (got - want).abs() <= 1e-10 * want.abs().max(1.0),
                "t ppf({p}, {df}) {got} {want}"
            );
        }
        for c in d["f_sf"].as_array().unwrap() {
            let (x, a, b) = (
                c["x"].as_f64().unwrap(),
                c["df1"].as_f64().unwrap(),
                c["df2"].as_f64().unwrap(),
            );
            let (got, want) = (f_sf(x, a, b).unwrap(), c["sf"].as_f64().unwrap());
            assert!(
                (got - want).abs() < 1e-10,
                "F sf({x}, {a}, {b}) {got} {want}"
            );
        }
    }

    #[test]
    fn scale_reverses_and_counts_items() {
        let mut scale = Scale::new(1.0, 5.0);
        scale.reversed = vec![1];
        assert_eq!(scale.score(&[Some(5.0), Some(1.0)]), Some(5.0));
        assert_eq!(
            scale.keyed_items(&[Some(2.0), Some(2.0), None]),
            [Some(2.0), Some(4.0), None]
        );
        assert_eq!(scale.score(&[Some(5.0), None]), None, "default: every item");
        scale.min_items = Some(1);
        assert_eq!(scale.score(&[Some(5.0), None]), Some(5.0));
        assert_eq!(scale.score(&[None, Some(2.0)]), Some(4.0));
        scale.scoring = Scoring::Sum;
        assert_eq!(scale.score(&[Some(3.0), Some(2.0), Some(9.0)]), Some(7.0));
        assert_eq!(scale.score(&[Some(f64::NAN), Some(f64::INFINITY)]), None);
        assert_eq!(scale.score(&[]), None);
        assert_eq!(
            Scale::new(5.0, 1.0).score(&[Some(3.0)]),
            None,
            "invalid range"
        );
        assert_eq!(Scale::new(1.0, f64::NAN).score(&[Some(3.0)]), None);
    }

    #[test]
    fn degenerate_samples_give_none() {
        let constant = [3.0; 5];
        for x in [&[][..], &[2.0], &constant] {
            assert_eq!(welch_t_test(x, x), None);
            assert_eq!(hedges_g(x, x), None);
        }
        assert_eq!(welch_t_test(&[1.0, 2.0], &[3.0]), None);
        assert_eq!(hedges_g(&[1.0, 2.0], &[f64::NAN, 3.0]), None);
        let d = describe(&[]);
        assert_eq!((d.n, d.mean, d.sd, d.ci95), (0, None, None, None));
        let d = describe(&[4.0, f64::NAN]);
        assert_eq!((d.n, d.mean, d.sd, d.ci95), (1, Some(4.0), None, None));
        let d = describe(&[0.1; 7]);
        let ci = d.ci95.unwrap();
        assert!((ci.low - 0.1).abs() < 1e-15 && (ci.high - 0.1).abs() < 1e-15);
        assert!(welch_t_test(&[0.1; 3], &[0.3; 4]).is_none());
        let huge = [f64::MAX, f64::MAX, -f64::MAX];
        assert!(welch_t_test(&huge, &huge).is_none());
        assert!(describe(&huge).mean.is_none());
    }

    #[test]
    fn degenerate_reliability_gives_none() {
        let empty: [Vec<Option<f64>>; 0] = [];
        assert_eq!(cronbach_alpha(&empty), None);
        assert_eq!(cronbach_alpha(&[Vec::<Option<f64>>::new()]), None);
        assert_eq!(cronbach_alpha(&[[Some(1.0), Some(2.0)]]), None);
        let constant = vec![vec![Some(2.0), Some(2.0), Some(2.0)]; 4];
        assert_eq!(cronbach_alpha(&constant), None);
        // one constant item: alpha is defined, its correlation is not
        let rows = [
            [Some(1.0), Some(2.0), Some(3.0)],
            [Some(2.0), Some(3.0), Some(3.0)],
            [Some(3.0), Some(5.0), Some(3.0)],
        ];
        let r = cronbach_alpha(&rows).unwrap();
        assert_eq!(r.item_stats[2].item_total, None);
        assert!(r.item_stats[0].item_total.is_some());
        // two items: alpha-if-deleted would leave one item
        let two = [
            [Some(1.0), Some(2.0)],
            [Some(2.0), Some(2.5)],
            [Some(4.0), Some(3.0)],
        ];
        let r = cronbach_alpha(&two).unwrap();
        assert!(r.item_stats.iter().all(|i| i.alpha_if_deleted.is_none()));
        // ragged rows count as incomplete
        let ragged = vec![
            vec![Some(1.0), Some(2.0)],
            vec![Some(2.0)],
            vec![Some(3.0), Some(3.0)],
        ];
        assert_eq!(cronbach_alpha(&ragged).unwrap().dropped, 1);
    }

    fn obs(rows: &[(u8, char, f64)]) -> Vec<(u8, char, f64)> {
        rows.to_vec()
    }

    #[test]
    fn degenerate_designs_give_none() {
        let empty: Vec<(u8, char, f64)> = Vec::new();
        assert_eq!(two_way_anova(&empty), None);
        let one_wave = obs(&[(1, 'a', 1.0), (1, 'b', 2.0), (1, 'a', 3.0), (1, 'b', 5.0)]);
        assert_eq!(two_way_anova(&one_wave), None);
        // one observation per cell: no residual degrees of freedom
        let single = obs(&[(1, 'a', 1.0), (1, 'b', 2.0), (2, 'a', 3.0), (2, 'b', 5.0)]);
        assert_eq!(two_way_anova(&single), None);
        // no variation within cells
        let mut flat = single.clone();
        flat.extend(single.iter().copied());
        assert_eq!(two_way_anova(&flat), None);
        flat.push((2, 'b', f64::NAN));
        assert_eq!(two_way_anova(&flat), None);
    }

    #[test]
    fn anova_ignores_level_order_and_names() {
        let cases = section("anova");
        let data = anova_data(&cases[0]);
        let renamed: Vec<(String, usize, f64)> = data
            .iter()
            .rev()
            .map(|(w, g, y)| {
                (
                    format!("~{w}"),
                    usize::MAX - g.bytes().map(usize::from).sum::<usize>(),
                    *y,
                )
            })
            .collect();
        let (a, b) = (
            two_way_anova(&data).unwrap(),
            two_way_anova(&renamed).unwrap(),
        );
        let (x, y) = (a.interaction.unwrap(), b.interaction.unwrap());
        assert!((x.f - y.f).abs() < 1e-9 && x.df1 == y.df1);
        assert!((a.wave.unwrap().ss - b.wave.unwrap().ss).abs() < 1e-9);
    }

    #[test]
    fn quantile_inverts_the_cdf() {
        for df in [0.5, 1.0, 2.5, 9.0, 30.0, 1e3, 1e6] {
            for p in [1e-12, 1e-4, 0.01, 0.2, 0.5, 0.7, 0.975, 0.999999] {
                let x = t_quantile(p, df).unwrap_or_else(|| panic!("df {df} p {p}"));
                let back = t_cdf(x, df).unwrap();
                // for very large df, df / (df + x²) is close to 1 and holds
                // fewer digits of x: the cdf is coarser there
                let tol = if df <= 1e3 { 1e-12 } else { 1e-9 };
                assert!(
                    (back - p).abs() <= tol * p.min(1.0 - p),
                    "df {df} p {p}: {back}"
                );
            }
        }
    }

    #[test]
    fn distributions_reject_bad_arguments() {
        assert_eq!(t_quantile(0.0, 5.0), None);
        assert_eq!(t_quantile(1.0, 5.0), None);
        assert_eq!(t_quantile(f64::NAN, 5.0), None);
        assert_eq!(t_quantile(0.5, 0.0), None);
        assert_eq!(t_quantile(0.9, f64::INFINITY), None);
        assert_eq!(t_quantile(1e-300, 1e-3), None, "overflows");
        assert_eq!(t_quantile(1e-12, 0.05), None, "beyond f64");
        assert_eq!(t_cdf(f64::NAN, 3.0), None);
        assert_eq!(t_cdf(f64::INFINITY, 3.0), Some(1.0));
        assert_eq!(t_cdf(f64::NEG_INFINITY, 3.0), Some(0.0));
        assert_eq!(t_cdf(1.0, -1.0), None);
        assert_eq!(f_sf(-1.0, 2.0, 3.0), Some(1.0));
        assert_eq!(f_sf(f64::INFINITY, 2.0, 3.0), Some(0.0));
        assert_eq!(f_sf(1e308, 10.0, 3.0), Some(0.0));
        assert_eq!(f_sf(f64::NAN, 2.0, 3.0), None);
        assert_eq!(f_sf(1.0, 0.0, 3.0), None);
    }

    mod properties {
        use super::super::*;
        use proptest::prelude::*;

        fn value() -> impl Strategy<Value = f64> {
            prop_oneof![
                8 => (0u8..=20).prop_map(|v| f64::from(v) / 4.0),
                1 => any::<f64>(),
                1 => Just(f64::NAN),
            ]
        }

        fn is_number(x: f64) -> bool {
            x.is_finite()
        }

        proptest! {
            #[test]
            fn two_sample_statistics_are_numbers_or_none(
                a in prop::collection::vec(value(), 0..12),
                b in prop::collection::vec(value(), 0..12),
            ) {
                if let Some(w) = welch_t_test(&a, &b) {
                    prop_assert!(is_number(w.t) && is_number(w.df) && (0.0..=1.0).contains(&w.p));
                    prop_assert!(w.ci95.low <= w.difference && w.difference <= w.ci95.high);
                }
                if let Some(g) = hedges_g(&a, &b) {
                    prop_assert!(is_number(g));
                }
                let d = describe(&a);
                prop_assert!(d.mean.is_none_or(is_number) && d.sd.is_none_or(is_number));
            }

            #[test]
            fn reliability_is_a_number_or_none(
                rows in prop::collection::vec(prop::collection::vec(prop::option::of(value()), 0..5), 0..10),
            ) {
                if let Some(r) = cronbach_alpha(&rows) {
                    prop_assert!(is_number(r.alpha));
                    for item in &r.item_stats {
                        prop_assert!(item.item_total.is_none_or(|v| (-1.0..=1.0).contains(&v)));
                        prop_assert!(item.alpha_if_deleted.is_none_or(is_number));
                    }
                }
            }

            #[test]
            fn anova_is_numbers_or_none(
                data in prop::collection::vec((0u8..3, 0u8..4, value()), 0..40),
            ) {
                if let Some(t) = two_way_anova(&data) {
                    for e in [t.wave, t.group, t.interaction].into_iter().flatten() {
                        prop_assert!(is_number(e.f) && e.ss >= 0.0 && (0.0..=1.0).contains(&e.p));
                    }
                    prop_assert!(t.residual_df > 0 && is_number(t.residual_ss));
                }
            }

            #[test]
            fn scores_stay_in_range(
                answers in prop::collection::vec(prop::option::of(value()), 0..8),
                min_items in prop::option::of(0usize..8),
            ) {
                let scale = Scale { min: 1.0, max: 5.0, reversed: vec![0, 3], scoring: Scoring::Mean, min_items };
                if let Some(s) = scale.score(&answers) {
                    prop_assert!((1.0..=5.0).contains(&s));
                }
            }
        }
    }
}
