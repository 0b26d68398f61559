-- Published: re-entry within 12 months, hidden where fewer than the threshold of youths' care ended.
{{ suppress(ref('fct_reentry'), 'youths_care_ended', ['youths_reentered_12m', 'reentry_pct'], ['period_key']) }}
