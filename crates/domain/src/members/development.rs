//! The development of a member (入党), checked date by date. A record goes applicant → activist →
//! development target → probationary member → full member; each step has its date and its conditions
//! (DOMAIN.md "Member development", after the Party Constitution ch. 1 and the Detailed Rules on the
//! Development of Party Members, 《中国共产党发展党员工作细则》, 2014). [`check`] lists every rule a
//! record breaks, each as a [`Violation`] with a stable rule id (`development.min_activist_months` …),
//! a message and the dates involved. The numbers are [`DevelopmentRules`], dated: the version in force
//! on the application day applies.

use crate::{FieldError, FieldErrors, Message};
use chrono::{Months, NaiveDate};
use serde::{Deserialize, Serialize};

/// The numbers of the development rules from one day on (defaults: the 2014 Detailed Rules).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DevelopmentRules {
    pub effective_from: NaiveDate,
    /// Least age on the day of application (Constitution art. 1: 18).
    pub min_age_years: u32,
    /// The branch talks with an applicant within this many months of the application (1; Rules art. 7).
    pub talk_within_months: u32,
    /// An activist is assessed at least this often, in months (6; Rules art. 12).
    pub assessment_interval_months: u32,
    /// Least time as activist before becoming a development target, in months (12; Rules art. 13).
    pub min_activist_months: u32,
    /// Least class hours of the development target's training (24, i.e. 3 days; Rules art. 17).
    pub min_training_hours: u32,
    /// Introducers, each a full member (2; Constitution art. 5, Rules art. 18).
    pub introducers: u32,
    /// The higher committee approves within this many months of the branch's vote (3; Rules art. 26)…
    pub approval_months: u32,
    /// …or, with an extension for special reasons, this many (6).
    pub approval_extended_months: u32,
    /// Probation, in months (12; Constitution art. 7).
    pub probation_months: u32,
    /// An extended probation is extended by this many months at least and at most (6–12; Rules art. 32).
    pub extension_min_months: u32,
    pub extension_max_months: u32,
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap_or(NaiveDate::MIN)
}

impl Default for DevelopmentRules {
    /// The Detailed Rules on the Development of Party Members, issued 2014-05-28, in force from 2014-06-10.
    fn default() -> Self {
        Self {
            effective_from: date(2014, 6, 10),
            min_age_years: 18,
            talk_within_months: 1,
            assessment_interval_months: 6,
            min_activist_months: 12,
            min_training_hours: 24,
            introducers: 2,
            approval_months: 3,
            approval_extended_months: 6,
            probation_months: 12,
            extension_min_months: 6,
            extension_max_months: 12,
        }
    }
}

/// Every version of the development rules, oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DevelopmentRuleSet {
    pub versions: Vec<DevelopmentRules>,
}

impl Default for DevelopmentRuleSet {
    fn default() -> Self {
        Self { versions: vec![DevelopmentRules::default()] }
    }
}

impl DevelopmentRuleSet {
    /// The rules in force on `day` (the oldest for a day before every version).
    pub fn at(&self, day: NaiveDate) -> DevelopmentRules {
        self.versions
            .iter()
            .rev()
            .find(|v| v.effective_from <= day)
            .or_else(|| self.versions.first())
            .cloned()
            .unwrap_or_default()
    }
}

/// An introducer of a development target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Introducer {
    /// A full member (正式党员); a probationary member may not introduce.
    pub full_member: bool,
}

/// The branch general meeting's vote on admission.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Vote {
    /// Full members with a vote who were present.
    pub present: u32,
    /// Full members with a vote who should attend (应到会有表决权的正式党员).
    pub eligible: u32,
    /// Votes for.
    #[serde(rename = "for")]
    pub votes_for: u32,
}

