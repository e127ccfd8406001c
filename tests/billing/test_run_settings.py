"""The interpreter settings a renewal run holds, and their restoration."""

from __future__ import annotations

import gc
import sys

import pytest

from facturo.billing.run_settings import RUN_SWITCH_INTERVAL_SECONDS, run_settings


def test_a_run_pauses_the_collector_and_hands_the_gil_over_often_then_restores_both() -> None:
    before = sys.getswitchinterval()
    assert gc.isenabled()
    with run_settings():
        assert not gc.isenabled()
        assert sys.getswitchinterval() == pytest.approx(RUN_SWITCH_INTERVAL_SECONDS)
    assert gc.isenabled()
    assert sys.getswitchinterval() == pytest.approx(before)


def test_the_settings_are_restored_when_the_run_fails() -> None:
    before = sys.getswitchinterval()
    with pytest.raises(RuntimeError), run_settings():
        raise RuntimeError("batch failed")
    assert gc.isenabled()
    assert sys.getswitchinterval() == pytest.approx(before)
