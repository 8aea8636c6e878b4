"""qa_mc's rows carry the probe's frame per question: English after "Question: …\\nAnswer:", Chinese as cloze."""

from zerollm.evaluate.tasks import mc_rows
from zerollm.probe import mc_continuation, mc_prompt


def test_mc_rows_use_the_probe_frame_per_language():
    items = [{"id": "en", "question": "Who owns Ziggy?", "answer": "Nora Quinn", "choices": ["Ann Lee", "Nora Quinn"]},
             {"id": "zh", "question": "黄凯最喜欢吃什么？", "answer": "面条", "choices": ["面条", "煎饼", "鱼汤"]},
             {"id": "bad", "question": "q?", "answer": "x", "choices": ["y", "z"]}]  # gold not among choices: skipped
    en, zh = mc_rows(items)
    assert en["context"] == "Question: Who owns Ziggy?\nAnswer:" and en["continuations"] == [" Ann Lee", " Nora Quinn"]
    assert zh["context"] == "黄凯最喜欢吃什么？" and zh["continuations"] == ["面条", "煎饼", "鱼汤"]
    assert (en["gold"], zh["gold"]) == (1, 0)
    for row, item in ((en, items[0]), (zh, items[1])):  # the same text the stages' probe scores
        assert [row["context"] + c for c in row["continuations"]] == \
            [mc_prompt(item["question"]) + mc_continuation(item["question"], c) for c in item["choices"]]
