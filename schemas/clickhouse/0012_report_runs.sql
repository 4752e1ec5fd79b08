-- 0012: the archive of the scheduled executive reports, kept for good. report_runs holds every
-- generated report (a forced re-run adds a row; the page shows the newest) with its rendered
-- formats, its numbers as JSON, the version of the metric definitions and a content hash;
-- report_deliveries holds every delivery attempt: when, to which target, the outcome and the
-- error. The PDFs are stored base64-encoded, so that every column stays text.
CREATE TABLE IF NOT EXISTS report_runs
(
    name            String,
    period          String,
    period_from     DateTime64(3, 'UTC'),
    period_to       DateTime64(3, 'UTC'),
    time_zone       String,
    title           String,
    subject         String,
    due_at          DateTime64(3, 'UTC'),
    generated_at    DateTime64(3, 'UTC'),
    late            UInt8,
    trigger         LowCardinality(String),
    replica         String,
    hash            String,
    metrics_version String,
    empty           UInt8,
    numbers         String,
    summary         String,
    html            String,
    web_html        String,
    text            String,
    markdown        String,
    csv             String,
    pdf_a4          String,
    pdf_letter      String
)
ENGINE = MergeTree
ORDER BY (name, period, generated_at);

CREATE TABLE IF NOT EXISTS report_deliveries
(
    name     String,
    period   String,
    delivery String,
    kind     LowCardinality(String),
    attempt  UInt32,
    at       DateTime64(3, 'UTC'),
    outcome  LowCardinality(String),
    error    String,
    took_ms  UInt32,
    replica  String
)
ENGINE = MergeTree
ORDER BY (name, period, delivery, at);
