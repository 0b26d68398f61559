"""CBS StatLine reference: fetch the configured tables over OData v3/v4, land and announce changes.

Airflow DAG, thin by design (see `monitorlink.ops.dag_factory`). Tables and endpoints come from
`MONITORLINK_CBS_TABLES`, `MONITORLINK_CBS_V3_URL` and `MONITORLINK_CBS_V4_URL`; an unchanged table is
recognised by checksum and changes nothing (`docs/cbs.md`).
"""

from monitorlink.ops.dag_factory import delivery_dag

cbs = delivery_dag("cbs", "@weekly", __doc__)
