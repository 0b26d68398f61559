"""What each KPI mart's truth means: its key and, per column, the rule the simulator's truth implements.

Restated from the marts' documented definitions (docs/definitions.md) so the truth never reads the
platform's files; written into `truth.json` beside the figures.
"""

from __future__ import annotations

from typing import Any

from monitorlink.simulator.population import LAST_YEAR

#: hulpvorm → (CBS category, CBS subcategory, by the local team, out-of-home placement): the platform's
#: forms of care (dbt seed zorgvormen), restated here so the truth does not read the platform's files.
CARE_FORMS: dict[str, tuple[str, str, bool, bool]] = {
    "wijkteam": ("jeugdhulp zonder verblijf", "jeugdhulp door lokaal team", True, False),
    "ambulant": ("jeugdhulp zonder verblijf", "ambulante jeugdhulp", False, False),
    "daghulp": ("jeugdhulp zonder verblijf", "daghulp", False, False),
    "pleegzorg": ("jeugdhulp met verblijf", "pleegzorg", False, True),
    "gezinsgericht": ("jeugdhulp met verblijf", "gezinsgericht (gezinshuis)", False, True),
    "gesloten": ("jeugdhulp met verblijf", "gesloten plaatsing", False, True),
    "overig verblijf": ("jeugdhulp met verblijf", "overig verblijf (residentieel)", False, True),
    "OTS": ("jeugdbescherming", "ondertoezichtstelling", False, False),
    "voorlopige OTS": ("jeugdbescherming", "voorlopige ondertoezichtstelling", False, False),
    "voogdij": ("jeugdbescherming", "voogdij", False, False),
    "jeugdreclassering": ("jeugdreclassering", "jeugdreclassering", False, False),
}
CHAIN_STEPS = (
    (1, "melding", "verzoek_onderzoek", "melding → verzoek onderzoek"),
    (2, "verzoek_onderzoek", "start_onderzoek", "verzoek → start onderzoek"),
    (3, "start_onderzoek", "rekest", "onderzoek → rekest"),
    (4, "rekest", "uitspraak", "rekest → uitspraak"),
    (5, "uitspraak", "jeugdbeschermer_toegewezen", "uitspraak → jeugdbeschermer"),
)
SPECIAL_EDUCATION = ("SO", "VSO", "SBO")
#: The quarters dim_period knows: a chain case can wait in any of them.
PERIOD_YEARS = (2015, 2030)

