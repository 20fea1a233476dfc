-- Overdue escalations no longer carry a note: the event's action is said in each reader's language and
-- names no one. Earlier ones carried an English note ("ack overdue; escalated to …") that every worker
-- and cadre saw whatever their language; it said nothing the event does not.
UPDATE case_events SET note = NULL WHERE action = 'escalate' AND actor = 'system';
