"""Generate ``docs/benchmarks.md`` and the quality block of ``docs/training.md`` from ``bench/results``.

The documents are rebuilt from the results files alone, so every number in them can be traced
to a machine-readable result of a named run (the before/after of the profile-driven changes
included: `bench.optimizations` measures both versions in one run).

Results come from different runs (``python -m bench --full --only NAME`` re-runs one benchmark),
so each section names the commit its own benchmark ran on (``machine.git``), never one commit for
the whole document. The published record (a report written inside ``docs/``) shows a section's
figures only when its results name their commit and ran from a clean work tree: anything else
could not be reproduced by checking that commit out, so the section is shown as refused,
without its figures. A report written elsewhere (``make bench-quick``: ``build/bench-quick``)
shows every result and marks those from a work tree with uncommitted changes.

A goal figure judged on per-user data reads its ``verdict`` (met / tie / not met, from a paired
interval: `bench.figures.goal_figure`); only figures without per-user data (timings, sizes)
read their boolean ``met``.

    python -m bench.report      # re-render both docs from bench/results in place
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from bench.docgen import write_block
from bench.environment import REPO_ROOT
from bench.figures import verdict_of
from bench.registry import BENCHMARKS
from recs.evaluation import PairedDifference

RESULTS_DIR = REPO_ROOT / "bench" / "results"
DOCS_DIR = REPO_ROOT / "docs"
BENCHMARKS_DOC = DOCS_DIR / "benchmarks.md"
TRAINING_DOC = DOCS_DIR / "training.md"
SUITE_FILE = "suite.json"
#: Results whose area starts with this measure recommendation quality; docs/training.md quotes their goals.
QUALITY_AREA = "Quality"
#: A goal compared per user whose results file predates verdicts (see `judgement`).
NO_VERDICT = "no verdict"
REFUSED_DIRTY = "this section ran from a dirty tree; re-run `make bench` from a clean checkout"
REFUSED_UNKNOWN = (
    "this section does not name a clean commit it ran on; re-run `make bench` from a clean checkout"
)
VERDICT_LEGEND = (
    "A goal compared per user is judged on the 95% paired-bootstrap interval of the per-user"
    " difference: **met** when the whole interval lies above zero, **not met** when below, **tie**"
    " when it straddles zero, whatever the point estimates say. A goal without per-user data"
    " (timings, sizes, a figure noted as having no interval) compares its figure with the goal"
    " (**met** / **not met**)."
)
NO_VERDICT_LEGEND = (
    f"**{NO_VERDICT}**: compared per user, but its results file predates verdicts: the figure's note"
    " gives the interval (its old yes/no read the point estimates); re-run the benchmark."
)


# ------------------------------------------------------------------------------ cell formatting
def _number(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int) or (isinstance(value, float) and value.is_integer() and abs(value) >= 1000):
        return f"{int(value):,}"
    if isinstance(value, float):
        magnitude = abs(value)
        if magnitude >= 1000:
            return f"{value:,.0f}"
        if magnitude >= 100:
            return f"{value:.1f}"
        if magnitude >= 1:
            return f"{value:.3g}"
        return f"{value:.4g}"
    return str(value)


def _with_unit(value: Any, unit: str) -> str:
    text = _number(value)
    return f"{text} {unit}".strip() if text else ""


def _cell(text: Any) -> str:
    return str(text or "").replace("|", "\\|").replace("\n", " ")


def _row(cells: Iterable[Any]) -> str:
    return "| " + " | ".join(_cell(c) for c in cells) + " |"


def _baseline(f: Mapping[str, Any]) -> str:
    """The baseline's value, then what it is."""
    value = _with_unit(f.get("baselineValue"), f["unit"])
    return f"{value} ({f['baseline']})" if value and f.get("baseline") else value


# ------------------------------------------------------------------------------ verdicts
def _quotes_paired_interval(f: Mapping[str, Any]) -> bool:
    """The note quotes a `PairedDifference.describe()`: the figure was compared per user."""
    return "(paired bootstrap, " in (f.get("note") or "")


