"""Code of the standalone bundles that ``python -m monai_jattn.bundles export`` writes.

The modules of this folder are copied into the exported bundle's ``scripts/`` folder, where the bundle's configs
name them as ``scripts.<module>.<name>`` (the model zoo's convention: the bundle's root is on ``sys.path``).
They import MONAI, PyTorch, Pillow, NumPy, OpenCV and nibabel only, never ``monai_jattn``, so that an exported
bundle runs where this package is not installed; they reproduce the package route's inference (its DRIVE
preprocessing, its PNG outputs, its checks of the input and output folders) with the same results.
"""
