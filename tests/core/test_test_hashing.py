"""Tests hash passwords cheaply; production keeps argon2's defaults."""

from __future__ import annotations

import subprocess
import sys

from facturo.accounts.passwords import hash_password, verify_password


def test_the_test_run_hashes_with_cheap_parameters() -> None:
    digest = hash_password("correct horse battery")
    assert "$m=8,t=1,p=1$" in digest
    assert verify_password(digest, "correct horse battery")
    assert not verify_password(digest, "wrong horse battery")


def test_outside_tests_the_defaults_apply() -> None:
    code = "from facturo.accounts.passwords import hash_password; print(hash_password('x' * 12))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "$m=65536,t=3,p=4$" in out.stdout
