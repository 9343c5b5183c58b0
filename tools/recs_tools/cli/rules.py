"""``recs rules``: list, add and remove merchandising rules, and read their audit.

The commands call the stack's admin routes, signed with the caller's AWS credentials (IAM
authorization: the principal needs ``execute-api:Invoke`` on them); the API is found from the
stack's ``ApiUrl`` output (``--stack``), given (``--url``), or the local stack's (``--local``,
signed with its operator's keys). A rule is checked here before anything is sent, so a bad
value is a usage error (exit 2) naming the option.
"""

from __future__ import annotations

import argparse
import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import ValidationError

from recs_tools.cli.errors import FAILED, USAGE, CliError
from recs_tools.rules_client import HttpResult

EXAMPLES = """examples:
  recs rules --stack recs-prod list
  recs rules --stack recs-prod add spring-pin --kind pin --product sku_123 --position 1 \\
      --context homepage --for 7d --note "spring campaign"
  recs rules --stack recs-prod add acme-up --kind boost --brand acme --factor 1.5 --ends 2026-12-31T00:00:00Z
  recs rules --stack recs-prod add kitchen-down --kind bury --category home/kitchen --for 7d
  recs rules --stack recs-prod add recall-42 --kind block --product sku_42 --for 30d
  recs rules --stack recs-prod remove spring-pin
  recs rules --stack recs-prod changes --limit 20
  recs rules --local list                     # the local stack of `recs local` / `recs demo`"""

LOCAL_URL = "http://127.0.0.1:3000"
_DURATION = re.compile(r"^(\d+)([dhm])$")
_UNITS = {"d": "days", "h": "hours", "m": "minutes"}
#: The CLI's options for the body's fields, to name them in usage errors.
_OPTIONS = {
    "kind": "--kind",
    "productId": "--product",
    "category": "--category",
    "brand": "--brand",
    "contexts": "--context",
    "position": "--position",
    "factor": "--factor",
    "startsAt": "--starts",
    "endsAt": "--ends/--for",
    "note": "--note",
    "ruleId": "RULE_ID",
}


def zoned(text: str) -> datetime:
    """An ISO-8601 time with its zone (a naive time would mean something else on every machine)."""
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"not an ISO-8601 time: {text!r}") from error
    if parsed.tzinfo is None:
        raise argparse.ArgumentTypeError(f"{text!r} needs a zone, e.g. 2026-12-24T00:00:00Z")
    return parsed


def duration(text: str) -> timedelta:
    """``7d``, ``12h`` or ``30m``."""
    found = _DURATION.match(text)
    if not found or int(found.group(1)) == 0:
        raise argparse.ArgumentTypeError(f"expected a duration like 7d, 12h or 30m, got {text!r}")
    return timedelta(**{_UNITS[found.group(2)]: int(found.group(1))})


def configure(parser: argparse.ArgumentParser) -> None:
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--stack", help="the deployed stack (its ApiUrl output is the API)")
    where.add_argument("--url", help="the API's base URL, e.g. the ApiUrl output")
    parser.add_argument(
        "--local",
        action="store_true",
        help=f"the local stack, signed with its operator's keys (its API: {LOCAL_URL} or --url)",
    )
    parser.add_argument("--region", default=None, help="AWS region (default: your AWS configuration's)")
    parser.add_argument("--json", action="store_true", help="print the API's JSON instead of a table")
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    actions.add_parser("list", help="every rule: active, future and expired")
    add = actions.add_parser("add", help="create or replace a rule")
    add.add_argument("rule_id", metavar="RULE_ID", help="the rule's id (letters, digits, _ and -)")
    add.add_argument("--kind", required=True, choices=["pin", "boost", "bury", "block"])
    target = add.add_mutually_exclusive_group(required=True)
    target.add_argument("--product", help="a product id (pin and block: required)")
    target.add_argument(
        "--category",
        help="boost or bury: a category and every category below it (home/kitchen holds "
        "home/kitchen/knives, not home/kitchenware); spelled as the catalog spells it",
    )
    target.add_argument("--brand", help="boost or bury: a brand")
    add.add_argument(
        "--context",
        action="append",
        choices=["homepage", "product-page", "cart"],
        help="where it acts (repeat for several; default: everywhere)",
    )
    add.add_argument("--position", type=int, help="pin: 1 = first")
    add.add_argument("--factor", type=float, help="boost (> 1, default 2) or bury (< 1, default 0.5)")
    add.add_argument("--starts", type=zoned, help="start, ISO-8601 with a zone (default: now)")
    ends = add.add_mutually_exclusive_group(required=True)
    ends.add_argument("--ends", type=zoned, help="end (exclusive), ISO-8601 with a zone")
    ends.add_argument("--for", dest="lasts", type=duration, help="how long from the start: 7d, 12h, 30m")
    add.add_argument("--note", default="", help="why the rule exists (kept in the audit)")
    remove = actions.add_parser("remove", help="remove a rule")
    remove.add_argument("rule_id", metavar="RULE_ID")
    changes = actions.add_parser("changes", help="the audit: who changed which rule when")
    changes.add_argument("--limit", type=int, default=20, help="how many, newest first (1-200)")


