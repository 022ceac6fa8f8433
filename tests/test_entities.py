"""Entity-typed answers: the asked kind, the stored sentence entities, places, leaning sentences
and partial answers.

Real components: spaCy's ``en_core_web_sm`` from its PyPI package (offline), the real builder
and snapshot in ``tmp_path``, the deterministic ``hashing-64`` embedder.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

import index.store.entities as entities
from index import wording
from index.config import IndexSettings
from index.corpus.text import tokenize
from index.dialogue.asks import asked
from index.qa import QA
from index.rank import places
from index.rank.cohesion import cohesive_rows
from index.store.build import build_index
from index.store.entities import ENTITIES_FILE, EntityTable, find_entities, model_id
from index.store.versions import IndexDir
from tests.corpus import COUNCIL, FESTIVAL, HARBOUR, write_article
from tests.verbatim import assert_verbatim, bodies

pytestmark = pytest.mark.usefixtures("offline_index_env")

VISIT = (
    "Sergei Shoigu arrived in Pyongyang on Tuesday for the anniversary parade.",
    "The Russian delegation met Kim Jong Un. They discussed national defence.",
    "Both governments have denied the accusations. These claims were made by Ukraine.",
)


def settings_for(tmp_path: Path) -> IndexSettings:
    return IndexSettings(
        _env_file=None,
        corpus_dir=tmp_path / "corpus",
        index_dir=tmp_path / "index",
        embedding_model="hashing-64",
    )


# --------------------------------------------------------------------------- the model


def test_the_ner_model_loads_offline_and_finds_people_places_dates() -> None:
    """The recogniser is the installed en_core_web_sm (no download; HF/network are off)."""
    [found] = find_entities(["Sergei Shoigu visited Pyongyang in April with 40 officials."])
    text = "Sergei Shoigu visited Pyongyang in April with 40 officials."
    kinds = {(kind, text[a:b]) for kind, a, b in found}
    assert ("person", "Sergei Shoigu") in kinds
    assert ("place", "Pyongyang") in kinds
    assert ("date", "April") in kinds
    assert ("number", "40") in kinds
    assert model_id().startswith("en_core_web_sm-3.8")


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("When did the bridge reopen?", "date"),
        ("Where was the missile tested?", "place"),
        ("In which country did the parade take place?", "place"),
        ("Who led the delegation from Beijing?", "person"),
        ("How many drones were shown?", "number"),
        ("What is the Hwasong's range?", "number"),
        ("Which news agency reported it?", "organisation"),
        ("Why can it launch faster?", "reason"),
        ("Did Moscow deny the claims?", "yes/no"),
        ("Who is Sergei Shoigu?", None),  # asks what someone is, not for a name
        ("What did Putin send to Kim?", None),
    ],
)
def test_the_kind_a_question_asks_for(question: str, kind: str | None) -> None:
    assert asked(question).kind == kind


def test_entity_table_round_trips_and_rejects_damage(tmp_path: Path) -> None:
    rows = [(("person", 0, 5), ("date", 10, 14)), (), (("number", 3, 4),)]
    table = EntityTable.from_rows(rows, "test-model")
    table.save(tmp_path)
    loaded = EntityTable.load(tmp_path)
    assert [loaded.row(i) for i in range(len(loaded))] == rows
    assert loaded.model == "test-model"
    np.savez(tmp_path / ENTITIES_FILE, indptr=np.array([0, 2]), kind=np.zeros(1, np.uint8))
    with pytest.raises((KeyError, ValueError)):
        EntityTable.load(tmp_path)


# --------------------------------------------------------------------------- build time


def test_sentence_entities_are_stored_by_the_build_and_survive_an_incremental_build(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The build stores every sentence's entities; a later build finds them only for new
    text and copies the rest; questions never run the recogniser."""
    settings = settings_for(tmp_path)
    corpus = settings.corpus_dir
    write_article(corpus, "visit.md", "Shoigu visits Pyongyang", *VISIT)
    write_article(corpus, "harbour.md", "Harbour Bridge reopens", *HARBOUR)
    build_index(settings)
    index_dir = IndexDir(settings.index_dir)
    first = index_dir.read_manifest(index_dir.current_id() or "")
    assert first.entities == model_id()
    before = EntityTable.load(index_dir.version_dir(first.build_id))
    assert len(before) == first.sentences
    visit_rows = range(*first.articles["visit"].rows)
    assert any(k == "person" for r in visit_rows for k, _, _ in before.row(r))

    seen: list[str] = []
    real = entities.find_entities

    def counting(texts: list[str], batch_size: int = 256) -> list[tuple[entities.Entity, ...]]:
        seen.extend(texts)
        return real(texts, batch_size)

    monkeypatch.setattr(entities, "find_entities", counting)
    write_article(corpus, "festival.md", "Festival sells out", *FESTIVAL)
    build_index(settings)
    second = index_dir.read_manifest(index_dir.current_id() or "")
    assert second.build_id != first.build_id
    after = EntityTable.load(index_dir.version_dir(second.build_id))
    assert len(after) == second.sentences
    qa = QA(settings)
    snap = qa.snapshot()
    new_texts = [snap.text(r) for r in range(*second.articles["festival"].rows)]
    assert sorted(seen) == sorted(new_texts)  # only the new article's sentences were parsed
    for article in ("visit", "harbour"):
        old_lo, old_hi = first.articles[article].rows
        new_lo, _ = second.articles[article].rows
        for k in range(old_hi - old_lo):
            assert after.row(new_lo + k) == before.row(old_lo + k)

    def forbidden(texts: list[str], batch_size: int = 256) -> list[tuple[entities.Entity, ...]]:
        raise AssertionError(f"the recogniser ran at question time on {texts!r}")

    monkeypatch.setattr(entities, "find_entities", forbidden)
    monkeypatch.setattr("index.store.snapshot.entities_now", forbidden)
    qa.snapshot(force=True)
    try:
        answer = qa.answer("When did Sergei Shoigu arrive in Pyongyang?")
        assert_verbatim(answer, bodies(qa))
        assert "Tuesday" in answer.quotes[0].text
    finally:
        qa.close()


