-- Published: cases waiting for a guardian, small counts hidden. Groups: the municipalities of one quarter.
{{ suppress(ref('fct_chain_waiting_for_guardian'), 'cases_waiting', ['cases_waiting_over_6_weeks', 'longest_wait_days'], ['period_key']) }}
