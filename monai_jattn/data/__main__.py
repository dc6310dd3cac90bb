"""``python -m monai_jattn.data`` moved to ``python -m monai_jattn.datasets`` (the command serves the dataset
registry); the old command warns and runs the new one."""

import runpy
import warnings

if __name__ == "__main__":
    warnings.warn(
        "`python -m monai_jattn.data` is deprecated since 0.1.0: use `python -m monai_jattn.datasets`",
        FutureWarning,
        stacklevel=1,
    )
    runpy.run_module("monai_jattn.datasets", run_name="__main__", alter_sys=True)
