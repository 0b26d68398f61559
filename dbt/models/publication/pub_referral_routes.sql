-- Published: referral routes, small counts hidden with their shares. Groups: the referrers of one
-- municipality and quarter (shares add up to 100%).
{{ suppress(ref('fct_referral_routes'), 'trajectories_started', ['share_pct'], ['gemeente_code', 'period_key']) }}
