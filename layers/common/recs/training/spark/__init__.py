"""Training on Spark (EMR Serverless) for shops past one Lambda: the job, its inputs, its outputs.

`als_job` is the Spark job itself (standalone, run by spark-submit); `inputs` aggregates a run's
interactions into the job's input (numpy only); `exchange` moves both through Parquet (pyarrow,
so only the prepare function imports it); `plan` decides when a run trains on Spark and with what.
"""

from __future__ import annotations

from importlib import resources

JOB_SCRIPT = "als_job.py"


def job_script() -> bytes:
    """The job's source, as Prepare uploads it next to the run's input (EMR Serverless's entry point)."""
    return resources.files(__package__).joinpath(JOB_SCRIPT).read_bytes()
