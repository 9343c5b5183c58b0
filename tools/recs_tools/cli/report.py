"""``recs report``: the model and experiment reports (static HTML) from a stack or offline outputs."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from recs_tools import progress
from recs_tools.cli.errors import FAILED, MISSING, USAGE, CliError

EXAMPLES = """examples:
  recs report --stack recs-prod                      # a deployed stack (CloudFormation outputs)
  recs report --model-table T --artifact-bucket A --lake-bucket L --log-group /aws/lambda/...
  recs report --offline out/ --events events.jsonl   # what `recs train --out out/` wrote
  recs report --stack recs-prod --only experiments --days 7 --reference control

writes OUT/index.html, OUT/model-<version>.html (the last --versions versions),
OUT/model-latest.html (the serving version) and OUT/experiments.html; `make demo` writes the
local stack's reports and serves them at http://127.0.0.1:3000/reports/ (docs/reports.md)."""


def configure(parser: argparse.ArgumentParser) -> None:
    where = parser.add_argument_group("where the data is (one of)")
    where.add_argument("--stack", metavar="NAME", help="a deployed CloudFormation stack of this project")
    where.add_argument("--model-table", help="the model table's name (with --artifact-bucket, --lake-bucket)")
    where.add_argument("--artifact-bucket", help="the artifact bucket's name")
    where.add_argument("--lake-bucket", help="the event lake bucket's name")
    where.add_argument(
        "--lake-prefix", default="events/", help="prefix Firehose writes under (default events/)"
    )
    where.add_argument(
        "--log-group", help="the recommend function's log group (impressions: its `served` lines)"
    )
    where.add_argument("--region", help="AWS region (default: your AWS configuration)")
    where.add_argument(
        "--offline", type=Path, metavar="DIR", help="the output folder of `recs train --out DIR`"
    )
    where.add_argument("--events", type=Path, help="with --offline: the events file trained on (popularity)")
    where.add_argument("--served", type=Path, help="with --offline: served recommendationIds, one per line")
    what = parser.add_argument_group("what to write")
    what.add_argument(
        "--out", type=Path, default=Path("build/reports"), help="folder (default build/reports)"
    )
    what.add_argument("--only", choices=("models", "experiments"), help="write only these reports")
    what.add_argument("--versions", type=int, default=3, help="model versions to report, newest (default 3)")
    what.add_argument("--k", type=int, default=10, help="list length a widget shows (default 10)")
    what.add_argument("--sample-users", type=int, default=2000, help="lists read per version (default 2000)")
    what.add_argument("--days", type=float, default=14.0, help="experiment period, days back (default 14)")
    what.add_argument("--confidence", type=float, default=0.95, help="interval confidence (default 0.95)")
    what.add_argument("--reference", help="the variant others are tested against (default: first by name)")


def _source(args: argparse.Namespace) -> Any:
    from recs_tools.reports.sources import OfflineSource, StackNames, names_from_cloudformation, stack_source

    named = args.model_table or args.artifact_bucket or args.lake_bucket
    chosen = [bool(args.stack), bool(named), args.offline is not None]
    if sum(chosen) != 1:
        raise CliError("say where the data is: --stack NAME, or the table and bucket names, or --offline DIR")
    if args.offline is not None:
        if args.events is not None and not args.events.is_file():
            raise CliError(f"{args.events}: no such file")
        return OfflineSource(args.offline, args.events, args.served)
    if named and not (args.model_table and args.artifact_bucket and args.lake_bucket):
        raise CliError("--model-table, --artifact-bucket and --lake-bucket go together")
    from recs.adapters import aws

    clients = _clients(args.region, aws)
    if args.stack:
        names = names_from_cloudformation(args.stack, clients["cloudformation"])
        return stack_source(names, clients, f"stack {args.stack}")
    names = StackNames(
        args.model_table, args.artifact_bucket, args.lake_bucket, args.lake_prefix, args.log_group
    )
    return stack_source(names, clients, f"table {args.model_table}")


def _clients(region: str | None, aws: Any) -> dict[str, Any]:
    if region:
        import os

        os.environ["AWS_DEFAULT_REGION"] = region
    return {
        name: aws.client(name, read_timeout=30.0) for name in ("cloudformation", "s3", "dynamodb", "logs")
    }


def run(args: argparse.Namespace) -> int:
    try:
        from recs_tools.reports import generate
        from recs_tools.reports.sources import ReportError
    except ImportError as error:
        raise CliError(
            f"the reports need the tools extra ({error.name} is missing): run `make venv` "
            "or `pip install -e '.[train,tools]'`",
            MISSING,
        ) from error
    if not 0.5 <= args.confidence < 1.0:
        raise CliError("--confidence must be in [0.5, 1), e.g. 0.95", USAGE)
    options = generate.ReportOptions(
        k=args.k,
        sample_users=args.sample_users,
        last_versions=max(1, args.versions),
        experiment_days=args.days,
        confidence=args.confidence,
        reference_variant=args.reference,
    )
    try:
        source = _source(args)
        pages: list[Path] = []
        now = datetime.now(UTC)
        if args.only != "experiments":
            pages += generate.write_model_reports(source, args.out, options, progress.steps)
        if args.only != "models":
            pages.append(generate.write_experiment_report(source, args.out, now, options))
        index = generate.write_index(args.out, pages, now)
    except ReportError as error:
        status = MISSING if "first" in str(error) else FAILED
        raise CliError(str(error), status) from error
    except Exception as error:
        if type(error).__module__.startswith(("botocore", "boto3")):
            raise CliError(
                f"AWS refused or failed a read: {error}; check the names, the region (--region) "
                "and your credentials (AWS_PROFILE)",
                FAILED,
            ) from error
        raise
    for page in pages:
        sys.stdout.write(f"{page}\n")
    sys.stdout.write(f"open {index.resolve().as_uri()}\n")
    return 0
