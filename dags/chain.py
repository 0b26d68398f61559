"""Child-protection chain: land new monthly milestone files per partner and announce them on Kafka.

Airflow DAG, thin by design (see `monitorlink.ops.dag_factory`). Reads `$MONITORLINK_LANDING_ROOT/chain/`;
see `docs/chain.md` for the contract and the defects the quality gate catches.
"""

from monitorlink.ops.dag_factory import delivery_dag

chain = delivery_dag("chain", "@hourly", __doc__)
