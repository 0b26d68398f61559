-- Published: out-of-home placements, small counts hidden. Groups: the placement types of one
-- municipality and quarter (together they approach the "with stay" total published elsewhere).
{{ suppress(ref('fct_out_of_home_placements'), 'youths_placed', ['youths_newly_placed'], ['gemeente_code', 'period_key']) }}
