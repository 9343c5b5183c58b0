"""checkov runs in `make validate` with zero failed checks; what it skips must say why, in the
template, next to the resource (never a blanket skip on the command line)."""

from __future__ import annotations

import re
from typing import Any

from recs_tools.checkout import repo_root

CHECK_ID = re.compile(r"^CKV2?_AWS_\d+$")


def _skips(resources: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [
        (logical_id, skip)
        for logical_id, resource in resources.items()
        for skip in resource.get("Metadata", {}).get("checkov", {}).get("skip", [])
    ]


def test_every_checkov_skip_names_one_check_and_justifies_it(resources: dict[str, Any]) -> None:
    # Given every checkov skip in the template's resource Metadata
    skips = _skips(resources)
    assert skips, "the template has checkov skips to check"
    for logical_id, skip in skips:
        # Then each names one check and says why it does not apply, in a sentence
        assert CHECK_ID.match(skip["id"]), (logical_id, skip)
        assert len(str(skip.get("comment", "")).split()) >= 8, (logical_id, skip)
    # And no resource skips the same check twice
    assert len({(logical_id, skip["id"]) for logical_id, skip in skips}) == len(skips)


def test_the_checkov_run_skips_nothing_outside_the_template() -> None:
    # Given the Makefile's checkov command
    makefile = (repo_root() / "Makefile").read_text(encoding="utf-8")
    (command,) = [line for line in makefile.splitlines() if "$(CHECKOV) " in line]
    # Then it neither skips checks nor soft-fails: every exception lives in the template
    assert "template.yaml" in command
    for flag in ("--skip-check", "--soft-fail", "--baseline", "--check "):
        assert flag not in command


def test_every_stateful_resource_says_what_happens_to_its_data_on_deletion(resources: dict[str, Any]) -> None:
    # Given the stack's stateful resources (cfn-lint I3011's list, which make validate runs)
    stateful = {
        "AWS::S3::Bucket",
        "AWS::DynamoDB::Table",
        "AWS::Logs::LogGroup",
        "AWS::SecretsManager::Secret",
    }
    found = {k: r for k, r in resources.items() if r["Type"] in stateful}
    assert found
    for logical_id, resource in found.items():
        # Then each sets both policies explicitly: data stores keep their data, logs go with the stack
        expected = "Delete" if resource["Type"] == "AWS::Logs::LogGroup" else "Retain"
        assert resource.get("DeletionPolicy") == expected, logical_id
        assert resource.get("UpdateReplacePolicy") == expected, logical_id
