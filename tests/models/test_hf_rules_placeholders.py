"""Media reach placeholder tokens or the inputs are refused: the builder's check (media given, a placeholder id in
the configuration, none in ``input_ids``: an error, not a silent count), the models that got no placeholders
before (their feature method needed a Q-Former instruction, a mask, the base model's signature, real values),
Gemma 4 given its towers, and the image-layout probe under bf16 autocast. Skipped without transformers."""
import pytest
import torch

pytest.importorskip("transformers", reason="transformers is not installed (the optional zoo extra)")

from hf_rules_check import real_values  # noqa: E402


def _counted(model_type: str, amp=None):
    """Count ``model_type`` (two layers, the zoo's way); (inputs the counted step got, its HFInputs). Skips where
    this transformers has no such model type, or no image processor for it here (one with a torchvision
    backend only, torchvision not installed)."""
    from transformers.models.auto.configuration_auto import CONFIG_MAPPING

    from gatesim.models import count
    from gatesim.models.hf_inputs import image_processor
    from gatesim.models.zoo import load_zoo_model

    if model_type not in CONFIG_MAPPING:
        pytest.skip(f"this transformers has no {model_type}")
    if model_type in PROCESSED and image_processor(model_type) is None:
        pytest.skip(f"no image processor for {model_type} here (torchvision not installed?)")
    zm = load_zoo_model(f"hf:{model_type}", layers=2, config_only=True)
    r = count(zm.factory, zm.inputs(), optimizer="adamw", amp=amp)
    assert not r.uncounted and r.bos(phase="backward").total() > 0
    return {k: real_values(v) for k, v in zm.make_inputs._made[0].items()}, zm.make_inputs


def _per_row(ids: torch.Tensor, tok: int) -> set:
    return set((ids == tok).sum(dim=1).tolist())


#: model types whose images only their processor makes (MiniCPM's patches and target sizes, Gemma 4's patches)
PROCESSED = {"minicpm_ocr", "minicpmv4_6", "gemma4", "gemma4_unified"}

# model type -> (medium, placeholders per row its configuration decides, or None: what its tower returns)
FIXED = {
    "instructblip": ("image", lambda c: c.num_query_tokens),  # the Q-Former's queries
    "instructblipvideo": ("video", lambda c: 4 * c.num_query_tokens),  # the queries of each of 4 frames
    "voxtral": ("audio", None),
    "moss_transcribe_diarize": ("audio", None),
    "minicpm_ocr": ("image", None),
    "minicpmv4_6": ("image", None),
}


@pytest.mark.parametrize("model_type", sorted(FIXED))
def test_media_reach_their_placeholders(model_type):
    kind, expect = FIXED[model_type]
    made, inp = _counted(model_type)
    tok = inp._placeholder_id(kind)
    rows = _per_row(made["input_ids"], tok)
    assert len(rows) == 1 and min(rows) > 0  # every row holds the same positive number
    if expect is not None:
        assert rows == {expect(inp.config)}


@pytest.mark.parametrize("model_type", ["gemma4", "gemma4_unified"])
def test_gemma4_gets_images_and_audio_between_its_tokens(model_type):
    made, inp = _counted(model_type)
    c, ids = inp.config, made["input_ids"][0].tolist()
    assert c.vision_config is not None and c.audio_config is not None
    for sub in (c.vision_config, c.audio_config):  # the zoo's layer cut (to 2) holds for the towers added
        assert all(getattr(sub, k, 0) <= 2 for k in ("num_hidden_layers", "num_layers", "conformer_num_layers"))
    assert "pixel_values" in made and "input_features" in made
    for tok, start, end in ((c.image_token_id, c.boi_token_id, c.eoi_token_id),
                            (c.audio_token_id, c.boa_token_id, c.eoa_token_index)):
        at = [i for i, t in enumerate(ids) if t == tok]
        assert at and at == list(range(at[0], at[-1] + 1))  # one run
        assert ids[at[0] - 1] == start and ids[at[-1] + 1] == end
    types = made["mm_token_type_ids"][0]
    assert set(types[made["input_ids"][0] == c.audio_token_id].tolist()) == {3}  # as processors mark audio


def test_gemma4_checkpoint_configuration_left_alone():
    transformers = pytest.importorskip("transformers")
    if not hasattr(transformers, "Gemma4Config"):
        pytest.skip("this transformers has no Gemma 4")
    from gatesim.models.hf_rules import repair_config

    c = transformers.Gemma4Config(architectures=["Gemma4ForConditionalGeneration"])
    repair_config(c)
    assert c.vision_config is None and c.audio_config is None  # a checkpoint's absent towers stay absent


def _llava_inputs():
    from transformers.models.auto.configuration_auto import CONFIG_MAPPING

    from gatesim.models.zoo import load_zoo_model

    if "llava" not in CONFIG_MAPPING:
        pytest.skip("this transformers has no llava")
    zm = load_zoo_model("hf:llava", layers=2, config_only=True)
    with torch.device("meta"):
        model = zm.factory()
    return zm, model


def test_media_with_no_placeholder_is_an_error(monkeypatch):
    from gatesim.models.trace import needs_real_values

    zm, model = _llava_inputs()
    x = zm.make_inputs(model, "meta", zm.default_shape)  # as made: placeholders, no error
    assert "pixel_values" in x
    monkeypatch.setattr(type(zm.make_inputs), "_placeholders", lambda self, *a, **k: 0)
    with pytest.raises(ValueError, match=r"1 image given but input_ids hold no image placeholder \(image_token_id"):
        zm.make_inputs(model, "meta", zm.default_shape)

    def meta_failure(self, model, fn, media, key, batch=1, why=None):
        why.append(RuntimeError("Tensor.item() cannot be called on meta tensors"))
        return 0
    monkeypatch.setattr(type(zm.make_inputs), "_placeholders", meta_failure)
    with pytest.raises(ValueError) as e:
        zm.make_inputs(model, "meta", zm.default_shape)
    assert needs_real_values(e.value)  # a tower that needs values on meta: the counter goes on to fake tensors


def test_exempt_model_types_name_their_reason(monkeypatch):
    from gatesim.models import hf_inputs

    zm, model = _llava_inputs()
    monkeypatch.setattr(type(zm.make_inputs), "_placeholders", lambda self, *a, **k: 0)
    monkeypatch.setitem(hf_inputs.NO_PLACEHOLDERS, "llava", "a test's exemption")
    assert "input_ids" in zm.make_inputs(model, "meta", zm.default_shape)
    assert all(len(why) > 20 for mt, why in hf_inputs.NO_PLACEHOLDERS.items() if mt != "llava")


def test_layout_probe_runs_under_bf16_autocast():
    """ModernVBERT takes 5-D images its processor does not make: the probe finds the layout on a meta copy
    though the bf16 step starts on fake tensors."""
    made, inp = _counted("modernvbert", amp="bf16")
    assert inp._layout and made["pixel_values"].dim() == 5

