-- Published: youths in care per 1,000, small counts hidden (macro suppress). Groups: all municipalities
-- and the region of one quarter and form of care.
{{ suppress(ref('fct_youth_care_per_1000'), 'youths_in_care', ['per_1000'], ['period_key', 'care_form']) }}