def rule_body(args: argparse.Namespace, now: datetime) -> dict[str, Any]:
    """The PUT body of `add`, checked as the API checks it (a usage error names the option)."""
    from recs.rules.model import RULE_ID_PATTERN, RuleBody

    if not re.match(RULE_ID_PATTERN, args.rule_id):
        raise CliError("RULE_ID: 1-64 letters, digits, _ or -", USAGE)
    starts = args.starts or now
    body: dict[str, Any] = {
        "kind": args.kind,
        "productId": args.product,
        "category": args.category,
        "brand": args.brand,
        "contexts": args.context or [],
        "position": args.position,
        "factor": args.factor,
        "startsAt": starts.astimezone(UTC).isoformat(),
        "endsAt": (args.ends or starts + args.lasts).astimezone(UTC).isoformat(),
        "note": args.note,
    }
    body = {key: value for key, value in body.items() if value is not None}
    try:
        RuleBody.model_validate(body)
    except ValidationError as error:
        raise CliError("; ".join(_named(item) for item in error.errors()), USAGE) from error
    return body


def _named(item: Any) -> str:
    message = str(item["msg"]).removeprefix("Value error, ")
    field = str(item["loc"][0]) if item["loc"] else message.split(":", 1)[0]
    if not item["loc"] and ":" in message:
        message = message.split(": ", 1)[1]
    return f"{_OPTIONS.get(field, field)}: {message}"


def _client(args: argparse.Namespace) -> Any:
    from recs_tools.local.auth import local_admin_credentials
    from recs_tools.rules_client import RulesClient

    if args.local:
        from recs_tools.local.stack import REGION

        if args.stack:
            raise CliError("--local and --stack: choose one", USAGE)
        return RulesClient(args.url or LOCAL_URL, REGION, local_admin_credentials())
    if not args.stack and not args.url:
        raise CliError("which API? give --stack NAME, --url URL or --local", USAGE)
    import boto3

    session = boto3.Session(region_name=args.region)
    credentials = session.get_credentials()
    if credentials is None or session.region_name is None:
        raise CliError("no AWS credentials or region: configure them (aws configure) or pass --region", USAGE)
    url = args.url
    if args.stack:
        from recs_tools.deploy.stack_outputs import stack_outputs

        try:
            url = stack_outputs(args.stack, required=["ApiUrl"], region=session.region_name)["ApiUrl"]
        except Exception as error:  # botocore's, or MissingOutputsError: the message says which
            raise CliError(f"stack {args.stack}: {error}", FAILED) from error
    return RulesClient(url, session.region_name, credentials)


def _checked(result: HttpResult) -> Any:
    if result.status < 300:
        return result.body
    body: dict[str, Any] = result.body if isinstance(result.body, dict) else {"message": str(result.body)}
    errors: list[dict[str, Any]] = body.get("errors") or []
    fields = "; ".join(f"{e.get('field')}: {e.get('reason')}" for e in errors)
    message = f"{result.status} {body.get('message', '')}" + (f" ({fields})" if fields else "")
    if result.status in (401, 403):
        message += ": the admin routes need IAM credentials allowed execute-api:Invoke on them"
    raise CliError(message, USAGE if result.status in (400, 404) else FAILED)


def _state(rule: dict[str, Any], now: datetime) -> str:
    starts, ends = zoned(rule["startsAt"]), zoned(rule["endsAt"])
    return "active" if starts <= now < ends else "future" if now < starts else "expired"


def _target(rule: dict[str, Any]) -> str:
    for key, label in (("productId", "product"), ("category", "category"), ("brand", "brand")):
        if rule.get(key) is not None:
            return f"{label}={rule[key]}"
    return "-"


def _print_rules(rules: list[dict[str, Any]], now: datetime) -> None:
    if not rules:
        print("no rules")
        return
    for rule in rules:
        detail = f"position={rule['position']}" if rule.get("position") else ""
        detail = f"factor={rule['factor']}" if rule.get("factor") is not None else detail
        contexts = ",".join(rule.get("contexts") or []) or "all"
        print(
            f"{rule['id']:<24} {rule['kind']:<6} {_target(rule):<28} {detail:<14} {contexts:<24} "
            f"{_state(rule, now):<8} {rule['startsAt']} -> {rule['endsAt']}  {rule.get('note', '')}"
        )


def run(args: argparse.Namespace) -> int:
    now = datetime.now(UTC)
    body = rule_body(args, now) if args.action == "add" else None
    if args.action == "changes" and not 1 <= args.limit <= 200:
        raise CliError("--limit: 1 to 200", USAGE)
    client = _client(args)
    try:
        if args.action == "list":
            answer = _checked(client.list())
        elif args.action == "add":
            answer = _checked(client.put(args.rule_id, body or {}))
        elif args.action == "remove":
            answer = _checked(client.remove(args.rule_id))
        else:
            answer = _checked(client.changes(args.limit))
    except OSError as error:  # the API cannot be reached
        raise CliError(f"{client.base_url}: {error}", FAILED) from error
    if args.json:
        print(json.dumps(answer, indent=2))
    elif args.action == "list":
        _print_rules(answer["rules"], now)
    elif args.action == "add":
        print(f"stored {args.rule_id} ({_state(answer, now)})")
    elif args.action == "remove":
        print(f"removed {args.rule_id}")
    else:
        for change in answer["changes"]:
            print(f"{change['at']}  {change['action']:<6} {change['ruleId']:<24} by {change['who']}")
    return 0
