"""Roll the served model back to the previous published version: one command.

    python -m recs_tools.deploy.rollback --stack recs-prod            # to the version before the current
    python -m recs_tools.deploy.rollback --stack recs-prod --to v...  # to a named published version
    python -m recs_tools.deploy.rollback --table NAME --dry-run       # say what it would do

Serving reads the ``CURRENT``/``POINTER`` row (recs.store_layout), so moving it is the whole rollback:
each version's rows stay under their own sort key until their TTL, and cache keys carry the
version. The target must be a version the workflow published (its ``META`` row says
``published``), whose rows have not expired and whose shop-wide list is still stored. The new
pointer records where it came from (``rolledBackFrom``) and no ``previousVersion``, so a second
rollback needs ``--to``; the abandoned version's META row gets ``rolledBackAt``. Serving picks
the new pointer up within its pointer TTL (15 s by default, docs/serving.md). Do not run it
while a training run is flipping (the run's Flip would win).

A version published as a delta (its META's ``baseVersion`` names another version: it wrote only
the users' rows that changed since that full publish) serves a user without a row of its own
from its base's rows, so the new pointer carries the target's base as ``baseVersion`` (the
target itself for a full publish, or a META without one), and a delta target is refused unless
its base is still stored too (its META not expired, its shop-wide list still there).

A version whose users' rows were imported into a table of their own (its META's ``listsTable``:
docs/training.md, Publish) gets that table back in the new pointer, and is refused once the
table has been deleted (Cleanup deletes it after ``IMPORT_TABLE_KEEP_DAYS``).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from recs.ports import KeyValueTable
from recs.store_layout import (
    LISTS_TABLE_ATTRIBUTE,
    POINTER_KEY,
    iso,
    popular_pk,
    session_constants,
    utc_now,
    version_meta_key,
    version_sk,
)


class RollbackError(Exception):
    """The rollback cannot be done safely; the pointer is left as it was."""


@dataclass(frozen=True)
class BaseCheck:
    """What is stored of a delta target's base version: its META row and whether its rows are
    still there (the same test as the target's: its shop-wide list)."""

    meta: dict[str, Any] | None
    has_rows: bool


@dataclass(frozen=True)
class Rollback:
    from_version: str
    to_version: str
    pointer: dict[str, Any]
    applied: bool


def plan_rollback(
    pointer: dict[str, Any] | None,
    target_meta: dict[str, Any] | None,
    target_has_rows: bool,
    *,
    now: datetime,
    to_version: str | None,
    base: BaseCheck | None = None,
    lists_table_exists: bool = False,
) -> tuple[str, dict[str, Any]]:
    """The target version and the pointer row that serves it; raises `RollbackError` if unsafe.

    `base`: what is stored of the target's base, when the target is a delta (`base_of`).
    `lists_table_exists`: whether the table the target's META names as its ``listsTable``
    (its imported users' rows) still exists."""
    if not pointer:
        raise RollbackError("no current version: nothing has been published yet")
    current = str(pointer["modelVersion"])
    target = to_version or pointer.get("previousVersion")
    if not target:
        raise RollbackError(
            f"the current version {current} records no previous version "
            "(first publish, or already rolled back): name one with --to"
        )
    target = str(target)
    if target == current:
        raise RollbackError(f"{target} is already the current version")
    if not target_meta:
        raise RollbackError(f"version {target} is unknown (no META row; expired or never trained)")
    if target_meta.get("status") != "published":
        raise RollbackError(f"version {target} was never published (status {target_meta.get('status')!r})")
    expires_at = target_meta.get("expiresAt")
    if expires_at is not None and int(expires_at) <= int(now.timestamp()):
        raise RollbackError(f"version {target} has expired: its rows are being deleted by TTL")
    if not target_has_rows:
        raise RollbackError(f"version {target} has no stored lists any more")
    base_version = base_of(target, target_meta)
    if base_version != target:
        _check_base(target, base_version, base, now)
    lists_table = target_meta.get(LISTS_TABLE_ATTRIBUTE)
    if lists_table and not lists_table_exists:
        raise RollbackError(
            f"version {target}'s users' lists were imported into {lists_table}, which has been "
            "deleted (past its rollback window)"
        )
    new_pointer = {
        "pk": POINTER_KEY[0],
        "sk": POINTER_KEY[1],
        "modelVersion": target,
        "generatedAt": target_meta.get("generatedAt") or pointer.get("generatedAt"),
        "previousVersion": None,
        "rolledBackFrom": current,
        "flippedAt": iso(now),
        # The users' rows a delta did not write are its base's (docs/serving.md, Personal lists).
        "baseVersion": base_version,
        # The target's own session constants: they were chosen for its similar-items lists.
        **session_constants(_chosen(target_meta)),
        # Where its users' rows are, when they were imported into a table of their own.
        **({LISTS_TABLE_ATTRIBUTE: str(lists_table)} if lists_table else {}),
    }
    return target, new_pointer


def base_of(version: str, meta: Mapping[str, Any]) -> str:
    """The full publish whose users' rows `version` falls back to: its META's ``baseVersion``, or
    `version` itself when it names none (a full publish, or one from before deltas)."""
    return str(meta.get("baseVersion") or version)


def _check_base(target: str, base: str, check: BaseCheck | None, now: datetime) -> None:
    """A delta target serves most users from its base's rows: refuse unless those are still stored."""
    meta = check.meta if check else None
    if not meta:
        raise RollbackError(
            f"version {target} is a delta of {base}, which is unknown (no META row; expired): "
            "its users' lists are gone"
        )
    expires_at = meta.get("expiresAt")
    if expires_at is not None and int(expires_at) <= int(now.timestamp()):
        raise RollbackError(
            f"version {target} is a delta of {base}, which has expired: its rows are being deleted by TTL"
        )
    if not (check and check.has_rows):
        raise RollbackError(f"version {target} is a delta of {base}, which has no stored lists any more")


def _chosen(meta: Mapping[str, Any]) -> dict[str, Any] | None:
    """The parameters a version's META records as chosen (a JSON string), if readable."""
    try:
        chosen = json.loads(str(meta.get("chosen") or "null"))
    except ValueError:
        return None
    return chosen if isinstance(chosen, dict) else None


def roll_back(
    table: KeyValueTable,
    *,
    to_version: str | None = None,
    dry_run: bool = False,
    now: datetime | None = None,
    table_exists: Callable[[str], bool] | None = None,
) -> Rollback:
    """Move the pointer of the model table `table` back (see the module docstring).
    `table_exists` answers whether a per-version lists table still exists (None: none does)."""
    moment = now or utc_now()
    pointer = table.get(*POINTER_KEY)
    target = to_version or (pointer or {}).get("previousVersion")
    target_meta = table.get(*version_meta_key(str(target))) if target else None
    has_rows = bool(target) and _has_rows(table, str(target))
    base_version = base_of(str(target), target_meta) if target and target_meta else None
    base: BaseCheck | None = None
    if base_version is not None and base_version != str(target):
        base = BaseCheck(table.get(*version_meta_key(base_version)), _has_rows(table, base_version))
    lists_table = (target_meta or {}).get(LISTS_TABLE_ATTRIBUTE)
    lists_table_exists = bool(lists_table and table_exists and table_exists(str(lists_table)))
    chosen, new_pointer = plan_rollback(
        pointer,
        target_meta,
        has_rows,
        now=moment,
        to_version=to_version,
        base=base,
        lists_table_exists=lists_table_exists,
    )
    assert pointer is not None  # plan_rollback refused otherwise
    current = str(pointer["modelVersion"])
    if not dry_run:
        table.put(new_pointer)
        abandoned = table.get(*version_meta_key(current))
        if abandoned is not None:
            table.put({**abandoned, "rolledBackAt": iso(moment)})
    return Rollback(from_version=current, to_version=chosen, pointer=new_pointer, applied=not dry_run)


def _has_rows(table: KeyValueTable, version: str) -> bool:
    """Whether a version's rows are still stored: its shop-wide popular list, which every run
    writes, a delta too (a delta may have few users' rows of its own, or none)."""
    return table.get(popular_pk(), version_sk(version)) is not None


# ---------------------------------------------------------------------------- command line
def configure(parser: argparse.ArgumentParser) -> None:
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--stack", help="the deployed stack's name (its ModelTableName output is used)")
    where.add_argument("--table", help="the model table's name")
    parser.add_argument("--region", default=None, help="AWS region (default: the environment's)")
    parser.add_argument("--to", dest="to_version", default=None, help="a published version to serve instead")
    parser.add_argument("--dry-run", action="store_true", help="check and report, change nothing")


#: The output of template.yaml that names the model table.
_TABLE = "ModelTableName"


def run(args: argparse.Namespace) -> int:
    from recs_tools.deploy.stack_outputs import (
        MissingOutputsError,
        lists_table_exists,
        model_table,
        stack_outputs,
    )

    try:
        table_name = args.table or stack_outputs(args.stack, required=[_TABLE], region=args.region)[_TABLE]
        result = roll_back(
            model_table(table_name, region=args.region),
            to_version=args.to_version,
            dry_run=args.dry_run,
            table_exists=lists_table_exists(region=args.region),
        )
    except MissingOutputsError as foreign:
        print(f"rollback refused: {foreign} Pass the model table with --table instead.", file=sys.stderr)
        return 1
    except RollbackError as refused:
        print(f"rollback refused: {refused}", file=sys.stderr)
        return 1
    verb = "would serve" if args.dry_run else "now serves"
    print(f"{table_name} {verb} {result.to_version} (was {result.from_version})")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m recs_tools.deploy.rollback", description=__doc__.split("\n\n")[0]
    )
    configure(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
