"""Record a training run's curve (loss per iteration, validation metric per validation) to JSON and PNG."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable

import ignite.distributed as idist
import numpy as np
import torch
from ignite.engine import Engine, Events
from matplotlib.figure import Figure
from monai.handlers import from_engine

from monai_jattn.atomic_write import write_atomic, write_text_atomic

__all__ = ["TrainingCurveSaver", "plot_training_curve"]


class TrainingCurveSaver:
    """
    Ignite handler for a trainer that records the loss of every iteration and, when a ``validator``
    is given, its metric after every validation, and writes them at every epoch end and at the end
    of the run to ``output_dir/<filename>.json`` and a plot to ``output_dir/<filename>.png`` (both
    atomically)::

        {"loss": {"iteration": [...], "value": [...]},
         "validation": {"metric": "dice", "iteration": [...], "value": [...], "seconds": [...]}}

    ``seconds`` is the wall-clock time of the run, validations included, when each validation
    ended: the time-to-quality of the recipe (``scripts/time_to_quality.py``). A resumed run keeps
    the saved curve up to the restored iteration, so its curve is continuous. In a distributed run
    only ``save_rank`` records and writes.

    Args:
        output_dir: folder for the JSON and PNG files (created if needed).
        validator: the evaluator run by `monai.handlers.ValidationHandler`, or None.
        metric_name: the validator's metric to record; default its key metric.
        loss_transform: extracts the loss from ``trainer.state.output``; default: the ``"loss"`` item of
            MONAI's (decollated) trainer output.
        filename: base name of the two files.
        save_rank: the rank that records and writes in a distributed run.

    Example::

        TrainingCurveSaver("runs", validator=evaluator).attach(trainer)
    """

    def __init__(
        self,
        output_dir: str | os.PathLike,
        validator: Engine | None = None,
        metric_name: str | None = None,
        loss_transform: Callable | None = None,
        filename: str = "training_curve",
        save_rank: int = 0,
    ) -> None:
        self.json_path = os.path.join(os.fspath(output_dir), f"{filename}.json")
        self.png_path = os.path.join(os.fspath(output_dir), f"{filename}.png")
        self.validator = validator
        self.metric_name = metric_name
        self.loss_transform = loss_transform or from_engine(["loss"], first=True)
        self.save_rank = save_rank
        self._trainer: Engine | None = None
        self._started = False
        self._clock_start = 0.0
        self.curve: dict = _empty_curve(metric_name)

    def attach(self, engine: Engine) -> None:
        """Attach to the trainer (and to the validator's ``EPOCH_COMPLETED``)."""
        if idist.get_rank() != self.save_rank:
            return
        self._trainer = engine
        engine.add_event_handler(Events.STARTED, self._reset)
        # the curve starts at the first EPOCH_STARTED, once every STARTED handler (such as
        # CheckedCheckpointLoader) has restored the iteration a resumed run continues from
        engine.add_event_handler(Events.EPOCH_STARTED, self._start)
        engine.add_event_handler(Events.ITERATION_COMPLETED, self._record_loss)
        engine.add_event_handler(Events.EPOCH_COMPLETED, self.save)
        engine.add_event_handler(Events.COMPLETED, self.save)
        if self.validator is not None:
            self.validator.add_event_handler(Events.EPOCH_COMPLETED, self._record_validation)

    def _reset(self, engine: Engine) -> None:
        self._started = False

    def _start(self, engine: Engine) -> None:
        """At the run's first epoch: start a new curve, or keep the saved one up to the restored iteration."""
        if self._started:
            return
        self._started = True
        self._clock_start = time.perf_counter()
        self.curve = _empty_curve(self.metric_name)
        if engine.state.iteration > 0 and os.path.isfile(self.json_path):
            with open(self.json_path, encoding="utf-8") as f:
                saved = json.load(f)
            for part in ("loss", "validation"):
                # drop what the interrupted run recorded after the checkpoint it resumes from
                keep = [n for n, i in enumerate(saved[part]["iteration"]) if i <= engine.state.iteration]
                for key, values in saved[part].items():
                    if isinstance(values, list):
                        self.curve[part][key] = [values[n] for n in keep if n < len(values)]
            self.curve["validation"]["metric"] = saved["validation"]["metric"]
            if self.curve["validation"]["seconds"]:  # a resumed run's clock goes on from its last validation
                self._clock_start -= self.curve["validation"]["seconds"][-1]

    def _record_loss(self, engine: Engine) -> None:
        loss = self.loss_transform(engine.state.output)
        if isinstance(loss, (tuple, list)):  # from_engine on an un-decollated output gives a 1-tuple
            loss = loss[0]
        self.curve["loss"]["iteration"].append(engine.state.iteration)
        self.curve["loss"]["value"].append(float(loss.detach() if isinstance(loss, torch.Tensor) else loss))

    def _record_validation(self, validator: Engine) -> None:
        name = self.metric_name or validator.state.key_metric_name
        self.curve["validation"]["metric"] = name
        self.curve["validation"]["iteration"].append(self._trainer.state.iteration)
        self.curve["validation"]["value"].append(float(validator.state.metrics[name]))
        self.curve["validation"]["seconds"].append(round(time.perf_counter() - self._clock_start, 3))

    def save(self, engine: Engine | None = None) -> None:
        """Write the JSON file and the plot."""
        write_text_atomic(self.json_path, json.dumps(self.curve) + "\n")
        figure = plot_training_curve(self.curve)
        write_atomic(self.png_path, lambda tmp: figure.savefig(tmp, dpi=100))


def plot_training_curve(curve: dict) -> Figure:
    """
    Plot a curve recorded by `TrainingCurveSaver`: the loss of every iteration (faint) with its
    moving average, and the validation metric on a second axis.

    Args:
        curve: the recorded curve, as in ``training_curve.json``.

    Returns:
        a matplotlib `Figure` (no pyplot state involved); save it with ``figure.savefig(path)``.
    """
    figure = Figure(figsize=(8, 4.5), layout="constrained")
    ax = figure.add_subplot()
    iterations, losses = np.asarray(curve["loss"]["iteration"]), np.asarray(curve["loss"]["value"], dtype=float)
    ax.set_xlabel("iteration")
    ax.set_ylabel("training loss", color="tab:blue")
    if len(losses):
        window = max(1, len(losses) // 50)  # about 50 windows, whatever the run's length
        smooth = np.convolve(losses, np.ones(window) / window, mode="valid")
        ax.plot(iterations, losses, color="tab:blue", alpha=0.25, linewidth=0.8)
        # mode="valid" gives window - 1 fewer points: each average is drawn at its window's last iteration
        ax.plot(iterations[window - 1 :], smooth, color="tab:blue", label=f"loss (mean of {window})")
    validation = curve["validation"]
    if validation["iteration"]:
        ax2 = ax.twinx()
        ax2.plot(validation["iteration"], validation["value"], "o-", color="tab:orange", label="validation")
        ax2.set_ylabel(f"validation {validation['metric']}", color="tab:orange")
        if all(0.0 <= v <= 1.0 for v in validation["value"]):  # Dice, AUC, ...: the full scale, comparable by eye
            ax2.set_ylim(0, 1)
    ax.set_title("Training curve")
    return figure


def _empty_curve(metric_name: str | None) -> dict:
    return {
        "loss": {"iteration": [], "value": []},
        "validation": {"metric": metric_name, "iteration": [], "value": [], "seconds": []},
    }
