"""Moved to `monai_jattn.datasets.synthetic`: the synthetic images serve only the datasets' sample writers. The old
names resolve here on first use and warn (MONAI's `deprecated`)."""

from monai_jattn.moved_names import moved_names

__all__ = [
    "BLACK_WHITE",
    "DRIVE_IMAGE_SIZE",
    "save_binary_gif",
    "smooth_noise",
    "synthesize_dermoscopy",
    "synthesize_fundus",
]

__getattr__, __dir__ = moved_names(__name__, {name: "monai_jattn.datasets.synthetic" for name in __all__})