def judgement(f: Mapping[str, Any]) -> str | None:
    """What a figure's goal column reads: its verdict, else its boolean; None without a goal.

    Results written before verdicts existed quote the paired interval only in their note, and
    their boolean read the point estimates: that is how a tie came to read "met", so they read
    `NO_VERDICT` until re-run instead.
    """
    if f.get("verdict"):
        return str(f["verdict"])
    if f.get("difference"):
        return verdict_of(PairedDifference(**f["difference"]))
    if f.get("met") is None:
        return None
    if _quotes_paired_interval(f):
        return NO_VERDICT
    return "met" if f["met"] else "not met"


def _verdict_cell(f: Mapping[str, Any]) -> str:
    verdict = judgement(f)
    return f"**{verdict}**" if verdict else ""


def _legend(figures: Iterable[Mapping[str, Any]]) -> list[str]:
    judged = [judgement(f) for f in figures]
    return [VERDICT_LEGEND, *(["", NO_VERDICT_LEGEND] if NO_VERDICT in judged else [])]


# ------------------------------------------------------------------------------ provenance
def _git(record: Mapping[str, Any]) -> Mapping[str, Any]:
    git: Mapping[str, Any] = (record.get("machine") or {}).get("git") or {}
    return git


def commit_of(record: Mapping[str, Any]) -> str:
    """The short commit a results (or suite) file ran on."""
    return str(_git(record).get("commit") or "unknown")[:12]


def ran_clean(record: Mapping[str, Any]) -> bool:
    """True only when the record names its commit and git vouched for a clean work tree."""
    git = _git(record)
    return bool(git.get("commit")) and git.get("uncommittedChanges") is False


def _tree_state(record: Mapping[str, Any]) -> str:
    changes = _git(record).get("uncommittedChanges")
    if changes is None:
        return " (git could not tell whether the work tree was clean)"
    return " **from a work tree with uncommitted changes**" if changes else ""


def _ran_on(record: Mapping[str, Any]) -> str:
    return f"commit `{commit_of(record)}`{_tree_state(record)}"


def _refusal(result: Mapping[str, Any]) -> str:
    reason = REFUSED_DIRTY if _git(result).get("uncommittedChanges") else REFUSED_UNKNOWN
    return f"**Refused**: {reason} (commit `{commit_of(result)}`, started {result.get('startedAt')})."


def _commit_cell(result: Mapping[str, Any]) -> str:
    """A table row's provenance: its commit, and what else a reader must know about the run."""
    caveats = [] if ran_clean(result) else ["uncommitted changes"]
    if result.get("mode") != "full":
        caveats.append(f"{result.get('mode')} mode")
    return commit_of(result) + (f" ({', '.join(caveats)})" if caveats else "")


def shown_in(result: Mapping[str, Any], *, published: bool) -> bool:
    """Whether a report shows ``result``'s figures: a published one only from a clean, named commit."""
    return not published or ran_clean(result)


def is_published(doc: Path) -> bool:
    """A report inside ``docs/`` is the published record: only clean, named commits show there."""
    return doc.resolve().is_relative_to(DOCS_DIR.resolve())


