"""The streaming bench's cost line (bench/report_stream.py): the arithmetic behind the
"within 10% needs at most ... ms per run" it prints beside the GET rounds."""

from bench.report_stream import StreamCost, render_get, render_yardstick


def _round(rps: str, svc_cpu: str) -> dict[str, str]:
    return {"rps": rps, "p50_ms": "30", "p99_ms": "45", "svc_cpu": svc_cpu, "busy": "70"}


def test_the_cost_line_puts_the_runs_cpu_against_a_tenth_of_one_core() -> None:
    # 160 runs in 8 s (20/s) took the service 1.2 s of CPU: 7.5 ms each, 15% of a core.
    # GET alone kept the service 90% busy: a tenth of that is 4.5 ms per run at 20/s.
    cost = StreamCost(seconds=8.0, runs=160, svc_cpu_s=1.2)
    alone, loaded = _round("1000", "90"), _round("850", "99")  # a GET: 0.9 ms of CPU
    rows = [(1, alone, loaded, 160, 0)]
    lines = render_get(rows, 100, "20 deltas 250 ms apart", cost, "`serve --workers 1`")
    assert "on `serve --workers 1`" in lines[1]
    assert "rps x0.850, p99 x1.000" in lines[-3]
    assert "MISSED" in lines[-2]
    assert lines[-1] == (
        "streamed runs alone (8 s, no GET load): 20.0 runs/s, service 7.50 ms CPU per run "
        "= 15.0% of one core, against GET's 90% alone; within 10% needs at most 4.50 ms "
        "per run at this rate (a GET alone: 0.900 ms, so a run costs 8.3 GETs)"
    )


def test_the_yardstick_gives_each_rounds_ratio_and_their_median_without_a_verdict() -> None:
    rows = [
        (1, _round("1000", "99"), _round("950", "99"), 80, 0),
        (2, _round("1000", "99"), _round("900", "99"), 80, 0),
        (3, _round("1000", "99"), _round("800", "99"), 79, 1),
    ]
    lines = render_yardstick(rows, 20.0)
    assert "20 unstreamed runs per second" in lines[1]
    assert (
        lines[2] == "round 1: GET alone 1000.0 rps, with the runs 950.0 rps (80 runs ok, 0 failed)"
    )
    assert lines[6] == "round 2 (runs first): with runs / alone: rps x0.900, p99 x1.000"
    assert lines[-1] == "median of 3 rounds: rps x0.900 (rounds x0.800 to x0.950), p99 x1.000"
    assert "not a target" in lines[1]
    assert not any("within 10%" in line for line in lines)


def test_runs_on_their_own_process_get_no_budget_line() -> None:
    cost = StreamCost(seconds=8.0, runs=160, svc_cpu_s=1.2)
    rows = [(1, _round("1000", "99"), _round("950", "99"), 160, 0)]
    lines = render_get(rows, 100, "20 deltas", cost, "two processes", shared=False)
    assert "on two processes, alone and" in lines[1]
    assert "(target: within 10%: met)" in lines[-2]
    assert lines[-1] == (
        "streamed runs alone (8 s, no GET load): 20.0 runs/s, service 7.50 ms CPU per run "
        "on the runs' own process"
    )
