"""The streaming bench's cost line (bench/report_stream.py): the arithmetic behind the
"within 10% needs at most ... ms per run" it prints beside the GET rounds."""

from bench.report_stream import StreamCost, render_get


def _round(rps: str, svc_cpu: str) -> dict[str, str]:
    return {"rps": rps, "p50_ms": "30", "p99_ms": "45", "svc_cpu": svc_cpu, "busy": "70"}


def test_the_cost_line_puts_the_runs_cpu_against_a_tenth_of_one_core() -> None:
    # 160 runs in 8 s (20/s) took the service 1.2 s of CPU: 7.5 ms each, 15% of a core.
    # GET alone kept the service 90% busy: a tenth of that is 4.5 ms per run at 20/s.
    cost = StreamCost(seconds=8.0, runs=160, svc_cpu_s=1.2)
    alone, loaded = _round("1000", "90"), _round("850", "99")  # a GET: 0.9 ms of CPU
    lines = render_get([(1, alone, loaded, 160, 0)], 100, "20 deltas 250 ms apart", cost, 1)
    assert "on `serve --workers 1`" in lines[1]
    assert "rps x0.850, p99 x1.000" in lines[-3]
    assert "MISSED" in lines[-2]
    assert lines[-1] == (
        "streamed runs alone (8 s, no GET load): 20.0 runs/s, service 7.50 ms CPU per run "
        "= 15.0% of one core, against GET's 90% alone; within 10% needs at most 4.50 ms "
        "per run at this rate (a GET alone: 0.900 ms, so a run costs 8.3 GETs)"
    )
