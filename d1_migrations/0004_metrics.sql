-- Metric counts, aggregated durably (Workers isolates are many and short-lived, so counts in
-- memory would be partial). One row per org and series: `name` is a Prometheus series name
-- (a family, or a histogram's `_bucket` or `_sum`), `labels` its rendered label set, e.g.
-- ('org_x', 'parley_http_requests_total', 'route="PostMessage",status="201"', 12).
-- Writers add to `value` with an upsert, after the response (`ctx.wait_until`). The org ''
-- holds platform-wide series (webhook deliveries), which no org's `/metrics` shows.
CREATE TABLE metric_counts (
    org_id TEXT NOT NULL,
    name TEXT NOT NULL,
    labels TEXT NOT NULL,
    value INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (org_id, name, labels)
);

-- The API rate limits count requests per user and per org in `rate_windows` (buckets
-- 'api:user:{user_id}' and 'api:org'); old windows are pruned by bucket prefix and window.
CREATE INDEX rate_windows_by_window ON rate_windows (org_id, window);