/// A development record as the checker reads it: the steps' dates, all optional but the first two.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DevelopmentRecord {
    pub birth_date: NaiveDate,
    /// The written application (入党申请).
    pub applied_on: NaiveDate,
    /// The branch's talk with the applicant.
    pub talked_on: Option<NaiveDate>,
    /// Made an activist (入党积极分子).
    pub activist_on: Option<NaiveDate>,
    /// The activist's assessments (考察).
    pub assessments: Vec<NaiveDate>,
    /// Made a development target (发展对象).
    pub target_on: Option<NaiveDate>,
    /// Political review (政治审查) concluded.
    pub review_done_on: Option<NaiveDate>,
    pub training_hours: Option<u32>,
    pub introducers: Vec<Introducer>,
    pub vote: Option<Vote>,
    /// The branch general meeting admitted them as a probationary member; probation runs from here.
    pub admitted_on: Option<NaiveDate>,
    /// The higher committee approved the admission.
    pub approved_on: Option<NaiveDate>,
    /// The approval time was extended for special reasons (to `approval_extended_months`).
    pub approval_extended: bool,
    /// Became a full member (转正).
    pub full_on: Option<NaiveDate>,
    /// Probation extended by this many months (0 or none: not extended).
    pub extension_months: Option<u32>,
}

/// A development record as sent: dates as text (`2024-03-01`, `2024/3/1`, `2024年3月1日`).
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DevelopmentInput {
    pub birth_date: Option<String>,
    pub applied_on: Option<String>,
    pub talked_on: Option<String>,
    pub activist_on: Option<String>,
    #[serde(default)]
    pub assessments: Vec<String>,
    pub target_on: Option<String>,
    pub review_done_on: Option<String>,
    pub training_hours: Option<u32>,
    #[serde(default)]
    pub introducers: Vec<Introducer>,
    pub vote: Option<Vote>,
    pub admitted_on: Option<String>,
    pub approved_on: Option<String>,
    #[serde(default)]
    pub approval_extended: bool,
    pub full_on: Option<String>,
    pub extension_months: Option<u32>,
}

fn optional_date(s: &Option<String>, field: &str, errs: &mut FieldErrors) -> Option<NaiveDate> {
    match s.as_deref().map(str::trim) {
        Some(t) if !t.is_empty() => errs.take(crate::parse_flexible_date(t, field)),
        _ => None,
    }
}

fn required_date(s: &Option<String>, field: &str, errs: &mut FieldErrors) -> Option<NaiveDate> {
    if s.as_deref().is_none_or(|t| t.trim().is_empty()) {
        errs.push(FieldError::new(field, "required", Message::new("problem.required")));
        return None;
    }
    optional_date(s, field, errs)
}

impl DevelopmentInput {
    /// The record, or every field's problem at once: `birth_date` and `applied_on` are required, every
    /// date must be a real date, and the vote's counts must add up (present ≤ eligible, for ≤ present).
    pub fn parse(&self) -> Result<DevelopmentRecord, FieldErrors> {
        let mut errs = FieldErrors::default();
        let birth_date = required_date(&self.birth_date, "birth_date", &mut errs);
        let applied_on = required_date(&self.applied_on, "applied_on", &mut errs);
        let talked_on = optional_date(&self.talked_on, "talked_on", &mut errs);
        let activist_on = optional_date(&self.activist_on, "activist_on", &mut errs);
        let mut assessments = Vec::new();
        for (i, a) in self.assessments.iter().enumerate() {
            if let Some(d) = optional_date(&Some(a.clone()), &format!("assessments[{i}]"), &mut errs) {
                assessments.push(d);
            }
        }
        let target_on = optional_date(&self.target_on, "target_on", &mut errs);
        let review_done_on = optional_date(&self.review_done_on, "review_done_on", &mut errs);
        let admitted_on = optional_date(&self.admitted_on, "admitted_on", &mut errs);
        let approved_on = optional_date(&self.approved_on, "approved_on", &mut errs);
        let full_on = optional_date(&self.full_on, "full_on", &mut errs);
        if let Some(v) = self.vote {
            if v.present > v.eligible {
                errs.push(FieldError::new(
                    "vote.present",
                    "too_many",
                    Message::new("problem.vote_present_over_eligible"),
                ));
            }
            if v.votes_for > v.present {
                errs.push(FieldError::new("vote.for", "too_many", Message::new("problem.vote_for_over_present")));
            }
        }
        match (birth_date, applied_on, errs.is_empty()) {
            (Some(birth_date), Some(applied_on), true) => Ok(DevelopmentRecord {
                birth_date,
                applied_on,
                talked_on,
                activist_on,
                assessments,
                target_on,
                review_done_on,
                training_hours: self.training_hours,
                introducers: self.introducers.clone(),
                vote: self.vote,
                admitted_on,
                approved_on,
                approval_extended: self.approval_extended,
                full_on,
                extension_months: self.extension_months,
            }),
            _ => Err(errs),
        }
    }
}

