"""The rules of :mod:`gatesim.models.hf_rules.vision_sizes` (image sizes, layouts and the extra inputs of dense,
detection and image-text models): each model type named counts a training step, two layers, from its library
default configuration, with zero uncounted ops, fed what its rule makes; the slower ones (they run on real CPU
tensors) have their rule checked on what it makes. And fake tensors' buffers carry their constructor's values
(:func:`gatesim.models.fakemode.buffer_values`). Skipped when transformers is not installed (the optional zoo
extra)."""
import pytest
import torch

transformers = pytest.importorskip("transformers", reason="transformers is not installed (the optional zoo extra)")


def _vilt(x, c):
    assert x["pixel_values"].shape[-2:] == (c.image_size, c.image_size) and "pixel_mask" in x


def _kosmos(x, c):
    mask = x["image_embeds_position_mask"]
    assert mask.shape == x["input_ids"].shape and int(mask[0].sum()) == c.latent_query_num and mask[0, 0] == 0


def _tvp(x, c):
    assert x["pixel_values"].shape[1:] == (c.num_frames, 3, c.max_img_size, c.max_img_size)


def _groupvit(x, c):
    assert x["input_ids"].shape[0] == 2 and x["pixel_values"].shape[0] == 2  # batch norm in training


def _janus(x, c):
    side = c.num_patches * 2 ** (len(c.channel_multiplier) - 1)
    assert x["pixel_values"].shape[-2:] == (side, side)


def _depth_pro(x, c):
    assert max(c.intermediate_hook_ids) < c.patch_model_config.num_hidden_layers
    assert x["pixel_values"].shape[-1] == c.patch_size / min(c.scaled_images_ratios)


def _rf_detr(x, c):
    b = c.backbone_config
    assert x["pixel_values"].shape[-1] % (b.patch_size * b.num_windows) == 0
    if "pixel_mask" in x:  # where its image processor runs (it needs torchvision)
        assert x["pixel_mask"].shape[-2:] == x["pixel_values"].shape[-2:]


def _lw_detr(x, c):
    assert c.projector_scale_factors == [1.0] and c.num_feature_levels == 1


def _ocr2(x, c):
    assert c.encoder_config.hidden_size == c.sam_config.downsample_channels[-1]


def _eomt(x, c):
    assert c.num_blocks <= c.num_hidden_layers


CASES = {"vilt": _vilt, "kosmos-2": _kosmos, "tvp": _tvp, "groupvit": _groupvit, "janus_vqgan": _janus,
         "depth_pro": _depth_pro, "rf_detr": _rf_detr, "lw_detr": _lw_detr, "deepseek_ocr2_vision": _ocr2,
         "eomt": _eomt}


def _zoo(model_type):
    from transformers.models.auto.configuration_auto import CONFIG_MAPPING

    from gatesim.models.zoo import load_zoo_model

    if model_type not in CONFIG_MAPPING:
        pytest.skip(f"this transformers has no {model_type}")
    return load_zoo_model(f"hf:{model_type}", layers=2, config_only=True)


def _made(zm):
    with torch.device("meta"):
        model = zm.factory()
    return zm.make_inputs(model, "cpu", zm.default_shape), model.config


@pytest.mark.parametrize("model_type", sorted(CASES))
def test_model_type_counts_with_its_rule(model_type):
    from gatesim.models import count

    zm = _zoo(model_type)
    r = count(zm.factory, zm.inputs(), optimizer="adamw")
    assert not r.uncounted and r.bos(phase="forward").total() > 0 and r.bos(phase="backward").total() > 0
    CASES[model_type](*_made(zm))  # what the rule made


def test_udop_boxes_are_page_fractions_with_the_page():
    x, c = _made(_zoo("udop"))
    assert x["bbox"].is_floating_point() and 0 <= float(x["bbox"].min()) and float(x["bbox"].max()) <= 1
    assert bool((x["bbox"][..., 2:] >= x["bbox"][..., :2]).all())
    assert x["pixel_values"].shape[-2:] == (c.image_size, c.image_size)


