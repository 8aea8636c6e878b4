"""The Modelfile's TEMPLATE says what the model's Jinja chat template says."""

import pytest
from transformers import AutoTokenizer

from zerollm.probe import END_OF_TURN
from zerollm.quantize import modelfile


@pytest.fixture(scope="module")
def tok(chat_base):
    return AutoTokenizer.from_pretrained(chat_base["sft"] / "model")


def test_template_expands_like_the_chat_template(tok):
    shape = modelfile.read_shape(tok, stops=[END_OF_TURN])
    chat = [{"role": "system", "content": "You answer briefly."}, {"role": "user", "content": "Where is \"Millby\"?"},
            {"role": "assistant", "content": "By the river.\nNorth."}, {"role": "user", "content": "And Olive?"}]
    assert modelfile.expand(shape, chat, True) == tok.apply_chat_template(chat, tokenize=False,
                                                                          add_generation_prompt=True)
    text = modelfile.modelfile("model-Q8_0.gguf", shape, {"num_ctx": 128})
    assert text.startswith("FROM ./model-Q8_0.gguf\n")
    assert 'PARAMETER stop "<|im_end|>"' in text and "PARAMETER num_ctx 128" in text
    assert '{{ "<|im_start|>user\\n" }}{{ .Content }}{{ "<|im_end|>\\n" }}' in text
    assert text.count('"""') == 2


def test_a_template_with_a_default_system_prompt_is_refused(tok):
    tok2 = AutoTokenizer.from_pretrained(tok.name_or_path)
    tok2.chat_template = ("{{ '<|im_start|>system\\nYou are zerollm.<|im_end|>\\n' }}" + tok.chat_template)
    with pytest.raises(modelfile.TemplateNotPortable):
        modelfile.read_shape(tok2, stops=[END_OF_TURN])
