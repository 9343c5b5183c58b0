"""Operator reports: a static HTML page per model version and one per experiment (``recs report``).

The statistics (`model_stats`, `experiment_stats`) are pure functions of plain data; `sources`
reads that data from a stack (S3, DynamoDB, CloudWatch Logs) or from ``recs train``'s outputs;
`plots` and `html` turn it into one self-contained file per report. Nothing here is imported by
a Lambda function: matplotlib is in the ``tools`` dependency group only.
"""
