"""checkov over deploy/: the Terraform, the Dockerfile and any Kubernetes manifests.

checkov is a static checker: a pass means the files parse and break none of its rules,
not that ``terraform apply`` would work. It exits 0 on HCL it cannot parse, so these
tests read ``summary.parsing_errors`` from its JSON report, and a control test shows
that a broken file does show up there.

checkov pins its own fork of the HCL parser (the same ``hcl2`` module python-hcl2
installs), so it runs from an environment of its own, ``.venv-iac/``, made here from the
``iac`` dependency group when it is missing.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
ENVIRONMENT = ROOT / ".venv-iac"
CHECKOV = ENVIRONMENT / "bin" / "checkov"
FRAMEWORKS = ["terraform", "dockerfile", "kubernetes"]
SKIP_COMMENT = re.compile(r"checkov:skip=(?P<check>[A-Z0-9_]+)(?::(?P<reason>.*))?")


def install() -> None:
    """Make .venv-iac with the pinned checkov (bounded: ten minutes), with uv as the
    development environment is made."""
    python = ENVIRONMENT / "bin" / "python"
    uv = Path(sys.executable).parent / "uv"
    steps = [
        [sys.executable, "-m", "venv", str(ENVIRONMENT)],
        [str(uv), "pip", "install", "-q", "--python", str(python), "--group", "iac"],
    ]
    for step in steps:
        done = subprocess.run(
            step, cwd=ROOT, capture_output=True, text=True, timeout=600, check=False
        )
        if done.returncode != 0:
            pytest.fail(f"could not install checkov ({' '.join(step)}):\n{done.stderr[-3000:]}")


@pytest.fixture(scope="module")
def checkov() -> Path:
    if not CHECKOV.exists():
        install()
    return CHECKOV


def scan(checkov: Path, directory: Path) -> tuple[int, list[dict[str, Any]]]:
    done = subprocess.run(
        [
            str(checkov),
            "--directory",
            str(directory),
            "--framework",
            *FRAMEWORKS,
            "--skip-download",
            "--output",
            "json",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    report = json.loads(done.stdout) if done.stdout.strip() else []
    reports = report if isinstance(report, list) else [report]
    # A framework with nothing to check answers with an empty summary.
    return done.returncode, [item for item in reports if "summary" in item]


def test_static_deploy_has_no_parse_error_and_no_failed_check(checkov: Path) -> None:
    _, reports = scan(checkov, ROOT / "deploy")
    by_type = {report["check_type"]: report for report in reports}
    assert {"terraform", "dockerfile"} <= set(by_type), set(by_type)
    assert by_type["terraform"]["summary"]["resource_count"] >= 60
    for check_type, report in by_type.items():
        summary = report["summary"]
        assert summary["parsing_errors"] == 0, (check_type, report["results"].get("parsing_errors"))
        failed = [
            f"{item['check_id']} {item['resource']} ({item['file_path']}): {item['check_name']}"
            for item in report["results"]["failed_checks"]
        ]
        assert failed == [], "\n".join(failed)
        for skipped in report["results"]["skipped_checks"]:
            reason = skipped["check_result"].get("suppress_comment", "")
            assert len(reason) >= 20, f"{skipped['check_id']} is skipped without a reason"


def test_static_every_inline_skip_gives_its_reason() -> None:
    skips = 0
    for path in sorted((ROOT / "deploy").rglob("*")):
        if path.suffix not in (".tf", ".yml", ".yaml") and "Dockerfile" not in path.name:
            continue
        for line_number, line in enumerate(path.read_text().splitlines(), 1):
            for match in SKIP_COMMENT.finditer(line):
                skips += 1
                reason = (match["reason"] or "").strip()
                assert len(reason) >= 20, f"{path.name}:{line_number} skips {match['check']}"
    assert skips > 0


def test_static_control_unparsable_hcl_is_a_parse_error_with_exit_code_zero(
    checkov: Path, tmp_path: Path
) -> None:
    (tmp_path / "broken.tf").write_text('resource "aws_s3_bucket" "unclosed" {\n  bucket = "x"\n')
    returncode, reports = scan(checkov, tmp_path)
    assert returncode == 0  # why the exit code cannot be trusted
    (terraform,) = [report for report in reports if report["check_type"] == "terraform"]
    assert terraform["summary"]["parsing_errors"] == 1
