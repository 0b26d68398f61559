-- Published: transitions at 18, hidden where fewer than the threshold of youths turned 18 in care.
{{ suppress(ref('fct_transition_18'), 'youths_turning_18_in_care', ['youths_care_continues', 'care_continues_pct'], ['year']) }}
