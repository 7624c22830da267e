"""Runs the vanilla JS modules' unit tests with Node's built-in test runner."""

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import IN_CI

JS_TESTS = Path(__file__).resolve().parents[1] / "js"


def test_javascript_unit_tests_pass():
    node = shutil.which("node")
    if node is None:
        if IN_CI:
            pytest.fail("node is required to run tests/js under CI")
        pytest.skip("node is not installed")
    result = subprocess.run(
        [node, "--test", *sorted(str(p) for p in JS_TESTS.glob("*.test.mjs"))],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "# fail 0" in result.stdout
    assert "# pass 0" not in result.stdout