/// One rule a record breaks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// Stable id, e.g. `development.min_activist_months`.
    pub rule: &'static str,
    pub message: Message,
    /// The dates involved, in the order the message names them.
    pub dates: Vec<NaiveDate>,
}

fn plus_months(d: NaiveDate, months: u32) -> NaiveDate {
    d.checked_add_months(Months::new(months)).unwrap_or(NaiveDate::MAX)
}

/// The name of a step's date field, said in the reader's language.
pub fn step_name(field: &str) -> Message {
    match field {
        "birth_date" => Message::new("development.step.birth_date"),
        "applied_on" => Message::new("development.step.applied_on"),
        "talked_on" => Message::new("development.step.talked_on"),
        "activist_on" => Message::new("development.step.activist_on"),
        "assessments" => Message::new("development.step.assessments"),
        "target_on" => Message::new("development.step.target_on"),
        "review_done_on" => Message::new("development.step.review_done_on"),
        "admitted_on" => Message::new("development.step.admitted_on"),
        "approved_on" => Message::new("development.step.approved_on"),
        "full_on" => Message::new("development.step.full_on"),
        other => Message::verbatim(other),
    }
}

/// The rule ids [`check`] may report, in the order it checks them.
pub const RULES: [&str; 16] = [
    "development.not_in_future",
    "development.date_order",
    "development.min_age",
    "development.talk_within_month",
    "development.assessment_every_six_months",
    "development.min_activist_months",
    "development.political_review_before_admission",
    "development.min_training_hours",
    "development.two_full_member_introducers",
    "development.vote_required",
    "development.vote_quorum",
    "development.vote_majority",
    "development.approval_within_three_months",
    "development.probation_one_year",
    "development.extension_6_to_12_months",
    "development.step_missing",
];

