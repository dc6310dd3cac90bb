"""On PYTHONPATH of a test's subprocess: ``monai_jattn`` cannot be imported there, as where it is not installed."""

import sys


class _NoMonaiJattn:
    def find_spec(self, name, path=None, target=None):
        if name == "monai_jattn" or name.startswith("monai_jattn."):
            raise ImportError(f"No module named {name!r} (blocked: the standalone bundle must not need it)")
        return None


sys.meta_path.insert(0, _NoMonaiJattn())