def test_oneformer_task_is_token_ids():
    x, c = _made(_zoo("oneformer"))
    t = x["task_inputs"]
    assert isinstance(t, torch.Tensor) and t.shape == (x["pixel_values"].shape[0], c.task_seq_len)
    assert int(t.max()) < c.text_encoder_vocab_size


def test_pp_doclayout_class_lists_filled_per_label_and_a_real_list_kept():
    from gatesim.models.hf_rules import repair_config

    cfg = transformers.AutoConfig.for_model("pp_doclayout_v2")
    repair_config(cfg)
    assert cfg.class_thresholds == [0.5] * cfg.num_labels and cfg.class_order == list(range(cfg.num_labels))
    cfg = transformers.AutoConfig.for_model("pp_doclayout_v2", class_thresholds=[0.3, 0.4], class_order=[1, 0])
    repair_config(cfg)
    assert cfg.class_thresholds == [0.3, 0.4] and cfg.class_order == [1, 0]  # a checkpoint's pass unchanged


class _Gated(torch.nn.Module):
    """A branch on a buffer, as EoMT's query masking has (``if prob < 1``)."""

    def __init__(self):
        super().__init__()
        self.lin = torch.nn.Linear(4, 4)
        self.register_buffer("prob", torch.ones(2))

    def forward(self, x):
        y = self.lin(x)
        return y * 2 if self.prob[0] < 1 else y + 1


def test_fake_buffers_carry_their_constructor_values():
    from gatesim.models import count

    r = count(_Gated, inputs={"x": torch.randn(2, 4)}, device="fake", optimizer="adamw")
    assert not r.uncounted
    assert r.bos(phase="forward").total() > 0
    with pytest.raises(Exception):  # meta tensors hold no value to branch on
        count(_Gated, inputs={"x": torch.randn(2, 4)}, device="meta")


class _Cloned(torch.nn.Module):
    """Layers deep-copied in the constructor, as OneFormer's and DETR-style ``_get_clones`` do."""

    def __init__(self):
        super().__init__()
        import copy

        layer = torch.nn.MultiheadAttention(8, 2)
        self.layers = torch.nn.ModuleList([copy.deepcopy(layer) for _ in range(2)])

    def forward(self, x):
        for layer in self.layers:
            x = layer(x, x, x)[0]
        return x


def test_fake_step_adopts_layers_deep_copied_under_the_fake_mode():
    from gatesim.models import count
    from gatesim.models.fakemode import adopt_strays, make_fake_mode
    from gatesim.models.trace import prepare_model

    mode = make_fake_mode()
    m = prepare_model(_Cloned, "fake", None, mode)
    shapes = [(n, p.shape, p.requires_grad) for n, p in m.named_parameters()]
    assert any(p.fake_mode is not mode for p in m.parameters())  # the copies' own mode
    assert adopt_strays(m, mode) > 0
    assert all(p.fake_mode is mode for p in m.parameters())
    assert [(n, p.shape, p.requires_grad) for n, p in m.named_parameters()] == shapes
    # the step (torch 2.14 stops on the strays: "t.real_tensor must not be None when copy_data is True")
    r = count(_Cloned, inputs={"x": torch.randn(3, 2, 8)}, device="fake", optimizer="adamw")
    assert not r.uncounted and r.bos(phase="backward").total() > 0


class _Legacy(torch.nn.Module):
    """A parameter made with the legacy ``torch.Tensor(n, d)``, which ignores the default device (OneFormer's
    level embeddings, LW-DETR's layer scales)."""

    def __init__(self):
        super().__init__()
        self.scale = torch.nn.Parameter(torch.Tensor(4))
        self.lin = torch.nn.Linear(4, 4)

    def forward(self, x):
        return self.lin(x) * self.scale


def test_meta_build_moves_legacy_cpu_parameters_to_meta():
    from gatesim.models import count
    from gatesim.models.trace import build_on_meta

    with torch.device("meta"):
        assert _Legacy().scale.device.type == "cpu"  # what the constructor alone gives
    m = build_on_meta(_Legacy)
    assert all(p.device.type == "meta" for p in m.parameters()) and m.scale.requires_grad
    r = count(_Legacy, inputs={"x": torch.randn(2, 4)}, device="meta", optimizer="adamw")
    assert r.device == "meta" and not r.uncounted
