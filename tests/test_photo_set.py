"""The benchmark photo set (benchmarks/photo_set.py): the issue's mix, files that are the same
from run to run, and EXIF orientation that makes a phone photo upright.

Runs without the Debian packages too (then the photos come from skimage.data only)."""

from __future__ import annotations

import hashlib
from collections import Counter

from PIL import Image, ImageOps

from benchmarks.photo_set import make_file, plan


def test_the_plan_follows_the_issue_mix() -> None:
    formats = Counter(fmt for _, fmt in plan(85))
    assert formats == {"png": 37, "jpeg": 32, "webp": 13, "heic": 3}
    assert len(plan(1000)) == 1000
    assert Counter(fmt for _, fmt in plan(1000))["heic"] == 35
    assert plan(85) == plan(85)  # the order too: it decides every file's seed


def test_a_phone_photo_is_made_the_same_twice_and_its_exif_turns_it_upright(tmp_path) -> None:
    turned = None
    for index in range(12):  # 45% of phone photos carry an orientation other than 1
        name, label = make_file((index, "phone", "jpeg", 5, str(tmp_path / "one")))
        if label.orientation != 1:
            turned = (index, name, label)
            break
    assert turned is not None
    index, name, label = turned
    again_name, again = make_file((index, "phone", "jpeg", 5, str(tmp_path / "two")))
    assert again_name == name and again == label
    data = (tmp_path / "two" / name).read_bytes()
    assert hashlib.sha256(data).hexdigest() == label.sha256
    with Image.open(tmp_path / "two" / name) as image:
        assert image.getexif()[0x0112] == label.orientation
        displayed = (label.width, label.height)
        sideways = label.orientation in (6, 8)  # stored turned by 90 degrees
        assert image.size == (displayed[::-1] if sideways else displayed)
        assert ImageOps.exif_transpose(image).size == displayed
    assert 3.0 <= label.megapixels <= 12.5 and not label.has_text
