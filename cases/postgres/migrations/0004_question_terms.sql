-- exops schema version 4: the question-answering index learns more terms
-- (team, assignee, severity, priority, the approvers still waited for, the
-- states unassigned, escalated, awaiting approval and resolved by exops) and
-- the cases' times as sortable terms (resolved, SLA due, snoozed until,
-- first-touch due). The table is unchanged; this migration's Go step
-- rewrites every case's rows from cases.CaseTerms and cases.TimesOf.
SELECT 1;
