"""TMSD: land new quarterly trajectory files from the landing folder and announce them on Kafka.

Airflow DAG, thin by design (see `monitorlink.ops.dag_factory`). Reads `$MONITORLINK_LANDING_ROOT/tmsd/`;
files already in the lake are skipped, a higher `_v<n>` revises its municipality-quarter, and a delivery
with a critical quality failure is quarantined whole (`monitorlink quality report`, `docs/tmsd.md`).
"""

from monitorlink.ops.dag_factory import delivery_dag

tmsd = delivery_dag("tmsd", "@hourly", __doc__)
