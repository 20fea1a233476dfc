-- Notifications to the departments that handle cases: a case escalated to them or away from them, a case
-- transferred to them, a worker adding information or reopening. Shown in the inbox until someone in the
-- department marks them read. They name the case only; the text is made from the kind when shown.

CREATE TABLE case_notifications (
    id            INTEGER PRIMARY KEY,
    department_id INTEGER NOT NULL REFERENCES departments (id),
    case_id       INTEGER NOT NULL REFERENCES cases (id),
    kind          TEXT NOT NULL CHECK (kind IN ('escalated_in', 'escalated_out', 'transferred_in', 'worker_info',
                                                'worker_reopened')),
    created_at    TEXT NOT NULL,
    read_at       TEXT,
    read_by       TEXT
);
CREATE INDEX case_notifications_department ON case_notifications (department_id, read_at);
CREATE INDEX case_notifications_case ON case_notifications (case_id);
