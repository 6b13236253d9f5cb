-- The follow-up inspection the inspector set on a notice (复查日期, `NoticeIssued.follow_up_on`,
-- YYYY-MM-DD): the office opens the re-inspection that day instead of the day after the deadline.
-- NULL for notices without one (every notice before December 2026).
ALTER TABLE notices ADD COLUMN follow_up_on TEXT COLLATE "C";
