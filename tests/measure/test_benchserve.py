"""`docqa bench serve`'s measuring loop: sessions at once, each answer timed, failures counted."""

from __future__ import annotations

from conftest import _script
from fakes import FakeEmbedder, ScriptedLLM
from fakeserver import STATUS, FakeServer

from docqa.interfaces.services import Services
from docqa.measure.benchserve import _levels

ASKED = ["¿Dónde se reunirán nuevamente las delegaciones?", "¿Quién encabezó la delegación?"]


def test_each_level_times_every_answer_of_its_sessions(settings) -> None:  # type: ignore[no-untyped-def]
    services = Services(settings, FakeEmbedder(), ScriptedLLM(_script, delay=0.01))
    services.build()
    levels = _levels(services, ASKED, [1, 3], 2, lambda m: None, "in process")
    assert [lv["sessions"] for lv in levels] == [1, 3]
    assert [lv["answers"] for lv in levels] == [2, 6] and all(lv["failed"] == 0 for lv in levels)
    assert all(lv["ttft_p95_s"] >= lv["ttft_p50_s"] > 0 and lv["answers_per_min"] > 0 for lv in levels)


def test_a_failing_server_is_counted_with_its_reason_not_a_crash(settings) -> None:  # type: ignore[no-untyped-def]
    server = FakeServer(_script)
    try:
        services = Services(settings.with_overrides(llm_url=server.url), FakeEmbedder())
        services.build()
        server.mode = STATUS
        (level,) = _levels(services, ASKED, [2], 1, lambda m: None, "server")
    finally:
        server.stop()
    assert level["answers"] == 0 and level["failed"] == 2 and "answered 500" in level["errors"][0]
