"""Education–youth care: land new workbooks per samenwerkingsverband and announce them on Kafka.

Airflow DAG, thin by design (see `monitorlink.ops.dag_factory`). Reads `$MONITORLINK_LANDING_ROOT/education/`;
see `docs/education.md` for the three sheets, their contracts and the defects the quality gate catches.
"""

from monitorlink.ops.dag_factory import delivery_dag

education = delivery_dag("education", "@hourly", __doc__)
