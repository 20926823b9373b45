"""The `pakn` admin commands, run as the commune's IT admin would."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from bot.cli import main
from tests.conftest import REPO


@pytest.fixture
def config_path(tmp_path: Path, monkeypatch) -> Path:
    shutil.copy(REPO / "config.toml", tmp_path / "config.toml")
    monkeypatch.delenv("PAKN_DATABASE_URL", raising=False)
    monkeypatch.delenv("PAKN_TELEGRAM_TOKEN", raising=False)
    return tmp_path / "config.toml"


def run(config_path: Path, capsys, *args: str) -> tuple[int, str, str]:
    code = main(["--config", str(config_path), *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_route_prints_the_decision_as_json(config_path, capsys):
    code, out, _ = run(
        config_path, capsys, "route", "Đèn đường thôn Nam hỏng cả tháng nay", "--json"
    )
    assert code == 0
    decision = json.loads(out)
    assert set(decision) == {"kind", "category", "unit", "confidence"}
    assert (decision["kind"], decision["category"], decision["unit"]) == (
        "phan_anh_kien_nghi",
        "giao_thong_ha_tang",
        "kinh_te",
    )


def test_faq_ask_prints_the_decision_as_json(config_path, capsys):
    code, out, _ = run(config_path, capsys, "faq", "ask", "hương ước là gì", "--json")
    assert code == 0
    decision = json.loads(out)
    assert decision["id"] == "huong_uoc_khai_niem"
    assert decision["outcome"] == "answer"
    assert set(decision) == {"id", "score", "outcome", "alternatives"}


def test_faq_check_passes_on_the_shipped_corpus_and_fails_on_a_broken_one(
    config_path, capsys, tmp_path
):
    assert run(config_path, capsys, "faq", "check")[0] == 0
    extra = tmp_path / "extra-faq"
    extra.mkdir()
    (extra / "bad.toml").write_text(
        '[group]\nid = "x"\ntitle = "X"\n[[topics]]\nid = "lich_tiep_cong_dan"\ntitle = "T"\n'
        'answer = "{unknown_fact}"\nbasis = ""\nquestions = ["a"]\n',
        encoding="utf-8",
    )
    text = config_path.read_text(encoding="utf-8").replace(
        "extra_corpus_dirs = []", f'extra_corpus_dirs = ["{extra}"]'
    )
    config_path.write_text(text, encoding="utf-8")
    code, _, err = run(config_path, capsys, "faq", "check")
    assert code == 1
    assert "broken" in err or "problem" in err


def test_invite_people_and_revoke(config_path, capsys):
    code, out, _ = run(
        config_path,
        capsys,
        "invite",
        "--role",
        "officer",
        "--unit",
        "kinh_te",
        "--name",
        "Nguyễn Văn Kế",
    )
    assert code == 0
    invite = re.search(r"/dangky ([A-Z0-9]{4}-[A-Z0-9]{4})", out)
    assert invite, out
    code, _, err = run(config_path, capsys, "invite", "--role", "officer")
    assert code == 2 and "--unit is required" in err
    code, _, err = run(config_path, capsys, "invite", "--role", "head", "--unit", "nowhere")
    assert code == 2 and "unknown unit" in err

    # The officer redeems the code in a chat (here directly, as the bot does).
    from bot.clock import SystemClock
    from bot.config import load_config
    from storage.db import Database
    from storage.people import Sender, identify, redeem_invite

    db = Database(load_config(config_path).storage.database_url)
    try:

        def redeem(session):
            person, _identity = identify(
                session,
                Sender("telegram", "42", "42", "Kế"),
                commune="ha_bac",
                now=SystemClock().now(),
            )
            redeem_invite(session, invite.group(1), person, now=SystemClock().now())
            return person.id

        person_id = db.call(redeem)
    finally:
        db.close()
    code, out, _ = run(config_path, capsys, "people")
    assert "Nguyễn Văn Kế" in out and "officer (Phòng Kinh tế)" in out and "telegram" in out
    code, out, _ = run(config_path, capsys, "revoke", str(person_id))
    assert code == 0 and "Revoked 1 role" in out
    code, out, _ = run(config_path, capsys, "people")
    assert "No staff registered yet" in out


def test_outbox_lists_failed_messages_and_retries_them(config_path, capsys):
    from datetime import UTC, datetime

    from bot.config import load_config
    from bot.messages import OutgoingMessage
    from storage import outbox
    from storage.db import Database
    from storage.people import Sender, identify

    run(config_path, capsys, "migrate")
    db = Database(load_config(config_path).storage.database_url)
    try:

        def failed(session):
            now = datetime.now(UTC)
            _p, identity = identify(
                session, Sender("telegram", "7", "7", None), commune="ha_bac", now=now
            )
            message_id = outbox.enqueue(
                session, identity, OutgoingMessage(text="x"), purpose="test", now=now
            )
            row = session.get(outbox.OutboxMessage, message_id)
            row.status, row.last_error = outbox.FAILED, "Bad Request: chat not found"

        db.call(failed)
    finally:
        db.close()
    code, out, _ = run(config_path, capsys, "outbox")
    assert code == 0 and "failed 1" in out and "chat not found" in out
    code, out, _ = run(config_path, capsys, "outbox", "--retry")
    assert "1 failed message(s) queued again" in out and "pending 1" in out


def test_faq_misses_lists_the_most_frequent(config_path, capsys):
    from datetime import UTC, datetime

    from bot.config import load_config
    from storage.db import Database
    from storage.models import FaqLog

    run(config_path, capsys, "migrate")
    db = Database(load_config(config_path).storage.database_url)
    try:
        now = datetime.now(UTC)
        db.call(
            lambda s: s.add_all(
                [FaqLog(at=now, question="Giá vàng hôm nay?", outcome="none") for _ in range(3)]
                + [FaqLog(at=now, question="gia vang hom nay", outcome="none")]
                + [FaqLog(at=now, question="Ly hôn ở đâu", outcome="down", topic_id="x")]
            )
        )
    finally:
        db.close()
    code, out, _ = run(config_path, capsys, "faq", "misses", "--since", "7d")
    assert code == 0
    lines = out.splitlines()
    assert "5 question(s) since 7d" in lines[0]
    assert lines[1].split()[0] == "4" and "Giá vàng hôm nay?" in lines[1]
