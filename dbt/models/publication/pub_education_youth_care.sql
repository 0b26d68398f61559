-- Published: thuiszitters and arrangements per municipality, hidden where there are fewer thuiszitters
-- than the threshold. Groups: the municipalities of one quarter.
{{ suppress(ref('fct_education_youth_care'), 'thuiszitters', ['thuiszitters_with_youth_care', 'pupils_with_arrangement', 'pupils_with_arrangement_and_youth_care'], ['period_key']) }}
