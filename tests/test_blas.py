"""pipeline.blas.threadpool_limits: limits numpy's BLAS like threadpoolctl's, restores it,
and finds the libraries once per process (the per-call scan was 40% of a Ray align
task's CPU)."""

from __future__ import annotations

import numpy as np
import threadpoolctl

from pipeline import blas


def _blas_threads() -> list[int]:
    return [i["num_threads"] for i in threadpoolctl.threadpool_info() if i["user_api"] == "blas"]


def test_limits_numpys_blas_and_restores_it() -> None:
    np.ones((4, 4)) @ np.ones((4, 4))  # numpy's BLAS is loaded
    with threadpoolctl.threadpool_limits(limits=2, user_api="blas"):  # 2, whatever the machine
        before = _blas_threads()
        assert before and max(before) == 2  # there is a BLAS to limit
        for _ in range(2):  # the second use goes through the kept controller
            with blas.threadpool_limits(limits=1, user_api="blas"):
                assert _blas_threads() == [1] * len(before)
            assert _blas_threads() == before


def test_the_libraries_are_scanned_once(monkeypatch) -> None:  # noqa: ANN001
    scans: list[int] = []
    real = threadpoolctl.ThreadpoolController.__init__

    def counted(self) -> None:  # noqa: ANN001
        scans.append(1)
        real(self)

    monkeypatch.setattr(blas, "_controller", None)
    monkeypatch.setattr(threadpoolctl.ThreadpoolController, "__init__", counted)
    for _ in range(5):
        with blas.threadpool_limits(limits=1, user_api="blas"):
            pass
    assert len(scans) == 1
