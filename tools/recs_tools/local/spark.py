"""EMR Serverless, locally: a `startJobRun.sync` task runs its entry point with pyspark in local mode.

moto's Step Functions interpreter has no EMR Serverless integration (it forwards the call to
moto's backend, where no job runs, and has no `.sync` for it). While `route_spark_jobs` is
active, the state machine's `arn:aws:states:::emr-serverless:startJobRun[.sync]` tasks run the
job the way EMR Serverless would (`recs_tools.local.step_tasks` routes them), through the same
entry point and arguments:

1. the entry point and every ``s3://bucket/key`` argument are copied from (moto's) S3 into a
   scratch directory, the arguments rewritten to those local paths;
2. ``spark-submit --master local[N]`` (pyspark's own, Java from Debian's packages) runs the
   entry point with them;
3. every file the job wrote under those paths (Spark's ``part-*.parquet`` and markers, not its
   ``.crc`` checksums) is uploaded back under the matching S3 key, and every file it removed
   (Spark's overwrite mode clears its output first) is deleted there.

A job that exits non-zero fails the task (``LocalSparkJobFailed``, the end of its log as the
cause), which the state machine's Catch (States.ALL) takes as it takes a failed job run in AWS.
"""

from __future__ import annotations

import itertools
import logging
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from recs_tools.local.step_tasks import TaskRun, route_service_tasks

_log = logging.getLogger(__name__)

#: Local cores Spark uses (the machine has two; the tests run beside it).
LOCAL_MASTER = "local[2]"
#: The error a failed local job run raises in the task (the Catch's States.ALL takes any name;
#: this one says the failure came from the local stand-in).
JOB_FAILED = "LocalSparkJobFailed"
#: What the log of a failed job keeps in the task's cause.
LOG_TAIL_CHARS = 4_000
_S3 = "s3://"


@dataclass(frozen=True)
class SparkJobRun:
    """One job run: what was asked and how it ended."""

    job_run_id: str
    name: str
    entry_point: str
    arguments: list[str]
    succeeded: bool
    log_tail: str


@dataclass
class LocalSparkJobs:
    """Runs EMR Serverless job drivers with pyspark in local mode, reading and writing ``s3``
    (a boto3 S3 client: moto's, in the local stack)."""

    s3: Any
    master: str = LOCAL_MASTER
    runs: list[SparkJobRun] = field(default_factory=list)
    _ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def run(self, name: str, entry_point: str, arguments: list[str]) -> SparkJobRun:
        job_run_id = f"local{next(self._ids):08d}"
        with tempfile.TemporaryDirectory(prefix="recs-spark-") as scratch:
            root = Path(scratch)
            script = self._download(entry_point, root)
            local_arguments = [self._mirror(argument, root) for argument in arguments]
            before = _files(root)
            completed = subprocess.run(
                [_spark_submit(), "--master", self.master, *_local_conf(), str(script), *local_arguments],
                capture_output=True,
                text=True,
                env=_spark_environment(),
                check=False,
            )
            succeeded = completed.returncode == 0
            if succeeded:
                after = _files(root)
                for path in sorted(after - before):
                    if not path.name.endswith(".crc"):
                        self._upload(path, root)
                # What the job removed (Spark's overwrite mode clears its output first) goes
                # from S3 too, as it would on EMR.
                for path in sorted(before - after):
                    self._delete(path, root)
        log = _without_chatter(completed.stdout + completed.stderr)[-LOG_TAIL_CHARS:]
        run = SparkJobRun(job_run_id, name, entry_point, list(arguments), succeeded, log)
        self.runs.append(run)
        _log.info("local Spark job %s (%s): %s", job_run_id, name, "SUCCESS" if succeeded else "FAILED")
        return run

    # ------------------------------------------------------------------ S3 <-> scratch
    def _mirror(self, argument: str, root: Path) -> str:
        """``s3://b/k`` -> ``<root>/b/k`` with whatever S3 holds at or under ``k`` copied there."""
        if not argument.startswith(_S3):
            return argument
        bucket, _, key = argument[len(_S3) :].partition("/")
        local = root / bucket / key
        paginator = self.s3.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=bucket, Prefix=key):
            for item in page.get("Contents", []):
                if item["Key"] == key or item["Key"].startswith(key.rstrip("/") + "/"):
                    target = root / bucket / item["Key"]
                    target.parent.mkdir(parents=True, exist_ok=True)
                    target.write_bytes(self.s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read())
        local.parent.mkdir(parents=True, exist_ok=True)
        return str(local)

    def _download(self, uri: str, root: Path) -> Path:
        if not uri.startswith(_S3):
            raise ValueError(f"the entry point must be an s3:// URI, got {uri!r}")
        path = Path(self._mirror(uri, root))
        if not path.is_file():
            raise FileNotFoundError(f"no entry point at {uri}")
        return path

    def _delete(self, path: Path, root: Path) -> None:
        bucket, *key = path.relative_to(root).parts
        self.s3.delete_object(Bucket=bucket, Key="/".join(key))

    def _upload(self, path: Path, root: Path) -> None:
        bucket, *key = path.relative_to(root).parts
        self.s3.put_object(Bucket=bucket, Key="/".join(key), Body=path.read_bytes())


#: Spark's own INFO and WARN lines (``26/12/05 22:08:34 INFO ...``): the cause keeps the rest.
_CHATTER = re.compile(r"^\d\d/\d\d/\d\d \d\d:\d\d:\d\d (INFO|WARN) .*$\n?", re.MULTILINE)


def _without_chatter(log: str) -> str:
    return _CHATTER.sub("", log)


def _files(root: Path) -> set[Path]:
    return {path for path in root.rglob("*") if path.is_file()}


def _spark_submit() -> str:
    import pyspark

    return str(Path(pyspark.__file__).parent / "bin" / "spark-submit")


def _local_conf() -> list[str]:
    """Small-machine settings: no UI, few shuffle partitions, quiet logs."""
    return [
        "--conf", "spark.ui.enabled=false",
        "--conf", "spark.sql.shuffle.partitions=4",
        "--conf", "spark.default.parallelism=2",
        "--driver-memory", "2g",
    ]  # fmt: skip


def _spark_environment() -> dict[str, str]:
    """The job's Python is ours (numpy, pyspark); AWS credentials are not passed on."""
    keep = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    return {**keep, "PYSPARK_PYTHON": sys.executable, "PYSPARK_DRIVER_PYTHON": sys.executable}


# ---------------------------------------------------------------------- the state machine's side
@contextmanager
def route_spark_jobs(jobs: LocalSparkJobs) -> Iterator[LocalSparkJobs]:
    """While active, the state machine's EMR Serverless tasks run on ``jobs``."""

    def start_job_run(parameters: dict[str, Any]) -> TaskRun:
        driver = parameters["JobDriver"]["SparkSubmit"]
        run = jobs.run(
            str(parameters.get("Name", "")),
            str(driver["EntryPoint"]),
            [str(argument) for argument in driver.get("EntryPointArguments", [])],
        )
        application = parameters["ApplicationId"]
        return TaskRun(
            started={
                "ApplicationId": application,
                "JobRunId": run.job_run_id,
                "Arn": f"local:emr-serverless:jobruns/{run.job_run_id}",
            },
            finished={"ApplicationId": application, "JobRunId": run.job_run_id, "State": "SUCCESS"},
            failure=None if run.succeeded else (JOB_FAILED, run.log_tail),
        )

    with route_service_tasks("emr-serverless", "start_job_run", start_job_run):
        yield jobs
