"""`docqa calibrate`: fit the chosen model's NOT_FOUND bar on a question file and save its profile."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from docqa.answer import Policy
from docqa.interfaces import Services
from docqa.measure.ablation import MemoLLM, Row, fit_not_found_bar
from docqa.measure.evalrun import Progress, run_eval
from docqa.measure.evaluate import Question
from docqa.models import Profile, save_profile

# Candidate bars: the model's probability of opening with NOT_FOUND spans orders of magnitude.
BARS = (0.005, 0.01, 0.02, 0.03, 0.05, 0.1, 0.2, 0.3, 0.5, 0.8, 1.01)


def calibrate(
    services: Services, questions: list[Question], progress: Progress, label: str,
    memo_path: Path | None = None, save: bool = True,
) -> dict[str, object]:
    """Answer every question with the NOT_FOUND guard off (its probability still recorded), choose
    the bar that maximises verified right answers minus verified wrong ones (ablation.utility over
    the grade), and write it to the model's profile. A bar above 1 means the model's doubt never
    pays as a grade: it stays off."""
    rows: list[Row] = []
    memo = MemoLLM(services.llm(), memo_path) if memo_path else None
    run_eval(services, questions, False, progress, rows, services.asker(Policy(), llm=memo))
    if memo is not None:
        memo.save()
    bar, table = fit_not_found_bar(rows, BARS)
    info = services.model()
    fitted = f"{label}, {date.today().isoformat()}"
    profile = Profile(info.sha256, bar if bar <= 1 else None, fitted)
    path = str(save_profile(profile, services.settings.models_dir)) if save else ""
    return {"model": info.name, "sha256": info.sha256, "not_found_prob": bar, "table": table, "profile": path}
