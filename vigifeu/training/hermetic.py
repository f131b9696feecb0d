"""Keep ultralytics offline: no DNS look-ups, no pip auto-install, no font download.

Must run before ``import ultralytics``: the library reads these variables at import time.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path


def make_ultralytics_hermetic(config_dir: Path) -> None:
    """Point ultralytics at a private settings folder holding a font, and switch it offline."""
    font_dir = config_dir / "Ultralytics"
    font_dir.mkdir(parents=True, exist_ok=True)
    font = font_dir / "Arial.ttf"
    if not font.exists():
        # Plots ask for Arial.ttf and would try to download it; any TTF will do.
        import matplotlib

        dejavu = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"
        shutil.copyfile(dejavu, font)
        shutil.copyfile(dejavu, font_dir / "Arial.Unicode.ttf")
    os.environ["YOLO_CONFIG_DIR"] = str(config_dir)
    os.environ["YOLO_OFFLINE"] = "1"
    os.environ["YOLO_AUTOINSTALL"] = "0"
    os.environ.setdefault("YOLO_VERBOSE", "True")
