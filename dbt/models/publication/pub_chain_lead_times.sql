-- Published: chain lead times, hidden where a step has fewer cases than the threshold (a median of a
-- handful of cases points at persons). Groups: the municipalities of one quarter and step.
{{ suppress(ref('fct_chain_lead_times'), 'cases', ['median_days', 'p90_days', 'cases_out_of_order'], ['period_key', 'step']) }}
