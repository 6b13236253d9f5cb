-- KPI targets set by an admin (audited), over the defaults in kpi::figures::default_target.
CREATE TABLE kpi_targets (
    key TEXT PRIMARY KEY,
    target REAL NOT NULL,
    updated_at TEXT NOT NULL,
    updated_by TEXT NOT NULL REFERENCES users(id)
);
