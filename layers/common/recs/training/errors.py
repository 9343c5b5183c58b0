"""Why a training run stops. The class name is the error name Step Functions sees (Retry/Catch)."""

from __future__ import annotations

from recs.errors import RecsError


class TrainingError(RecsError):
    """A run that cannot produce a model version (e.g. no usable event in the window)."""


class PublishIncompleteError(TrainingError):
    """A shard did not finish or a written row cannot be read back: the pointer must not flip."""


class TrainingInProgressError(TrainingError):
    """Another run holds the training lease: this run stops before touching anything."""

    def __init__(self, message: str, holder: str) -> None:
        super().__init__(message)
        self.holder = holder


class TableImportInProgressError(TrainingError):
    """The users' rows' ImportTable (or the new table's warm throughput) is not finished yet:
    Step Functions retries the check after a pause."""


class TableImportFailedError(TrainingError):
    """The ImportTable failed or was cancelled: the run fails, the previous version keeps serving."""
