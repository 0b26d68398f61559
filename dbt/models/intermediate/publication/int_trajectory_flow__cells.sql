-- The four stock-flow counts of fct_trajectory_flow as one cell per row, so the suppression step can
-- treat each municipality-quarter as a group: begin + in − out = end, so one hidden cell of the four
-- could be recovered from the other three.
unpivot {{ ref('fct_trajectory_flow') }}
on begin_stand, instroom, uitstroom, eind_stand
into name measure value value