/// Every rule `r` breaks, judged on `today` (a date after it is refused; a deadline that has passed
/// with its step still missing is a violation too).
pub fn check(r: &DevelopmentRecord, rules: &DevelopmentRuleSet, today: NaiveDate) -> Vec<Violation> {
    let rules = rules.at(r.applied_on);
    let mut out = Vec::new();
    let mut v =
        |rule: &'static str, message: Message, dates: Vec<NaiveDate>| out.push(Violation { rule, message, dates });

    // Dates not in the future.
    let named: Vec<(&'static str, NaiveDate)> = [
        ("birth_date", Some(r.birth_date)),
        ("applied_on", Some(r.applied_on)),
        ("talked_on", r.talked_on),
        ("activist_on", r.activist_on),
        ("target_on", r.target_on),
        ("review_done_on", r.review_done_on),
        ("admitted_on", r.admitted_on),
        ("approved_on", r.approved_on),
        ("full_on", r.full_on),
    ]
    .into_iter()
    .filter_map(|(n, d)| d.map(|d| (n, d)))
    .chain(r.assessments.iter().map(|d| ("assessments", *d)))
    .collect();
    for (field, d) in &named {
        if *d > today {
            v(
                "development.not_in_future",
                Message::new("development.violation.not_in_future")
                    .arg_msg("field", step_name(field))
                    .arg("d", d)
                    .arg("today", today),
                vec![*d, today],
            );
        }
    }

    // The steps in order: each not before the one it follows.
    let steps: [(&'static str, Option<NaiveDate>); 6] = [
        ("applied_on", Some(r.applied_on)),
        ("activist_on", r.activist_on),
        ("target_on", r.target_on),
        ("admitted_on", r.admitted_on),
        ("approved_on", r.approved_on),
        ("full_on", r.full_on),
    ];
    let mut before: Option<(&'static str, NaiveDate)> = None;
    for (step, d) in steps {
        if let Some(d) = d {
            if let Some((prev, pd)) = before {
                if d < pd {
                    v(
                        "development.date_order",
                        Message::new("development.violation.date_order")
                            .arg_msg("step", step_name(step))
                            .arg("d", d)
                            .arg_msg("prev", step_name(prev))
                            .arg("pd", pd),
                        vec![pd, d],
                    );
                }
            }
            before = Some((step, d));
        }
    }
    if r.applied_on <= r.birth_date {
        v(
            "development.date_order",
            Message::new("development.violation.date_order")
                .arg_msg("step", step_name("applied_on"))
                .arg("d", r.applied_on)
                .arg_msg("prev", step_name("birth_date"))
                .arg("pd", r.birth_date),
            vec![r.birth_date, r.applied_on],
        );
    }
    if let Some(t) = r.talked_on.filter(|t| *t < r.applied_on) {
        v(
            "development.date_order",
            Message::new("development.violation.date_order")
                .arg_msg("step", step_name("talked_on"))
                .arg("d", t)
                .arg_msg("prev", step_name("applied_on"))
                .arg("pd", r.applied_on),
            vec![r.applied_on, t],
        );
    }
    // A later step recorded without an earlier one.
    let present: Vec<(&'static str, bool)> = steps.iter().map(|(s, d)| (*s, d.is_some())).collect();
    for (i, (step, there)) in present.iter().enumerate() {
        if !there {
            if let Some((later, _)) = present[i + 1..].iter().find(|(_, t)| *t) {
                v(
                    "development.step_missing",
                    Message::new("development.violation.step_missing")
                        .arg_msg("step", step_name(step))
                        .arg_msg("later", step_name(later)),
                    Vec::new(),
                );
            }
        }
    }

    // At least 18 on the day of application (Constitution art. 1).
    let of_age = plus_months(r.birth_date, rules.min_age_years * 12);
    if r.applied_on < of_age {
        v(
            "development.min_age",
            Message::new("development.violation.min_age")
                .arg("years", rules.min_age_years)
                .arg("birth", r.birth_date)
                .arg("applied", r.applied_on)
                .arg("of_age", of_age),
            vec![r.birth_date, r.applied_on],
        );
    }

    // A talk within a month of the application (Rules art. 7).
    let talk_due = plus_months(r.applied_on, rules.talk_within_months);
    match r.talked_on {
        Some(t) if t > talk_due => v(
            "development.talk_within_month",
            Message::new("development.violation.talk_late")
                .arg("months", rules.talk_within_months)
                .arg("applied", r.applied_on)
                .arg("talked", t)
                .arg("due", talk_due),
            vec![r.applied_on, t],
        ),
        None if today > talk_due => v(
            "development.talk_within_month",
            Message::new("development.violation.talk_missing")
                .arg("months", rules.talk_within_months)
                .arg("applied", r.applied_on)
                .arg("due", talk_due),
            vec![r.applied_on, talk_due],
        ),
        _ => {}
    }

    // Activists assessed at least every six months until they become development targets (Rules art. 12).
    if let Some(activist) = r.activist_on {
        let end = r.target_on.unwrap_or(today);
        let mut held: Vec<NaiveDate> = r.assessments.iter().copied().filter(|d| *d > activist && *d <= end).collect();
        held.sort();
        held.dedup();
        let mut last = activist;
        for next in held.into_iter().chain(std::iter::once(end)) {
            let due = plus_months(last, rules.assessment_interval_months);
            if next > due {
                v(
                    "development.assessment_every_six_months",
                    Message::new("development.violation.assessment_gap")
                        .arg("months", rules.assessment_interval_months)
                        .arg("from", last)
                        .arg("due", due)
                        .arg("next", next),
                    vec![last, due],
                );
            }
            last = next;
        }
    }

    // A year as activist before becoming a development target (Rules art. 13).
    if let (Some(activist), Some(target)) = (r.activist_on, r.target_on) {
        let earliest = plus_months(activist, rules.min_activist_months);
        if target < earliest {
            v(
                "development.min_activist_months",
                Message::new("development.violation.min_activist_months")
                    .arg("months", rules.min_activist_months)
                    .arg("activist", activist)
                    .arg("target", target)
                    .arg("earliest", earliest),
                vec![activist, target],
            );
        }
    }

    // Conditions of admission as a probationary member.
    if let Some(admitted) = r.admitted_on {
        // Political review of the development target, concluded before admission (Rules art. 16).
        match r.review_done_on {
            None => v(
                "development.political_review_before_admission",
                Message::new("development.violation.review_missing").arg("admitted", admitted),
                vec![admitted],
            ),
            Some(review) if review > admitted => v(
                "development.political_review_before_admission",
                Message::new("development.violation.review_late").arg("review", review).arg("admitted", admitted),
                vec![review, admitted],
            ),
            _ => {}
        }
        // Training of at least 24 class hours (Rules art. 17).
        let hours = r.training_hours.unwrap_or(0);
        if hours < rules.min_training_hours {
            v(
                "development.min_training_hours",
                Message::new("development.violation.min_training_hours")
                    .arg("hours", hours)
                    .arg("min", rules.min_training_hours),
                vec![admitted],
            );
        }
        // Two introducers, each a full member (Constitution art. 5).
        let full = r.introducers.iter().filter(|i| i.full_member).count();
        let wanted = usize::try_from(rules.introducers).unwrap_or(usize::MAX);
        if r.introducers.len() != wanted || full != wanted {
            v(
                "development.two_full_member_introducers",
                Message::new("development.violation.introducers")
                    .arg("n", r.introducers.len())
                    .arg("full", full)
                    .arg("wanted", wanted),
                vec![admitted],
            );
        }
        // The branch general meeting's vote: more than half of those eligible present, and more than
        // half of those eligible for (Rules art. 26).
        match r.vote {
            None => v(
                "development.vote_required",
                Message::new("development.violation.vote_required").arg("admitted", admitted),
                vec![admitted],
            ),
            Some(vote) => {
                if 2 * u64::from(vote.present) <= u64::from(vote.eligible) {
                    v(
                        "development.vote_quorum",
                        Message::new("development.violation.vote_quorum")
                            .arg("present", vote.present)
                            .arg("eligible", vote.eligible),
                        vec![admitted],
                    );
                }
                if 2 * u64::from(vote.votes_for) <= u64::from(vote.eligible) {
                    v(
                        "development.vote_majority",
                        Message::new("development.violation.vote_majority")
                            .arg("for", vote.votes_for)
                            .arg("eligible", vote.eligible),
                        vec![admitted],
                    );
                }
            }
        }
        // The higher committee's approval within 3 months, or 6 when extended (Rules art. 26).
        let months = if r.approval_extended { rules.approval_extended_months } else { rules.approval_months };
        let due = plus_months(admitted, months);
        match r.approved_on {
            Some(approved) if approved > due => v(
                "development.approval_within_three_months",
                Message::new("development.violation.approval_late")
                    .arg("months", months)
                    .arg("admitted", admitted)
                    .arg("approved", approved)
                    .arg("due", due),
                vec![admitted, approved],
            ),
            None if today > due => v(
                "development.approval_within_three_months",
                Message::new("development.violation.approval_missing")
                    .arg("months", months)
                    .arg("admitted", admitted)
                    .arg("due", due),
                vec![admitted, due],
            ),
            _ => {}
        }
    }

    // Probation of a year, extended by 6 to 12 months if at all (Constitution art. 7, Rules art. 32).
    let extension = r.extension_months.unwrap_or(0);
    if extension != 0 && !(rules.extension_min_months..=rules.extension_max_months).contains(&extension) {
        v(
            "development.extension_6_to_12_months",
            Message::new("development.violation.extension")
                .arg("months", extension)
                .arg("min", rules.extension_min_months)
                .arg("max", rules.extension_max_months),
            r.admitted_on.into_iter().collect(),
        );
    }
    if let (Some(admitted), Some(full)) = (r.admitted_on, r.full_on) {
        let ends = plus_months(admitted, rules.probation_months + extension);
        if full < ends {
            v(
                "development.probation_one_year",
                Message::new("development.violation.probation")
                    .arg("months", rules.probation_months + extension)
                    .arg("admitted", admitted)
                    .arg("full", full)
                    .arg("ends", ends),
                vec![admitted, full],
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap_or(NaiveDate::MIN)
    }

    fn today() -> NaiveDate {
        d("2026-12-01")
    }

    /// A record that breaks nothing, to change one thing at a time: applied 2022-01-10 at 20, talked
    /// within the month, activist 2022-03-01 assessed every six months, target a year later, reviewed,
    /// trained, introduced, voted, approved, full member a year after admission.
    fn good() -> DevelopmentRecord {
        DevelopmentRecord {
            birth_date: d("2002-01-01"),
            applied_on: d("2022-01-10"),
            talked_on: Some(d("2022-02-01")),
            activist_on: Some(d("2022-03-01")),
            assessments: vec![d("2022-09-01"), d("2023-03-01")],
            target_on: Some(d("2023-03-01")),
            review_done_on: Some(d("2023-05-01")),
            training_hours: Some(24),
            introducers: vec![Introducer { full_member: true }, Introducer { full_member: true }],
            vote: Some(Vote { present: 6, eligible: 10, votes_for: 6 }),
            admitted_on: Some(d("2023-06-01")),
            approved_on: Some(d("2023-08-01")),
            approval_extended: false,
            full_on: Some(d("2024-06-01")),
            extension_months: None,
        }
    }

    fn rules_of(r: &DevelopmentRecord) -> Vec<&'static str> {
        check(r, &DevelopmentRuleSet::default(), today()).into_iter().map(|v| v.rule).collect()
    }

    fn violations(r: &DevelopmentRecord) -> Vec<(&'static str, Vec<NaiveDate>)> {
        check(r, &DevelopmentRuleSet::default(), today()).into_iter().map(|v| (v.rule, v.dates)).collect()
    }

    /// Runs a table of (case, change, rules broken) on [`good`].
    /// A case of a rule table: its name, the change to [`good`], the rules then broken.
    type Case<'a> = (&'a str, fn(&mut DevelopmentRecord), &'a [&'a str]);

    fn table(rows: &[Case<'_>]) {
        for (case, change, want) in rows {
            let mut r = good();
            change(&mut r);
            assert_eq!(rules_of(&r), *want, "{case}");
        }
    }

    #[test]
    fn a_good_record_breaks_nothing() {
        assert_eq!(rules_of(&good()), Vec::<&str>::new());
    }

    /// DOMAIN.md "Member development": ≥18 years old at application (Constitution art. 1).
    #[test]
    fn min_age() {
        table(&[
            ("older", |r| r.birth_date = d("1990-05-05"), &[]),
            ("18th birthday", |r| r.birth_date = d("2004-01-10"), &[]),
            ("a day short", |r| r.birth_date = d("2004-01-11"), &["development.min_age"]),
        ]);
        let mut r = good();
        r.birth_date = d("2004-01-11");
        assert_eq!(violations(&r), [("development.min_age", vec![d("2004-01-11"), d("2022-01-10")])]);
    }

    /// DOMAIN.md "Member development": the branch talks with an applicant within 1 month (Rules art. 7).
    #[test]
    fn talk_within_month() {
        table(&[
            ("same day", |r| r.talked_on = Some(d("2022-01-10")), &[]),
            ("a month to the day", |r| r.talked_on = Some(d("2022-02-10")), &[]),
            ("a day late", |r| r.talked_on = Some(d("2022-02-11")), &["development.talk_within_month"]),
            ("never, month passed", |r| r.talked_on = None, &["development.talk_within_month"]),
            ("before applying", |r| r.talked_on = Some(d("2022-01-09")), &["development.date_order"]),
        ]);
        // Not yet due: an application of this week without a talk is fine.
        let r = DevelopmentRecord { birth_date: d("2000-01-01"), applied_on: d("2026-11-20"), ..Default::default() };
        assert_eq!(rules_of(&r), Vec::<&str>::new());
    }

    /// DOMAIN.md "Member development": activists assessed every 6 months (Rules art. 12).
    #[test]
    fn assessment_every_six_months() {
        table(&[
            ("exactly six months apart", |r| r.assessments = vec![d("2022-09-01"), d("2023-03-01")], &[]),
            ("unordered, duplicated", |r| r.assessments = vec![d("2023-03-01"), d("2022-09-01"), d("2022-09-01")], &[]),
            (
                "first a day late",
                |r| r.assessments = vec![d("2022-09-02"), d("2023-03-01")],
                &["development.assessment_every_six_months"],
            ),
            ("none", |r| r.assessments = vec![], &["development.assessment_every_six_months"]),
        ]);
        let mut r = good();
        r.assessments = vec![d("2022-08-15")];
        assert_eq!(
            violations(&r),
            [("development.assessment_every_six_months", vec![d("2022-08-15"), d("2023-02-15")])]
        );
        // Still an activist: the assessments are due up to today.
        let r = DevelopmentRecord {
            birth_date: d("2000-01-01"),
            applied_on: d("2025-01-01"),
            talked_on: Some(d("2025-01-05")),
            activist_on: Some(d("2025-03-01")),
            assessments: vec![d("2025-09-01")],
            ..Default::default()
        };
        assert_eq!(
            violations(&r),
            [("development.assessment_every_six_months", vec![d("2025-09-01"), d("2026-03-01")])]
        );
    }

    /// DOMAIN.md "Member development": a development target after ≥1 year as activist (Rules art. 13).
    #[test]
    fn min_activist_months() {
        table(&[
            ("a year to the day", |r| r.target_on = Some(d("2023-03-01")), &[]),
            (
                "a day short",
                |r| {
                    r.target_on = Some(d("2023-02-28"));
                    r.assessments = vec![d("2022-09-01"), d("2023-02-28")];
                },
                &["development.min_activist_months"],
            ),
        ]);
    }

    /// DOMAIN.md "Member development": political review before admission (Rules art. 16).
    #[test]
    fn political_review_before_admission() {
        table(&[
            ("on the day of admission", |r| r.review_done_on = Some(d("2023-06-01")), &[]),
            (
                "after admission",
                |r| r.review_done_on = Some(d("2023-06-02")),
                &["development.political_review_before_admission"],
            ),
            ("none", |r| r.review_done_on = None, &["development.political_review_before_admission"]),
        ]);
    }

    /// DOMAIN.md "Member development": ≥3 days / 24 class hours of training (Rules art. 17).
    #[test]
    fn min_training_hours() {
        table(&[
            ("more", |r| r.training_hours = Some(40), &[]),
            ("24", |r| r.training_hours = Some(24), &[]),
            ("23", |r| r.training_hours = Some(23), &["development.min_training_hours"]),
            ("none", |r| r.training_hours = None, &["development.min_training_hours"]),
        ]);
    }

    /// DOMAIN.md "Member development": two introducers, full members (Constitution art. 5).
    #[test]
    fn two_full_member_introducers() {
        table(&[
            ("two full members", |_| {}, &[]),
            ("one", |r| r.introducers.truncate(1), &["development.two_full_member_introducers"]),
            (
                "three",
                |r| r.introducers.push(Introducer { full_member: true }),
                &["development.two_full_member_introducers"],
            ),
            (
                "one probationary",
                |r| r.introducers[1].full_member = false,
                &["development.two_full_member_introducers"],
            ),
        ]);
    }

    /// DOMAIN.md "Member development" and "branch general meeting … valid with more than half of
    /// members present": quorum over half of those eligible, and more than half of those eligible for
    /// (Rules art. 26: 赞成人数超过应到会有表决权的正式党员的半数).
    #[test]
    fn vote_quorum_and_majority() {
        table(&[
            ("6 of 10 present, 6 for", |_| {}, &[]),
            ("6 of 11 present, 6 for", |r| r.vote = Some(Vote { present: 6, eligible: 11, votes_for: 6 }), &[]),
            (
                "5 of 10 present",
                |r| r.vote = Some(Vote { present: 5, eligible: 10, votes_for: 5 }),
                &["development.vote_quorum", "development.vote_majority"],
            ),
            (
                "9 of 10 present, 5 for",
                |r| r.vote = Some(Vote { present: 9, eligible: 10, votes_for: 5 }),
                &["development.vote_majority"],
            ),
            ("no vote", |r| r.vote = None, &["development.vote_required"]),
        ]);
    }

    /// DOMAIN.md "Member development": higher approval within 3 months, extendable to 6 (Rules art. 26).
    #[test]
    fn approval_within_three_months() {
        table(&[
            ("three months to the day", |r| r.approved_on = Some(d("2023-09-01")), &[]),
            ("a day late", |r| r.approved_on = Some(d("2023-09-02")), &["development.approval_within_three_months"]),
            (
                "extended, six months",
                |r| {
                    r.approved_on = Some(d("2023-12-01"));
                    r.approval_extended = true;
                },
                &[],
            ),
            (
                "extended, a day late",
                |r| {
                    r.approved_on = Some(d("2023-12-02"));
                    r.approval_extended = true;
                },
                &["development.approval_within_three_months"],
            ),
            (
                "never, and overdue",
                |r| {
                    r.approved_on = None;
                    r.full_on = None;
                },
                &["development.approval_within_three_months"],
            ),
        ]);
    }

    /// DOMAIN.md "Member development": full member after 1 year's probation, extendable by 6–12 months
    /// (Constitution art. 7; Rules art. 32).
    #[test]
    fn probation_and_its_extension() {
        table(&[
            ("a year to the day", |r| r.full_on = Some(d("2024-06-01")), &[]),
            ("a day short", |r| r.full_on = Some(d("2024-05-31")), &["development.probation_one_year"]),
            (
                "extended 6, served",
                |r| {
                    r.extension_months = Some(6);
                    r.full_on = Some(d("2024-12-01"));
                },
                &[],
            ),
            (
                "extended 12, served",
                |r| {
                    r.extension_months = Some(12);
                    r.full_on = Some(d("2025-06-01"));
                },
                &[],
            ),
            ("extended 6, not served", |r| r.extension_months = Some(6), &["development.probation_one_year"]),
            ("extended 0 is none", |r| r.extension_months = Some(0), &[]),
            (
                "extended 5",
                |r| {
                    r.extension_months = Some(5);
                    r.full_on = Some(d("2024-11-01"));
                },
                &["development.extension_6_to_12_months"],
            ),
            (
                "extended 13",
                |r| {
                    r.extension_months = Some(13);
                    r.full_on = Some(d("2025-07-01"));
                },
                &["development.extension_6_to_12_months"],
            ),
        ]);
    }

    /// Each step after the one it follows, none recorded without its predecessors, none in the future.
    #[test]
    fn order_and_today() {
        table(&[
            ("approved before admitted", |r| r.approved_on = Some(d("2023-05-31")), &["development.date_order"]),
            (
                "applied before born",
                |r| r.birth_date = d("2023-01-01"),
                &["development.date_order", "development.min_age"],
            ),
            ("target without activist", |r| r.activist_on = None, &["development.step_missing"]),
            ("full in the future", |r| r.full_on = Some(d("2026-12-02")), &["development.not_in_future"]),
            ("full today", |r| r.full_on = Some(d("2026-12-01")), &[]),
        ]);
    }

    #[test]
    fn every_reported_rule_is_listed() {
        let mut r = good();
        r.birth_date = d("2010-01-01");
        r.talked_on = Some(d("2022-06-01"));
        r.review_done_on = None;
        r.vote = Some(Vote { present: 1, eligible: 10, votes_for: 1 });
        r.extension_months = Some(3);
        for v in check(&r, &DevelopmentRuleSet::default(), today()) {
            assert!(RULES.contains(&v.rule), "{}", v.rule);
        }
    }

    #[test]
    fn input_parses_with_every_problem_named() {
        let fields = |i: DevelopmentInput| {
            i.parse().err().map(|e| e.0.into_iter().map(|f| f.field).collect::<Vec<_>>()).unwrap_or_default()
        };
        assert_eq!(fields(DevelopmentInput::default()), ["birth_date", "applied_on"]);
        let bad = DevelopmentInput {
            birth_date: Some("2000-02-30".into()),
            applied_on: Some("2020-01-01".into()),
            assessments: vec!["2020-06-01".into(), "soon".into()],
            vote: Some(Vote { present: 11, eligible: 10, votes_for: 12 }),
            ..Default::default()
        };
        assert_eq!(fields(bad), ["birth_date", "assessments[1]", "vote.present", "vote.for"]);
        let ok = DevelopmentInput {
            birth_date: Some("2000年2月3日".into()),
            applied_on: Some("2020/1/1".into()),
            ..Default::default()
        };
        assert_eq!(ok.parse().map(|r| r.birth_date), Ok(d("2000-02-03")));
    }

    #[test]
    fn the_rules_in_force_on_the_application_day_apply() {
        let later =
            DevelopmentRules { effective_from: d("2025-01-01"), min_age_years: 20, ..DevelopmentRules::default() };
        let set = DevelopmentRuleSet { versions: vec![DevelopmentRules::default(), later] };
        assert_eq!(set.at(d("2024-12-31")).min_age_years, 18);
        assert_eq!(set.at(d("2025-01-01")).min_age_years, 20);
        assert_eq!(set.at(d("2000-01-01")).min_age_years, 18);
    }
}