_ROUNDING = "round(x, n) rounds half away from zero, as DuckDB rounds a double"
_AGE = (
    "age = the quarter's year − the youngest birth year delivered for the youth in that "
    "municipality-quarter (TMSD has birth years only; the simulator draws one per trajectory)"
)
_IN_CARE = (
    "in care in a quarter = in a row of the quarter's newest TMSD delivery (a trajectory running in it)"
)
#: Per mart: its key columns and the definition implemented for each column.
MARTS: dict[str, dict[str, Any]] = {
    "fct_youth_care_per_1000": {
        "key": ["gemeente_code", "period_key", "care_form"],
        "definitions": {
            "youths_in_care": f"distinct youths aged 0–17 in care in the quarter; {_IN_CARE}; {_AGE}; a "
            "youth counts under totaal and under each form (CBS category of a hulpvorm, 'door lokaal team' = "
            "wijkteam) of any of its rows; region rows (Twente) count each youth once",
            "youths_0_17": "CBS 03759ned youths 0–17 on 1 January of the quarter's year (Twente: the sum)",
            "per_1000": f"round(1000 × youths_in_care / youths_0_17, 1); {_ROUNDING}",
            "national_per_1000_year": "round(1000 × CBS 85098NED NL01 youths in care ÷ NL01 youths 0–17, 1), "
            "for totaal and with/without stay only",
            "level": "gemeente, or regio for Twente",
            "gemeenten_in_total": "1; region: municipalities with at least one youth 0–17 in care",
            "gemeenten_expected": "1; region: the 14 municipalities",
            "is_complete": "municipality rows true; region rows: gemeenten_in_total = gemeenten_expected",
        },
    },
    "fct_normalising": {
        "key": ["gemeente_code", "period_key"],
        "definitions": {
            "youths_local_team_only": f"youths 0–17 in care whose rows of the quarter, in any municipality, "
            f"are all wijkteam; {_AGE}",
            "youths_referred_care": "the other youths 0–17 in care in the quarter",
            "local_team_only_per_1000": f"round(1000 × youths_local_team_only / youths 0–17, 1); {_ROUNDING}",
            "referred_care_per_1000": f"round(1000 × youths_referred_care / youths 0–17, 1); {_ROUNDING}",
        },
    },
    "fct_out_of_home_placements": {
        "key": ["gemeente_code", "period_key", "placement_type"],
        "definitions": {
            "youths_placed": "distinct youths (all ages) with a row of the quarter's delivery whose hulpvorm "
            "is an out-of-home placement of this CBS subcategory",
            "youths_newly_placed": "of them, youths with such a row starting on or after the quarter's start",
        },
    },
    "fct_reentry": {
        "key": ["gemeente_code", "period_key"],
        "definitions": {
            "youths_care_ended": "a trajectory (youth + product + provider + start, combined over all "
            "newest deliveries, end = the latest end delivered, municipality = that of its latest quarter) "
            "ends care "
            "when no trajectory of the youth starts on or before its end and runs past it (or has no end); "
            "per youth, municipality and quarter of the end the latest such end counts; distinct youths",
            "youths_reentered_12m": "of them, youths with a trajectory starting after that end and on or "
            "before the same day 12 months later (29 Feb → 28 Feb)",
            "reentry_pct": f"round(100 × youths_reentered_12m / youths_care_ended, 1); {_ROUNDING}",
            "is_follow_up_complete": "the cell's latest end + 12 months ≤ the latest start delivered",
        },
    },
    "fct_referral_routes": {
        "key": ["gemeente_code", "period_key", "referrer"],
        "definitions": {
            "trajectories_started": "rows of the quarter's newest delivery with this referrer starting on or "
            "after the quarter's first day",
            "share_pct": f"round(100 × trajectories_started / the municipality-quarter's starts, 1); "
            f"{_ROUNDING}",
        },
    },
    "fct_trajectory_flow": {
        "key": ["gemeente_code", "period_key"],
        "definitions": {
            "begin_stand": "rows of the quarter's newest delivery starting before the quarter",
            "instroom": "rows starting in the quarter",
            "uitstroom": "rows with an end (as delivered) on or before the quarter's last day",
            "eind_stand": "rows without an end, or ending after the quarter",
            "avg_duration_days_ended": f"round(mean(end − start, days) of the uitstroom rows, 1); "
            f"{_ROUNDING}",
            "begin_vs_previous_end": "begin_stand − eind_stand of the municipality's previous quarter "
            "delivered",
        },
    },
    "fct_transition_18": {
        "key": ["gemeente_code", "year"],
        "definitions": {
            "youths_turning_18_in_care": f"distinct youths in care in a quarter of the year aged 18; {_AGE}",
            "youths_care_continues": "of them, youths in care (any age, any municipality) in the next year",
            "care_continues_pct": f"round(100 × youths_care_continues / youths_turning_18_in_care, 1); "
            f"{_ROUNDING}",
            "is_follow_up_complete": f"year < {LAST_YEAR}, the last year delivered",
        },
    },
    "fct_costs_per_inhabitant": {
        "key": ["gemeente_code", "year"],
        "definitions": {
            "cost_eur": "sum of kosten_eur (exact cents) over the rows of the year's newest deliveries",
            "inhabitants": "CBS 03759ned inhabitants on 1 January",
            "cost_per_inhabitant_eur": f"round(cost_eur / inhabitants, 2); {_ROUNDING}",
            "cost_coverage_pct": f"round(100 × rows with a cost / rows, 1); {_ROUNDING}",
        },
    },
    "fct_chain_lead_times": {
        "key": ["gemeente_code", "period_key", "step_order"],
        "definitions": {
            "step": "the step's label",
            "cases": "cases with both milestones of the step (each at its first delivered occurrence), in "
            "the quarter of the later milestone",
            "median_days": "median of the lead times in days (calendar days between the two UTC dates); "
            "continuous: the mean of the two middle values for an even count",
            "p90_days": "continuous 90th percentile: sorted values v, r = (n − 1) × 0.9, "
            "v[floor r] + (r − floor r) × (v[ceil r] − v[floor r]) (DuckDB quantile_cont)",
            "cases_out_of_order": "cases whose later milestone has the earlier date (negative lead time)",
        },
    },
    "fct_chain_waiting_for_guardian": {
        "key": ["gemeente_code", "period_key"],
        "definitions": {
            "cases_waiting": "cases with an uitspraak on or before the quarter's last day and neither "
            "jeugdbeschermer_toegewezen nor einde_maatregel by then (UTC dates), for quarters ending on or "
            "before the newest milestone's date",
            "cases_waiting_over_6_weeks": "of them, cases whose ruling lies more than 42 days before the "
            "quarter's last day",
            "longest_wait_days": "the most days from a ruling to the quarter's last day",
        },
    },
    "fct_education_youth_care": {
        "key": ["gemeente_code", "period_key"],
        "definitions": {
            "pupils": "sum of the pupils sheet's counts of the municipality over the quarter's newest "
            "workbooks (all samenwerkingsverbanden)",
            "pupils_special_education": "of them, pupils of SO, VSO and SBO schools",
            "special_education_pct": f"round(100 × pupils_special_education / pupils, 2); {_ROUNDING}",
            "pupils_with_tlv": "sum of the pupils sheet's TLV counts",
            "thuiszitters": "sum of langdurig relatief and absoluut verzuim (not vrijstelling)",
            "thuiszitters_with_youth_care": "their sum of 'Waarvan met jeugdhulp'",
            "absence_cells_suppressed_at_source": "absence cells delivered hidden ('.')",
            "pupils_with_arrangement": "distinct pupils with an arrangement in the municipality in the "
            "quarter",
            "pupils_with_arrangement_and_youth_care": "of them, pupils in care (any age, any municipality) "
            "in the same quarter",
        },
    },
}
TMSD_MARTS = (
    "fct_youth_care_per_1000",
    "fct_normalising",
    "fct_out_of_home_placements",
    "fct_reentry",
    "fct_referral_routes",
    "fct_trajectory_flow",
    "fct_transition_18",
    "fct_costs_per_inhabitant",
)
CHAIN_MARTS = ("fct_chain_lead_times", "fct_chain_waiting_for_guardian")
EDUCATION_MARTS = ("fct_education_youth_care",)
