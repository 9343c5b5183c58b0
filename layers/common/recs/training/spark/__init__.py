"""Training on Spark (EMR Serverless) for shops past one Lambda: the job, its inputs, its outputs.

`als_job` is the Spark job itself (standalone, run by spark-submit); `inputs` aggregates a run's
interactions into the job's input (numpy only); `exchange` moves both through Parquet (pyarrow,
so only the prepare function imports it); `plan` decides when a run trains on Spark and with what.
"""

from __future__ import annotations

from collections.abc import Mapping
from importlib import resources

from recs.training.parameters import TrainingParameters

JOB_SCRIPT = "als_job.py"


def job_script() -> bytes:
    """The job's source, as Prepare uploads it next to the run's input (EMR Serverless's entry point)."""
    return resources.files(__package__).joinpath(JOB_SCRIPT).read_bytes()


def job_arguments(
    input_uri: str, output_uri: str, regularization: Mapping[str, float], params: TrainingParameters
) -> list[str]:
    """The job's command line (`als_job.parse_arguments`): the parts to fit are the keys of
    ``regularization`` (each part's Spark regParam, `inputs.spark_regularization`), the rest
    from the run's parameters."""
    return [
        "--input", input_uri,
        "--output", output_uri,
        "--parts", ",".join(regularization),
        "--factors", str(params.als_factors),
        "--regularization", ",".join(f"{part}={value:.9g}" for part, value in regularization.items()),
        "--alpha", repr(float(params.als_alpha)),
        "--iterations", str(params.als_iterations),
        "--confidence", params.als_confidence,
        "--epsilon", repr(float(params.als_epsilon)),
        "--seed", str(params.random_seed),
        "--blocks", str(params.spark_blocks),
    ]  # fmt: skip
