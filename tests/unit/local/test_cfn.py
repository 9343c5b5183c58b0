from __future__ import annotations

from pathlib import Path

import pytest

from recs_tools.checkout import repo_root
from recs_tools.local.cfn import Resolver, UnsupportedIntrinsicError, load_template, parameter_defaults


def _resolver(**parameters: object) -> Resolver:
    return Resolver(region="eu-west-1", account_id="123", stack_name="s", parameters=dict(parameters))


def test_short_form_tags_load_as_long_form(tmp_path: Path) -> None:
    # Given a template using short-form intrinsics
    path = tmp_path / "t.yaml"
    path.write_text(
        "Resources:\n  A:\n    Type: X\n    Properties:\n      N: !Ref P\n      G: !GetAtt B.Arn\n"
        "      S: !Sub '${AWS::Region}-x'\n",
        encoding="utf-8",
    )
    # When it is loaded
    props = load_template(path)["Resources"]["A"]["Properties"]
    # Then each tag is its long form
    assert props == {
        "N": {"Ref": "P"},
        "G": {"Fn::GetAtt": ["B", "Arn"]},
        "S": {"Fn::Sub": "${AWS::Region}-x"},
    }


def test_each_load_is_a_fresh_copy_and_a_changed_file_is_read_again(tmp_path: Path) -> None:
    # Given a template loaded once and changed by its caller
    path = tmp_path / "t.yaml"
    path.write_text("Resources:\n  A:\n    Type: X\n", encoding="utf-8")
    first = load_template(path)
    first["Resources"]["A"]["Type"] = "changed by the caller"
    # When it is loaded again, then it is the file's content, not the caller's change
    assert load_template(path)["Resources"]["A"]["Type"] == "X"
    # When the file itself changes, then the next load reads the new content
    path.write_text("Resources:\n  A:\n    Type: Y\n  B:\n    Type: Z\n", encoding="utf-8")
    assert load_template(path)["Resources"] == {"A": {"Type": "Y"}, "B": {"Type": "Z"}}


def test_a_file_without_resources_is_refused(tmp_path: Path) -> None:
    # Given a YAML file that is not a template
    path = tmp_path / "t.yaml"
    path.write_text("Parameters: {}\n", encoding="utf-8")
    # When it is loaded, then it is refused naming the file
    with pytest.raises(ValueError, match="is not a CloudFormation template"):
        load_template(path)


def test_intrinsics_resolve_against_local_values() -> None:
    # Given parameters, a created resource and a condition
    resolver = _resolver(Stage="dev")
    resolver.refs["Table"] = "tbl"
    resolver.attributes[("Table", "Arn")] = "arn:tbl"
    resolver.evaluate_conditions({"IsProd": {"Fn::Equals": [{"Ref": "Stage"}, "prod"]}})
    # When expressions are resolved
    value = resolver.resolve(
        {
            "a": {"Ref": "Table"},
            "b": {"Fn::Sub": "${Table}/${Table.Arn}/${AWS::Region}/${!Literal}"},
            "c": {"Fn::If": ["IsProd", "yes", {"Ref": "AWS::NoValue"}]},
            "d": {"Fn::Join": ["-", ["x", {"Ref": "Stage"}]]},
        }
    )
    # Then they evaluate like CloudFormation, and NoValue removes the key
    assert value == {"a": "tbl", "b": "tbl/arn:tbl/eu-west-1/${Literal}", "d": "x-dev"}


def test_unknown_references_and_intrinsics_raise() -> None:
    # Given a resolver that knows nothing
    resolver = _resolver()
    # Then an unknown Ref or an unsupported intrinsic is an error, never a silent guess
    with pytest.raises(UnsupportedIntrinsicError):
        resolver.resolve({"Ref": "Missing"})
    with pytest.raises(UnsupportedIntrinsicError):
        resolver.resolve({"Fn::Cidr": ["10.0.0.0/16", 2, 8]})
    with pytest.raises(UnsupportedIntrinsicError):
        resolver.resolve({"Fn::FindInMap": ["a", "b", "c"]})


def test_find_in_map_reads_the_templates_mappings() -> None:
    # Given a mapping by stage, as template.yaml's StageSettings
    resolver = Resolver(
        region="eu-west-1",
        account_id="123",
        stack_name="s",
        parameters={"Stage": "prod"},
        mappings={"StageSettings": {"dev": {"Days": 7}, "prod": {"Days": 30}}},
    )
    # When FindInMap is resolved with a Ref for its first key / Then it gives that stage's value
    assert resolver.resolve({"Fn::FindInMap": ["StageSettings", {"Ref": "Stage"}, "Days"]}) == 30


def test_the_real_template_parameters_all_have_local_values() -> None:
    # Given the project's template
    template = load_template(repo_root() / "template.yaml")
    # When its parameters get their defaults
    values = parameter_defaults(template, {"EnableCache": "false"})
    # Then every parameter has a value and lists are lists
    assert set(values) == set(template["Parameters"])
    assert isinstance(values["CacheSubnetIds"], list)