# ------------------------------------------------------------------------------ loading
def _load(path: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return loaded


def load_results(results_dir: Path) -> list[dict[str, Any]]:
    """Every registered benchmark's results file present in ``results_dir``, in registry order."""
    paths = (results_dir / f"{benchmark.name}.json" for benchmark in BENCHMARKS)
    return [_load(path) for path in paths if path.exists()]


def load_quality_results(results_dir: Path) -> list[dict[str, Any]]:
    """Every results file of a quality area, registered or not yet: registry order, then by name.

    Read from the directory rather than the registry so that a new quality benchmark's results
    reach docs/training.md as soon as they exist.
    """
    order = {benchmark.name: index for index, benchmark in enumerate(BENCHMARKS)}
    paths = sorted(results_dir.glob("*.json"), key=lambda p: (order.get(p.stem, len(order)), p.stem))
    loaded = (_load(path) for path in paths)
    return [r for r in loaded if isinstance(r.get("area"), str) and r["area"].startswith(QUALITY_AREA)]


# ------------------------------------------------------------------------------ benchmarks.md
def _machine_lines(machine: Mapping[str, Any]) -> list[str]:
    packages = machine.get("packages", {})
    shown = ", ".join(f"{name} {version}" for name, version in packages.items() if version)
    return [
        f"- CPU: {machine.get('cpu')}, {machine.get('cores')} cores; memory {machine.get('memoryGiB')} GiB",
        f"- OS: {machine.get('os')} ({machine.get('machine')}); Python {machine.get('python')}; "
        f"{machine.get('redisServer') or 'no redis-server'}",
        f"- libraries: {shown}",
    ]


def _without_git(machine: Mapping[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in machine.items() if key != "git"}


def _table(figures: list[dict[str, Any]]) -> list[str]:
    lines = [
        "| figure | value | baseline (same run) | baseline value | ratio | goal | verdict | note |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for f in figures:
        lines.append(
            _row(
                (
                    f["name"],
                    _with_unit(f["value"], f["unit"]),
                    f.get("baseline"),
                    _with_unit(f.get("baselineValue"), f["unit"]),
                    _number(f.get("ratio")),
                    f.get("goal"),
                    _verdict_cell(f),
                    f.get("note"),
                )
            )
        )
    return lines


def _goals(shown: list[dict[str, Any]], refused: list[dict[str, Any]]) -> list[str]:
    lines = [
        "| area | figure | value | baseline (same run) | ratio | goal | verdict | commit |",
        "|---|---|---|---|---|---|---|---|",
    ]
    goals = []
    for result in shown:
        for f in result.get("figures", []):
            if f.get("goal"):
                goals.append(f)
                lines.append(
                    _row(
                        (
                            result["area"],
                            f["name"],
                            _with_unit(f["value"], f["unit"]),
                            _baseline(f),
                            _number(f.get("ratio")),
                            f["goal"],
                            _verdict_cell(f),
                            _commit_cell(result),
                        )
                    )
                )
    lines += ["", *_legend(goals)]
    if refused:
        areas = ", ".join(r["area"] for r in refused)
        lines += ["", f"Refused, figures withheld (see their sections): {areas}."]
    return lines


def _header(published: bool) -> list[str]:
    which = (
        [
            "A section whose benchmark did not run from a clean checkout of a named commit is refused",
            "here, without its figures.",
        ]
        if published
        else [
            "This report was written outside docs/, so sections that ran from a work tree with",
            "uncommitted changes are shown too, and marked.",
        ]
    )
    return [
        "# Benchmarks",
        "",
        "<!-- Generated by `python -m bench` (bench/report.py) from bench/results/*.json:",
        "     do not edit by hand. -->",
        "",
        "Every performance and quality figure the product claims, next to the baseline it is compared with,",
        "measured in the same run. Benchmarks may be re-run one at a time, so each section names the",
        "commit its benchmark ran on.",
        *which,
        "Medians (or percentiles over every request) and ratios against a baseline of the same run;",
        "never a single timing. Reproduce with `make bench` from a clean checkout (it refuses to start",
        "otherwise; `make bench-quick` for the small sizes; both run `make build` first, whose artifact",
        "the serving benchmark imports on Python 3.12); the raw results, with every run, grid and",
        "setting, are in `bench/results/<name>.json`.",
        "",
    ]


def _section(
    result: dict[str, Any], *, shown: bool, header_machine: Mapping[str, Any], suite_end: datetime | None
) -> list[str]:
    lines = [f"## {result['area']}", "", f"{result.get('summary', '')}.", ""]
    if not shown:
        lines += [_refusal(result), ""]
    else:
        load = result.get("loadAverage1m", {})
        separate = suite_end is not None and datetime.fromisoformat(result["startedAt"]) > suite_end
        lines += [
            f"`{result.get('command', '')}` ({result['mode']} mode"
            f"{', run on its own after the suite' if separate else ''}) on {_ran_on(result)}; started"
            f" {result['startedAt']}, took {result['wallSeconds']} s; load average {load.get('before')}"
            f" before, {load.get('after')} after; seeds {json.dumps(result.get('seeds', {}))}.",
            "",
        ]
        machine = result.get("machine", {})
        if _without_git(machine) != _without_git(header_machine):
            lines += ["On a different machine from the one above:", "", *_machine_lines(machine), ""]
        if result.get("status") != "ok":
            lines += [f"**This benchmark failed**: {result.get('error')}", ""]
        if result.get("figures"):
            lines += [*_table(result["figures"]), ""]
        lines += [f"- {note}" for note in result.get("notes", [])]
        if result.get("notes"):
            lines.append("")
    description = result.get("description")
    if description:
        lines += [
            "<details><summary>How it is measured</summary>",
            "",
            description.strip(),
            "",
            "</details>",
            "",
        ]
    return lines


def render(results_dir: Path, *, published: bool = True) -> str:
    """The Markdown report of every results file in ``results_dir``, in registry order.

    ``published``: the report goes to ``docs/`` (see the module docstring); sections that did not
    run from a clean, named commit are refused there.
    """
    results = load_results(results_dir)
    suite_path = results_dir / SUITE_FILE
    suite = _load(suite_path) if suite_path.exists() else None
    shown = [r for r in results if shown_in(r, published=published)]
    refused = [r for r in results if not shown_in(r, published=published)]
    lines = _header(published)
    suite_end = None
    if suite is not None:
        modes = {r["mode"] for r in results}
        minutes = suite["wallSeconds"] / 60
        ran_on = f" on {_ran_on(suite)}" if suite.get("machine") else ""
        lines += [
            f"**Run**: `{suite['command']}`{ran_on}, started {suite['startedAt']}, took"
            f" **{minutes:.1f} minutes** for the whole suite ({', '.join(sorted(modes))} mode).",
            "",
        ]
        suite_end = datetime.fromisoformat(suite["startedAt"]) + timedelta(seconds=suite["wallSeconds"])
    header_machine: Mapping[str, Any] = {}
    if results:
        header_machine = (suite or {}).get("machine") or results[0].get("machine", {})
        lines += [
            "**Machine** (each section gives its commit, and the load average before and after its"
            " benchmark: other jobs may have shared the machine):",
            "",
            *_machine_lines(header_machine),
            "",
        ]
        lines += ["## Goals", "", *_goals(shown, refused), ""]
    for result in results:
        lines += _section(
            result,
            shown=shown_in(result, published=published),
            header_machine=header_machine,
            suite_end=suite_end,
        )
    return "\n".join(lines).rstrip() + "\n"


# ------------------------------------------------------------------------------ docs/training.md
def render_quality_goals(results_dir: Path) -> str:
    """docs/training.md's generated block: every quality goal in ``results_dir``, with its verdict.

    Every goal figure of every results file whose area starts with `QUALITY_AREA`, each row with
    the commit it ran on; the block is published, so results not from a clean, named commit are
    refused (listed, without figures).
    """
    results = load_quality_results(results_dir)
    if not results:
        return f"No quality results in {results_dir.name}/ yet: `make bench` writes them.\n"
    shown = [r for r in results if shown_in(r, published=True)]
    lines = [
        "| area | figure | value | baseline | goal | verdict | note | commit |",
        "|---|---|---|---|---|---|---|---|",
    ]
    goals = [(r, f) for r in shown for f in r.get("figures", []) if f.get("goal")]
    for result, f in goals:
        lines.append(
            _row(
                (
                    result["area"],
                    f["name"],
                    _with_unit(f["value"], f["unit"]),
                    _baseline(f),
                    f["goal"],
                    _verdict_cell(f),
                    f.get("note"),
                    _commit_cell(result),
                )
            )
        )
    lines += ["", *_legend(f for _, f in goals)]
    withheld = [f"{r['area']}: {_refusal(r)}" for r in results if not shown_in(r, published=True)]
    withheld += [f"{r['area']}: **failed** on its last run." for r in shown if r.get("status") != "ok"]
    if withheld:
        lines += ["", *(f"- {line}" for line in withheld)]
    return "\n".join(lines) + "\n"


def write_report(results_dir: Path, doc: Path, *, training_doc: Path = TRAINING_DOC) -> None:
    """Write the report to ``doc``; a published one also refreshes ``training_doc``'s block.

    The hand-written docs quote the published record only, from the same results, so a quick
    run (its report outside docs/) never changes them.
    """
    published = is_published(doc)
    doc.parent.mkdir(parents=True, exist_ok=True)
    doc.write_text(render(results_dir, published=published), encoding="utf-8")
    if published:
        write_block(training_doc, render_quality_goals(results_dir))


if __name__ == "__main__":
    # Re-render from the results in place (e.g. after editing bench/optimizations.md).
    write_report(RESULTS_DIR, BENCHMARKS_DOC)