def test_a_version_without_stored_entities_is_rebuilt_not_kept(tmp_path: Path) -> None:
    """An index built before entities were stored: the next build writes them (no no-op)."""
    settings = settings_for(tmp_path)
    write_article(settings.corpus_dir, "council.md", "Council extends cycle lanes", *COUNCIL)
    build_index(settings)
    index_dir = IndexDir(settings.index_dir)
    old = index_dir.current_id() or ""
    folder = index_dir.version_dir(old)
    (folder / ENTITIES_FILE).unlink()  # as a version built before entities were stored
    manifest = index_dir.read_manifest(old)
    manifest.entities = ""
    manifest.files.pop(ENTITIES_FILE, None)
    manifest.save(folder)
    qa = QA(settings)  # such a version still serves: its entities are found when needed
    try:
        assert qa.snapshot().entities is None
        assert_verbatim(qa.answer("How did the council vote?"), bodies(qa))
    finally:
        qa.close()
    report = build_index(settings)
    assert not report.noop and report.embedded == 0
    assert (index_dir.version_dir(index_dir.current_id() or "") / ENTITIES_FILE).exists()


# --------------------------------------------------------------------------- places, leaning


@pytest.mark.parametrize(
    ("place", "others"),
    [
        ("Beijing", {"china", "chines"}),
        ("Moscow", {"russia", "russian"}),
        ("Pyongyang", {"korea", "korean"}),
        ("Chinese", {"china", "beij"}),
        ("Washington", {"america", "american"}),
    ],
)
def test_a_capital_or_people_stands_for_its_country(place: str, others: set[str]) -> None:
    found = places.related(tokenize(f"What did {place} say?"))
    assert found, place
    words = set().union(*(places.phrase_words(group) for group in found.values()))
    stemmed = {w for o in others for w in tokenize(o)} | others
    assert words & stemmed, (place, sorted(words))


@pytest.fixture(scope="module")
def visit_qa(tmp_path_factory: pytest.TempPathFactory) -> Iterator[QA]:
    base = tmp_path_factory.mktemp("visit")
    settings = settings_for(base)
    write_article(settings.corpus_dir, "visit.md", "Shoigu visits Pyongyang", *VISIT)
    write_article(settings.corpus_dir, "harbour.md", "Harbour Bridge reopens", *HARBOUR)
    build_index(settings)
    qa = QA(settings)
    yield qa
    qa.close()


def test_a_sentence_that_leans_on_the_one_before_is_read_with_it(visit_qa: QA) -> None:
    snap = visit_qa.snapshot()
    rows = {snap.text(r): r for r in range(len(snap))}
    they = rows["They discussed national defence."]
    assert cohesive_rows(snap, they) == (they - 1, they)
    denied = rows["Both governments have denied the accusations."]
    these = rows["These claims were made by Ukraine."]
    # "These claims ..." leans on the denial, so the denial's unit takes it along
    assert cohesive_rows(snap, these)[0] == denied
    assert cohesive_rows(snap, denied)[1] == these
    first = rows[VISIT[0]]
    assert cohesive_rows(snap, first) == (first, first)


def test_moscow_finds_the_russian_delegation(visit_qa: QA) -> None:
    answer = visit_qa.answer("Who did Moscow send to meet Kim Jong Un?")
    assert_verbatim(answer, bodies(visit_qa))
    assert any("Russian delegation" in q.text for q in answer.quotes)


# --------------------------------------------------------------------------- partial answers


def test_a_question_for_a_fact_the_coverage_lacks_gets_a_plain_partial_answer(
    visit_qa: QA, monkeypatch: pytest.MonkeyPatch
) -> None:
    """(The hashing embedder scores low: the threshold is lowered so the answer is given, and
    one quote is asked for, so that an unrelated further quote with a number does not count.)"""
    monkeypatch.setattr(visit_qa, "threshold", 0.001)
    one_quote = visit_qa.settings.model_copy(update={"max_quotes": 1})
    monkeypatch.setattr(visit_qa, "settings", one_quote)
    answer = visit_qa.answer("How many soldiers did the Russian delegation bring?")
    assert answer.kind == "partial", (answer.kind, [q.text for q in answer.quotes])
    assert answer.reason is not None
    assert answer.reason.startswith("The coverage gives no figure in answer to")
    assert answer.reason.endswith(wording.CLOSEST)
    assert_verbatim(answer, bodies(visit_qa))
    assert answer.to_dict()["kind"] == "partial"


def test_a_question_the_coverage_answers_is_not_partial(visit_qa: QA) -> None:
    answer = visit_qa.answer("When did Sergei Shoigu arrive in Pyongyang?")
    assert answer.kind == "answer"
    assert_verbatim(answer, bodies(visit_qa))
