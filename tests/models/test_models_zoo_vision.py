"""torchvision and timm models built from their constructors (no weights): the architectures the coverage script
once failed on count a training step with zero uncounted ops. Skipped with the reason when torchvision (and timm)
are not usable here: they must be the builds made for the installed torch (see the README's Zoos paragraph)."""
import pytest

from gatesim.models import count
from gatesim.models.zoo import load_zoo_model, zoo_status

_ok, _why = zoo_status("torchvision")
pytestmark = pytest.mark.skipif(not _ok, reason=_why)


def test_regnet_builds_on_meta():
    # RegNet computes its stage widths with tensor arithmetic and .tolist() in its constructor
    zm = load_zoo_model("torchvision:regnet_x_400mf")
    r = count(zm.factory, zm.inputs((1, 3, 64, 64)), optimizer="adamw", strict=True)
    assert r.device == "meta" and not r.attempts and r.flops(phase="forward") > 0


@pytest.mark.parametrize("name, clip", [("mvit_v2_s", (16, 224, 224)), ("r3d_18", (16, 112, 112))])
def test_video_models_take_the_clip_their_architecture_is_sized_for(name, clip):
    zm = load_zoo_model(f"torchvision:{name}")
    assert zm.default_shape == (2, 3, *clip)
    r = count(zm.factory, zm.inputs((1, 3, *clip)), level="inference", strict=True)
    assert r.device == "meta" and r.flops() > 0
